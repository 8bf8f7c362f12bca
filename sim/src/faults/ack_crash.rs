//! A crash armed at the first acknowledgement of a running node's own
//! registration while it leads and the entry is still uncommitted, before
//! the node steps it: the entry sits on a follower while the node
//! restarts, and commits under the next leader after its successor
//! started. Drawn at the run's start by `first_registrations`.

use serde::{Deserialize, Serialize};

use super::{arm_crash_point, one, FaultKind};
use crate::trace::kinds;
use crate::world::injector::Injector;
use crate::world::target::Target;

/// Crash `node` at the first ack covering its own uncommitted
/// registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmAckCrash {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

impl FaultKind for ArmAckCrash {
    const FAMILY: Option<&'static str> = Some("arm-registration-crash");

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        arm_crash_point(t, self.node, Injector::arm_ack_crash, &kinds::ARM_ACK_CRASH);
    }
}
