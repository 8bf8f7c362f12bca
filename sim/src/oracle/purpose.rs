//! Purpose: what the registry is for, judged with ground truth the nodes
//! do not have (which conflicts were injected, who really wrote what).
//!
//! - Nonce safety: no two writer incarnations use one (dek, node16, epoch).
//! - Justified halts and refusals: each traces to an injected conflict or
//!   a malformed entry.

use std::collections::{BTreeMap, BTreeSet};

/// A writer incarnation: (node position, incarnation number). Injected
/// non-member writers never encrypt, so only members appear.
pub type Incarnation = (u8, u32);

/// A purpose failure, labelled by a narrow signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeFailure {
    pub signature: String,
    pub node: Option<u8>,
    pub at_us: u64,
    pub detail: String,
}

/// What a halt looked like, as the purpose oracle judges it.
#[derive(Debug, Clone)]
pub struct HaltEvent {
    pub node: u8,
    pub at_us: u64,
    pub index: u64,
    pub kind: &'static str,
    /// Full ids the halt names (owner and registrant).
    pub ids: Vec<u64>,
    pub data_hash: u64,
    /// The node was re-applying an index it had applied before a restart.
    pub in_replay_window: bool,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct PurposeOracle {
    nonces: BTreeMap<(u32, u16, u16), BTreeSet<Incarnation>>,
    /// (incarnation, dek, epoch) whose own registration applied on its node.
    registered: BTreeSet<(Incarnation, u32, u16)>,
    fake_ids: BTreeSet<u64>,
    malformed: BTreeSet<u64>,
    /// Full ids of members whose epoch file was rolled back.
    rolled_back: BTreeSet<u64>,
    failures: Vec<PurposeFailure>,
    justified_halts: u64,
    justified_refusals: u64,
}

impl PurposeOracle {
    /// A member incarnation's own registration applied on its own node.
    pub fn on_own_registration(&mut self, who: Incarnation, dek: u32, epoch: u16) {
        self.registered.insert((who, dek, epoch));
    }

    /// A member incarnation encrypted with nonce prefix (dek, node16, epoch).
    /// The registry protects a prefix only once it records it: using one
    /// the writer's own node has not applied is a nonce-safety failure even
    /// before anyone else reuses it.
    pub fn on_nonce(&mut self, at_us: u64, who: Incarnation, dek: u32, node16: u16, epoch: u16) {
        if !self.registered.contains(&(who, dek, epoch)) {
            self.failures.push(PurposeFailure {
                signature: "nonce-unregistered".into(),
                node: Some(who.0),
                at_us,
                detail: format!("n{}#{} encrypted under dek {dek} node16 {node16:#06x} epoch {epoch} before its registration applied on its own node", who.0 + 1, who.1),
            });
        }
        let users = self.nonces.entry((dek, node16, epoch)).or_default();
        if users.insert(who) && users.len() == 2 {
            let names: Vec<String> = users
                .iter()
                .map(|(n, i)| format!("n{}#{i}", n + 1))
                .collect();
            self.failures.push(PurposeFailure {
                signature: "nonce-reuse".into(),
                node: Some(who.0),
                at_us,
                detail: format!(
                    "dek {dek} node16 {node16:#06x} epoch {epoch} used by {}",
                    names.join(" and ")
                ),
            });
        }
    }

    pub fn on_collision_injected(&mut self, fake_full: u64) {
        self.fake_ids.insert(fake_full);
    }

    pub fn on_malformed_injected(&mut self, data_hash: u64) {
        self.malformed.insert(data_hash);
    }

    pub fn on_rollback_injected(&mut self, full: u64) {
        self.rolled_back.insert(full);
    }

    pub fn on_halt(&mut self, h: HaltEvent) {
        let justified = match h.kind {
            "malformed" => self.malformed.contains(&h.data_hash),
            "collision" => h.ids.iter().any(|id| self.fake_ids.contains(id)),
            "rollback" => h.ids.iter().any(|id| self.rolled_back.contains(id)),
            _ => false,
        };
        if justified {
            self.justified_halts += 1;
            return;
        }
        let pattern = if h.in_replay_window {
            "replay-window"
        } else {
            "steady"
        };
        self.failures.push(PurposeFailure {
            signature: format!("unjustified-halt:{}:{pattern}", h.kind),
            node: Some(h.node),
            at_us: h.at_us,
            detail: format!("halt at index {}: {}", h.index, h.message),
        });
    }

    /// `owner` is the foreign owner a refusal names, if any.
    pub fn on_refusal(
        &mut self,
        node: u8,
        full: u64,
        at_us: u64,
        name: &'static str,
        owner: Option<u64>,
        message: String,
    ) {
        let justified =
            self.rolled_back.contains(&full) || owner.is_some_and(|o| self.fake_ids.contains(&o));
        if justified {
            self.justified_refusals += 1;
            return;
        }
        self.failures.push(PurposeFailure {
            signature: format!("unjustified-refusal:{name}"),
            node: Some(node),
            at_us,
            detail: message,
        });
    }

    pub fn failures(&self) -> &[PurposeFailure] {
        &self.failures
    }

    pub fn justified(&self) -> (u64, u64) {
        (self.justified_halts, self.justified_refusals)
    }
}
