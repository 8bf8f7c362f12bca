//! A down node's epoch file set near or at exhaustion (0xFFFE or 0xFFFF,
//! written and synced; `faults.epoch_presets`, after a crash): START's
//! refusal of an exhausted epoch, and the last bump before it.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::crash::Crash;
use super::draw::Generator;
use super::restart::Restart;
use super::{one, FaultKind};
use crate::world::target::Target;

/// Set down node `node`'s epoch file to `epoch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochPreset {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
    pub epoch: u16,
}

impl FaultKind for EpochPreset {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        // Only a down node's file: a running process owns it.
        if t.life(self.node).restartable() {
            t.preset_epoch(self.node, self.epoch);
        }
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    for _ in 0..g.sc.faults.epoch_presets {
        let (t, node, d) = (g.at(r), g.node(r), g.down(r));
        let epoch = if r.next_u64().is_multiple_of(2) {
            0xFFFE
        } else {
            0xFFFF
        };
        g.push(t, Crash { node });
        g.push(t + 1, EpochPreset { node, epoch });
        g.push(t + d, Restart { node });
    }
}
