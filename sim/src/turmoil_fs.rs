//! The node's files on turmoil's simulated file system: the Raft log and
//! hard state, the local epoch file and the registry store.
//!
//! fjall cannot run there, so the registry is a small append-only log of
//! the library's batches, and the Raft log an append-only log of the core's
//! [`LogOp`]s. Each record is framed `[len: u32 BE][fnv1a64: u64 BE][body]`;
//! a reopen replays the records up to the first that is short or whose
//! checksum fails (a torn or lost tail), cuts the file there and syncs the
//! cut. Writes are turmoil's *pending* writes until `sync_all`; a turmoil
//! `crash` drops them (torn at the configured block size), a `bounce` (a
//! process crash) keeps them. So turmoil's durability model, not ours,
//! decides what each power loss keeps, and the checkers judge the result.
//!
//! Every call here must run inside the node's turmoil host (the file
//! system is per host); an I/O error is the store's error, which the FSM
//! turns into a halt and the log into a panic in the node core. The
//! turmoil runtime hands these files to the hosted world
//! ([`crate::turmoil_runtime::files`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use protobuf::Message as _;
use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};
use turmoil::fs::shim::std::fs as tfs;
use writer_registry::registry::{Batch, Op, Pairs, Space, StoreError, WriterRegistryStore};
use writer_registry::MemoryRegistry;

use crate::disk::{apply_op, LogImage, RaftDisk};
use crate::node::storage::{EpochStore, LogOp, RaftLog};

/// The directory every node's files live in (each host has its own file
/// system).
pub const DIR: &str = "/data";
pub const RAFT_LOG: &str = "/data/raft.log";
pub const EPOCH: &str = "/data/epoch";
pub const REGISTRY: &str = "/data/registry.log";

