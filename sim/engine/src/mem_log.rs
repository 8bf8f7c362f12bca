//! A Raft log in memory, over raft-rs's `MemStorage`: every write is
//! visible and durable at once. For driving a node core by hand (unit
//! tests, a first look at a new application) with no simulated disk. It
//! lives outside `node/` so that its panics count as the harness's.

use raft::eraftpb::{ConfState, Entry, Snapshot};
use raft::storage::MemStorage;
use raft::{GetEntriesContext, Storage};

use crate::storage::{LogOp, RaftLog};

/// raft-rs's in-memory log as a [`RaftLog`].
#[derive(Clone)]
pub struct MemLog {
    mem: MemStorage,
    snapshot: Snapshot,
    seq: u64,
}

impl MemLog {
    /// An empty log of a cluster with one voter, raft id 1.
    pub fn single_voter() -> Self {
        MemLog {
            mem: MemStorage::new_with_conf_state(ConfState::from((vec![1], vec![]))),
            snapshot: Snapshot::default(),
            seq: 0,
        }
    }
}

impl Storage for MemLog {
    fn initial_state(&self) -> raft::Result<raft::RaftState> {
        self.mem.initial_state()
    }
    fn entries(
        &self,
        low: u64,
        high: u64,
        max: impl Into<Option<u64>>,
        ctx: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        self.mem.entries(low, high, max, ctx)
    }
    fn term(&self, idx: u64) -> raft::Result<u64> {
        self.mem.term(idx)
    }
    fn first_index(&self) -> raft::Result<u64> {
        self.mem.first_index()
    }
    fn last_index(&self) -> raft::Result<u64> {
        self.mem.last_index()
    }
    fn snapshot(&self, request_index: u64, to: u64) -> raft::Result<Snapshot> {
        self.mem.snapshot(request_index, to)
    }
}

impl RaftLog for MemLog {
    fn write(&mut self, ops: Vec<LogOp>) -> u64 {
        let mut core = self.mem.wl();
        for op in ops {
            match op {
                LogOp::Append(entries) => core.append(&entries).expect("raft appends in order"),
                LogOp::HardState(hs) => core.set_hardstate(hs),
                LogOp::InstallSnapshot(s) => core
                    .apply_snapshot(s)
                    .expect("raft installs newer snapshots"),
            }
        }
        self.seq += 1;
        self.seq
    }
    fn sync_through(&mut self, _seq: u64) {}
    fn compact(&mut self, snapshot: &Snapshot) {
        self.mem
            .wl()
            .compact(snapshot.get_metadata().index)
            .expect("compacts only applied entries");
        self.snapshot = snapshot.clone();
    }
    fn held_snapshot(&self) -> Snapshot {
        self.snapshot.clone()
    }
    fn held_snapshot_index(&self) -> u64 {
        self.snapshot.get_metadata().index
    }
    fn persisted_commit(&self) -> u64 {
        self.mem.rl().hard_state().commit
    }
    fn held_entry(&self, index: u64) -> Option<Entry> {
        let ctx = GetEntriesContext::empty(false);
        self.mem.entries(index, index + 1, None, ctx).ok()?.pop()
    }
    fn held_term(&self, index: u64) -> Option<u64> {
        self.mem.term(index).ok()
    }
    fn membership(&self) -> ConfState {
        self.mem
            .initial_state()
            .expect("MemStorage's initial state never fails")
            .conf_state
    }
}
