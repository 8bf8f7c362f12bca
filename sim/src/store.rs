//! The FSM's store as the simulator sees it: the real registry (fjall or
//! memory) behind a journal that knows which writes reached a sync.
//!
//! A crash is a kill (for fjall, [`crate::crash_copy`]: the directory as
//! the dead process left it, recovered by fjall): what was committed
//! survives, synced or not. A power loss keeps what synced plus a seeded
//! whole-batch prefix of the rest: fjall's journal is cut back to it, the
//! memory store has the dropped batches undone. This is also where a crash
//! between a registry write and its sync is injected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use writer_registry::registry::{Batch, Op, Pairs, Space, StoreError, WriterRegistryStore};
use writer_registry::{FjallRegistry, MemoryRegistry};

use crate::crash_copy::{open_settled, FjallFiles};
use crate::fnv::Fnv;

pub use crate::scenario::RegistryKind;

/// The open registry of a running node.
#[derive(Debug)]
pub enum SimStore {
    Memory(MemoryRegistry),
    /// The database and what the harness tracks of its files.
    Fjall(FjallRegistry, FjallFiles),
    /// The turmoil runtime's append-only registry file (its host's file
    /// system decides what a crash keeps).
    File(crate::turmoil_fs::FileRegistry),
}

impl WriterRegistryStore for SimStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            SimStore::Memory(s) => s.get(space, key),
            SimStore::Fjall(s, _) => s.get(space, key),
            SimStore::File(s) => s.get(space, key),
        }
    }
    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        match self {
            SimStore::Memory(s) => s.scan(space),
            SimStore::Fjall(s, _) => s.scan(space),
            SimStore::File(s) => s.scan(space),
        }
    }
    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        match self {
            SimStore::Memory(s) => s.write(batch),
            SimStore::Fjall(s, _) => s.write(batch),
            SimStore::File(s) => s.write(batch),
        }
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        match self {
            SimStore::Memory(s) => s.sync(),
            SimStore::Fjall(s, _) => s.sync(),
            SimStore::File(s) => s.sync(),
        }
    }
}

/// A closed registry: where it lives while its node is down.
pub enum ClosedStore {
    Memory(MemoryRegistry),
    /// A database directory, and its files as last tracked (`None` before
    /// its first open).
    Fjall(PathBuf, Option<FjallFiles>),
    /// The turmoil runtime's registry file, on its host's file system
    /// (reopened there, by the host, never through this type).
    File,
}

impl ClosedStore {
    pub fn new(kind: RegistryKind, dir: &Path) -> Self {
        match kind {
            RegistryKind::Memory => ClosedStore::Memory(MemoryRegistry::new()),
            RegistryKind::Fjall => ClosedStore::Fjall(dir.to_path_buf(), None),
        }
    }

    /// Opens it; for fjall this really opens the database directory (and
    /// runs fjall's recovery over what a crash or power loss left).
    pub fn open(self, mutant: writer_registry::MutantSlot) -> Result<SimStore, StoreError> {
        Ok(match self {
            ClosedStore::Memory(m) => SimStore::Memory(m),
            ClosedStore::Fjall(path, before) => {
                let (store, files) = open_settled(&path, before, mutant)?;
                SimStore::Fjall(store, files)
            }
            ClosedStore::File => {
                let (store, _) = crate::turmoil_fs::FileRegistry::open()?;
                SimStore::File(store)
            }
        })
    }