/// Frames one record.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend((body.len() as u32).to_be_bytes());
    out.extend(crate::fnv::fnv1a64(body).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The whole records of a file's bytes, and the length they span (where
/// a torn or lost tail begins).
fn records(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= 12 {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let sum = u64::from_be_bytes(bytes[at + 4..at + 12].try_into().expect("8 bytes"));
        let Some(body) = bytes.get(at + 12..at + 12 + len) else {
            break;
        };
        if len == 0 || crate::fnv::fnv1a64(body) != sum {
            break;
        }
        out.push(body);
        at += 12 + len;
    }
    (out, at)
}

/// Creates `/data` and `path` (empty) durably if the file does not exist:
/// a file whose directory entry never synced is gone after a crash.
fn ensure(path: &str) -> std::io::Result<()> {
    if tfs::exists(path) {
        return Ok(());
    }
    if !tfs::exists(DIR) {
        tfs::create_dir_all(DIR)?;
        tfs::sync_dir("/")?;
    }
    tfs::File::create(path)?.sync_all()?;
    tfs::sync_dir(DIR)
}

/// Reads a log file's records, cutting (and syncing the cut of) a torn or
/// lost tail. Returns the records' bodies and how many bytes were cut.
fn recover(path: &str) -> std::io::Result<(Vec<Vec<u8>>, u64)> {
    ensure(path)?;
    let bytes = tfs::read(path)?;
    let (bodies, valid) = records(&bytes);
    let bodies = bodies.into_iter().map(<[u8]>::to_vec).collect();
    let cut = (bytes.len() - valid) as u64;
    if cut > 0 {
        let f = tfs::OpenOptions::new().write(true).open(path)?;
        f.set_len(valid as u64)?;
        f.sync_all()?;
    }
    Ok((bodies, cut))
}

fn append(path: &str, bytes: &[u8]) -> std::io::Result<()> {
    tfs::OpenOptions::new()
        .append(true)
        .open(path)?
        .write_all(bytes)
}

fn sync(path: &str) -> std::io::Result<()> {
    tfs::OpenOptions::new().write(true).open(path)?.sync_all()
}

// ---------------------------------------------------------------- Raft log

const OP_APPEND: u8 = 1;
const OP_HARD_STATE: u8 = 2;
const OP_INSTALL: u8 = 3;
const OP_COMPACT: u8 = 4;

fn encode_op(op: &LogOp) -> Vec<u8> {
    let mut body = Vec::new();
    let proto = |m: &dyn protobuf::Message| m.write_to_bytes().expect("raft messages encode");
    match op {
        LogOp::Append(entries) => {
            body.push(OP_APPEND);
            for e in entries {
                let b = proto(e);
                body.extend((b.len() as u32).to_be_bytes());
                body.extend(b);
            }
        }
        LogOp::HardState(hs) => {
            body.push(OP_HARD_STATE);
            body.extend(proto(hs));
        }
        LogOp::InstallSnapshot(s) => {
            body.push(OP_INSTALL);
            body.extend(proto(s));
        }
    }
    body
}

/// One replayed record of the log file.
enum Record {
    Op(LogOp),
    Compact(Snapshot),
}

fn decode_record(body: &[u8]) -> Result<Record, String> {
    let (kind, rest) = body.split_first().ok_or("empty record")?;
    let bad = |e: protobuf::ProtobufError| e.to_string();
    Ok(match *kind {
        OP_APPEND => {
            let mut entries = Vec::new();
            let mut at = 0;
            while at < rest.len() {
                let len = rest
                    .get(at..at + 4)
                    .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
                    .ok_or("short entry length")?;
                let b = rest.get(at + 4..at + 4 + len).ok_or("short entry")?;
                entries.push(Entry::parse_from_bytes(b).map_err(bad)?);
                at += 4 + len;
            }
            Record::Op(LogOp::Append(entries))
        }
        OP_HARD_STATE => Record::Op(LogOp::HardState(
            HardState::parse_from_bytes(rest).map_err(bad)?,
        )),
        OP_INSTALL => Record::Op(LogOp::InstallSnapshot(
            Snapshot::parse_from_bytes(rest).map_err(bad)?,
        )),
        OP_COMPACT => Record::Compact(Snapshot::parse_from_bytes(rest).map_err(bad)?),
        other => return Err(format!("unknown record kind {other}")),
    })
}

/// The Raft log on turmoil's file system, with the image it holds as
/// written in memory (what raft-rs reads) and as the harness records it
/// synced (what the node asked to make durable).
#[derive(Debug)]
pub struct FileLog {
    record: RaftDisk,
}

impl FileLog {
    /// Opens (or creates, for a fresh node whose members are `voters`) the
    /// log file and replays it.
    pub fn open(voters: &[u64]) -> Result<(FileLog, u64), String> {
        let (bodies, cut) = recover(RAFT_LOG).map_err(|e| format!("{RAFT_LOG}: {e}"))?;
        // What a crashed process wrote may still sit unsynced in the file
        // system's cache; raft-rs takes whatever the log holds as
        // persisted, so the log is made durable before it is read (and
        // the record below may call all of it synced).
        sync(RAFT_LOG).map_err(|e| format!("{RAFT_LOG}: sync on open: {e}"))?;
        let mut written = LogImage::default();
        written.conf_state.voters = voters.to_vec();
        written
            .snapshot
            .mut_metadata()
            .set_conf_state(written.conf_state.clone());
        for (i, body) in bodies.iter().enumerate() {
            match decode_record(body).map_err(|e| format!("{RAFT_LOG}: record {i}: {e}"))? {
                Record::Op(op) => apply_op(&op, &mut written),
                Record::Compact(s) => written.compact(&s),
            }
        }
        Ok((
            FileLog {
                record: RaftDisk::from_image(written),
            },
            cut,
        ))
    }

    /// The log as written.
    pub fn written(&self) -> &LogImage {
        self.record.written()
    }

    /// The harness's record of the log (written and synced images).
    pub fn record(&self) -> &RaftDisk {
        &self.record
    }

    fn io(what: &str, e: std::io::Error) -> ! {
        // The core's contract has no error path for its own log: a node
        // whose log cannot be written dies, as raft-rs nodes do.
        panic!("{RAFT_LOG}: {what}: {e}")
    }
}

impl RaftLog for FileLog {
    fn write(&mut self, ops: Vec<LogOp>) -> u64 {
        let mut bytes = Vec::new();
        for op in &ops {
            bytes.extend(frame(&encode_op(op)));
        }
        if let Err(e) = append(RAFT_LOG, &bytes) {
            Self::io("append", e);
        }
        self.record.write(ops)
    }
    fn sync_through(&mut self, seq: u64) {
        // fsync makes every earlier write durable, which is at least `seq`
        // (the record keeps what the node asked for: the checkers' lower
        // bound).
        if let Err(e) = sync(RAFT_LOG) {
            Self::io("sync", e);
        }
        self.record.sync_through(seq);
    }
    fn compact(&mut self, snapshot: &Snapshot) {
        let mut body = vec![OP_COMPACT];
        body.extend(snapshot.write_to_bytes().expect("snapshots encode"));
        if let Err(e) = append(RAFT_LOG, &frame(&body)).and_then(|_| sync(RAFT_LOG)) {
            Self::io("snapshot", e);
        }
        self.record.compact(snapshot);
    }
    fn held_snapshot(&self) -> Snapshot {
        self.record.written().snapshot.clone()
    }
    fn held_snapshot_index(&self) -> u64 {
        self.record.written().snapshot.get_metadata().index
    }
    fn persisted_commit(&self) -> u64 {
        self.record.written().hard_state.commit
    }
    fn held_entry(&self, index: u64) -> Option<Entry> {
        self.record.written().entry(index).cloned()
    }
    fn held_term(&self, index: u64) -> Option<u64> {
        self.record.written().term(index)
    }
    fn membership(&self) -> ConfState {
        self.record.written().conf_state.clone()
    }
}

regsim_engine::storage_over_image!(FileLog, |s| s.record.written());

// -------------------------------------------------------------- epoch file

/// The local epoch file: two bytes, replaced whole: a write puts the new
/// value in a temporary file (written and synced) and renames it over the
/// file; the rename is durable once the directory is synced. A power loss
/// before that keeps the old file whole, torn writes or not. A missing or
/// short file reads as 0 (a new node).
pub struct FileEpoch;

const EPOCH_TMP: &str = "/data/epoch.tmp";

impl FileEpoch {
    /// What the file holds, as START-1 reads it.
    pub fn value() -> std::io::Result<u16> {
        ensure(EPOCH)?;
        let b = tfs::read(EPOCH)?;
        Ok(match b.as_slice() {
            [hi, lo] => u16::from_be_bytes([*hi, *lo]),
            _ => 0,
        })
    }

    /// Renames a synced copy holding `epoch` over the file (not durable
    /// until the directory is synced).
    fn replace(epoch: u16) -> std::io::Result<()> {
        ensure(EPOCH)?;
        let mut f = tfs::File::create(EPOCH_TMP)?;
        f.write_all(&epoch.to_be_bytes())?;
        f.sync_all()?;
        tfs::rename(EPOCH_TMP, EPOCH)
    }

    /// Writes and syncs `epoch` (an injected preset or rollback, done by
    /// the harness inside the host before the node starts).
    pub fn set(epoch: u16) -> std::io::Result<()> {
        Self::replace(epoch)?;
        tfs::sync_dir(DIR)
    }
}

impl EpochStore for FileEpoch {
    fn read(&self) -> u16 {
        FileEpoch::value().unwrap_or_else(|e| panic!("{EPOCH}: read: {e}"))
    }
    fn write(&mut self, epoch: u16) {
        FileEpoch::replace(epoch).unwrap_or_else(|e| panic!("{EPOCH}: write: {e}"));
    }
    fn sync(&mut self) {
        tfs::sync_dir(DIR).unwrap_or_else(|e| panic!("{EPOCH}: sync: {e}"));
    }
}

// ---------------------------------------------------------- registry store

fn space_code(space: Space) -> u8 {
    Space::ALL
        .iter()
        .position(|&s| s == space)
        .expect("a space") as u8
}

fn encode_batch(batch: &Batch) -> Vec<u8> {
    let mut body = Vec::new();
    for op in batch.ops() {
        body.push(space_code(op.space()));
        let (tag, key, value): (u8, &[u8], &[u8]) = match op {
            Op::Put { key, value, .. } => (1, key, value),
            Op::Delete { key, .. } => (0, key, &[]),
        };
        body.push(tag);
        body.extend((key.len() as u32).to_be_bytes());
        body.extend_from_slice(key);
        body.extend((value.len() as u32).to_be_bytes());
        body.extend_from_slice(value);
    }
    body
}

fn decode_batch(body: &[u8]) -> Result<Batch, String> {
    let mut batch = Batch::new();
    let mut at = 0;
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let b = body
            .get(*at..*at + n)
            .ok_or_else(|| format!("short op at byte {at}"))?;
        *at += n;
        Ok(b)
    };
    while at < body.len() {
        let head = take(&mut at, 2)?;
        let space = *Space::ALL
            .get(usize::from(head[0]))
            .ok_or_else(|| format!("unknown space {} at byte {}", head[0], at - 2))?;
        let put = head[1] == 1;
        let klen = u32::from_be_bytes(take(&mut at, 4)?.try_into().expect("4")) as usize;
        let key = take(&mut at, klen)?.to_vec();
        let vlen = u32::from_be_bytes(take(&mut at, 4)?.try_into().expect("4")) as usize;
        let value = take(&mut at, vlen)?.to_vec();
        if put {
            batch.put(space, key, value);
        } else {
            batch.delete(space, key);
        }
    }
    Ok(batch)
}

