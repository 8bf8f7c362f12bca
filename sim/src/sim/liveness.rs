//! The end of a run: have all nodes owed progress converged?

use super::*;
use crate::world::process;

impl Sim<'_> {
    /// Every live node (not halted, refused or broken) is up, a leader
    /// exists among them, and all have applied everything it holds.
    pub(super) fn converged(&self) -> bool {
        process::converged(self.slots.iter().map(|s| &s.state))
    }

    pub(super) fn not_converged(&self, why: String) -> Ending {
        Ending::NotConverged {
            report: why + &self.convergence_report(),
            quorum_live: self.live_count() > self.slots.len() / 2,
        }
    }

    /// Members owed liveness: neither halted, refused nor broken.
    pub(super) fn live_count(&self) -> usize {
        process::live_count(self.slots.iter().map(|s| &s.state))
    }

    pub(super) fn convergence_report(&self) -> String {
        process::report(self.slots.iter().map(|s| &s.state))
    }
}
