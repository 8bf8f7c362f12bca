//! A call into a running node core and what follows it, once for every
//! runtime and every system: what the system notes of each round (the
//! writer registry: a store fault it fired), the synced log the checkers
//! see before the outputs that followed the sync, each output routed (to the
//! runtime for what only it can do: carry a message, schedule a sync,
//! read its log; to the system for what only it observes), the calls the
//! outputs ask for at once, the system's books at the call's beginning,
//! each round and its end, and how the call ended (a halt stops the
//! process, an armed crash kills it).
//!
//! A runtime supplies what differs through [`Runtime`]: the native engine
//! sends through its transport and syncs after its disk's latency; the
//! hosted runtimes queue datagrams for their host and sync at once
//! (turmoil's file system has no latency), which [`FollowUp`] carries.

use raft::eraftpb::Message;

use super::cluster::RunBooks;
use super::system::{System, SystemCluster, SystemOutput};
use crate::node::{self, CrashPoints, NodeCore, Output};
use crate::process::DownReason;
use crate::process::Process;
use crate::storage::RaftLog;
use crate::trace::kinds;
use crate::zone::in_system;

/// What a node core of system `S` reports in one call.
pub type Outputs<S> = Vec<SystemOutput<S>>;

/// A call a batch of outputs asks the runtime to make at once.
pub enum FollowUp {
    /// A Ready's writes synced (no disk latency).
    Sync(u64),
    /// A snapshot went out to node `to`: like a stream that finished, the
    /// sender learns nothing more (a lost one shows as a follower behind).
    SnapshotSent(u8),
}

/// What a runtime does its own way around a call. Its contract: each
/// method does what its runtime means by it, records what it decided in
/// the trace, and calls back into a core only through [`call`].
pub trait Runtime {
    /// The Raft log a node core runs on.
    type Log: RaftLog;
    /// The system under test.
    type System: System;

    /// The cluster the runtime holds.
    fn cluster(&mut self) -> &mut SystemCluster<Self::Log, Self::System>;

    /// An empty buffer for a call's outputs (one kept between calls).
    fn take_outputs(&mut self) -> Outputs<Self::System> {
        Vec::new()
    }

    /// The buffer back, drained.
    fn keep_outputs(&mut self, _out: Outputs<Self::System>) {}

    /// Shows the checkers the node's synced log if a sync moved it since
    /// they last saw it.
    fn observe_synced(&mut self, node: u8);

    /// Shows the checkers a message as it leaves, with the sender's log.
    fn observe_send(&mut self, from: u8, msg: &Message);

    /// Carries a message out.
    fn send(&mut self, from: u8, msg: Message) -> Option<FollowUp>;

    /// Syncs a Ready's writes.
    fn sync(&mut self, node: u8, ready: u64) -> Option<FollowUp>;

    /// The hash of the snapshot at `index` that the node's log holds (for
    /// a start, the log it began from).
    fn snapshot_hash(&self, node: u8, index: u64) -> Option<u64>;

    /// The node became leader in `term`: shown to the observer with its
    /// log (`in_flight`: some member still owed proposals).
    fn leader(&mut self, node: u8, term: u64, in_flight: bool);

    /// An armed crash struck the apply of entry `index` between its
    /// write and its sync: shown to the observer with the log the node
    /// applied it from (in a start, the log it began from), where the
    /// entry is looked up.
    fn write_cut(&mut self, node: u8, index: u64);

    /// Ends the node's process as `lifecycle::stop` does (a method here
    /// only so that this module does not depend on the lifecycle).
    fn stop(&mut self, node: u8, reason: DownReason);

    /// An armed crash struck (`power_loss`: with the power): if the
    /// process still exists, a crash is counted and it stops; the runtime
    /// finishes the crash its way and brings the node back after the
    /// injector's down time.
    fn armed_crash(&mut self, node: u8, power_loss: bool);
}

/// The node core of system `S` over log `L` a call runs on.
pub type Core<L, S> = NodeCore<L, <S as System>::App>;

