//! `client-visible`: every KV command acknowledged to a client (its entry
//! applied somewhere) is held, byte for byte, by every replica the run
//! ends converged with.

use std::collections::BTreeMap;

use writer_registry::registry::Space;

use super::Violations;
use crate::store::Image;

/// The KV commands acknowledged so far.
#[derive(Default)]
pub(super) struct ClientVisible {
    /// Proposal id -> the payload every converged replica must hold.
    acknowledged: BTreeMap<u64, Vec<u8>>,
}

impl ClientVisible {
    /// The KV command `proposal_id` applied (its entry bytes `data`): its
    /// client has its answer.
    pub(super) fn acknowledged(&mut self, proposal_id: u64, data: &[u8]) {
        self.acknowledged
            .entry(proposal_id)
            .or_insert_with(|| data.get(9..).unwrap_or_default().to_vec());
    }

    /// A replica the run ended converged with stopped holding `store`.
    pub(super) fn converged_replica(
        &self,
        (v, at_us, node): (&mut Violations, u64, u8),
        store: &Image,
    ) {
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