/// The registry store on turmoil's file system: an append-only log of
/// the library's batches (written, then made durable by `sync`), with the
/// state they build held in memory.
#[derive(Debug)]
pub struct FileRegistry {
    image: MemoryRegistry,
    path: PathBuf,
    /// Records in the file, and how many of them the last sync covered.
    records: u64,
    synced_records: u64,
}

impl FileRegistry {
    /// Opens the registry file and replays its whole records. Returns the
    /// store and the bytes of a torn or lost tail it cut.
    pub fn open() -> Result<(FileRegistry, u64), StoreError> {
        let path = Path::new(REGISTRY).to_path_buf();
        let io = |e: std::io::Error| StoreError::Io {
            op: "open",
            message: format!("{REGISTRY}: {e}"),
        };
        let (bodies, cut) = recover(REGISTRY).map_err(io)?;
        let mut image = MemoryRegistry::new();
        for (i, body) in bodies.iter().enumerate() {
            let batch = decode_batch(body).map_err(|e| StoreError::Io {
                op: "open",
                message: format!("{REGISTRY}: record {i}: {e}"),
            })?;
            image.write(&batch)?;
        }
        let records = bodies.len() as u64;
        Ok((
            FileRegistry {
                image,
                path,
                records,
                synced_records: records,
            },
            cut,
        ))
    }

