//! A node's life, once for every runtime and every system: a start (its
//! files reopened, the system's damage queued while it was down done, the
//! core's start run with the system's start hook, what it began from and
//! how it ended shown to the checkers), the proposals it owes proposed
//! until they apply (the writer registry's registrations, START-6), and a
//! stop (its store closed and shown to the checkers as it was left).
//! What only the system knows comes from its hooks ([`System`]).
//!
//! A runtime supplies where its files live and what its clock does
//! through [`Files`] (beside [`Runtime`], what it does around a call):
//! the native engine keeps its disks in memory and closes a store by
//! killing it (a crash copy); the hosted runtimes reopen what their
//! files kept (turmoil's or madsim's file system, or memory) and check
//! it against the harness's records.

use super::call::{self, Outputs, Runtime};
use super::cluster::RunBooks;
use super::system::{Begun, Started, System};
use crate::node::{Application, NotStarted, StartFailure};
use crate::process::DownReason;
use crate::process::Process;
use crate::trace::kinds;
use crate::zone::in_system;

/// The store a runtime keeps for a down node of system `S`.
pub type Store<R> = <<R as Runtime>::System as System>::Store;

/// Where a runtime keeps a node's files, and what its clock does for a
/// started node. Its contract: each method does its runtime's part and
/// records in the trace (or the books) what only it can know; a `None`
/// it returns has been recorded as the failure it is.
pub trait Files: Runtime {
    /// The ended process's waiting work (held messages, queued calls)
    /// is gone with it.
    fn forget_work(&mut self, node: u8);

    /// Keeps a store for the node's time down: a stopped process's, or
    /// one a start opened before its log failed to open.
    fn keep_store(&mut self, node: u8, store: Store<Self>);

    /// Before a start opens anything (the hosted runtimes write what was
    /// injected into a down node's start files, and check them).
    fn before_start(&mut self, _node: u8) {}

    /// The store as the runtime kept it over the node's time down (what a
    /// crash or power loss left).
    fn open_store(&mut self, node: u8) -> Option<Store<Self>>;

    /// What a runtime counts of a store as the damage the system does at
    /// a reopen syncs it (read at that sync, for
    /// [`Files::damage_synced`]); `None`: nothing.
    fn synced_count(_store: &Store<Self>) -> Option<u64> {
        None
    }

    /// The damage done at a reopen synced the store when it held `count`
    /// (the last [`Files::synced_count`]).
    fn damage_synced(&mut self, _node: u8, _count: u64) {}

    /// The node's Raft log, opened for a start.
    fn open_log(&mut self, node: u8) -> Option<Self::Log>;

    /// What the runtime's files tell the system's start besides the Raft
    /// log (the writer registry's epoch file).
    fn start_facts(&self, node: u8) -> <Self::System as System>::StartFacts;

    /// A start begins from `log`: returns its Raft commit index. What
    /// the start began from is the runtime's to keep, if it needs it,
    /// until [`Files::start_done`] (every start that gets this far
    /// reaches it: nothing returns in between).
    fn start_from(&mut self, node: u8, log: &Self::Log) -> u64;

    /// Runs the node core's start (over the runtime's start files). The
    /// world calls it inside the system's panic zone (`zone::in_system`).
    fn run_start(
        &mut self,
        node: u8,
        params: <Self::System as System>::Params,
        log: Self::Log,
        tracked: <Self::System as System>::Tracked,
        out: &mut Outputs<Self::System>,
    ) -> Started<Self::Log, Self::System>;

    /// Shows the checkers the synced log the start left.
    fn observe_start(&mut self, node: u8);

    /// The start's outcome is known and shown.
    fn start_done(&mut self, _node: u8) {}

    /// A start joined: the node's core takes ticks from now on.
    fn joined(&mut self, node: u8);

    /// What the node owes is proposed again at `at` if the incarnation
    /// `inc` still runs.
    fn retry_owed(&mut self, node: u8, inc: u32, at: u64);
}

/// Starts a down node (crashed or halted: refused and broken stay down).
/// Returns whether it joined.
pub fn start<R: Files>(rt: &mut R, node: u8) -> bool {
    let i = usize::from(node);
    if !rt.cluster().nodes[i].state.may_start() {
        return false;
    }
    rt.cluster().sys.start_attempted();
    rt.before_start(node);
    let Some(opened) = reopen(rt, node) else {
        return false;
    };
    let Some(log) = rt.open_log(node) else {
        rt.cluster().nodes[i].state = Process::Down(DownReason::Broken);
        rt.keep_store(node, opened.0);
        return false;
    };
    let facts = rt.start_facts(node);
    let commit = rt.start_from(node, &log);
    let begun = R::System::begin_start(rt.cluster(), node, opened, (facts, commit));
    let Begun {
        params,
        tracked,
        call: noted,
    } = begun;
    let mut out = rt.take_outputs();
    let result = in_system(|| rt.run_start(node, params, log, tracked, &mut out));
    R::System::start_ran(rt.cluster(), node, noted, &result);
    // Before the replay's applies are judged: what the start synced.
    rt.observe_start(node);
    let failure = match result {
        Ok(core) => {
            rt.cluster().nodes[i].state = Process::Up(Box::new(core));
            // A start's syncs were its own: nothing follows up.
            let _ = call::route(rt, node, &mut out);
            rt.keep_outputs(out);
            None
        }
        Err(not_started) => Some(failed_start(rt, node, *not_started, out)),
    };
    let facts = rt.start_facts(node);
    R::System::start_ended(rt.cluster(), node, failure.as_ref(), facts);
    rt.start_done(node);
    if let Some(StartFailure::Crashed { .. }) = failure {
        // An armed crash struck during the start: as for a running
        // process, with the power loss it was armed with (the unsynced
        // writes of the replay go) and a rollback waiting for a crash.
        let power = rt.cluster().sys.armed_power_loss(node);
        rt.cluster()
            .record(Some(node), &kinds::ARMED_CRASH_FIRED, u64::from(power), 0);
        rt.armed_crash(node, power);
    }
    let joined = failure.is_none();
    if joined {
        rt.joined(node);
        propose_owed(rt, node);
    }
    R::System::settled(rt.cluster(), node);
    joined
}

