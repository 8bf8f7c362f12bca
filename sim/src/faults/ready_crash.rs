//! A crash armed inside a running node's next Ready, at one of its steps
//! (`faults.ready_crashes`; with power loss at `faults.armed_power_loss_rate`):
//! the points where the node core persists, sends and applies.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::Generator;
use super::{arm_in_process, one, FaultKind};
use crate::node::ReadyStep;
use crate::trace::kinds;
use crate::world::target::Target;

/// Crash `node` at `step` of its next Ready (losing power with it if
/// `power_loss`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmReadyCrash {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
    pub step: ReadyStep,
    pub power_loss: bool,
}

impl FaultKind for ArmReadyCrash {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        let ArmReadyCrash {
            node,
            step,
            power_loss,
        } = self;
        arm_in_process(t, node, |mut b| {
            b.injector.arm_ready_crash(node, step, power_loss);
            let code = ReadyStep::ALL.iter().position(|&x| x == step).unwrap_or(0) as u64;
            let kind = &kinds::ARM_READY_CRASH;
            b.record(Some(node), kind, code, u64::from(power_loss));
        });
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    let f = g.sc.faults.clone();
    for _ in 0..f.ready_crashes {
        let (t, node) = (g.at(r), g.node(r));
        let step = ReadyStep::ALL[(r.next_u64() % ReadyStep::ALL.len() as u64) as usize];
        let power_loss = crate::rng::chance(r, f.armed_power_loss_rate);
        g.push(
            t,
            ArmReadyCrash {
                node,
                step,
                power_loss,
            },
        );
    }
}