    /// Records the file holds (as written).
    pub fn records(&self) -> u64 {
        self.records
    }

    fn io(op: &'static str, e: std::io::Error) -> StoreError {
        StoreError::Io {
            op,
            message: format!("{REGISTRY}: {e}"),
        }
    }
}

impl WriterRegistryStore for FileRegistry {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.image.get(space, key)
    }
    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        self.image.scan(space)
    }
    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let path = self.path.to_string_lossy().into_owned();
        append(&path, &frame(&encode_batch(batch))).map_err(|e| Self::io("write", e))?;
        self.records += 1;
        self.image.write(batch)
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        let path = self.path.to_string_lossy().into_owned();
        sync(&path).map_err(|e| Self::io("sync", e))?;
        self.synced_records = self.records;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_stop_at_a_torn_or_corrupt_tail() {
        let mut bytes = frame(b"one");
        bytes.extend(frame(b"two"));
        let whole = bytes.len();
        bytes.extend(&frame(b"three")[..7]);
        let (bodies, valid) = records(&bytes);
        assert_eq!(bodies, vec![&b"one"[..], &b"two"[..]]);
        assert_eq!(valid, whole);
        let mut flipped = frame(b"one");
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(records(&flipped).1, 0);
        // Zeros where a lost write was (a hole before a surviving one).
        let mut hole = frame(b"one");
        hole.extend([0u8; 20]);
        hole.extend(frame(b"two"));
        assert_eq!(records(&hole).0.len(), 1);
    }

    #[test]
    fn batches_round_trip() {
        let mut b = Batch::new();
        b.put(Space::Registry, vec![1, 2], vec![3; 12]);
        b.delete(Space::Kv, vec![9]);
        b.put(
            Space::Meta,
            b"applied".to_vec(),
            7u64.to_be_bytes().to_vec(),
        );
        let back = decode_batch(&encode_batch(&b)).unwrap();
        assert_eq!(format!("{:?}", back.ops()), format!("{:?}", b.ops()));
        assert!(decode_batch(&[0, 1, 0]).is_err());
    }

    #[test]
    fn log_ops_round_trip() {
        let e = Entry {
            index: 3,
            term: 2,
            data: vec![1, 2, 3].into(),
            ..Default::default()
        };
        let hs = HardState {
            commit: 3,
            ..Default::default()
        };
        for op in [LogOp::Append(vec![e.clone(), e]), LogOp::HardState(hs)] {
            let Record::Op(back) = decode_record(&encode_op(&op)).unwrap() else {
                panic!("an op")
            };
            assert_eq!(format!("{back:?}"), format!("{op:?}"));
        }
        assert!(decode_record(&[9]).is_err());
    }
}
