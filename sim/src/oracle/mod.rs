//! Checkers, kept apart from what they check. The simulator feeds them
//! what happened; they never drive the run.
//!
//! - [`model`]: per-node conformance against an independent model.
//! - [`raft`]: Raft safety across the cluster.
//! - [`agreement`]: replica digests and the spec's invariants on synced state.
//! - [`purpose`]: nonce safety and justified halts (ground truth).

pub mod agreement;
pub mod model;
pub mod purpose;
pub mod raft;

use serde::{Deserialize, Serialize};

/// A broken rule. `oracle` names the checker (stable, used in signatures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub oracle: String,
    pub node: Option<u8>,
    pub at_us: u64,
    pub detail: String,
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

/// Collects violations; the first few of each oracle keep their detail.
#[derive(Debug, Default)]
pub struct Violations {
    pub list: Vec<Violation>,
}

impl Violations {
    pub fn push(&mut self, oracle: &str, node: Option<u8>, at_us: u64, detail: String) {
        // One oracle can fire on every later step after the first breach;
        // the first few are what a reader needs.
        if self.list.iter().filter(|v| v.oracle == oracle).count() < 5 {
            self.list.push(Violation {
                oracle: oracle.to_string(),
                node,
                at_us,
                detail,
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
