//! The node core: one raft-rs member running an [`Application`].
//!
//! Sans-IO: it takes ticks, messages, proposals, sync completions and
//! snapshot requests as method calls and reports what happened as
//! [`Output`]s (messages to send, syncs to schedule, applies, halts). It
//! owns no clock, socket or random source; the driver decides when
//! anything happens. A crash is the driver dropping the core; what
//! survives is the Raft log on its disk and whatever the application made
//! durable ([`NodeCore::into_app`]).
//!
//! The core is the system under test as much as the application is: a
//! panic located in this module is the system's (see
//! [`SYSTEM_SUBDIR`]), bar the checks prefixed [`DRIVER_CONTRACT`],
//! which report the driver's misuse.

use std::collections::VecDeque;

use raft::eraftpb::{Entry, Message, MessageType, Snapshot};
use raft::{RawNode, StateRole};

mod app;
mod crash;
mod mutant;
mod start;
#[cfg(test)]
pub(crate) mod tests;

pub use app::{
    Application, Apply, Died, DiskFacts, Output, RestoreError, StartEvent, StartHook, StartStep,
};
pub use crash::{CrashPoints, Crashed, NoCrashes, ReadyStep};
#[cfg(feature = "mutants")]
pub use mutant::CoreMutant;
pub use mutant::CoreMutantSlot;
pub use start::{start, NotStarted, StartFailure};

use crash::{check, CRASHED};
use mutant::core_mutated;

use crate::storage::{LogOp, RaftLog};

/// The prefix of a node-core panic that reports its driver's misuse: the
/// harness's bug, not the system's.
pub const DRIVER_CONTRACT: &str = "driver contract:";

/// This module's directory under [`crate::source_dir`]: the engine's one
/// part that belongs to the system under test.
pub const SYSTEM_SUBDIR: &str = "node/";

/// Fixed facts about a node's Raft member.
#[derive(Debug, Clone)]
pub struct RaftParams {
    /// 0-based position in the cluster; the raft id is `index + 1`.
    pub index: u8,
    /// raft-rs's election tick (the minimum; the maximum is one more).
    pub election_tick: usize,
    /// raft-rs's heartbeat tick.
    pub heartbeat_tick: usize,
    /// The core's mutant (the `mutants` feature), `()` otherwise.
    pub mutant: CoreMutantSlot,
}

impl RaftParams {
    /// The raft id: `index + 1`.
    pub fn raft_id(&self) -> u64 {
        u64::from(self.index) + 1
    }
}

struct InFlight {
    number: u64,
    seq: u64,
    persisted: Vec<Message>,
    committed: Vec<Entry>,
    snapshot: Option<Snapshot>,
}

/// A running node.
pub struct NodeCore<L: RaftLog, A: Application> {
    params: RaftParams,
    raw: RawNode<L>,
    app: A,
    inflight: VecDeque<InFlight>,
    was_leader: bool,
}

impl<L: RaftLog, A: Application> NodeCore<L, A> {
    /// The node's Raft parameters.
    pub fn params(&self) -> &RaftParams {
        &self.params
    }

    /// The Raft log as this incarnation holds it.
    pub fn log(&self) -> &L {
        self.raw.store()
    }

    /// The application.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// Dies: returns what survives of the application.
    pub fn into_app(self) -> A {
        self.app
    }

    /// Whether this node leads.
    pub fn is_leader(&self) -> bool {
        self.raw.raft.state == StateRole::Leader
    }

    /// The current term.
    pub fn term(&self) -> u64 {
        self.raw.raft.term
    }

    /// The leader this node knows of (0: none).
    pub fn leader_id(&self) -> u64 {
        self.raw.raft.leader_id
    }

    /// The commit index this node knows of.
    pub fn commit_index(&self) -> u64 {
        self.raw.raft.raft_log.committed
    }

    /// The last index of this node's log.
    pub fn last_index(&self) -> u64 {
        self.raw.raft.raft_log.last_index()
    }

    /// One tick of raft-rs's logical clock.
    pub fn tick(
        &mut self,
        out: &mut Vec<Output<A>>,
        crash: &mut dyn CrashPoints,
    ) -> Result<(), Crashed> {
        self.raw.tick();
        self.drive(out, crash)
    }

