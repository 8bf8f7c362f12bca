//! Raft safety across the cluster, held against what the cluster
//! committed by Raft's own rule on the harness's synced disks
//! ([`Commits`]), never against a node's commit index: election safety,
//! leader completeness, state machine safety, applies only of committed
//! entries, and snapshots that describe the log they replace.

use std::collections::BTreeMap;

use raft::eraftpb::{MessageType, SnapshotMetadata};

use super::checker::Checker;
use super::commits::Commits;
use super::observation::{RaftObservation, RaftView};
use super::Violations;
use crate::disk::LogImage;

/// Ground truth about what the cluster committed.
#[derive(Debug)]
pub struct RaftOracle {
    leaders: BTreeMap<u64, u8>,
    /// index -> (term, data hash, first node to apply it)
    applied: BTreeMap<u64, (u64, u64, u8)>,
    commits: Commits,
    /// The cluster's voters (raft ids), fixed for a run.
    voters: Vec<u64>,
}

impl RaftOracle {
    /// A cluster of `nodes` voters, nothing seen yet.
    pub fn new(nodes: u8) -> Self {
        RaftOracle {
            leaders: BTreeMap::new(),
            applied: BTreeMap::new(),
            commits: Commits::new(nodes),
            voters: (1..=u64::from(nodes)).collect(),
        }
    }

    /// A node's synced log changed: the commit rule runs on it.
    pub fn on_synced(&mut self, node: u8, log: &LogImage) {
        self.commits.on_synced(node, log);
    }

    /// Election safety (Raft §5.2: at most one leader per term), and
    /// leader completeness (§5.4.1, "if a log entry is committed in a
    /// given term, then that entry will be present in the logs of the
    /// leaders for all higher-numbered terms"; raft-rs grants votes only to
    /// logs at least as up to date, `RaftLog::is_up_to_date`): the new
    /// leader's log holds every entry committed in an earlier term, with
    /// its term. A leader of term T may win its votes late (a candidate
    /// paused with its grants in flight) after a later term committed
    /// more: those entries are not owed to it.
    pub fn on_leader(
        &mut self,
        v: &mut Violations,
        at_us: u64,
        node: u8,
        term: u64,
        log: &LogImage,
    ) {
        if let Some(&other) = self.leaders.get(&term) {
            if other != node {
                v.push(
                    "raft-election-safety",
                    Some(node),
                    at_us,
                    format!(
                        "term {term} has two leaders: n{} and n{}",
                        other + 1,
                        node + 1
                    ),
                );
            }
        }
        self.leaders.insert(term, node);
        // Its snapshot covers what it compacted.
        let owed = self
            .commits
            .from(log.first_index())
            .filter(|(_, e)| e.committed_in < term);
        for (index, e) in owed {
            match log.term(index) {
                Some(lt) if lt == e.term => {}
                got => {
                    v.push("raft-leader-completeness", Some(node), at_us, format!("leader of term {term} lacks entry {index} (term {}) committed in term {}; its log has {got:?}", e.term, e.committed_in));
                    break;
                }
            }
        }
    }

