//! The Raft oracles: checkers of raft-rs's safety properties and of its
//! contract with the node core that drives it, judged from ground truth
//! the engine holds (each node's synced disk, what the transport did),
//! never from a node's own account.
//!
//! - [`commits`]: what the cluster committed, derived by Raft's rule from
//!   the synced logs of a majority.
//! - [`raft`]: Raft safety across the cluster, held against those commits.
//! - [`persisted`]: raft-rs's persistence contract, judged at each send.
//! - [`snapshot_status`]: a snapshot the transport failed reaches raft-rs
//!   as failed.
//!
//! Each of [`raft::RaftOracle`], [`persisted::PersistedBeforeSend`] and
//! [`snapshot_status::SnapshotStatus`] is a [`checker::Checker`] (the
//! contract every checker keeps, whatever system it judges) over any
//! observation type that shows its Raft part ([`observation::RaftView`]);
//! [`Violations`] is the sink every checker reports through.

pub mod checker;
pub mod commits;
pub mod observation;
pub mod persisted;
pub mod raft;
pub mod snapshot_status;

use serde::{Deserialize, Serialize};

/// A broken rule. `oracle` names the checker (stable, used in signatures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The oracle that fired (stable: signatures group by it).
    pub oracle: String,
    /// The node it judged (0-based), or `None` for the cluster.
    pub node: Option<u8>,
    /// Virtual time, microseconds.
    pub at_us: u64,
    /// What was broken, in words.
    pub detail: String,
}

impl Violation {
    /// A violation an oracle has just judged. `replay --trace` shows it
    /// among the events, where it was judged (text only: the trace's
    /// hash and lines are the world's events, never the oracles'
    /// verdicts).
    pub fn judged(oracle: String, node: Option<u8>, at_us: u64, detail: String) -> Violation {
        tracing::debug!(
            target: crate::trace::TARGET,
            "{:>10.6}s {:>3} VIOLATION [{oracle}] {detail}",
            at_us as f64 / 1e6,
            node.map_or_else(|| "-".to_string(), |n| format!("n{}", n + 1)),
        );
        Violation {
            oracle,
            node,
            at_us,
            detail,
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = self
            .node
            .map_or_else(|| "cluster".to_string(), |n| format!("n{}", n + 1));
        write!(
            f,
            "[{}] {who} at {:.6}s: {}",
            self.oracle,
            self.at_us as f64 / 1e6,
            self.detail
        )
    }
}

/// Collects violations, in the order they are pushed: the one sink every
/// [`checker::Checker`] reports through. The first few of each oracle keep
/// their detail.
#[derive(Debug, Default)]
pub struct Violations {
    /// In the order they fired.
    pub list: Vec<Violation>,
}

impl Violations {
    /// Records a violation (past the fifth of one oracle, dropped).
    pub fn push(&mut self, oracle: &str, node: Option<u8>, at_us: u64, detail: String) {
        // One oracle can fire on every later step after the first breach;
        // the first few are what a reader needs.
        if self.list.iter().filter(|v| v.oracle == oracle).count() < 5 {
            self.list
                .push(Violation::judged(oracle.to_string(), node, at_us, detail));
        }
    }

    /// No oracle fired.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
