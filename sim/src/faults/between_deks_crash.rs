//! A crash armed right after a running node's own registration under one
//! dek applies, with another dek's still to come
//! (`faults.between_dek_crashes`: a crash and restart first, so that the
//! new incarnation has registrations to make): START-6's window between
//! deks.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::crash::Crash;
use super::draw::Generator;
use super::restart::Restart;
use super::{arm_crash_point, one, FaultKind};
use crate::trace::kinds;
use crate::world::injector::Injector;
use crate::world::target::Target;

/// Crash `node` between its own registrations under two deks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmBetweenDeksCrash {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

impl FaultKind for ArmBetweenDeksCrash {
    const FAMILY: Option<&'static str> = Some("arm-registration-crash");

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        arm_crash_point(
            t,
            self.node,
            Injector::arm_between_registrations_crash,
            &kinds::ARM_BETWEEN_DEKS_CRASH,
        );
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    for _ in 0..g.sc.faults.between_dek_crashes {
        let (t, node, d) = (g.at(r), g.node(r), g.down(r));
        g.push(t, Crash { node });
        g.push(t + d, Restart { node });
        g.push(t + d + 1, ArmBetweenDeksCrash { node });
    }
}
