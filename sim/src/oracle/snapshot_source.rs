//! `snapshot-content` and `snapshot-source`: every snapshot a node takes
//! carries its taker's model state at its index, and every snapshot a
//! node restores is one some node took (a leader's as the transport
//! delivered it, a start's as the harness's disk holds it). The reference
//! keeps what each snapshot carries and where each went
//! ([`super::snapshots`]), since a restore becomes its source's state;
//! this checker reports what it found.

use regsim_engine::oracle::checker::Checker;

use super::observation::Observation;
use super::reference::{Found, Shown};
use super::Violations;

/// Reports each snapshot taken that did not carry its taker's state, and
/// each restore no node's snapshot explains. Keeps no state (the
/// reference's snapshot sources are the state).
#[derive(Debug, Default)]
pub struct SnapshotSource;

impl Checker<Shown<'_>> for SnapshotSource {
    fn observe(&mut self, at_us: u64, shown: &Shown<'_>, v: &mut Violations) {
        match (shown.what, shown.found) {
            (
                &Observation::SnapshotTaken { node, index, .. },
                Found::SnapshotTaken {
                    differs: Some(diff),
                    ..
                },
            ) => {
                let detail = format!("snapshot at {index}: {diff}");
                v.push("snapshot-content", Some(node), at_us, detail);
            }
            (&Observation::Restored { node, index, .. }, Found::Restored { taker: None, .. }) => {
                let detail = format!("restored a snapshot at {index} that no node took");
                v.push("snapshot-source", Some(node), at_us, detail);
            }
            _ => {}
        }
    }
}
