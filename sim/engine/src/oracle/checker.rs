//! The seam every checker plugs into: [`Checker`], generic over what a
//! system shows its checkers, so that any state machine's oracles (and
//! the engine's own Raft oracles, through [`super::observation::RaftView`])
//! are written against one contract.

use super::Violations;

/// One oracle's state and judgement over a run: shown what happened, it
/// says what was broken. One checker per file; a system lists its
/// checkers once, in a fixed order, and shows each observation to every
/// one of them in that order.
///
/// # Contract
///
/// - **What it is shown.** Every observation of the run, once, in the
///   order the world made them, with the virtual time it was made at
///   (`at_us`, microseconds). `O` is the system's observation type: what
///   the world saw happen, built from the world's own ground truth (its
///   disks, its clock, what it injected and delivered), plus whatever the
///   system's owner of the checkers adds for all of them to read (a
///   reference model's expectation, say). A checker that needs a fact
///   must find it there: it is never handed the world.
/// - **What it reads and does.** Only the observation and its own state.
///   It never reads the world (nodes, disks, queues, clock) and never
///   drives the run: it sends, schedules, injects and draws nothing, and
///   reads no wall clock, so a run's trace is the same whether its
///   checkers are on or off, and the same observations always give the
///   same verdict (its state iterates in a fixed order: no hash map whose
///   order reaches a verdict).
/// - **How it reports.** Only by pushing into the `violations` sink it is
///   handed, under stable oracle names (signatures group by them). The
///   order of its pushes, and the order its owner shows it observations
///   in among the other checkers, is the order of the run's violations,
///   which its report records: a list's order is part of its behaviour.
///   A checker may also keep what its owner reads after the run through
///   its own methods (a count, findings judged against what a scenario
///   allows), never through the sink.
/// - **At the run's end.** After the last observation its owner calls
///   [`Checker::finish`] once, in the same order as the observations. A
///   checker that judges the run as a whole (a history checked for
///   linearizability) judges there, stamping its violations with the time
///   of the last observation it kept; one that judges as it goes has
///   nothing left to do (the default).
pub trait Checker<O: ?Sized> {
    /// Shown `observation`, made at virtual time `at_us`: updates the
    /// checker's own state and pushes what it finds broken.
    fn observe(&mut self, at_us: u64, observation: &O, violations: &mut Violations);

    /// The run is over: nothing more will be shown. Pushes what only the
    /// whole run can show; nothing by default.
    fn finish(&mut self, violations: &mut Violations) {
        let _ = violations;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::disk::LogImage;
    use crate::oracle::observation::{RaftObservation, RaftView};
    use crate::oracle::persisted::PersistedBeforeSend;
    use crate::oracle::raft::RaftOracle;
    use crate::oracle::snapshot_status::SnapshotStatus;

    /// A second system's observations: its own, and the Raft layer's.
    enum Toy<'a> {
        Raft(RaftObservation<'a>),
        Put { key: u64 },
    }

    impl RaftView for Toy<'_> {
        fn raft(&self) -> Option<RaftObservation<'_>> {
            match self {
                Toy::Raft(r) => Some(*r),
                Toy::Put { .. } => None,
            }
        }
    }

    /// A checker of its own that judges only the whole run, as a
    /// linearizability checker would: every key is put exactly twice.
    #[derive(Default)]
    struct PutTwice {
        puts: BTreeMap<u64, u32>,
        last_at: u64,
    }

    impl Checker<Toy<'_>> for PutTwice {
        fn observe(&mut self, at_us: u64, observation: &Toy<'_>, _: &mut Violations) {
            if let Toy::Put { key } = observation {
                *self.puts.entry(*key).or_default() += 1;
                self.last_at = at_us;
            }
        }

        fn finish(&mut self, violations: &mut Violations) {
            for (key, n) in &self.puts {
                if *n != 2 {
                    let detail = format!("key {key} put {n} times");
                    violations.push("put-twice", None, self.last_at, detail);
                }
            }
        }
    }

    /// Shows `observations` to the Raft checkers and the toy's own, in one
    /// list, then finishes them: the oracles that fired, in order.
    fn run(observations: &[Toy<'_>]) -> Vec<String> {
        let (mut persisted, mut status) = (PersistedBeforeSend, SnapshotStatus::default());
        let (mut raft, mut own) = (RaftOracle::new(3), PutTwice::default());
        let mut list: [&mut dyn Checker<Toy<'_>>; 4] =
            [&mut persisted, &mut status, &mut raft, &mut own];
        let mut v = Violations::default();
        for (at_us, observation) in (0..).zip(observations) {
            for checker in list.iter_mut() {
                checker.observe(at_us, observation, &mut v);
            }
        }
        for checker in list.iter_mut() {
            checker.finish(&mut v);
        }
        v.list.into_iter().map(|v| v.oracle).collect()
    }

    /// A system with no writer registry reaches the engine's Raft checkers
    /// through its observations' Raft part alone, and its own checker
    /// judges at the end of the run, after every observation.
    #[test]
    fn a_second_system_plugs_its_checkers_and_the_raft_ones_in() {
        let log = LogImage::default();
        let leader = |node| {
            Toy::Raft(RaftObservation::Leader {
                node,
                term: 2,
                log: &log,
            })
        };
        let put = |key| Toy::Put { key };
        assert!(run(&[leader(0), put(1), put(1)]).is_empty());
        assert_eq!(
            run(&[leader(0), put(1), leader(1), put(1), put(2)]),
            ["raft-election-safety", "put-twice"],
            "two leaders of term 2 as they happen; a key put once at the end"
        );
    }
}
