//! The simulated disk of one node's Raft log (entries, hard state,
//! snapshot).
//!
//! Every file exists twice: as *written* (what the process sees, and what a
//! process crash keeps: it sits in the OS page cache) and as *synced* (what
//! a power loss keeps). Writes join a queue of pending operations; a sync
//! through write `seq` replays the queue up to `seq` onto the synced image.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};

use crate::storage::{LogOp, RaftLog};
use raft::StorageError;

/// One image of a Raft log: entries after the snapshot, the hard state, the
/// membership and the latest snapshot (index 0 when there is none).
#[derive(Debug, Clone, Default)]
pub struct LogImage {
    /// The hard state (term, vote, commit).
    pub hard_state: HardState,
    /// The membership.
    pub conf_state: ConfState,
    /// The latest snapshot (index 0 when there is none).
    pub snapshot: Snapshot,
    /// Entries `snapshot_index() + 1 ..= last_index()`.
    pub entries: Vec<Entry>,
}

impl LogImage {
    /// The hash of the snapshot's bytes if the one held is at `index`
    /// (how the checkers find the state a snapshot carries).
    pub fn snapshot_hash_at(&self, index: u64) -> Option<u64> {
        (self.snapshot_index() == index).then(|| crate::fnv::fnv1a64(self.snapshot.get_data()))
    }

    /// The index the held snapshot covers (0: none).
    #[inline]
    pub fn snapshot_index(&self) -> u64 {
        self.snapshot.get_metadata().index
    }

    /// The first index after the snapshot.
    #[inline]
    pub fn first_index(&self) -> u64 {
        self.snapshot_index() + 1
    }

    /// The last index held (the snapshot's when no entry follows it).
    #[inline]
    pub fn last_index(&self) -> u64 {
        self.snapshot_index() + self.entries.len() as u64
    }

    /// The entry at `index`, if held.
    #[inline]
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        if index < self.first_index() {
            return None;
        }
        self.entries.get((index - self.first_index()) as usize)
    }

    /// The term of `index`, the snapshot's own index included.
    #[inline]
    pub fn term(&self, index: u64) -> Option<u64> {
        if index == self.snapshot_index() {
            return Some(self.snapshot.get_metadata().term);
        }
        self.entry(index).map(|e| e.term)
    }

    /// Appends, truncating any conflicting suffix first (raft's contract:
    /// the first appended index may rewrite the tail).
    pub fn append(&mut self, new: &[Entry]) {
        // Entries a snapshot already covers are not appended again: a
        // synced image compacted past its synced tail (a restarted node
        // snapshots what its replay applied before its first sync) meets
        // the older appends its pending writes still hold.
        let covered = new
            .iter()
            .take_while(|e| e.index <= self.snapshot_index())
            .count();
        let new = &new[covered..];
        let Some(first) = new.first() else { return };
        let keep = first.index.saturating_sub(self.first_index()) as usize;
        self.entries.truncate(keep.min(self.entries.len()));
        self.entries.extend_from_slice(new);
    }

    /// Installs a snapshot received from a leader: the log restarts after it.
    pub fn install(&mut self, snapshot: &Snapshot) {
        let meta = snapshot.get_metadata();
        self.entries.clear();
        self.conf_state = meta.get_conf_state().clone();
        self.snapshot = snapshot.clone();
        if self.hard_state.commit < meta.index {
            self.hard_state.commit = meta.index;
        }
        if self.hard_state.term < meta.term {
            self.hard_state.term = meta.term;
        }
    }

    /// Keeps `snapshot` as the latest and drops entries up to its index.
    pub fn compact(&mut self, snapshot: &Snapshot) {
        let index = snapshot.get_metadata().index;
        if index <= self.snapshot_index() {
            return;
        }
        let drop = (index - self.snapshot_index()).min(self.entries.len() as u64) as usize;
        self.entries.drain(..drop);
        self.snapshot = snapshot.clone();
    }
}

