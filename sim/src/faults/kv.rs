//! The workload: a client's KV command, encrypted under a dek by the first
//! node able to (START-7's gate) and retried until it applies
//! (`workload`'s rate; drawn from the workload stream, apart from every
//! fault).

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::{node, Generator};
use super::{one, Check, FaultKind};
use crate::world::target::Target;

/// A client KV command sent to `node`, encrypted under `dek`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kv {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
    pub dek: u32,
}

impl FaultKind for Kv {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn check(&self, check: &Check<'_>) -> Result<(), String> {
        check.dek(self.dek)
    }

    fn apply(self, t: &mut impl Target) {
        t.client_command(self.node, self.dek);
    }
}

/// Draws the whole workload from `w`, the workload stream.
pub(crate) fn generate(g: &mut Generator<'_>, w: &mut ChaCha8Rng) {
    for _ in 0..g.sc.kv_commands() {
        let at = w.next_u64() % g.span;
        let node = node(w, g.n);
        let dek = g.dek(w);
        g.push(at, Kv { node, dek });
    }
}
