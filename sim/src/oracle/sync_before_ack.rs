//! `sync-before-ack` (APPLY-8): every write of an apply reached a sync
//! before the apply returned successfully. A halted apply acknowledged
//! nothing (a failed sync leaves its write unsynced, as the spec allows).

use regsim_engine::oracle::checker::Checker;

use super::observation::Observation;
use super::reference::Shown;
use super::Violations;

/// Judges each apply by the node's own record of unsynced writes at its
/// return (the store's write/sync seam, which the harness sees). Keeps no
/// state.
#[derive(Debug, Default)]
pub struct SyncBeforeAck;

impl Checker<Shown<'_>> for SyncBeforeAck {
    fn observe(&mut self, at_us: u64, shown: &Shown<'_>, v: &mut Violations) {
        let Observation::Applied { node, rec, .. } = *shown.what else {
            return;
        };
        if rec.unsynced && rec.result.is_ok() {
            let detail = format!(
                "entry {} returned with registry writes not yet synced",
                rec.index
            );
            v.push("sync-before-ack", Some(node), at_us, detail);
        }
    }
}
