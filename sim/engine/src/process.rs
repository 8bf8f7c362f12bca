//! A member's process, the one lifecycle every runtime's world uses: it
//! runs, is paused (it exists, with its core and armed faults, but
//! handles nothing until resumed), or is down for a reason. A pause is a
//! state of the process, so a down node cannot be paused and a stop ends
//! a pause with the process.
//!
//! Whether a run has converged is judged over these states the same way
//! on every runtime ([`converged`], [`live_count`], [`report`]).

use crate::node::{Application, NodeCore};
use crate::storage::RaftLog;

/// Why a node has no process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// It crashed (or has not started yet): a restart is owed.
    Crashed,
    /// Its state machine halted it: a restart halts it again.
    Halted,
    /// Its start hook refused to let it join.
    Refused,
    /// Its store or Raft state could not be opened: a violation, stays down.
    Broken,
}

impl DownReason {
    /// A node down for this reason does not owe liveness: it halted (a
    /// restart halts it again), refused or broke.
    pub fn excuses_liveness(&self) -> bool {
        matches!(
            self,
            DownReason::Halted | DownReason::Refused | DownReason::Broken
        )
    }

    /// The reason's number in trace lines.
    pub fn code(&self) -> u64 {
        match self {
            DownReason::Crashed => 0,
            DownReason::Halted => 1,
            DownReason::Refused => 2,
            DownReason::Broken => 3,
        }
    }
}

/// One member's process; `C` is the node core as the world runs it.
pub enum Process<C> {
    /// It runs: ticks, messages and work reach its core.
    Up(Box<C>),
    /// It exists but handles nothing until it resumes.
    Paused(Box<C>),
    /// No process, for this reason.
    Down(DownReason),
}

impl<C> Process<C> {
    /// The core of a process that exists (running or paused).
    pub fn core(&self) -> Option<&C> {
        match self {
            Process::Up(core) | Process::Paused(core) => Some(core),
            Process::Down(_) => None,
        }
    }

    /// The core of a process that exists, to call into.
    pub fn core_mut(&mut self) -> Option<&mut C> {
        match self {
            Process::Up(core) | Process::Paused(core) => Some(core),
            Process::Down(_) => None,
        }
    }

    /// The core of a running (not paused) process.
    pub fn running(&self) -> Option<&C> {
        match self {
            Process::Up(core) => Some(core),
            Process::Paused(_) | Process::Down(_) => None,
        }
    }

    /// A process exists (running or paused).
    pub fn exists(&self) -> bool {
        !matches!(self, Process::Down(_))
    }

    /// No process, and a start may make one: it crashed or halted (a
    /// refused or broken node stays down).
    pub fn may_start(&self) -> bool {
        matches!(
            self,
            Process::Down(DownReason::Crashed | DownReason::Halted)
        )
    }

    /// The process exists and is paused.
    pub fn is_paused(&self) -> bool {
        matches!(self, Process::Paused(_))
    }

    /// Moves a running process to paused (`paused`) or a paused one back
    /// to running; false, and no change, when it is in neither state.
    pub fn set_paused(&mut self, paused: bool) -> bool {
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
    pub fn stop(&mut self, reason: DownReason) -> Option<Box<C>> {
        match std::mem::replace(self, Process::Down(reason)) {
            Process::Up(core) | Process::Paused(core) => Some(core),
            Process::Down(_) => None,
        }
    }

    /// Owed liveness: neither halted, refused nor broken.
    fn owes_liveness(&self) -> bool {
        !matches!(self, Process::Down(r) if r.excuses_liveness())
    }
}

/// Members owed liveness: neither halted, refused nor broken.
pub fn live_count<'a, C: 'a>(members: impl IntoIterator<Item = &'a Process<C>>) -> usize {
    members.into_iter().filter(|p| p.owes_liveness()).count()
}

/// Every member owed liveness runs (none paused or crashed), a leader
/// exists among them, and all have applied everything it holds, their
/// own start-up proposals included.
pub fn converged<'a, L, A>(members: impl IntoIterator<Item = &'a Process<NodeCore<L, A>>>) -> bool
where
    L: RaftLog + 'a,
    A: Application + 'a,
{
    let live: Option<Vec<&NodeCore<L, A>>> = members
        .into_iter()
        .filter(|p| p.owes_liveness())
        .map(Process::running)
        .collect();
    match live {
        Some(live) => live.is_empty() || caught_up(&live),
        None => false,
    }
}

