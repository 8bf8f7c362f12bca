//! An epoch rollback: a node's epoch file replaced with its previous
//! synced copy (a restored backup, a disk that lied): now if the node is
//! down, else at its next crash (`faults.epoch_rollbacks`: after a crash,
//! either while down, or armed with a registration crash after the
//! restart). The rolled-back incarnation must halt, never register
//! backwards (REPLAY, HALT).

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::crash::Crash;
use super::draw::Generator;
use super::registration_crash::ArmRegistrationCrash;
use super::restart::Restart;
use super::{one, FaultKind};
use crate::world::target::Target;

/// Roll `node`'s epoch file back to its previous synced copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochRollback {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

impl FaultKind for EpochRollback {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        let node = self.node;
        match t.life(node) {
            life if life.restartable() => t.roll_back_epoch(node),
            // A running node's file is replaced when it next goes down.
            life if life.has_process() => t.books(|b| b.injector.roll_back_at_next_crash(node)),
            _ => {}
        }
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    for _ in 0..g.sc.faults.epoch_rollbacks {
        let (t, node, d) = (g.at(r), g.node(r), g.down(r));
        g.push(t, Crash { node });
        if r.next_u64().is_multiple_of(2) {
            g.push(t + 1, EpochRollback { node });
            g.push(t + d, Restart { node });
        } else {
            g.push(t + d, Restart { node });
            g.push(t + d + 1, ArmRegistrationCrash { node });
            g.push(t + d + 1, EpochRollback { node });
        }
    }
}
