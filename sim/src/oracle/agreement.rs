//! `replica-agreement` (HALT-4 / INV-6): replicas hold equal states at
//! equal applied indexes, outside each node's replay window.

use std::collections::BTreeMap;

use regsim_engine::oracle::checker::Checker;

use super::model::ModelDigest;
use super::observation::Observation;
use super::reference::{Found, Shown};
use super::Violations;

/// Digests by applied index, compared only where a node has applied at
/// least as far as it had before its last restart (inside the replay
/// window its rows may already reflect later entries). The digests are
/// the harness's, of each node's model (which every apply, stop and
/// restart holds the node to), never the library's own.
#[derive(Debug, Default)]
pub struct AgreementOracle {
    digests: BTreeMap<u64, (ModelDigest, u8)>,
}

/// Shown each successful apply and each restore of a snapshot some node
/// took: the node's model digest after it (the reference's), unless the
/// node is in its replay window or its state holds injected bytes (then
/// it is its own).
impl Checker<Shown<'_>> for AgreementOracle {
    fn observe(&mut self, at_us: u64, shown: &Shown<'_>, v: &mut Violations) {
        let (node, index, window_edge) = match (shown.what, shown.found) {
            (
                &Observation::Applied {
                    node,
                    rec,
                    window_edge,
                    ..
                },
                _,
            ) if rec.result.is_ok() => (node, rec.index, window_edge),
            (
                &Observation::Restored {
                    node,
                    index,
                    window_edge,
                    ..
                },
                Found::Restored { taker: Some(_), .. },
            ) => (node, index, window_edge),
            _ => return,
        };
        let model = shown.reference.model(node);
        if index >= window_edge && !model.tainted() {
            self.on_state(v, at_us, node, index, model.digest());
        }
    }
}

impl AgreementOracle {
    /// `node`'s state at `index` has digest `digest`: the same as every
    /// other node's at `index`.
    pub fn on_state(
        &mut self,
        v: &mut Violations,
        at_us: u64,
        node: u8,
        index: u64,
        digest: ModelDigest,
    ) {
        match self.digests.get(&index) {
            None => {
                self.digests.insert(index, (digest, node));
            }
            Some(&(d, first)) if d != digest => {
                v.push(
                    "replica-agreement",
                    Some(node),
                    at_us,
                    format!(
                        "at index {index} state {:016x} ({} pairs) differs from n{}'s {:016x} ({} pairs)",
                        digest.0,
                        digest.1,
                        first + 1,
                        d.0,
                        d.1
                    ),
                );
            }
            Some(_) => {}
        }
    }
}