    /// Power loss while closed: keeps what synced and the first `keep` of
    /// the `journal`'s unsynced batches (fjall: plus `torn` of the next
    /// one's bytes, which recovery cuts). Returns the registry rows it
    /// took back.
    pub fn power_loss(
        &mut self,
        journal: &mut Journal,
        keep: usize,
        torn: f64,
    ) -> Result<usize, String> {
        match self {
            ClosedStore::Memory(m) => journal.power_loss(m, keep).map_err(|e| e.to_string()),
            ClosedStore::Fjall(path, files) => {
                if let Some(files) = files {
                    // The file's record counts batches past the last real
                    // fsync; the journal, past the last sync the store
                    // reported. They agree for a store that fsyncs when it
                    // says it does; for one that does not, the file has
                    // more and loses more than the model allows, which
                    // `durability` then judges. Fewer is the harness's own
                    // bug (an fsync seen that no sync reported).
                    assert!(
                        files.unsynced_batches() >= journal.unsynced_batches(),
                        "the harness's fjall file record saw an fsync its journal never reported"
                    );
                    files.power_loss(path, keep, torn)?;
                }
                Ok(journal.forget_unsynced_after(keep))
            }
            ClosedStore::File => {
                Err("a turmoil host's file system decides what a power loss keeps".into())
            }
        }
    }
}

impl SimStore {
    /// The harness writes `batch` itself and syncs it (an injected fault
    /// in a down node's store).
    pub fn inject(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.write(batch)?;
        self.sync()?;
        if let SimStore::Fjall(_, files) = self {
            files.written().map_err(harness_io)?;
            files.synced();
        }
        Ok(())
    }

    /// The run is over: drops the handle (nothing reopens it).
    pub fn release(self) -> ClosedStore {
        match self {
            SimStore::Memory(m) => ClosedStore::Memory(m),
            SimStore::Fjall(f, files) => {
                let path = f.path().to_path_buf();
                files.unwatch();
                drop(f);
                ClosedStore::Fjall(path, Some(files))
            }
            SimStore::File(_) => ClosedStore::File,
        }
    }

    /// The process holding it dies: what it committed stays where it
    /// reached (for fjall, the directory as a killed process leaves it).
    /// `Err` when fjall was not quiescent, so no copy could be taken.
    pub fn kill(self) -> Result<ClosedStore, String> {
        match self {
            SimStore::Memory(m) => Ok(ClosedStore::Memory(m)),
            SimStore::Fjall(f, files) => {
                let path = f.path().to_path_buf();
                files.kill(f)?;
                Ok(ClosedStore::Fjall(path, Some(files)))
            }
            SimStore::File(_) => Ok(ClosedStore::File),
        }
    }
}

/// How an injected corruption damages a stored registry row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Corruption {
    /// Drop the value's last byte: no longer 12 bytes (shape-breaking).
    Truncate,
    /// Flip the lowest bit of the owner's top byte: another owner under
    /// the same node16 (shape-preserving).
    OwnerBit,
    /// Raise last_seen by one (shape-preserving; a row at 0xFFFF loses
    /// one instead).
    LastSeenUp,
}

impl Corruption {
    /// The damaged value.
    pub fn apply(self, value: &[u8]) -> Vec<u8> {
        let mut v = value.to_vec();
        match self {
            Corruption::Truncate => {
                v.pop();
            }
            Corruption::OwnerBit => {
                if let Some(b) = v.first_mut() {
                    *b ^= 1;
                }
            }
            Corruption::LastSeenUp if v.len() == 12 => {
                let last = u16::from_be_bytes([v[10], v[11]]);
                let damaged = last.checked_add(1).unwrap_or(last - 1);
                v[10..12].copy_from_slice(&damaged.to_be_bytes());
            }
            Corruption::LastSeenUp => v.push(0),
        }
        v
    }

    /// The coverage mark a damage of this kind fires.
    pub fn mark(self) -> crate::marks::SimMark {
        match self {
            Corruption::Truncate => crate::marks::SimMark::RowCorruptedShape,
            _ => crate::marks::SimMark::RowCorruptedBits,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Corruption::Truncate => "truncate",
            Corruption::OwnerBit => "owner-bit",
            Corruption::LastSeenUp => "last-seen-up",
        }
    }
}

/// A registry row's bytes before and after an injected damage.
pub type RowChange = (Vec<u8>, Vec<u8>);

