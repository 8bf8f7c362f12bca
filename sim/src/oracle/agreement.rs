//! Replica agreement and the spec's invariants on synced state.

use std::collections::BTreeMap;

use crate::store::SyncedRowChange;

use super::model::ModelDigest;

use super::Violations;

/// Digests by applied index, compared only where a node has applied at
/// least as far as it had before its last restart (inside the replay
/// window its rows may already reflect later entries). The digests are
/// the harness's, of each node's model (which every apply, stop and
/// restart holds the node to), never the library's own.
#[derive(Debug, Default)]
pub struct AgreementOracle {
    digests: BTreeMap<u64, (ModelDigest, u8)>,
}

impl AgreementOracle {
    pub fn on_state(
        &mut self,
        v: &mut Violations,
        at_us: u64,
        node: u8,
        index: u64,
        digest: ModelDigest,
    ) {
        match self.digests.get(&index) {
            None => {
                self.digests.insert(index, (digest, node));
            }
            Some(&(d, first)) if d != digest => {
                v.push(
                    "replica-agreement",
                    Some(node),
                    at_us,
                    format!(
                        "at index {index} state {:016x} ({} pairs) differs from n{}'s {:016x} ({} pairs)",
                        digest.0,
                        digest.1,
                        first + 1,
                        d.0,
                        d.1
                    ),
                );
            }
            Some(_) => {}
        }
    }
}

/// Invariants 1 to 3 on every registry row change that reached a sync.
pub fn check_row_change(v: &mut Violations, at_us: u64, node: u8, change: &SyncedRowChange) {
    let prefix = b"!encryption|writers|";
    let k = &change.key;
    let Some(new) = &change.new else { return };
    let shape_ok = k.len() == 27 && k.starts_with(prefix) && k[24] == b'|' && new.len() == 12;
    if !shape_ok {
        v.push(
            "invariant-shape",
            Some(node),
            at_us,
            format!(
                "synced row of shape key {} bytes value {} bytes",
                k.len(),
                new.len()
            ),
        );
        return;
    }
    let full = u64::from_be_bytes(new[..8].try_into().expect("12-byte value"));
    let first = u16::from_be_bytes([new[8], new[9]]);
    let last = u16::from_be_bytes([new[10], new[11]]);
    if (full & 0xFFFF) as u16 != u16::from_be_bytes([k[25], k[26]]) {
        v.push(
            "invariant-shape",
            Some(node),
            at_us,
            format!("row owner {full:#018x} does not sit at its node16"),
        );
    }
    if first > last {
        v.push(
            "invariant-epochs",
            Some(node),
            at_us,
            format!("row of {full:#018x}: first_seen {first} > last_seen {last}"),
        );
    }
    if let Some(old) = change.old.as_deref().filter(|o| o.len() == 12) {
        let old_full = u64::from_be_bytes(old[..8].try_into().expect("12-byte value"));
        let old_first = u16::from_be_bytes([old[8], old[9]]);
        let old_last = u16::from_be_bytes([old[10], old[11]]);
        if old_full != full {
            v.push(
                "invariant-owner",
                Some(node),
                at_us,
                format!("slot owner changed from {old_full:#018x} to {full:#018x}"),
            );
        }
        if old_first != first {
            v.push(
                "invariant-epochs",
                Some(node),
                at_us,
                format!("row of {full:#018x}: first_seen changed {old_first} -> {first}"),
            );
        }
        if last < old_last {
            v.push(
                "invariant-epochs",
                Some(node),
                at_us,
                format!("row of {full:#018x}: last_seen decreased {old_last} -> {last}"),
            );
        }
    }
}
