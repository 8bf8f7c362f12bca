//! A node's life, once for every runtime: a start (its files reopened,
//! the rows corrupted while it was down damaged, the spec's start
//! sequence run, what it began from and how it ended shown to the
//! checkers), its registrations proposed until they apply, and a stop
//! (its store closed and shown to the checkers as it was left).
//!
//! A runtime supplies where its files live and what its clock does
//! through [`Files`] (beside [`Runtime`], what it does around a call):
//! the native engine keeps its disks in memory and closes a store by
//! killing it (a crash copy); the hosted runtimes reopen what their
//! files kept (turmoil's or madsim's file system, or memory) and check
//! it against the harness's records.

use super::call::{self, Outputs, Runtime};
use super::start::{self, Opened, Started};
use super::target::{self, Books};
use super::DownReason;
use crate::node::{self, NodeParams};
use crate::oracle::checkers::StartOutcome;
use crate::store::{image_digest, scan_image, Image, Journal, SimStore, TrackedStore};
use crate::trace::kinds;
use regsim_engine::process::Process;

/// Where a runtime keeps a node's files, and what its clock does for a
/// started node. Its contract: each method does its runtime's part and
/// records in the trace (or the books) what only it can know; a `None`
/// it returns has been recorded as the failure it is.
pub(crate) trait Files: Runtime {
    /// The ended process's waiting work (held messages, queued calls)
    /// is gone with it.
    fn forget_work(&mut self, node: u8);

    /// Keeps a store and its journal for the node's time down: a stopped
    /// process's, or one a start opened before its log failed to open.
    fn keep_store(&mut self, node: u8, store: SimStore, journal: Journal);

    /// Before a start opens anything (the hosted runtimes write an
    /// injected epoch into the file and check it).
    fn before_start(&mut self, _node: u8) {}

    /// The store as the runtime kept it over the node's time down (what a
    /// crash or power loss left), with the harness's journal of it.
    fn open_store(&mut self, node: u8) -> Option<(SimStore, Journal)>;

    /// What a runtime counts of a store as its row damage syncs (read
    /// at that sync, for [`Files::damage_synced`]); `None`: nothing.
    fn synced_count(_store: &SimStore) -> Option<u64> {
        None
    }

    /// The row damage done at a reopen synced the store when it held
    /// `count` (the last [`Files::synced_count`]).
    fn damage_synced(&mut self, _node: u8, _count: u64) {}

    /// The node's Raft log, opened for a start.
    fn open_log(&mut self, node: u8) -> Option<Self::Log>;

    /// The epoch file: as read and as synced.
    fn epoch(&self, node: u8) -> (u16, u16);

    /// A start begins from `log`: returns its Raft commit index. What
    /// the start began from is the runtime's to keep, if it needs it,
    /// until [`Files::start_ended`] (every start that gets this far
    /// reaches it: nothing returns in between).
    fn start_from(&mut self, node: u8, log: &Self::Log) -> u64;

    /// Runs the node core's start over the runtime's epoch file.
    fn run_start(
        &mut self,
        node: u8,
        params: NodeParams,
        log: Self::Log,
        tracked: TrackedStore,
        out: &mut Outputs,
    ) -> Started<Self::Log>;

    /// Shows the checkers the synced log the start left.
    fn observe_start(&mut self, node: u8);

    /// The start's outcome is known and shown.
    fn start_ended(&mut self, _node: u8) {}

    /// A start joined: the node's core takes ticks from now on.
    fn joined(&mut self, node: u8);

    /// The node's registrations are proposed again at `at` if the
    /// incarnation `inc` still runs.
    fn retry_registrations(&mut self, node: u8, inc: u32, at: u64);
}

/// Starts a down node (crashed or halted: refused and broken stay down).
/// Returns whether it joined.
pub(crate) fn start<R: Files>(rt: &mut R, node: u8) -> bool {
    let i = usize::from(node);
    if !rt.cluster().nodes[i].state.may_start() {
        return false;
    }
    rt.cluster().obs.stats.restarts += 1;
    rt.before_start(node);
    let Some((store, journal, image)) = reopen(rt, node) else {
        return false;
    };
    let Some(log) = rt.open_log(node) else {
        rt.cluster().nodes[i].state = Process::Down(DownReason::Broken);
        rt.keep_store(node, store, journal);
        return false;
    };
    let epoch = rt.epoch(node);
    let commit = rt.start_from(node, &log);
    let opened: Opened = (store, journal, image);
    let (params, tracked) = rt.cluster().begin_start(node, opened, (epoch, commit));
    let mut out = rt.take_outputs();
    let registry_crash_armed = rt.cluster().injector.registry_crash_armed(node);
    let result = rt.run_start(node, params, log, tracked, &mut out);
    let c = rt.cluster();
    let books = Books::at(&mut c.obs, &mut c.injector, c.now);
    start::ran(books, node, registry_crash_armed, &result);
    // Before the replay's applies are judged: what the start synced.
    rt.observe_start(node);
    let outcome = match result {
        Ok(core) => {
            rt.cluster().nodes[i].state = Process::Up(Box::new(core));
            // A start's syncs were its own: nothing follows up.
            let _ = call::route(rt, node, &mut out);
            rt.keep_outputs(out);
            StartOutcome::Joined
        }
        Err(not_started) => start_failed(rt, node, *not_started, out),
    };
    let epoch_file = rt.epoch(node);
    let c = rt.cluster();
    c.obs.start_ended(c.now, node, outcome, epoch_file);
    rt.start_ended(node);
    if outcome == StartOutcome::Crashed {
        // An armed crash struck during the start: as for a running
        // process, with the power loss it was armed with (the unsynced
        // writes of the replay go) and a rollback waiting for a crash.
        let power = rt.cluster().injector.armed_power_loss(node);
        rt.cluster()
            .record(Some(node), &kinds::ARMED_CRASH_FIRED, u64::from(power), 0);
        rt.armed_crash(node, power);
    }
    let joined = outcome == StartOutcome::Joined;
    if joined {
        rt.joined(node);
        propose_registrations(rt, node);
    }
    rt.cluster().drain_row_changes(node);
    joined
}

