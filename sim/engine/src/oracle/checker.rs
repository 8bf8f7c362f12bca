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
