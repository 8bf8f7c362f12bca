//! A member's process, the one lifecycle every runtime's world uses: it
//! runs, is paused (it exists, with its core and armed faults, but
//! handles nothing until resumed), or is down for a reason. A pause is a
//! state of the process, so a down node cannot be paused and a stop ends
//! a pause with the process.
//!
//! Whether the run has converged is judged over these states the same way
//! on every runtime ([`converged`], [`live_count`], [`report`]).

use super::target::Life;
use super::{caught_up, DownReason};
use crate::node::storage::{NodeStore, RaftLog};
use crate::node::NodeCore;

/// One member's process; `C` is the node core as the world runs it.
pub(crate) enum Process<C> {
    /// It runs: ticks, messages and work reach its core.
    Up(Box<C>),
    /// It exists but handles nothing until it resumes.
    Paused(Box<C>),
    /// No process, for this reason.
    Down(DownReason),
}

impl<C> Process<C> {
    /// The core of a process that exists (running or paused).
    pub(crate) fn core(&self) -> Option<&C> {
        match self {
            Process::Up(core) | Process::Paused(core) => Some(core),
            Process::Down(_) => None,
        }
    }

    /// The core of a process that exists, to call into.
    pub(crate) fn core_mut(&mut self) -> Option<&mut C> {
        match self {
            Process::Up(core) | Process::Paused(core) => Some(core),
            Process::Down(_) => None,
        }
    }

    /// A process exists (running or paused).
    pub(crate) fn exists(&self) -> bool {
        !matches!(self, Process::Down(_))
    }

    /// The process exists and is paused.
    pub(crate) fn is_paused(&self) -> bool {
        matches!(self, Process::Paused(_))
    }

    /// Moves a running process to paused (`paused`) or a paused one back
    /// to running; false, and no change, when it is in neither state.
    pub(crate) fn set_paused(&mut self, paused: bool) -> bool {
        let core = match std::mem::replace(self, Process::Down(DownReason::Crashed)) {
            Process::Up(core) if paused => core,
            Process::Paused(core) if !paused => core,
            other => {
                *self = other;
                return false;
            }
        };
        *self = if paused {
            Process::Paused(core)
        } else {
            Process::Up(core)
        };
        true
    }

    /// Ends the process for `reason`; its core, if it existed.
    pub(crate) fn stop(&mut self, reason: DownReason) -> Option<Box<C>> {
        match std::mem::replace(self, Process::Down(reason)) {
            Process::Up(core) | Process::Paused(core) => Some(core),
            Process::Down(_) => None,
        }
    }

    /// The node as a scheduled event sees it (a start on its way is the
    /// hosted runtimes' to tell).
    pub(crate) fn life(&self) -> Life {
        match self {
            Process::Up(_) => Life::Running,
            Process::Paused(_) => Life::Paused,
            Process::Down(reason) => Life::Down(reason.clone()),
        }
    }

    /// Owed liveness: neither halted, refused nor broken.
    fn owes_liveness(&self) -> bool {
        !matches!(self, Process::Down(r) if r.excuses_liveness())
    }
}

/// Members owed liveness: neither halted, refused nor broken.
pub(crate) fn live_count<'a, C: 'a>(members: impl IntoIterator<Item = &'a Process<C>>) -> usize {
    members.into_iter().filter(|p| p.owes_liveness()).count()
}

/// Every member owed liveness runs (none paused or crashed), a leader
/// exists among them, and all have applied everything it holds.
pub(crate) fn converged<'a, L, S>(
    members: impl IntoIterator<Item = &'a Process<NodeCore<L, S>>>,
) -> bool
where
    L: RaftLog + 'a,
    S: NodeStore + 'a,
{
    let live: Option<Vec<&NodeCore<L, S>>> = members
        .into_iter()
        .filter(|p| p.owes_liveness())
        .map(|p| match p {
            Process::Up(core) => Some(core.as_ref()),
            Process::Paused(_) | Process::Down(_) => None,
        })
        .collect();
    match live {
        Some(live) => live.is_empty() || caught_up(&live),
        None => false,
    }
}

/// Where each member stands, for a run that did not converge.
pub(crate) fn report<'a, L, S>(
    members: impl IntoIterator<Item = &'a Process<NodeCore<L, S>>>,
) -> String
where
    L: RaftLog + 'a,
    S: NodeStore + 'a,
{
    members
        .into_iter()
        .enumerate()
        .map(|(i, p)| match p {
            Process::Up(c) => format!(
                "n{}: up applied {} commit {} last {}{}",
                i + 1,
                c.app().fsm().applied_index(),
                c.commit_index(),
                c.last_index(),
                if c.is_leader() { " leader" } else { "" }
            ),
            Process::Paused(_) => format!("n{}: paused", i + 1),
            Process::Down(r) => format!("n{}: down ({r:?})", i + 1),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::DiskStorage;
    use crate::store::TrackedStore;

    #[test]
    fn a_pause_is_a_state_of_a_running_process_and_ends_with_it() {
        let mut p = Process::Up(Box::new(7));
        assert!(!p.set_paused(false), "resumed what was running");
        assert!(p.set_paused(true));
        assert!(!p.set_paused(true), "paused twice");
        assert_eq!(
            (p.life(), p.core(), p.exists()),
            (Life::Paused, Some(&7), true)
        );
        assert_eq!(p.stop(DownReason::Crashed).map(|c| *c), Some(7));
        assert!(!p.is_paused() && !p.exists());
        assert!(!p.set_paused(true), "paused a process that is gone");
        assert_eq!(p.life(), Life::Down(DownReason::Crashed));
        assert_eq!(p.stop(DownReason::Halted), None);
        assert_eq!(p.life(), Life::Down(DownReason::Halted));
    }

    type Member = Process<NodeCore<DiskStorage, TrackedStore>>;

    #[test]
    fn liveness_is_owed_by_every_member_but_the_halted_refused_and_broken() {
        let down = |r| Member::Down(r);
        let excused = [
            down(DownReason::Halted),
            down(DownReason::Refused),
            down(DownReason::Broken),
        ];
        assert_eq!(live_count(&excused), 0);
        assert!(converged(&excused), "nobody owes progress");
        let with_crashed = [down(DownReason::Halted), down(DownReason::Crashed)];
        assert_eq!(live_count(&with_crashed), 1);
        assert!(!converged(&with_crashed), "a crashed member owes a restart");
        assert_eq!(
            report(&with_crashed),
            "n1: down (Halted); n2: down (Crashed)"
        );
    }
}
