//! A faulty client proposes, through a member, the registration of a
//! non-member writer whose full id shares a member's node16
//! (`faults.collisions`): ID's collision rule, which must halt every
//! replica that applies it (HALT).

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use writer_registry::ids::node16;
use writer_registry::wire::{self, Registration};

use super::draw::Generator;
use super::{Check, FaultKind};
use crate::oracle::checkers::Injected;
use crate::trace::kinds;
use crate::world::target::{Injection, Target};

/// A registration, proposed through `via`, of a non-member writer whose
/// full id is `high_bits` above `victim`'s node16, under `dek`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collision {
    #[serde(with = "crate::faults::node_field::one")]
    pub via: u8,
    #[serde(with = "crate::faults::node_field::one")]
    pub victim: u8,
    pub dek: u32,
    pub high_bits: u64,
}

impl FaultKind for Collision {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        vec![("via", self.via), ("victim", self.victim)]
    }

    fn check(&self, check: &Check<'_>) -> Result<(), String> {
        check.dek(self.dek)?;
        let victim = writer_registry::ids::full_node_id(&format!("n{}", self.victim + 1));
        if self.high_bits >= 1 << 48 || self.high_bits == victim >> 16 {
            return Err(format!(
                "{}: expected the high 48 bits of a full id other than the victim's ({:#x}), found {:#x}",
                (check.at)("high_bits"),
                victim >> 16,
                self.high_bits
            ));
        }
        Ok(())
    }

    fn apply(self, t: &mut impl Target) {
        let pid = t.next_pid();
        let fulls = t.fulls();
        let fake = writer(fulls[usize::from(self.victim)], self.high_bits);
        let injection = Injection {
            data: entry(pid, self.dek, fake),
            injected: Injected::Collision { full: fake },
            kind: &kinds::INJECT_COLLISION,
            a: fake,
            b: u64::from(self.dek),
        };
        t.inject(self.via, injection);
    }
}

/// The full id of a non-member writer sharing `victim`'s node16.
pub(crate) fn writer(victim: u64, high_bits: u64) -> u64 {
    high_bits << 16 | u64::from(node16(victim))
}

/// A registration entry for the non-member writer `fake`.
fn entry(pid: u64, dek: u32, fake: u64) -> Vec<u8> {
    let reg = Registration {
        dek,
        full_node_id: fake,
        local_epoch: 1,
    };
    wire::encode_entry(pid, &reg.encode_payload())
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    for _ in 0..g.sc.faults.collisions {
        let (t, via, victim) = (g.at(r), g.node(r), g.node(r));
        let dek = g.dek(r);
        let high_bits = (r.next_u64() >> 16) | 1 << 47;
        let collision = Collision {
            via,
            victim,
            dek,
            high_bits,
        };
        g.push(t, collision);
    }
}
