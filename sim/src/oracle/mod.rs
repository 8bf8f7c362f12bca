//! Checkers, kept apart from what they check. The simulator feeds them
//! what happened; they never drive the run.
//!
//! - [`model`]: per-node conformance against an independent model.
//! - [`raft`]: Raft safety across the cluster.
//! - [`agreement`]: replica digests and the spec's invariants on synced state.
//! - [`purpose`]: nonce safety and justified halts (ground truth).
//! - [`checkers`]: all of them as one owner of their state, fed by the
//!   engine's observations and the fault injector's records.
//!
//! # The spec, rule by rule
//!
//! The rules are numbered in `docs/spec.md`; this table says which oracle
//! judges each. "Gap" marks a rule no oracle checks yet, or checks only on
//! the system's own word (the next issue, "Oracles that take nothing on
//! the system's word", closes these).
//!
//! | spec | oracle |
//! | --- | --- |
//! | APPLY-1..APPLY-7 (rule order, insert, advance, no-op, halts) | `conformance` (each apply's outcome and the touched row's bytes against [`model`]) |
//! | APPLY-8 (durable before apply returns) | `sync-before-ack`; `durability` (reopened store vs the journal of what synced) |
//! | APPLY-9, APPLY-10 (no applier state; no applier without a store) | library tests (`tests/applier_cases.rs`); by construction |
//! | HALT-1, HALT-2 (halt, applied index stays) | `conformance`; `purpose` (every halt traced to an injected conflict) |
//! | HALT-3 / INV-5 "halts again when replayed" | gap (the `halt-rehit-after-restart` mark only counts it) |
//! | HALT-4 / INV-6 (replicas agree) | `replica-agreement` (on the library's own digest: a gap); `raft-state-machine-safety` |
//! | INV-1 (shapes), INV-7 (one owner per slot) | `invariant-shape`, `invariant-owner` on every synced row change |
//! | INV-2, INV-3 (owner and first_seen fixed, last_seen monotone) | `invariant-owner`, `invariant-epochs` |
//! | INV-4 (re-applying the latest registration is a no-op) | `conformance` (the model expects the no-op) |
//! | START-1..START-5 (epoch file, guards, bump, replay) | `conformance` on each guard decision, in the node's own order (a gap: not judged in the spec's order) |
//! | START-6, START-7, ID-8 (register, then encrypt) | `purpose` (`nonce-unregistered`), `liveness` |
//! | ID-7 (no nonce reuse) | `purpose` (`nonce-reuse`) |
//! | REPLAY-1..REPLAY-5 (where the applied index lives) | gap: the model is reset from what the node persisted |
//! | Raft itself | `raft-election-safety`, `raft-leader-completeness`, `raft-state-machine-safety` |

pub mod agreement;
pub mod checkers;
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