/// Reopens a down node's store (what a crash or power loss left), with
/// the damage queued while it was down done and what it holds recorded
/// by its system. Returns the store and what it holds (`None` when it
/// could not be read back), or `None` when it cannot be opened (the node
/// is broken). Judging what it holds is the checkers' job.
#[allow(clippy::type_complexity)]
fn reopen<R: Files>(
    rt: &mut R,
    node: u8,
) -> Option<(Store<R>, Option<<R::System as System>::Image>)> {
    let Some(mut store) = rt.open_store(node) else {
        rt.cluster().nodes[usize::from(node)].state = Process::Down(DownReason::Broken);
        return None;
    };
    let mut synced = None;
    let count = &mut |s: &Store<R>| synced = R::synced_count(s).or(synced);
    let image = R::System::reopened(rt.cluster(), node, &mut store, count);
    if let Some(count) = synced {
        rt.damage_synced(node, count);
    }
    Some((store, image))
}

/// Why a start that produced no running node leaves it down: a refusal
/// and a store that would not open are for good, a halt and a crash until
/// the next start.
fn down_reason<A: Application>(failure: &StartFailure<A>) -> DownReason {
    match failure {
        StartFailure::Refused(_) => DownReason::Refused,
        StartFailure::Halted(_) => DownReason::Halted,
        StartFailure::Crashed { .. } => DownReason::Crashed,
        StartFailure::Store(_) => DownReason::Broken,
    }
}

/// A start that produced no running node: refused, halted in its replay,
/// crashed by an armed fault, or broken. Returns why.
fn failed_start<R: Files>(
    rt: &mut R,
    node: u8,
    not_started: NotStarted<<R::System as System>::App>,
    mut out: Outputs<R::System>,
) -> StartFailure<<R::System as System>::App> {
    let NotStarted { failure, app } = not_started;
    R::System::start_failed(rt.cluster(), node, &failure);
    let reason = down_reason(&failure);
    let image = app
        .map(R::System::into_tracked)
        .and_then(|tracked| close_store(rt, node, tracked));
    // What the start reported (its replay) reaches the checkers before
    // the store it left behind, as the incarnation that started.
    let _ = call::route(rt, node, &mut out);
    rt.keep_outputs(out);
    rt.cluster().not_started(node, reason.clone());
    if let StartFailure::Crashed {
        partial: Some(index),
    } = failure
    {
        rt.write_cut(node, index);
    }
    let c = rt.cluster();
    R::System::stopped(c, node, image.as_ref(), None);
    c.record(Some(node), &kinds::START_FAILED, reason.code(), 0);
    failure
}

/// Stops a running node: the process is gone (with the work waiting for
/// it), its store is closed and shown to the checkers as it was left.
pub fn stop<R: Files>(rt: &mut R, node: u8, reason: DownReason) {
    R::System::process_ending(rt.cluster(), node, &reason);
    let ended = rt.cluster().end_process(node, reason);
    rt.forget_work(node);
    if let Some(app) = ended {
        let (tracked, digest) = R::System::leave(app);
        let image = close_store(rt, node, tracked);
        R::System::stopped(rt.cluster(), node, image.as_ref(), digest);
    }
}

/// Closes a node's store for its time down: the runtime keeps it, and its
/// system records what it holds and what of it reached a sync. Returns
/// what it holds, for the checkers (`None`: unreadable, a violation).
fn close_store<R: Files>(
    rt: &mut R,
    node: u8,
    tracked: <R::System as System>::Tracked,
) -> Option<<R::System as System>::Image> {
    let (store, closing) = R::System::close(tracked);
    rt.keep_store(node, store);
    R::System::closed(rt.cluster(), node, closing)
}

/// Proposes what this incarnation owes (the writer registry's START-6: its
/// registration for every dek not yet applied locally), and retries until
/// all have applied (a paused node retries after it resumes).
pub fn propose_owed<R: Files>(rt: &mut R, node: u8) {
    let c = rt.cluster();
    let state = &c.nodes[usize::from(node)].state;
    let Some(core) = state.core() else {
        return;
    };
    if !core.app().own_proposals_pending() {
        return;
    }
    // A paused process proposes nothing: it only keeps retrying.
    let owed = if state.is_paused() {
        Vec::new()
    } else {
        R::System::owed(c, node)
    };
    for owed in owed {
        let Some(data) = R::System::proposal(rt.cluster(), node, &owed) else {
            break;
        };
        call::call(rt, node, |core, out, crash| {
            core.propose(data, out, crash).map(|_| false)
        });
    }
    let c = rt.cluster();
    let inc = c.incarnation(node);
    let at = c.now + R::System::retry_us(c);
    rt.retry_owed(node, inc, at);
}