/// A leader exists among `live` and every one of them has applied all it
/// holds, its own start-up proposals included.
fn caught_up<L: RaftLog, A: Application>(live: &[&NodeCore<L, A>]) -> bool {
    let Some(leader) = live.iter().find(|c| c.is_leader()) else {
        return false;
    };
    let target = leader.last_index();
    leader.commit_index() == target
        && live
            .iter()
            .all(|c| c.app().applied_index() == target && !c.app().own_proposals_pending())
}

/// Where each member stands, for a run that did not converge.
pub fn report<'a, L, A>(members: impl IntoIterator<Item = &'a Process<NodeCore<L, A>>>) -> String
where
    L: RaftLog + 'a,
    A: Application + 'a,
{
    members
        .into_iter()
        .enumerate()
        .map(|(i, p)| match p {
            Process::Up(c) => format!(
                "n{}: up applied {} commit {} last {}{}",
                i + 1,
                c.app().applied_index(),
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
    use crate::mem_log::MemLog;
    use crate::node::tests::{boot, hook, lead, propose, Core, Counter};
    use crate::node::NoCrashes;

    #[test]
    fn a_pause_is_a_state_of_a_running_process_and_ends_with_it() {
        let mut p = Process::Up(Box::new(7));
        assert!(!p.set_paused(false), "resumed what was running");
        assert!(p.set_paused(true));
        assert!(!p.set_paused(true), "paused twice");
        assert_eq!((p.core(), p.running(), p.exists()), (Some(&7), None, true));
        assert_eq!(p.stop(DownReason::Crashed).map(|c| *c), Some(7));
        assert!(!p.is_paused() && !p.exists());
        assert!(!p.set_paused(true), "paused a process that is gone");
        assert!(p.may_start(), "a crashed node is restarted");
        assert_eq!(p.stop(DownReason::Halted), None);
        assert!(matches!(p, Process::Down(DownReason::Halted)));
        assert!(p.may_start(), "a halted node is restarted (to halt again)");
        for stays in [DownReason::Refused, DownReason::Broken] {
            assert!(!Process::<()>::Down(stays).may_start());
        }
        assert!(!Process::Up(Box::new(())).may_start());
    }

    #[test]
    fn liveness_is_owed_by_every_member_but_the_halted_refused_and_broken() {
        let down = |r| Process::<Core>::Down(r);
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

    fn leader(own_pending: u32) -> Core {
        let mut app = Counter::default();
        app.own_pending = own_pending;
        let mut core = boot(MemLog::single_voter(), app, &mut hook()).expect("it starts");
        lead(&mut core);
        propose(&mut core, b"x", &mut NoCrashes).unwrap();
        core
    }

    #[test]
    fn a_run_converges_once_a_running_leader_applied_all_it_holds_and_its_own() {
        let mut p = Process::Up(Box::new(leader(0)));
        assert!(converged([&p]));
        assert!(report([&p]).ends_with(" leader"), "{}", report([&p]));
        p.set_paused(true);
        assert!(!converged([&p]), "a paused member owes a resume");
        assert!(
            !converged([&Process::Up(Box::new(leader(1)))]),
            "its own proposal is pending"
        );
    }

    #[test]
    fn a_member_behind_the_leader_keeps_the_run_from_converging() {
        let twins = [leader(0), leader(0)].map(|c| Process::Up(Box::new(c)));
        assert!(converged(&twins), "{}", report(&twins));
        let mut ahead = leader(0);
        propose(&mut ahead, b"y", &mut NoCrashes).unwrap();
        // Whichever leader is found first, the other has not applied what
        // it holds (or holds more than it).
        let (a, b) = (
            Process::Up(Box::new(ahead)),
            Process::Up(Box::new(leader(0))),
        );
        assert!(!converged([&a, &b]), "{}", report([&a, &b]));
        assert!(!converged([&b, &a]), "{}", report([&b, &a]));
    }
}