    /// Steps a message from a peer.
    pub fn step(
        &mut self,
        msg: Message,
        out: &mut Vec<Output<A>>,
        crash: &mut dyn CrashPoints,
    ) -> Result<(), Crashed> {
        if self.acks_own_proposal(&msg) && crash.own_proposal_acked() {
            return Err(CRASHED);
        }
        // Errors here are stale or foreign messages raft-rs declines.
        let _ = self.raw.step(msg);
        self.drive(out, crash)
    }

    /// Tells raft whether a snapshot it sent to `to` (raft id) arrived:
    /// without this a leader waits on a lost snapshot forever.
    pub fn report_snapshot(
        &mut self,
        to: u64,
        delivered: bool,
        out: &mut Vec<Output<A>>,
        crash: &mut dyn CrashPoints,
    ) -> Result<(), Crashed> {
        let status = if delivered {
            raft::SnapshotStatus::Finish
        } else {
            raft::SnapshotStatus::Failure
        };
        if delivered || !core_mutated!(self.params.mutant, LostSnapshotUnreachableOnly) {
            self.raw.report_snapshot(to, status);
        }
        if !delivered {
            self.raw.report_unreachable(to);
        }
        self.drive(out, crash)
    }

    /// Proposes entry data; false when raft drops it (no known leader).
    pub fn propose(
        &mut self,
        data: Vec<u8>,
        out: &mut Vec<Output<A>>,
        crash: &mut dyn CrashPoints,
    ) -> Result<bool, Crashed> {
        let accepted = self.raw.propose(vec![], data).is_ok();
        self.drive(out, crash)?;
        Ok(accepted)
    }

    /// Handles every pending Ready (asynchronous persistence).
    fn drive(
        &mut self,
        out: &mut Vec<Output<A>>,
        crash: &mut dyn CrashPoints,
    ) -> Result<(), Crashed> {
        while self.raw.has_ready() {
            let mut rd = self.raw.ready();
            let leader = self.raw.raft.state == StateRole::Leader;
            if leader && !self.was_leader {
                out.push(Output::BecameLeader {
                    term: self.raw.raft.term,
                });
            }
            self.was_leader = leader;
            for m in rd.take_messages() {
                out.push(Output::Send(m));
            }
            if core_mutated!(self.params.mutant, PersistedSentEarly) {
                for m in rd.take_persisted_messages() {
                    out.push(Output::Send(m));
                }
            }
            check(crash, ReadyStep::AfterSend)?;
            let mut ops = Vec::new();
            let snapshot = (!rd.snapshot().is_empty()).then(|| rd.snapshot().clone());
            if let Some(s) = &snapshot {
                ops.push(LogOp::InstallSnapshot(s.clone()));
            }
            if !rd.entries().is_empty() {
                ops.push(LogOp::Append(rd.take_entries()));
            }
            if let Some(hs) = rd.hs() {
                ops.push(LogOp::HardState(hs.clone()));
            }
            let seq = self.raw.mut_store().write(ops);
            check(crash, ReadyStep::AfterWrite)?;
            let number = rd.number();
            self.inflight.push_back(InFlight {
                number,
                seq,
                persisted: rd.take_persisted_messages(),
                committed: rd.take_committed_entries(),
                snapshot,
            });
            out.push(Output::Sync { ready: number });
            self.raw.advance_append_async(rd);
            if core_mutated!(self.params.mutant, PersistReportedAtWrite) {
                self.raw.on_persist_ready(number);
            }
        }
        Ok(())
    }

