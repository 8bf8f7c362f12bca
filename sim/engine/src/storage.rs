//! What a node core persists of Raft, behind traits: the log and hard
//! state. The core names no implementation; the engine implements them
//! over its simulated disk ([`crate::disk`]), a hosted runtime over its
//! own files, a user's node over real ones.

use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};

/// One change a Ready makes to the Raft log files.
#[derive(Debug, Clone)]
pub enum LogOp {
    /// Append entries, truncating any conflicting suffix first (raft's
    /// contract: the first appended index may rewrite the tail).
    Append(Vec<Entry>),
    /// Replace the hard state.
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
