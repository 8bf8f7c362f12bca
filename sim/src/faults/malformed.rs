//! A faulty client proposes a corrupted registration of a member through
//! it (`faults.malformed`): WIRE's decoding rules, which must halt every
//! replica that applies it (HALT).

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use writer_registry::wire::{self, Registration};

use super::draw::Generator;
use super::{Check, FaultKind};
use crate::oracle::checkers::Injected;
use crate::trace::kinds;
use crate::world::target::{Injection, Target};

/// A corrupted registration of `via`, proposed through it: `variant` 0
/// has a bad version byte, 1 is one byte short, 2 one byte long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Malformed {
    #[serde(with = "crate::faults::node_field::one")]
    pub via: u8,
    pub variant: u8,
}

impl FaultKind for Malformed {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        vec![("via", self.via)]
    }

    fn check(&self, check: &Check<'_>) -> Result<(), String> {
        if self.variant > 2 {
            return Err(format!(
                "{}: expected 0 to 2, found {}",
                (check.at)("variant"),
                self.variant
            ));
        }
        Ok(())
    }

    fn apply(self, t: &mut impl Target) {
        let pid = t.next_pid();
        let fulls = t.fulls();
        let data = entry(
            pid,
            t.first_dek(),
            fulls[usize::from(self.via)],
            self.variant,
        );
        let injection = Injection {
            injected: Injected::Malformed {
                data_hash: crate::fnv::fnv1a64(&data),
            },
            data,
            kind: &kinds::INJECT_MALFORMED,
            a: u64::from(self.variant),
            b: 0,
        };
        t.inject(self.via, injection);
    }
}

/// A corrupted registration of `full` (variant 0: a bad version byte, 1:
/// one byte short, else one byte long).
pub(crate) fn entry(pid: u64, dek: u32, full: u64, variant: u8) -> Vec<u8> {
    let mut payload = Registration {
        dek,
        full_node_id: full,
        local_epoch: 1,
    }
    .encode_payload();
    match variant {
        0 => payload[1] = 0x02,
        1 => {
            payload.pop();
        }
        _ => payload.push(0),
    }
    wire::encode_entry(pid, &payload)
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    for _ in 0..g.sc.faults.malformed {
        let (t, via) = (g.at(r), g.node(r));
        let variant = (r.next_u64() % 3) as u8;
        g.push(t, Malformed { via, variant });
    }
}