    /// The sync of Ready `ready` completed: release its persisted messages,
    /// tell raft, then apply what it committed. Returns whether the
    /// application halted (the driver stops the node).
    pub fn sync_done(
        &mut self,
        ready: u64,
        out: &mut Vec<Output<A>>,
        crash: &mut dyn CrashPoints,
    ) -> Result<bool, Crashed> {
        let Some(front) = self.inflight.front() else {
            return Ok(false);
        };
        assert_eq!(
            front.number, ready,
            "{DRIVER_CONTRACT} syncs complete in Ready order"
        );
        let flight = self.inflight.pop_front().expect("front checked");
        self.raw.mut_store().sync_through(flight.seq);
        check(crash, ReadyStep::AfterSync)?;
        for m in flight.persisted {
            out.push(Output::Send(m));
        }
        check(crash, ReadyStep::AfterPersistedSend)?;
        self.raw.on_persist_ready(flight.number);
        if let Some(snap) = flight.snapshot {
            self.install(&snap, out)?;
        }
        if flight
            .committed
            .iter()
            .any(|e| self.app.is_own_proposal(&e.data))
            && crash.before_own_proposal_applies()
        {
            return Err(CRASHED);
        }
        if self.apply_committed(flight.committed, out, crash)? {
            return Ok(true);
        }
        self.drive(out, crash)?;
        Ok(false)
    }

    /// A leader's snapshot, now synced, replaces the application's state.
    fn install(&mut self, snap: &Snapshot, out: &mut Vec<Output<A>>) -> Result<(), Crashed> {
        let index = snap.get_metadata().index;
        match self.app.restore(snap.get_data()) {
            Ok(_) => {}
            Err(RestoreError::Undecodable(e)) => {
                panic!("a leader's snapshot does not decode: {e}")
            }
            Err(RestoreError::Died { .. } | RestoreError::Failed(_)) => {
                return Err(Crashed {
                    partial: Some(index),
                })
            }
        }
        out.push(Output::SnapshotRestored {
            index,
            replay: false,
        });
        self.raw.advance_apply_to(index);
        Ok(())
    }

    /// Applies a synced Ready's committed entries; whether one halted.
    fn apply_committed(
        &mut self,
        committed: Vec<Entry>,
        out: &mut Vec<Output<A>>,
        crash: &mut dyn CrashPoints,
    ) -> Result<bool, Crashed> {
        let count = committed.len();
        for (i, entry) in committed.into_iter().enumerate() {
            if entry.index <= self.app.applied_index() {
                continue;
            }
            if i == 1 && count > 1 {
                check(crash, ReadyStep::MidApply)?;
            }
            let applied = self.app.apply(&entry, false).map_err(|_| Crashed {
                partial: Some(entry.index),
            })?;
            out.push(Output::Applied(applied.report));
            if let Some(halt) = applied.halt {
                out.push(Output::Halted(halt));
                return Ok(true);
            }
            self.raw.advance_apply_to(entry.index);
            if applied.own && self.app.own_proposals_pending() && crash.between_own_proposals() {
                return Err(CRASHED);
            }
        }
        Ok(false)
    }

    /// Takes a snapshot at the applied index and compacts the log behind
    /// it, if at least `min_new` entries were applied since the last one.
    /// Returns the snapshot index taken.
    pub fn take_snapshot(&mut self, min_new: u64) -> Result<Option<u64>, Crashed> {
        let applied = self.app.applied_index();
        let log = self.raw.store();
        let (last_snap, term) = (log.held_snapshot_index(), log.held_term(applied));
        let Some(term) = term else { return Ok(None) };
        if applied == 0 || applied < last_snap + min_new.max(1) {
            return Ok(None);
        }
        let data = self.app.snapshot().map_err(|_| Crashed {
            partial: Some(applied),
        })?;
        let mut snap = Snapshot::default();
        snap.set_data(data.into());
        let meta = snap.mut_metadata();
        meta.index = applied;
        meta.term = if core_mutated!(self.params.mutant, SnapshotTermCurrent) {
            self.raw.raft.term
        } else {
            term
        };
        meta.set_conf_state(self.raw.store().membership());
        self.raw.mut_store().compact(&snap);
        Ok(Some(applied))
    }

    /// Whether `msg`, to this leader, acknowledges one of this
    /// incarnation's own proposals that has not committed yet.
    fn acks_own_proposal(&self, msg: &Message) -> bool {
        if msg.get_msg_type() != MessageType::MsgAppendResponse
            || msg.reject
            || msg.term != self.term()
            || !self.is_leader()
        {
            return false;
        }
        let log = self.raw.store();
        (self.commit_index() + 1..=msg.index.min(self.last_index())).any(|index| {
            log.held_entry(index)
                .is_some_and(|e| self.app.is_own_proposal(&e.data))
        })
    }
}
