//! A crash armed between a running node persisting the commit of its own
//! new registration and applying it. Drawn with an epoch rollback
//! ([`super::epoch_rollback`]): the rolled-back incarnation's registration
//! then commits after its successor's.

use serde::{Deserialize, Serialize};

use super::{arm_crash_point, one, FaultKind};
use crate::trace::kinds;
use crate::world::injector::Injector;
use crate::world::target::Target;

/// Crash `node` between the commit and the apply of its own registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmRegistrationCrash {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

impl FaultKind for ArmRegistrationCrash {
    const FAMILY: Option<&'static str> = Some("arm-registration-crash");

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        arm_crash_point(
            t,
            self.node,
            Injector::arm_registration_crash,
            &kinds::ARM_REGISTRATION_CRASH,
        );
    }
}