    /// State machine safety (Raft §5.4.3): every node applies the same
    /// entry (term and bytes) at each index, and it is the one the cluster
    /// committed there; an entry is applied only once committed (raft-rs
    /// hands out committed entries only: `RaftLog::next_entries_since`
    /// stops at `min(committed, persisted)`), and, in the start's replay
    /// too, only once the node's own log has it synced.
    #[allow(clippy::too_many_arguments)]
    pub fn on_apply(
        &mut self,
        v: &mut Violations,
        at_us: u64,
        node: u8,
        index: u64,
        term: u64,
        data: &[u8],
        replay: bool,
    ) {
        let hash = crate::fnv::fnv1a64(data);
        match self.applied.get(&index) {
            None => {
                self.applied.insert(index, (term, hash, node));
            }
            Some(&(t, h, first)) if (t, h) != (term, hash) => {
                v.push("raft-state-machine-safety", Some(node), at_us, format!("index {index}: applied term {term} hash {hash:016x}, but n{} applied term {t} hash {h:016x}", first + 1));
            }
            Some(_) => {}
        }
        if index > self.commits.index() {
            v.push(
                "raft-apply-uncommitted",
                Some(node),
                at_us,
                format!(
                    "applied entry {index} (term {term}), but the synced logs of a majority commit only up to {}",
                    self.commits.index()
                ),
            );
        } else if let Some(e) = self.commits.entry(index) {
            if (e.term, e.hash) != (term, hash) {
                v.push("raft-state-machine-safety", Some(node), at_us, format!("index {index}: applied term {term} hash {hash:016x}, but the cluster committed term {} hash {:016x} there", e.term, e.hash));
            }
        }
        let synced = self.commits.synced_last(node);
        let commit = self.commits.synced_commit(node);
        if index > synced {
            v.push(
                "raft-apply-unsynced",
                Some(node),
                at_us,
                format!("applied entry {index} while its own synced log ends at {synced}"),
            );
        } else if replay && index > commit {
            // START-4 replays up to the persisted commit: persisted means
            // synced, or a power loss takes the commit back from under an
            // FSM that applied it.
            v.push(
                "raft-apply-unsynced",
                Some(node),
                at_us,
                format!("replayed entry {index} past the commit index of its synced hard state ({commit})"),
            );
        }
    }

    /// A snapshot a node took or sent (raft-rs `Storage::snapshot`: "the
    /// snapshot's metadata ... index and term of the last entry it
    /// covers", `src/storage.rs`): its term is the term the cluster
    /// committed at its index, its conf state the membership there, and
    /// its index is committed.
    pub fn on_snapshot(
        &mut self,
        v: &mut Violations,
        at_us: u64,
        node: u8,
        what: &str,
        meta: &SnapshotMetadata,
    ) {
        let index = meta.index;
        let mut fail = |detail: String| {
            v.push(
                "raft-snapshot-meta",
                Some(node),
                at_us,
                format!("{what} snapshot at {index}: {detail}"),
            )
        };
        if index > self.commits.index() {
            fail(format!(
                "the synced logs of a majority commit only up to {}",
                self.commits.index()
            ));
        } else if let Some(e) = self.commits.entry(index) {
            if e.term != meta.term {
                fail(format!(
                    "metadata term {}, but the cluster committed term {} there",
                    meta.term, e.term
                ));
            }
        }
        let mut voters = meta.get_conf_state().voters.clone();
        voters.sort_unstable();
        if voters != self.voters {
            fail(format!(
                "conf state voters {voters:?}, but the membership is {:?}",
                self.voters
            ));
        }
    }

    /// Highest index any node applied: the committed entry count.
    pub fn committed(&self) -> u64 {
        self.applied.keys().next_back().copied().unwrap_or(0)
    }
}

/// Shown a synced log, a new leader, an apply, a snapshot taken or sent.
impl<O: RaftView + ?Sized> Checker<O> for RaftOracle {
    fn observe(&mut self, at_us: u64, observation: &O, v: &mut Violations) {
        match observation.raft() {
            Some(RaftObservation::Synced { node, log }) => self.on_synced(node, log),
            Some(RaftObservation::Leader { node, term, log }) => {
                self.on_leader(v, at_us, node, term, log)
            }
            Some(RaftObservation::Applied {
                node,
                index,
                term,
                data,
                replay,
            }) => self.on_apply(v, at_us, node, index, term, data, replay),
            Some(RaftObservation::SnapshotTaken { node, meta }) => {
                self.on_snapshot(v, at_us, node, "taken", meta)
            }
            Some(RaftObservation::Sent { from, msg, .. })
                if msg.get_msg_type() == MessageType::MsgSnapshot =>
            {
                let meta = msg.get_snapshot().get_metadata();
                self.on_snapshot(v, at_us, from, "sent", meta)
            }
            _ => {}
        }
    }
}
