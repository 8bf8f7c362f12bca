//! Faults aimed at the first registrations of the run, armed at its first
//! instant on distinct nodes: `faults.first_registration_rollbacks` nodes
//! crash between their first registrations with their epoch file rolled
//! back at that crash, then `faults.ack_crashes` leaders crash at the
//! first ack of their own uncommitted registration.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use super::ack_crash::ArmAckCrash;
use super::between_deks_crash::ArmBetweenDeksCrash;
use super::draw::Generator;
use super::epoch_rollback::EpochRollback;

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    let f = &g.sc.faults;
    let rollbacks = f.first_registration_rollbacks as usize;
    let count = (rollbacks + f.ack_crashes as usize).min(usize::from(g.n));
    let mut nodes: Vec<u8> = (0..g.n).collect();
    for k in 0..count {
        let pick = k + (r.next_u64() % (nodes.len() - k) as u64) as usize;
        nodes.swap(k, pick);
        let node = nodes[k];
        if k < rollbacks {
            g.push(1, ArmBetweenDeksCrash { node });
            g.push(1, EpochRollback { node });
        } else {
            g.push(1, ArmAckCrash { node });
        }
    }
}
