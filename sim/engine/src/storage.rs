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
    /// The index of the snapshot the log holds (0 when none), without
    /// copying its data: a log that keeps the snapshot should override it.
    fn held_snapshot_index(&self) -> u64 {
        self.held_snapshot().get_metadata().index
    }
    /// The commit index of the hard state as written.
    fn persisted_commit(&self) -> u64;
    /// The entry at `index`, if the log holds it.
    fn held_entry(&self, index: u64) -> Option<Entry>;
    /// The term of `index` (the snapshot's own index included).
    fn held_term(&self, index: u64) -> Option<u64>;
    /// The membership as written.
    fn membership(&self) -> ConfState;
}

/// Implements raft-rs's [`raft::Storage`] for a log type whose written
/// [`LogImage`](crate::disk::LogImage) the expression `$image` yields
/// (a reference or a guard to one), over `$s: &Self`: raft-rs reads the
/// log as written, whatever has synced. One definition for every log
/// that keeps a written image (the engine's disk, a runtime's files).
#[macro_export]
macro_rules! storage_over_image {
    ($ty:ty, |$s:ident| $image:expr) => {
        impl ::raft::Storage for $ty {
            fn initial_state(&self) -> ::raft::Result<::raft::RaftState> {
                let $s = self;
                let image = $image;
                Ok(::raft::RaftState::new(
                    image.hard_state.clone(),
                    image.conf_state.clone(),
                ))
            }

            fn entries(
                &self,
                low: u64,
                high: u64,
                max_size: impl Into<Option<u64>>,
                _context: ::raft::GetEntriesContext,
            ) -> ::raft::Result<Vec<::raft::eraftpb::Entry>> {
                let $s = self;
                let image = $image;
                image.raft_entries(low, high, max_size.into())
            }

            fn term(&self, idx: u64) -> ::raft::Result<u64> {
                let $s = self;
                let image = $image;
                image.raft_term(idx)
            }

            fn first_index(&self) -> ::raft::Result<u64> {
                let $s = self;
                let image = $image;
                Ok(image.first_index())
            }

            fn last_index(&self) -> ::raft::Result<u64> {
                let $s = self;
                let image = $image;
                Ok(image.last_index())
            }

            fn snapshot(
                &self,
                _request_index: u64,
                _to: u64,
            ) -> ::raft::Result<::raft::eraftpb::Snapshot> {
                let $s = self;
                let image = $image;
                image.raft_snapshot()
            }
        }
    };
}
