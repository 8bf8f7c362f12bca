//! raft-rs's snapshot-status contract for the node core: a snapshot the
//! transport failed must be reported to raft-rs as failed, so the leader
//! goes back to replicating to that follower.
//!
//! The contract (raft-rs 0.7): `RawNode::report_snapshot` "reports the
//! status of the sent snapshot" (`src/raw_node.rs`); while a follower's
//! progress is in `ProgressState::Snapshot` the leader sends it nothing
//! (`Progress::is_paused` is true in that state, `src/tracker/progress.rs`)
//! until `handle_snapshot_status` (`src/raft.rs`) moves it to `Probe` on
//! that report, "If snapshot failure, wait for a heartbeat interval before
//! next try". `report_unreachable` does not: `MsgUnreachable` only demotes
//! a progress in `Replicate`. The next heartbeat response from the
//! follower then resumes the progress and, while the follower's matched
//! index is behind the leader's last index, sends it an append or a new
//! snapshot (`handle_heartbeat_response`, `src/raft.rs`).
//!
//! What the harness knows without asking the node: that its transport
//! failed the snapshot and told the sender so (ground truth: it decided
//! the fate), which messages the leader sent and stepped, and each node's
//! disk. The follower's matched index as the leader tracks it never
//! exceeds the follower's synced last index while the follower's synced
//! term is still the leader's (an append is acknowledged only once synced,
//! [`super::persisted`], and within one term nothing truncates what the
//! leader of that term replicated), so such a follower whose synced log
//! ends before the leader's written log is behind in raft-rs's sense too.
//!
//! So: after a failed snapshot from leader L to follower F in term T, once
//! L steps a heartbeat response of term T from F while F is behind, and L
//! sends F neither an append nor a snapshot in that step, the contract is
//! broken — confirmed when L later sends a heartbeat of term T (only a
//! leader sends heartbeats, and a node cannot regain leadership in the
//! term it left, so L led throughout).

use std::collections::BTreeMap;

use raft::eraftpb::{Message, MessageType};

use super::checker::Checker;
use super::observation::{RaftObservation, RaftView};
use super::Violations;
use crate::disk::LogImage;

const ORACLE: &str = "raft-snapshot-status";

/// Where one (leader, follower) pair stands after a failed snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// The transport failed a snapshot of term `term`; the leader owes the
    /// follower a retry once it hears from it.
    Failed { term: u64 },
    /// The leader stepped the follower's heartbeat response (at `at_us`,
    /// the follower's synced log ending at `follower_last` below the
    /// leader's `leader_last`) and sent it nothing: a violation if the
    /// leader is shown to have led through it.
    Silent {
        term: u64,
        at_us: u64,
        follower_last: u64,
        leader_last: u64,
    },
}

/// The snapshot-status oracle's state.
#[derive(Debug, Default)]
pub struct SnapshotStatus {
    /// (leader, follower) -> what is owed.
    pending: BTreeMap<(u8, u8), Pending>,
}

impl SnapshotStatus {
    /// The transport told `from` its snapshot of term `term` to `to` did
    /// not arrive.
    pub fn on_failed(&mut self, from: u8, to: u8, term: u64) {
        self.pending.insert((from, to), Pending::Failed { term });
    }

    /// A node started a new incarnation: it leads nothing and owes nothing.
    pub fn on_started(&mut self, node: u8) {
        self.pending.retain(|&(leader, _), _| leader != node);
    }

    /// `msg` from `from` was stepped into `to`. From the harness's disks:
    /// `from`'s synced log and the last index of `to`'s written log.
    pub fn on_delivered(
        &mut self,
        at_us: u64,
        msg: &Message,
        from: u8,
        to: u8,
        from_synced: &LogImage,
        leader_last: u64,
    ) {
        if msg.get_msg_type() != MessageType::MsgHeartbeatResponse {
            return;
        }
        let Some(&Pending::Failed { term }) = self.pending.get(&(to, from)) else {
            return;
        };
        // A follower still in term `term` on its disk holds every entry
        // the leader of `term` counts as matched (a later leader may have
        // truncated an acknowledged entry, but then the follower's term
        // moved on).
        let follower_last = from_synced.last_index();
        if msg.term == term && from_synced.hard_state.term == term && follower_last < leader_last {
            let silent = Pending::Silent {
                term,
                at_us,
                follower_last,
                leader_last,
            };
            self.pending.insert((to, from), silent);
        }
    }

    /// `from` sent `msg`.
    pub fn on_sent(&mut self, v: &mut Violations, at_us: u64, from: u8, msg: &Message) {
        let Ok(to) = u8::try_from(msg.to.saturating_sub(1)) else {
            return;
        };
        match msg.get_msg_type() {
            MessageType::MsgAppend | MessageType::MsgSnapshot => {
                self.pending.remove(&(from, to));
            }
            MessageType::MsgHeartbeat => {
                let owed: Vec<(u8, Pending)> = self
                    .pending
                    .range((from, 0)..=(from, u8::MAX))
                    .map(|(&(_, f), &p)| (f, p))
                    .collect();
                for (follower, p) in owed {
                    match p {
                        Pending::Silent {
                            term,
                            at_us: heard,
                            follower_last,
                            leader_last,
                        } if term == msg.term => {
                            self.pending.remove(&(from, follower));
                            v.push(
                                ORACLE,
                                Some(from),
                                at_us,
                                format!(
                                    "the transport failed its snapshot to n{} in term {term}, but at {:.6}s it stepped n{}'s heartbeat response with n{} behind (synced log ends at {follower_last}, its own at {leader_last}) and sent n{} no append or snapshot, and it still leads term {term}: the failure never reached raft-rs as report_snapshot(Failure), so the progress stays in Snapshot",
                                    follower + 1,
                                    heard as f64 / 1e6,
                                    follower + 1,
                                    follower + 1,
                                    follower + 1,
                                ),
                            );
                        }
                        Pending::Failed { term } | Pending::Silent { term, .. }
                            if msg.term > term =>
                        {
                            // A later term: that leadership ended.
                            self.pending.remove(&(from, follower));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// Shown a failed snapshot, a start, a delivery and a send.
impl<O: RaftView + ?Sized> Checker<O> for SnapshotStatus {
    fn observe(&mut self, at_us: u64, observation: &O, v: &mut Violations) {
        match observation.raft() {
            Some(RaftObservation::SnapshotFailed { from, to, term }) => {
                self.on_failed(from, to, term)
            }
            Some(RaftObservation::Started { node }) => self.on_started(node),
            Some(RaftObservation::Delivered {
                from,
                to,
                msg,
                from_synced,
                to_written_last,
            }) => self.on_delivered(at_us, msg, from, to, from_synced, to_written_last),
            Some(RaftObservation::Sent { from, msg, .. }) => self.on_sent(v, at_us, from, msg),
            _ => {}
        }
    }
}
