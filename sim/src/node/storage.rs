//! What the node core persists, behind traits: the Raft log and hard
//! state, the local epoch file, and the registry store. The core names no
//! implementation; the native engine implements them over its simulated
//! disk and journalled store, and a turmoil or madsim runtime or a user's
//! node implements them over real files.

use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};
use writer_registry::WriterRegistryStore;

/// One change a Ready makes to the Raft log files.
#[derive(Debug, Clone)]
pub enum LogOp {
    /// Append entries, truncating any conflicting suffix first (raft's
    /// contract: the first appended index may rewrite the tail).
    Append(Vec<Entry>),
    HardState(HardState),
    /// A snapshot received from a leader: the log restarts after it.
    InstallSnapshot(Snapshot),
}

/// The Raft log and hard state, persisted asynchronously: a Ready's
/// changes are written (visible to raft at once through
/// [`raft::Storage`]) and made durable by a later, separate sync, in the
/// order they were written. The accessors read the log as written.
pub trait RaftLog: raft::Storage {
    /// Writes (does not sync) `ops`; returns the number to sync through.
    fn write(&mut self, ops: Vec<LogOp>) -> u64;
    /// Makes every write up to `seq` durable.
    fn sync_through(&mut self, seq: u64);
    /// Makes every write so far durable (a start's first step: what a
    /// crashed process wrote may sit unsynced in the page cache, and
    /// raft-rs takes whatever the log holds as persisted).
    fn sync_all(&mut self) {
        self.sync_through(u64::MAX);
    }
    /// The node's own snapshot: keep it as the latest and drop the log
    /// entries it covers.
    fn compact(&mut self, snapshot: &Snapshot);
    /// The snapshot the log holds (index 0 when none).
    fn held_snapshot(&self) -> Snapshot;
    /// The commit index of the hard state as written.
    fn persisted_commit(&self) -> u64;
    /// The entry at `index`, if the log holds it.
    fn held_entry(&self, index: u64) -> Option<Entry>;
    /// The term of `index` (the snapshot's own index included).
    fn held_term(&self, index: u64) -> Option<u64>;
    /// The membership as written.
    fn membership(&self) -> ConfState;
}

/// The local epoch file (`docs/spec.md` ID-3): a u16, written then synced.
pub trait EpochStore {
    fn read(&self) -> u16;
    fn write(&mut self, epoch: u16);
    fn sync(&mut self);
}

/// The registry store as the node core uses it: the library's seam, plus
/// two things a store can tell about itself.
pub trait NodeStore: WriterRegistryStore {
    /// The process died inside the last call (a crash a simulator injected
    /// between a write and its sync); a real store never reports it.
    fn process_died(&self) -> bool {
        false
    }
    /// Writes made so far that no sync covers yet: an apply that returns
    /// with more than it found broke "durable before apply returns".
    fn unsynced_writes(&self) -> usize;
}