/// Damages the registry row under `key` in `store` as `how` says, writing
/// and syncing it as the harness (the journal records the injection).
/// Returns the row before and after, or `None` when there is no such row
/// (a row that does not exist yet is left alone).
pub fn corrupt_row(
    store: &mut SimStore,
    journal: &mut Journal,
    key: &[u8],
    how: Corruption,
) -> Result<Option<RowChange>, StoreError> {
    let Ok(Some(old)) = store.get(Space::Registry, key) else {
        return Ok(None);
    };
    let value = how.apply(&old);
    let mut batch = Batch::new();
    batch.put(Space::Registry, key.to_vec(), value.clone());
    store.inject(&batch)?;
    journal.injected(Space::Registry, key.to_vec(), value.clone());
    Ok(Some((old, value)))
}

/// Which store call an injected I/O error fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreOp {
    /// The registry write itself: nothing is written.
    Write,
    /// The sync after it: the write is in the store, not durable.
    Sync,
}

/// The error an injected I/O fault returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Errno {
    Eio,
    Enospc,
}

impl Errno {
    /// Worded so that it never reads as the machine's own error (those
    /// say "(os error N)" and end a run as a harness error).
    fn message(self) -> &'static str {
        match self {
            Errno::Eio => "injected fault: EIO, input/output error",
            Errno::Enospc => "injected fault: ENOSPC, no space left on device",
        }
    }
}

/// An armed store fault, shared by the injector and the node's store.
pub type StoreFault = std::rc::Rc<std::cell::Cell<Option<(StoreOp, Errno)>>>;

/// Every (space, key) -> value a store holds.
pub type Image = BTreeMap<(Space, Vec<u8>), Vec<u8>>;

/// A registry row change that reached a sync, for the invariant oracle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedRowChange {
    pub key: Vec<u8>,
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
}

/// The harness's record of a store's writes: the image that reached a
/// sync and the batches written since, across incarnations.
#[derive(Debug, Default, Clone)]
pub struct Journal {
    synced: Image,
    unsynced: Vec<Batch>,
}

impl Journal {
    /// The digest of what reached a sync (see [`crate::store::image_digest`]).
    pub fn synced_digest(&self) -> (u64, u64) {
        crate::store::image_digest(&self.synced)
    }

    /// An injected write the harness made and synced itself, bypassing
    /// the store's owner: its sync made every earlier write durable too.
    pub fn injected(&mut self, space: Space, key: Vec<u8>, value: Vec<u8>) {
        self.synced_now(None);
        self.synced.insert((space, key), value);
    }

    /// Batches written since the last sync (some may be a dead
    /// incarnation's, still in the page cache).
    pub fn unsynced_batches(&self) -> usize {
        self.unsynced.len()
    }

    /// Power loss on a memory store: undoes every unsynced batch after the
    /// first `keep` (newest first) and syncs. Returns how many registry
    /// rows it took back.
    pub fn power_loss(
        &mut self,
        store: &mut MemoryRegistry,
        keep: usize,
    ) -> Result<usize, StoreError> {
        let keep = keep.min(self.unsynced.len());
        let mut image = self.synced.clone();
        for batch in &self.unsynced[..keep] {
            apply(&mut image, batch);
        }
        let mut undo = Batch::new();
        let mut seen = std::collections::BTreeSet::new();
        for batch in &self.unsynced[keep..] {
            for op in batch.ops() {
                let id = (op.space(), op.key().to_vec());
                if !seen.insert(id.clone()) {
                    continue;
                }
                match image.get(&id) {
                    Some(v) => undo.put(id.0, id.1, v.clone()),
                    None => undo.delete(id.0, id.1),
                }
            }
        }
        let undone = self.forget_unsynced_after(keep);
        store.write(&undo)?;
        store.sync()?;
        Ok(undone)
    }

    /// Drops the unsynced batches after the first `keep` from the record
    /// (they are gone from the store); how many registry rows they wrote.
    pub fn forget_unsynced_after(&mut self, keep: usize) -> usize {
        let keep = keep.min(self.unsynced.len());
        let keys: std::collections::BTreeSet<&[u8]> = self.unsynced[keep..]
            .iter()
            .flat_map(|b| b.ops())
            .filter(|op| op.space() == Space::Registry)
            .map(|op| op.key())
            .collect();
        let rows = keys.len();
        self.unsynced.truncate(keep);
        rows
    }

