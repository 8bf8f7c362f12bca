//! The end of a run: have all nodes owed progress converged?

use super::*;
use crate::world::caught_up;

impl Sim<'_> {
    /// Every live node (not halted, refused or broken) is up, a leader
    /// exists among them, and all have applied everything it holds.
    pub(super) fn converged(&self) -> bool {
        let live: Vec<&SimNode> = self
            .slots
            .iter()
            .filter_map(|s| match &s.state {
                State::Up(core) => Some(Some(core.as_ref())),
                State::Paused(_) | State::Down(DownReason::Crashed) => Some(None),
                State::Down(_) => None,
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        let live_count = self.live_count();
        if live_count == 0 {
            return true;
        }
        live.len() == live_count && caught_up(&live)
    }

    pub(super) fn not_converged(&self, why: String) -> Ending {
        Ending::NotConverged {
            report: why + &self.convergence_report(),
            quorum_live: self.live_count() > self.slots.len() / 2,
        }
    }

    /// Members owed liveness: neither halted, refused nor broken.
    pub(super) fn live_count(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| !matches!(&s.state, State::Down(r) if r.excuses_liveness()))
            .count()
    }

    pub(super) fn convergence_report(&self) -> String {
        self.slots
            .iter()
            .map(|s| match &s.state {
                State::Up(c) => format!(
                    "{}: up applied {} commit {} last {}{}",
                    name(s.index),
                    c.app().fsm().applied_index(),
                    c.commit_index(),
                    c.last_index(),
                    if c.is_leader() { " leader" } else { "" }
                ),
                State::Paused(_) => format!("{}: paused", name(s.index)),
                State::Down(r) => format!("{}: down ({r:?})", name(s.index)),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}
