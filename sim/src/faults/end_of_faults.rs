//! The end of the fault phase: every link heals, every armed fault is
//! disarmed, every node resumes and restarts, and liveness is owed from
//! now on. Each schedule has exactly one; the schedule adds it.

use serde::{Deserialize, Serialize};

use super::FaultKind;
use crate::trace::kinds;
use crate::world::target::Target;

/// End the fault phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndOfFaults {}

impl FaultKind for EndOfFaults {
    const RESTORES: bool = true;

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        vec![]
    }

    fn apply(self, t: &mut impl Target) {
        t.books(|mut b| b.record(None, &kinds::END_OF_FAULTS, 0, 0));
        t.heal();
        for node in 0..t.fulls().len() as u8 {
            t.books(|b| b.injector.disarm(node));
            t.resume(node);
            t.restart(node);
        }
        t.owe_liveness();
    }
}
