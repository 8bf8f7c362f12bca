//! The order a node proposes its unregistered deks in. START-6 says every
//! dek is registered, not in which order; under `registration_order =
//! "shuffled"` each attempt draws its own order, so registrations of one
//! node under several deks commit out of the configured order (a row under
//! a later dek and none under an earlier one), the order the guards over
//! several deks must be judged in.

use crate::rng::{KeyedRng, Streams, Subsystem};
use crate::scenario::RegistrationOrder;

/// Per node, the draws that order its registration attempts.
pub struct ProposalOrder {
    order: RegistrationOrder,
    /// Keyed per node; drawn only when shuffled (a new stream of the
    /// workload subsystem, so no other draw moves).
    streams: Vec<KeyedRng>,
    attempts: Vec<u64>,
}

impl ProposalOrder {
    pub fn new(order: RegistrationOrder, nodes: u8, streams: &Streams) -> Self {
        let n = usize::from(nodes);
        ProposalOrder {
            order,
            streams: streams.family(Subsystem::Workload, 7_000, n),
            attempts: vec![0; n],
        }
    }

    /// Puts `deks` (one attempt of `node`'s) in the order it proposes them.
    pub fn arrange(&mut self, node: u8, deks: &mut [u32]) {
        if self.order == RegistrationOrder::Configured || deks.len() < 2 {
            return;
        }
        let i = usize::from(node);
        let draw = self.streams[i].draw(self.attempts[i]);
        self.attempts[i] += 1;
        // Fisher-Yates over at most four positions per draw (and a
        // rotation for any beyond).
        for k in (1..deks.len()).rev() {
            let j = (draw.0[k % 4] % (k as u64 + 1)) as usize;
            deks.swap(k, j);
        }
    }
}