/// raft-rs's reads of a log as written (every [`raft::Storage`] of the
/// harness reads its image through these).
impl LogImage {
    /// raft-rs's `Storage::entries` over this image.
    pub fn raft_entries(
        &self,
        low: u64,
        high: u64,
        max_size: Option<u64>,
    ) -> raft::Result<Vec<Entry>> {
        if low < self.first_index() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if high > self.last_index() + 1 {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        let offset = self.first_index();
        let mut out = self.entries[(low - offset) as usize..(high - offset) as usize].to_vec();
        raft::util::limit_size(&mut out, max_size);
        Ok(out)
    }

    /// raft-rs's `Storage::term` over this image.
    pub fn raft_term(&self, idx: u64) -> raft::Result<u64> {
        if idx < self.snapshot_index() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        self.term(idx)
            .ok_or(raft::Error::Store(StorageError::Unavailable))
    }

    /// raft-rs's `Storage::snapshot` over this image (temporarily
    /// unavailable while it holds none).
    pub fn raft_snapshot(&self) -> raft::Result<Snapshot> {
        if self.snapshot_index() == 0 {
            return Err(raft::Error::Store(
                StorageError::SnapshotTemporarilyUnavailable,
            ));
        }
        Ok(self.snapshot.clone())
    }
}

/// Replays one Raft log change onto an image.
pub fn apply_op(op: &LogOp, image: &mut LogImage) {
    match op {
        LogOp::Append(entries) => image.append(entries),
        LogOp::HardState(hs) => image.hard_state = hs.clone(),
        LogOp::InstallSnapshot(s) => image.install(s),
    }
}

/// A node's Raft log on the simulated disk.
#[derive(Debug, Clone)]
pub struct RaftDisk {
    written: LogImage,
    synced: LogImage,
    pending: VecDeque<(u64, LogOp)>,
    next_seq: u64,
    /// Syncs that made something durable: the checkers look at the synced
    /// image again only when it moves.
    syncs: u64,
}

impl RaftDisk {
    /// A fresh node's disk: empty log, every peer a voter.
    pub fn new(voters: Vec<u64>) -> Self {
        let mut image = LogImage::default();
        image.conf_state.voters = voters;
        image
            .snapshot
            .mut_metadata()
            .set_conf_state(image.conf_state.clone());
        Self::from_image(image)
    }

    /// A disk holding `image`, all of it durable (a log just recovered
    /// from its file).
    pub fn from_image(image: LogImage) -> Self {
        RaftDisk {
            written: image.clone(),
            synced: image,
            pending: VecDeque::new(),
            next_seq: 1,
            syncs: 0,
        }
    }

    /// How many syncs made writes durable so far.
    #[inline]
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// What the running process sees.
    #[inline]
    pub fn written(&self) -> &LogImage {
        &self.written
    }

    /// What a power loss would keep.
    #[inline]
    pub fn synced(&self) -> &LogImage {
        &self.synced
    }

    /// Writes (not syncs) `ops`; returns the sequence number to sync through.
    pub fn write(&mut self, ops: Vec<LogOp>) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        for op in ops {
            apply_op(&op, &mut self.written);
            self.pending.push_back((seq, op));
        }
        seq
    }

    /// Makes every write up to `seq` durable.
    pub fn sync_through(&mut self, seq: u64) {
        if self.pending.front().is_some_and(|(s, _)| *s <= seq) {
            self.syncs += 1;
        }
        while self.pending.front().is_some_and(|(s, _)| *s <= seq) {
            let (_, op) = self.pending.pop_front().expect("front checked");
            apply_op(&op, &mut self.synced);
        }
    }

    /// Power loss: everything not synced is gone.
    pub fn power_loss(&mut self) {
        self.written = self.synced.clone();
        self.pending.clear();
    }

    /// A node's own snapshot: the snapshot file is written and fsynced on
    /// its own, then the log before it is dropped (both images: compaction
    /// only removes entries every image already holds, because the
    /// snapshot index never exceeds the synced commit index).
    pub fn compact(&mut self, snapshot: &Snapshot) {
        self.written.compact(snapshot);
        self.synced.compact(snapshot);
    }
}

/// The node core's log: the disk behind a shared handle (the engine keeps
/// the disk while the node is down).
impl RaftLog for DiskStorage {
    fn write(&mut self, ops: Vec<LogOp>) -> u64 {
        self.0.borrow_mut().write(ops)
    }
    fn sync_through(&mut self, seq: u64) {
        self.0.borrow_mut().sync_through(seq);
    }
    fn compact(&mut self, snapshot: &Snapshot) {
        self.0.borrow_mut().compact(snapshot);
    }
    fn held_snapshot(&self) -> Snapshot {
        self.0.borrow().written.snapshot.clone()
    }
    fn held_snapshot_index(&self) -> u64 {
        self.0.borrow().written.snapshot.get_metadata().index
    }
    fn persisted_commit(&self) -> u64 {
        self.0.borrow().written.hard_state.commit
    }
    fn held_entry(&self, index: u64) -> Option<Entry> {
        self.0.borrow().written.entry(index).cloned()
    }
    fn held_term(&self, index: u64) -> Option<u64> {
        self.0.borrow().written.term(index)
    }
    fn membership(&self) -> ConfState {
        self.0.borrow().written.conf_state.clone()
    }
}

/// raft-rs's view of the disk: the written image.
#[derive(Clone)]
pub struct DiskStorage(pub Rc<RefCell<RaftDisk>>);

crate::storage_over_image!(DiskStorage, |s| std::cell::Ref::map(s.0.borrow(), |d| &d
    .written));
