//! A power loss: only what the node synced survives (`faults.power_losses`,
//! each with its restart after a down time). Unlike a crash it strikes a
//! down node too: what its last process left unsynced goes.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::Generator;
use super::restart::Restart;
use super::{one, FaultKind};
use crate::world::target::Target;

/// Cut `node`'s power.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerLoss {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

impl FaultKind for PowerLoss {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        t.crash(self.node, true);
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    for _ in 0..g.sc.faults.power_losses {
        let (t, node, d) = (g.at(r), g.node(r), g.down(r));
        g.push(t, PowerLoss { node });
        g.push(t + d, Restart { node });
    }
}