/// Calls `f` on `node`'s core if its process runs (a paused one takes no
/// calls), then handles what follows (see the module doc). `f` returns
/// `Ok(true)` when the node halted, `Err` when an armed crash struck.
pub fn call<R: Runtime>(
    rt: &mut R,
    node: u8,
    f: impl FnOnce(
        &mut Core<R::Log, R::System>,
        &mut Outputs<R::System>,
        &mut dyn CrashPoints,
    ) -> Result<bool, node::Crashed>,
) {
    let mut out = rt.take_outputs();
    if !matches!(rt.cluster().nodes[usize::from(node)].state, Process::Up(_)) {
        rt.keep_outputs(out);
        return;
    }
    let noted = R::System::call_begins(rt.cluster(), node);
    let c = rt.cluster();
    let Process::Up(core) = &mut c.nodes[usize::from(node)].state else {
        unreachable!("a running process, matched above");
    };
    let crash = c.sys.crash_points(node);
    let result = in_system(|| f(core, &mut out, crash));
    after(rt, node, result, out, noted);
}

fn after<R: Runtime>(
    rt: &mut R,
    node: u8,
    mut result: Result<bool, node::Crashed>,
    mut out: Outputs<R::System>,
    mut noted: <R::System as System>::Call,
) {
    let i = usize::from(node);
    let mut rounds = 0u64;
    loop {
        rounds += 1;
        let c = rt.cluster();
        let limit = c.timing.max_follow_ups;
        if rounds > limit {
            let detail = format!(
                "n{} asked for more than {limit} syncs and snapshot reports in one call",
                node + 1
            );
            c.violation("livelock", Some(node), detail);
            break;
        }
        R::System::call_round(c, node, &out, &mut noted);
        rt.observe_synced(node);
        let follow = route(rt, node, &mut out);
        if follow.is_empty() || result != Ok(false) {
            break;
        }
        for work in follow {
            let c = rt.cluster();
            let Process::Up(core) = &mut c.nodes[i].state else {
                break;
            };
            let crash = c.sys.crash_points(node);
            result = in_system(|| match work {
                FollowUp::Sync(ready) => core.sync_done(ready, &mut out, crash),
                FollowUp::SnapshotSent(to) => core
                    .report_snapshot(u64::from(to) + 1, true, &mut out, crash)
                    .map(|_| false),
            });
            if result != Ok(false) {
                break;
            }
        }
    }
    // Drained, also when a livelock cut the routing short.
    out.clear();
    rt.keep_outputs(out);
    R::System::call_ends(rt.cluster(), node, noted);
    match result {
        Ok(false) => {}
        Ok(true) => rt.stop(node, DownReason::Halted),
        Err(node::Crashed { partial }) => {
            let power = rt.cluster().sys.armed_power_loss(node);
            if let Some(index) = partial {
                rt.write_cut(node, index);
            }
            rt.cluster()
                .record(Some(node), &kinds::ARMED_CRASH_FIRED, u64::from(power), 0);
            rt.armed_crash(node, power);
        }
    }
    R::System::settled(rt.cluster(), node);
}

/// Routes a batch of outputs: what is only observed to the cluster's
/// books, messages and syncs to the runtime. Returns the calls the
/// runtime asks for at once.
pub fn route<R: Runtime>(rt: &mut R, node: u8, out: &mut Outputs<R::System>) -> Vec<FollowUp> {
    let mut follow = Vec::new();
    for o in out.drain(..) {
        match o {
            Output::Send(m) => {
                rt.observe_send(node, &m);
                follow.extend(rt.send(node, m));
            }
            Output::Sync { ready } => follow.extend(rt.sync(node, ready)),
            Output::Applied(rec) => R::System::applied(rt.cluster(), node, rec),
            Output::Halted(h) => R::System::halted(rt.cluster(), node, &h),
            Output::Note(note) => R::System::note(rt.cluster(), node, note),
            Output::SnapshotRestored { index, replay } => {
                let disk_hash = rt.snapshot_hash(node, index);
                R::System::restored(rt.cluster(), node, (index, replay), disk_hash)
            }
            Output::BecameLeader { term } => {
                let in_flight = rt.cluster().owed_in_flight();
                rt.leader(node, term, in_flight);
            }
        }
    }
    follow
}