    /// Moves every unsynced write into the durable image; reports the
    /// registry rows that changed into `changes` when given.
    fn synced_now(&mut self, mut changes: Option<&mut Vec<SyncedRowChange>>) {
        for batch in std::mem::take(&mut self.unsynced) {
            for op in batch.ops() {
                let id = (op.space(), op.key().to_vec());
                let old = self.synced.get(&id).cloned();
                let new = match op {
                    Op::Put { value, .. } => Some(value.clone()),
                    Op::Delete { .. } => None,
                };
                if let Some(changes) = changes
                    .as_deref_mut()
                    .filter(|_| id.0 == Space::Registry && old != new)
                {
                    changes.push(SyncedRowChange {
                        key: id.1.clone(),
                        old,
                        new: new.clone(),
                    });
                }
                match new {
                    Some(v) => self.synced.insert(id, v),
                    None => self.synced.remove(&id),
                };
            }
        }
    }
}

fn apply(image: &mut Image, batch: &Batch) {
    for op in batch.ops() {
        match op {
            Op::Put { space, key, value } => {
                image.insert((*space, key.clone()), value.clone());
            }
            Op::Delete { space, key } => {
                image.remove(&(*space, key.clone()));
            }
        }
    }
}

/// The registry rows of an image, in key order (what a scan of the
/// registry space gives).
pub fn registry_rows(image: &Image) -> writer_registry::registry::Pairs {
    image
        .iter()
        .filter(|((space, _), _)| *space == Space::Registry)
        .map(|((_, k), v)| (k.clone(), v.clone()))
        .collect()
}

/// Scans every space of a store into one image.
pub fn scan_image<S: WriterRegistryStore>(store: &S) -> Result<Image, StoreError> {
    let mut image = Image::new();
    for space in Space::ALL {
        for (k, v) in store.scan(space)? {
            image.insert((space, k), v);
        }
    }
    Ok(image)
}

/// The store handed to the FSM: the open registry plus its journal.
#[derive(Debug)]
pub struct TrackedStore {
    pub inner: SimStore,
    pub journal: Journal,
    /// Armed by the fault schedule (the driver keeps a clone): the next
    /// sync fails as if the process died between the write and its fsync.
    pub crash_before_sync: std::rc::Rc<std::cell::Cell<bool>>,
    /// Set when an armed crash fired: the node must die now.
    pub crashed: bool,
    /// Armed by the fault schedule: the next registry write (or the sync
    /// after it) fails with an I/O error, once.
    pub store_fault: StoreFault,
    /// Set when an armed store fault fired (the engine takes it).
    pub fault_fired: std::cell::Cell<Option<StoreOp>>,
    /// Where synced registry row changes go for the invariant oracle
    /// (shared with the driver; `None` when oracles are off).
    pub row_changes: Option<std::rc::Rc<std::cell::RefCell<Vec<SyncedRowChange>>>>,
}

impl crate::node::storage::NodeStore for TrackedStore {
    fn process_died(&self) -> bool {
        self.crashed
    }
    fn unsynced_writes(&self) -> usize {
        self.journal.unsynced_batches()
    }
}

