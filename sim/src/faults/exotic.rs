//! A faulty client proposes, through a member, a well-formed entry this
//! applier does not implement: a bootstrap, a DEK rotation or a reserved
//! opcode (`faults.exotic_entries`, in the last fifth of the fault
//! phase). Each halts every replica (BOOT-1, HALT-1).

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use writer_registry::wire::{self, Registration};

use super::draw::Generator;
use super::{Check, FaultKind};
use crate::oracle::checkers::Injected;
use crate::trace::kinds;
use crate::world::target::{Injection, Target};

/// An entry with `opcode` (4 bootstrap, 5 rotation, 6 or 7 reserved),
/// proposed through `via`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exotic {
    #[serde(with = "crate::faults::node_field::one")]
    pub via: u8,
    pub opcode: u8,
}

impl FaultKind for Exotic {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        vec![("via", self.via)]
    }

    fn check(&self, check: &Check<'_>) -> Result<(), String> {
        if !(4..=7).contains(&self.opcode) {
            return Err(format!(
                "{}: expected 4 (bootstrap), 5 (rotation), 6 or 7 (reserved), found {}",
                (check.at)("opcode"),
                self.opcode
            ));
        }
        Ok(())
    }

    fn apply(self, t: &mut impl Target) {
        let pid = t.next_pid();
        let fulls = t.fulls();
        let via = fulls[usize::from(self.via)];
        let data = wire::encode_entry(pid, &payload(t.first_dek(), &fulls, via, self.opcode));
        let injection = Injection {
            injected: Injected::Exotic {
                data_hash: crate::fnv::fnv1a64(&data),
                opcode: self.opcode,
            },
            data,
            kind: &kinds::INJECT_EXOTIC,
            a: u64::from(self.opcode),
            b: 0,
        };
        t.inject(self.via, injection);
    }
}

/// A well-formed body for `opcode`: a bootstrap that would register
/// every member (`fulls`) at epoch 0, a DEK rotation proposed by `via`, or
/// a reserved opcode's few bytes.
fn payload(dek: u32, fulls: &[u64], via: u64, opcode: u8) -> Vec<u8> {
    let wrapped = vec![0xA5; 40];
    match opcode {
        wire::OP_BOOTSTRAP => wire::Bootstrap {
            storage_dek: dek,
            storage_wrapped: wrapped.clone(),
            raft_dek: dek.wrapping_add(1),
            raft_wrapped: wrapped,
            registrations: fulls
                .iter()
                .map(|&full| Registration {
                    dek,
                    full_node_id: full,
                    local_epoch: 0,
                })
                .collect(),
        }
        .encode_payload(),
        wire::OP_ROTATION => wire::Rotation {
            kind: wire::RotationKind::RotateDek,
            dek: dek.wrapping_add(100),
            purpose: wire::Purpose::Storage,
            wrapped,
            proposer: Registration {
                dek,
                full_node_id: via,
                local_epoch: 1,
            },
        }
        .encode_payload(),
        op => vec![op, 0x01, 0x00, 0x00],
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    let span = g.span;
    for _ in 0..g.sc.faults.exotic_entries {
        let t = span - span / 5 + r.next_u64() % (span / 5).max(1);
        let via = g.node(r);
        let opcode = 4 + (r.next_u64() % 4) as u8;
        g.push(t.min(span - 1), Exotic { via, opcode });
    }
}
