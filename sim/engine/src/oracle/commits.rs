//! What the cluster committed, derived by Raft's own rule from the synced
//! logs the harness holds, never from a node's commit index.
//!
//! Raft's commit rule (Raft thesis §3.6.2; raft-rs `RaftLog::maybe_commit`,
//! `src/raft_log.rs`, which commits only an entry of the leader's own
//! term): an entry of term T is committed once the leader of term T has it
//! stored on a majority; every entry before it is then committed too. The
//! harness sees each store, so it applies the rule to what the disks
//! synced: node m counts towards index i of term T when, at some sync, its
//! synced log held a term-T entry at index i or later *while its synced
//! hard state was still in term T* (it took the entry from the leader of
//! T, before any vote in a later term: raft-rs persists the vote before
//! the grant leaves, which [`super::persisted`] checks). Counting a node
//! whose term had moved on would call Figure 8's entry committed (an old
//! term's entry re-replicated by a later leader is not).
//!
//! Entry terms never decrease along a log and never exceed the hard
//! state's term, so a log holds a term-T entry only if its last entry has
//! term T: one look at the log's tail per sync.

use std::collections::BTreeMap;

use crate::disk::LogImage;

/// One committed entry as the harness first saw it on a synced disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommittedEntry {
    /// The entry's own term.
    pub term: u64,
    /// FNV-1a of the entry's data.
    pub hash: u64,
    /// The term whose leader's majority committed it (its own term, or a
    /// later one that committed it with an entry of its own): Raft's
    /// leader completeness owes it to the leaders of later terms only.
    pub committed_in: u64,
}

/// The cluster's committed prefix, from synced logs.
#[derive(Debug)]
pub struct Commits {
    /// Votes needed (a majority of the voters).
    quorum: usize,
    /// Per node: term -> the highest index of a term-T entry its synced
    /// log held while its synced term was T.
    held: Vec<BTreeMap<u64, u64>>,
    /// Per node: the last index of its synced log, at its latest sync.
    synced_last: Vec<u64>,
    /// Per node: the commit index of its synced hard state.
    synced_commit: Vec<u64>,
    /// Index -> the committed entry (indices at or below `index`; an entry
    /// no synced log held any more when it was derived, compacted into a
    /// snapshot, is absent).
    entries: BTreeMap<u64, CommittedEntry>,
    /// The highest committed index.
    index: u64,
}

impl Commits {
    /// Nothing committed yet, in a cluster of `nodes` voters.
    pub fn new(nodes: u8) -> Self {
        let n = usize::from(nodes);
        Commits {
            quorum: n / 2 + 1,
            held: vec![BTreeMap::new(); n],
            synced_last: vec![0; n],
            synced_commit: vec![0; n],
            entries: BTreeMap::new(),
            index: 0,
        }
    }

    /// The highest index the harness knows committed.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The committed entry at `index`, if the harness saw it.
    pub fn entry(&self, index: u64) -> Option<CommittedEntry> {
        self.entries.get(&index).copied()
    }

    /// Every committed entry the harness saw, from `from` on.
    pub fn from(&self, from: u64) -> impl Iterator<Item = (u64, CommittedEntry)> + '_ {
        self.entries.range(from..).map(|(&i, &e)| (i, e))
    }

    /// The last index of `node`'s synced log at its latest sync.
    pub fn synced_last(&self, node: u8) -> u64 {
        self.synced_last[usize::from(node)]
    }

    /// The commit index of `node`'s synced hard state.
    pub fn synced_commit(&self, node: u8) -> u64 {
        self.synced_commit[usize::from(node)]
    }

    /// Node `node`'s synced log is now `log`; returns the newly committed
    /// range, if the rule advanced the commit.
    pub fn on_synced(&mut self, node: u8, log: &LogImage) -> Option<(u64, u64)> {
        let i = usize::from(node);
        self.synced_last[i] = log.last_index();
        self.synced_commit[i] = log.hard_state.commit;
        let term = log.hard_state.term;
        let last = log.last_index();
        // A snapshot's own term is what is being checked elsewhere
        // (`raft-snapshot-meta`): only entries count.
        if last <= log.snapshot_index() || log.term(last) != Some(term) || last <= self.index {
            return None;
        }
        let held = self.held[i].entry(term).or_insert(0);
        *held = (*held).max(last);
        // The quorum-th highest holding of term `term`.
        let mut holdings: Vec<u64> = self
            .held
            .iter()
            .map(|h| h.get(&term).copied().unwrap_or(0))
            .collect();
        holdings.sort_unstable_by(|a, b| b.cmp(a));
        let commit = holdings[self.quorum - 1];
        if commit <= self.index || commit > last {
            return None;
        }
        // This log is one of the quorum (its holding moved the quorum-th):
        // it holds the committed prefix as the leader of `term` wrote it.
        let from = self.index + 1;
        for index in from.max(log.first_index())..=commit {
            let e = log.entry(index).expect("within the log");
            self.entries.insert(
                index,
                CommittedEntry {
                    term: e.term,
                    hash: crate::fnv::fnv1a64(&e.data),
                    committed_in: term,
                },
            );
        }
        self.index = commit;
        Some((from, commit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::eraftpb::Entry;

    fn log(term: u64, entries: &[(u64, u64)]) -> LogImage {
        let mut image = LogImage::default();
        image.hard_state.term = term;
        image.entries = entries
            .iter()
            .map(|&(index, term)| Entry {
                index,
                term,
                ..Default::default()
            })
            .collect();
        image
    }

    #[test]
    fn a_majority_in_the_leaders_term_commits() {
        let mut c = Commits::new(3);
        assert_eq!(c.on_synced(0, &log(1, &[(1, 1), (2, 1)])), None);
        assert_eq!(c.on_synced(1, &log(1, &[(1, 1)])), Some((1, 1)));
        assert_eq!(c.on_synced(1, &log(1, &[(1, 1), (2, 1)])), Some((2, 2)));
        assert_eq!(c.index(), 2);
        assert_eq!(c.entry(2).map(|e| e.term), Some(1));
    }

    /// Raft's Figure 8: an old term's entry re-replicated by a later
    /// leader onto a majority is not committed.
    #[test]
    fn an_old_terms_entry_on_a_majority_is_not_committed() {
        let mut c = Commits::new(5);
        // S1 (leader of term 2) and S2 hold (2, 2) in term 2.
        c.on_synced(0, &log(2, &[(1, 1), (2, 2)]));
        c.on_synced(1, &log(2, &[(1, 1), (2, 2)]));
        // Term 4: S1 leads again and copies (2, 2) to S3, now in term 4.
        c.on_synced(2, &log(4, &[(1, 1), (2, 2)]));
        assert_eq!(
            c.index(),
            0,
            "(2, 2) is on three of five, but not in term 2"
        );
        // Once S1's own term-4 entry is on a majority, both commit.
        c.on_synced(0, &log(4, &[(1, 1), (2, 2), (3, 4)]));
        c.on_synced(1, &log(4, &[(1, 1), (2, 2), (3, 4)]));
        assert_eq!(
            c.on_synced(2, &log(4, &[(1, 1), (2, 2), (3, 4)])),
            Some((1, 3))
        );
    }
}
