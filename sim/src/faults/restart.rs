//! A restart: a node down for a reason a restart undoes (crashed or
//! halted) starts again; one up, refused or broken is left alone. The
//! generators of crashes and power losses schedule it.

use serde::{Deserialize, Serialize};

use super::{one, FaultKind};
use crate::world::target::Target;

/// Start `node` again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restart {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

impl FaultKind for Restart {
    const RESTORES: bool = true;

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        t.restart(self.node);
    }
}
