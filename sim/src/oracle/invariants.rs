//! `invariant-shape`, `invariant-owner`, `invariant-epochs` (INV-1,
//! INV-2, INV-3, INV-7): the spec's invariants on every registry row
//! change a node's store synced of its own. A change to or from bytes the
//! harness injected into that node's store (or a snapshot carried there
//! from the damaged node) is the harness's damage, not the node's state,
//! and is not judged.

use std::collections::BTreeSet;

use regsim_engine::oracle::checker::Checker;

use super::observation::Observation;
use super::reference::{Found, Shown};
use super::Violations;
use crate::store::SyncedRowChange;

/// The row bytes the harness injected, per node.
#[derive(Debug, Default)]
pub struct Invariants {
    /// (node, key, value): INV-1..INV-3 do not judge that node's change
    /// to or from them (a snapshot carries them to its restorer).
    injected_rows: BTreeSet<(u8, Vec<u8>, Vec<u8>)>,
}

impl Checker<Shown<'_>> for Invariants {
    fn observe(&mut self, at_us: u64, shown: &Shown<'_>, v: &mut Violations) {
        match (shown.what, shown.found) {
            (Observation::RowCorrupted(c), _) => {
                self.injected_rows
                    .insert((c.node, c.key.clone(), c.value.clone()));
            }
            (
                &Observation::Restored { node, .. },
                &Found::Restored {
                    taker: Some(taker), ..
                },
            ) => self.restored(node, taker),
            (&Observation::RowsSynced { node, changes }, _) => {
                self.rows_synced(v, at_us, node, changes)
            }
            _ => {}
        }
    }
}

impl Invariants {
    /// `node` restored a snapshot `taker` took: its rows, damage
    /// included, are now the taker's.
    fn restored(&mut self, node: u8, taker: u8) {
        let carried: Vec<_> = self
            .injected_rows
            .iter()
            .filter(|(n, _, _)| *n == taker)
            .map(|(_, k, v)| (node, k.clone(), v.clone()))
            .collect();
        self.injected_rows.extend(carried);
    }

    /// INV-1..INV-3 on each synced row change a node made of its own.
    fn rows_synced(&self, v: &mut Violations, at_us: u64, node: u8, changes: &[SyncedRowChange]) {
        for c in changes {
            let injected = |value: &Option<Vec<u8>>| {
                value.as_ref().is_some_and(|value| {
                    self.injected_rows
                        .contains(&(node, c.key.clone(), value.clone()))
                })
            };
            if injected(&c.old) || injected(&c.new) {
                // The harness's damage (or a snapshot carrying
                // it), not a state the node made of its own.
                continue;
            }
            check_row_change(v, at_us, node, c);
        }
    }
}

/// Invariants 1 to 3 on every registry row change that reached a sync.
fn check_row_change(v: &mut Violations, at_us: u64, node: u8, change: &SyncedRowChange) {
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
