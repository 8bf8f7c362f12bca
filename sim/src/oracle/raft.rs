//! Raft safety across the cluster: election safety, log matching on
//! applied entries, leader completeness, state machine safety.

use std::collections::BTreeMap;

use crate::disk::LogImage;

use super::Violations;

/// Ground truth about what the cluster committed.
#[derive(Debug, Default)]
pub struct RaftOracle {
    leaders: BTreeMap<u64, u8>,
    /// index -> (term, data hash, first node to apply it)
    applied: BTreeMap<u64, (u64, u64, u8)>,
}

impl RaftOracle {
    /// Election safety: at most one leader per term.
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
        // Leader completeness: the new leader holds every entry any node
        // has applied (its snapshot covers what it compacted).
        for (&index, &(t, _, _)) in self.applied.range(log.first_index()..) {
            match log.term(index) {
                Some(lt) if lt == t => {}
                got => {
                    v.push("raft-leader-completeness", Some(node), at_us, format!("leader of term {term} lacks applied entry {index} (term {t}); its log has {got:?}"));
                    break;
                }
            }
        }
    }

    /// State machine safety and log matching: every node applies the same
    /// entry (term and bytes) at each index.
    pub fn on_apply(
        &mut self,
        v: &mut Violations,
        at_us: u64,
        node: u8,
        index: u64,
        term: u64,
        data: &[u8],
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
    }

    /// Highest index any node applied: the committed entry count.
    pub fn committed(&self) -> u64 {
        self.applied.keys().next_back().copied().unwrap_or(0)
    }
}