impl TrackedStore {
    /// Fails `op` with the armed I/O error if one is armed for it and
    /// `batch` (the one written, or the one this sync makes durable)
    /// writes a registry row; once.
    fn strike(&self, op: StoreOp, batch: Option<&Batch>) -> Result<(), StoreError> {
        let registry = batch.is_some_and(|b| b.ops().iter().any(|o| o.space() == Space::Registry));
        match self.store_fault.get() {
            Some((armed, errno)) if armed == op && registry => {
                self.store_fault.set(None);
                self.fault_fired.set(Some(op));
                Err(StoreError::Io {
                    op: match op {
                        StoreOp::Write => "write",
                        StoreOp::Sync => "sync",
                    },
                    message: errno.message().into(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// The message a simulated crash before sync surfaces through the FSM.
pub const CRASH_BEFORE_SYNC: &str = "simulated process crash before sync";

impl WriterRegistryStore for TrackedStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(space, key)
    }
    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        self.inner.scan(space)
    }
    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.strike(StoreOp::Write, Some(batch))?;
        self.inner.write(batch)?;
        self.journal.unsynced.push(batch.clone());
        if let SimStore::Fjall(_, files) = &mut self.inner {
            files.written().map_err(harness_io)?;
        }
        Ok(())
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        // The batch this sync makes durable: the last one written.
        let last = self.journal.unsynced.last();
        self.strike(StoreOp::Sync, last)?;
        if self.crash_before_sync.replace(false) {
            self.crashed = true;
            return Err(StoreError::Io {
                op: "sync",
                message: CRASH_BEFORE_SYNC.into(),
            });
        }
        self.inner.sync()?;
        if let SimStore::Fjall(_, files) = &mut self.inner {
            files.synced();
        }
        match &self.row_changes {
            Some(sink) => self.journal.synced_now(Some(&mut sink.borrow_mut())),
            None => self.journal.synced_now(None),
        }
        Ok(())
    }
}

/// The harness could not read its own record of a store's files.
fn harness_io(e: std::io::Error) -> StoreError {
    StoreError::Io {
        op: "harness: journal length",
        message: e.to_string(),
    }
}

/// A digest of everything a store holds, computed by the harness from the
/// stored bytes (every space, key and value, in key order) and the number
/// of pairs: the trace's view of a node's state. It reads the store the
/// way any client would and trusts nothing the library computes.
pub fn state_digest<S: WriterRegistryStore>(store: &S) -> Result<(u64, u64), StoreError> {
    let mut pairs = Vec::new();
    for space in Space::ALL {
        for (k, v) in store.scan(space)? {
            pairs.push((space, k, v));
        }
    }
    Ok(digest_pairs(
        pairs
            .iter()
            .map(|(s, k, v)| (*s, k.as_slice(), v.as_slice())),
    ))
}

/// [`state_digest`] of a store already scanned into an image (spaces and
/// keys in the same order a scan gives).
pub fn image_digest(image: &Image) -> (u64, u64) {
    digest_pairs(
        image
            .iter()
            .map(|((space, k), v)| (*space, k.as_slice(), v.as_slice())),
    )
}

/// The digest of (space, key, value) pairs given in order, and their
/// count; [`state_digest`] and the journal's synced image share it.
pub fn digest_pairs<'a>(pairs: impl Iterator<Item = (Space, &'a [u8], &'a [u8])>) -> (u64, u64) {
    let mut h = Fnv::new();
    let mut count = 0;
    for (space, k, v) in pairs {
        count += 1;
        h.bytes(space.name().as_bytes());
        h.u64(k.len() as u64);
        h.bytes(k);
        h.u64(v.len() as u64);
        h.bytes(v);
    }
    (h.value(), count)
}

#[cfg(test)]
mod digest_tests {
    use super::*;
    use writer_registry::registry::Batch;

    fn store(pairs: &[(Space, &[u8], &[u8])]) -> MemoryRegistry {
        let mut s = MemoryRegistry::new();
        let mut b = Batch::new();
        for (space, k, v) in pairs {
            b.put(*space, k.to_vec(), v.to_vec());
        }
        s.write(&b).unwrap();
        s
    }

    #[test]
    fn the_state_digest_sees_every_byte_and_every_space() {
        let base = state_digest(&store(&[(Space::Registry, b"k", b"v1")])).unwrap();
        assert_eq!(base.1, 1);
        for other in [
            store(&[(Space::Registry, b"k", b"v2")]),
            store(&[(Space::Registry, b"j", b"v1")]),
            store(&[(Space::Kv, b"k", b"v1")]),
            store(&[(Space::Registry, b"k", b"v1"), (Space::Meta, b"a", b"")]),
            store(&[]),
        ] {
            assert_ne!(state_digest(&other).unwrap(), base);
        }
        assert_eq!(
            state_digest(&store(&[(Space::Registry, b"k", b"v1")])).unwrap(),
            base
        );
    }
}
