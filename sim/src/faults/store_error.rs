//! An I/O error armed on a running node's next registry write or the sync
//! after it, once (`faults.store_errors`): EIO or ENOSPC, which HALT-1
//! says must halt the node, never be skipped.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::Generator;
use super::{arm_in_process, one, FaultKind};
use crate::store::{Errno, StoreOp};
use crate::trace::kinds;
use crate::world::target::Target;

/// Fail `node`'s next registry write (`op` = write) or the sync after it
/// (`op` = sync) with `errno`, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmStoreError {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
    pub op: StoreOp,
    pub errno: Errno,
}

impl FaultKind for ArmStoreError {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        let ArmStoreError { node, op, errno } = self;
        arm_in_process(t, node, |mut b| {
            b.injector.arm_store_error(node, op, errno);
            let op_code = u64::from(op == StoreOp::Sync);
            let errno_code = u64::from(errno == Errno::Enospc);
            b.record(Some(node), &kinds::ARM_STORE_ERROR, op_code, errno_code);
        });
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    for _ in 0..g.sc.faults.store_errors {
        let (t, node) = (g.at(r), g.node(r));
        let op = if r.next_u64().is_multiple_of(2) {
            StoreOp::Write
        } else {
            StoreOp::Sync
        };
        let errno = if r.next_u64().is_multiple_of(2) {
            Errno::Eio
        } else {
            Errno::Enospc
        };
        g.push(t, ArmStoreError { node, op, errno });
    }
}