/// Reopens a down node's store (what a crash or power loss left), does
/// the row damage queued while it was down and records what it holds.
/// Returns the store, its journal and what it holds (`None` when it could
/// not be read back), or `None` when it cannot be opened (the node is
/// broken). Judging what it holds is the checkers' job.
fn reopen<R: Files>(rt: &mut R, node: u8) -> Option<Opened> {
    let i = usize::from(node);
    let Some((mut store, mut journal)) = rt.open_store(node) else {
        rt.cluster().nodes[i].state = Process::Down(DownReason::Broken);
        return None;
    };
    let c = rt.cluster();
    let corruptions = std::mem::take(&mut c.nodes[i].corruptions);
    let fulls = c.fulls();
    let mut synced = None;
    let done = (&mut store, &mut journal);
    let count = &mut |s: &SimStore| synced = R::synced_count(s).or(synced);
    target::corrupt_rows((&mut c.obs, c.now), node, corruptions, &fulls, done, count);
    if let Some(count) = synced {
        rt.damage_synced(node, count);
    }
    // One scan serves the checkers and the trace's digest.
    let scanned = scan_image(&store);
    let c = rt.cluster();
    if let Err(e) = &scanned {
        c.store_failure("durability", node, format!("scan after reopen: {e}"));
    }
    c.record_state(
        node,
        scanned.as_ref().map(image_digest).map_err(Clone::clone),
    );
    c.note_rows(node, scanned.as_ref().ok());
    Some((store, journal, scanned.ok()))
}

/// A start that produced no running node: refused, halted in its replay,
/// crashed by an armed fault, or broken.
fn start_failed<R: Files>(
    rt: &mut R,
    node: u8,
    not_started: node::NotStarted<TrackedStore>,
    mut out: Outputs,
) -> StartOutcome {
    let c = rt.cluster();
    let failed = start::start_failed(&mut c.obs, c.now, node, not_started);
    let (reason, outcome) = (failed.reason, failed.outcome);
    let image = failed
        .store
        .and_then(|tracked| close_store(rt, node, tracked));
    // What the start reported (its replay) reaches the checkers before
    // the store it left behind, as the incarnation that started.
    let _ = call::route(rt, node, &mut out);
    rt.keep_outputs(out);
    rt.cluster().start_failed(node, reason.clone());
    if let Some(index) = failed.cut {
        rt.write_cut(node, index);
    }
    let c = rt.cluster();
    c.stopped(node, image.as_ref(), None);
    c.record(Some(node), &kinds::START_FAILED, reason.code(), 0);
    outcome
}

/// Stops a running node: the process is gone (with the work waiting for
/// it), its store is closed and shown to the checkers as it was left.
pub(crate) fn stop<R: Files>(rt: &mut R, node: u8, reason: DownReason) {
    let ended = rt.cluster().process_ended(node, reason);
    rt.forget_work(node);
    if let Some((store, digest)) = ended {
        let image = close_store(rt, node, store);
        rt.cluster().stopped(node, image.as_ref(), digest);
    }
}

/// Closes a node's store for its time down, recording what it holds and
/// what of it reached a sync (as the harness's journal saw it: a run that
/// skips a sync leaves a different durable image). Returns what it holds,
/// for the checkers (`None`: unreadable, a violation).
fn close_store<R: Files>(rt: &mut R, node: u8, tracked: TrackedStore) -> Option<Image> {
    let TrackedStore { inner, journal, .. } = tracked;
    let scanned = scan_image(&inner);
    let (synced, pairs) = journal.synced_digest();
    rt.keep_store(node, inner, journal);
    let c = rt.cluster();
    c.record_state(
        node,
        scanned.as_ref().map(image_digest).map_err(Clone::clone),
    );
    c.note_rows(node, scanned.as_ref().ok());
    c.record(Some(node), &kinds::SYNCED_STATE, synced, pairs);
    scanned.ok()
}

/// START-6: proposes this incarnation's registration for every dek not
/// yet applied locally, and retries until all have (a paused node
/// retries after it resumes).
pub(crate) fn propose_registrations<R: Files>(rt: &mut R, node: u8) {
    let Some(deks) = rt.cluster().registrations_due(node) else {
        return;
    };
    for dek in deks {
        let Some(data) = rt.cluster().registration(node, dek) else {
            break;
        };
        call::call(rt, node, |core, out, crash| {
            core.propose(data, out, crash).map(|_| false)
        });
    }
    let c = rt.cluster();
    let inc = c.incarnation(node);
    let at = c.now + c.sc.workload.registration_retry_ms * 1000;
    rt.retry_registrations(node, inc, at);
}
