//! A registry row damaged in a down node's store, carried out when the
//! store reopens (`faults.row_corruptions`, after a crash): a
//! shape-breaking or shape-preserving change the node must detect (ROW,
//! START).

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::crash::Crash;
use super::draw::Generator;
use super::restart::Restart;
use super::{Check, FaultKind};
use crate::store::Corruption;
use crate::world::target::Target;

/// Damage, in down node `node`'s store, the registry row of member
/// `target` under `dek` (if it exists): `truncate` drops its last byte
/// (shape-breaking), `owner-bit` flips a bit of its owner's high bytes,
/// `last-seen-up` raises its last_seen by one (both shape-preserving).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorruptRow {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
    #[serde(with = "crate::faults::node_field::one")]
    pub target: u8,
    pub dek: u32,
    pub mode: Corruption,
}

impl FaultKind for CorruptRow {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        vec![("node", self.node), ("target", self.target)]
    }

    fn check(&self, check: &Check<'_>) -> Result<(), String> {
        check.dek(self.dek)
    }

    fn apply(self, t: &mut impl Target) {
        // Only a down node's store: a running process owns it.
        if t.life(self.node).restartable() {
            t.queue_corruption(self.node, (self.target, self.dek, self.mode));
        }
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    for _ in 0..g.sc.faults.row_corruptions {
        let (t, node, d) = (g.at(r), g.node(r), g.down(r));
        let target = g.node(r);
        let dek = g.dek(r);
        let mode = match r.next_u64() % 3 {
            0 => Corruption::Truncate,
            1 => Corruption::OwnerBit,
            _ => Corruption::LastSeenUp,
        };
        g.push(t, Crash { node });
        let row = CorruptRow {
            node,
            target,
            dek,
            mode,
        };
        g.push(t + 1, row);
        g.push(t + d, Restart { node });
    }
}
