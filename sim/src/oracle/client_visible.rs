//! `client-visible`: every KV command acknowledged to a client (its entry
//! applied somewhere) is held, byte for byte, by every replica the run
//! ends converged with.

use std::collections::BTreeMap;

use regsim_engine::oracle::checker::Checker;
use writer_registry::registry::Space;
use writer_registry::Outcome;

use super::observation::Observation;
use super::reference::Shown;
use super::Violations;
use crate::store::Image;

/// The KV commands acknowledged so far.
#[derive(Debug, Default)]
pub struct ClientVisible {
    /// Proposal id -> the payload every converged replica must hold.
    acknowledged: BTreeMap<u64, Vec<u8>>,
}

/// Shown each KV command's apply (its client has its answer) and each
/// stop of a replica the run ended converged with.
impl Checker<Shown<'_>> for ClientVisible {
    fn observe(&mut self, at_us: u64, shown: &Shown<'_>, v: &mut Violations) {
        match *shown.what {
            Observation::Applied { rec, .. } => {
                if let Ok(Outcome::Kv { proposal_id }) = rec.result {
                    self.acknowledged(proposal_id, &rec.data);
                }
            }
            Observation::Stopped {
                node,
                store,
                converged_end: true,
                ..
            } => self.converged_replica((v, at_us, node), store),
            _ => {}
        }
    }
}

impl ClientVisible {
    /// The KV command `proposal_id` applied (its entry bytes `data`): its
    /// client has its answer.
    fn acknowledged(&mut self, proposal_id: u64, data: &[u8]) {
        self.acknowledged
            .entry(proposal_id)
            .or_insert_with(|| data.get(9..).unwrap_or_default().to_vec());
    }

    /// A replica the run ended converged with stopped holding `store`.
    fn converged_replica(&self, (v, at_us, node): (&mut Violations, u64, u8), store: &Image) {
        let missing = self
            .acknowledged
            .iter()
            .filter(|(pid, payload)| {
                store.get(&(Space::Kv, pid.to_be_bytes().to_vec())) != Some(*payload)
            })
            .map(|(pid, _)| *pid)
            .collect::<Vec<_>>();
        if let Some(first) = missing.first() {
            let detail = format!(
                "{} acknowledged KV commands missing or changed on a converged replica (first: proposal {first})",
                missing.len()
            );
            v.push("client-visible", Some(node), at_us, detail);
        }
    }
}
