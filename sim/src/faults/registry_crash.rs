//! A crash armed between a running node's next registry write and its
//! sync (`faults.registry_write_crashes`; with power loss at
//! `faults.armed_power_loss_rate`): the window APPLY's durability rules
//! are about.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::Generator;
use super::{arm_in_process, one, FaultKind};
use crate::trace::kinds;
use crate::world::target::Target;

/// Crash `node` between its next registry write and its sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmRegistryCrash {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
    pub power_loss: bool,
}

impl FaultKind for ArmRegistryCrash {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        let ArmRegistryCrash { node, power_loss } = self;
        arm_in_process(t, node, |mut b| {
            b.injector.arm_registry_crash(node, power_loss);
            let kind = &kinds::ARM_REGISTRY_CRASH;
            b.record(Some(node), kind, u64::from(power_loss), 0);
        });
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    let f = g.sc.faults.clone();
    for _ in 0..f.registry_write_crashes {
        let (t, node) = (g.at(r), g.node(r));
        let power_loss = crate::rng::chance(r, f.armed_power_loss_rate);
        g.push(t, ArmRegistryCrash { node, power_loss });
    }
}
