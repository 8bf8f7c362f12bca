//! A node takes a snapshot and compacts its log (`snapshots.every_ms`,
//! each node at its own phase), so that lagging followers and restarts
//! install snapshots instead of replaying.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::{ms, Generator};
use super::{one, FaultKind};
use crate::world::target::Target;

/// `node` snapshots and compacts its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

impl FaultKind for Snapshot {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        t.snapshot(self.node);
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    if g.sc.snapshots.every_ms == 0 {
        return;
    }
    let every = ms(g.sc.snapshots.every_ms);
    for node in 0..g.n {
        let mut t = r.next_u64() % every;
        while t < g.span {
            g.push(t, Snapshot { node });
            t += every;
        }
    }
}
