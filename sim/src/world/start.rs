//! A start's bookkeeping, the same on every runtime: what the harness
//! notes and arms before a node core's start runs, and what it notes once
//! it ran. The world in between opens the files and calls the core.

use std::cell::RefCell;
use std::rc::Rc;

use super::clients::Clients;
use super::observe::Member;
use super::target::Books;
use super::DownReason;
use super::SimOptions;
use crate::node::storage::RaftLog;
use crate::node::{self, NodeParams, NotStarted, StartFailure};
use crate::oracle::checkers::StartOutcome;
use crate::rng::KeyedRng;
use crate::scenario::Scenario;
use crate::store::{Image, Journal, SimStore, StoreOp, SyncedRowChange, TrackedStore};
use writer_registry::WriterRegistryStore;

/// What a start opens: the store, its journal and what it holds (`None`
/// when it could not be read back).
pub(crate) type Opened = (SimStore, Journal, Option<Image>);

/// Where the start begins: the books, the clients and the node's
/// election-timeout stream.
pub(crate) type StartBooks<'a> = (Books<'a>, &'a mut Clients, &'a mut KeyedRng);

/// A start of `node` begins, its files open: its member's books move to
/// the new incarnation (the clients count its nonces afresh; its replay
/// window reaches what the store holds), its election timeout is drawn,
/// the checkers see what it starts from (`epoch`: the epoch file's
/// written and synced values; `commit`: the Raft log's commit index), and
/// its store is tracked for the injector and, with the oracles on,
/// `rows`. Returns the core's parameters and the tracked store.
pub(crate) fn begin(
    (books, clients, election): StartBooks<'_>,
    (sc, opts): (&Scenario, &SimOptions),
    (node, member, rows): (u8, &mut Member, &Rc<RefCell<Vec<SyncedRowChange>>>),
    (store, journal, image): Opened,
    (epoch, commit): ((u16, u16), u64),
) -> (NodeParams, TrackedStore) {
    let applied = store.applied_index().ok().flatten().unwrap_or(0);
    clients.restarted(node);
    member.applied_max = applied;
    let election_tick = super::election_tick(election, member.incarnation, sc.election_ticks);
    let seen = (image.as_ref(), applied);
    let timing = (commit, election_tick);
    books
        .obs
        .start_begins(books.now, node, member, seen, epoch, timing);
    let sink = opts.oracles.then(|| rows.clone());
    let tracked = books.injector.tracked_store(node, store, journal, sink);
    let params = super::node_params(sc, node, member.full, election_tick, opts.mutant);
    (params, tracked)
}

/// The core's start ran: a registry crash armed before it
/// (`registry_crash_armed`) that fired in it is marked, and a store fault
/// that fired is noted.
pub(crate) fn ran<L: RaftLog>(
    mut books: Books<'_>,
    node: u8,
    registry_crash_armed: bool,
    result: &Started<L>,
) {
    books.registry_crash_fired(node, registry_crash_armed);
    books
        .obs
        .store_fault_fired(books.now, node, start_fault_fired(result));
}

/// What the core's start returns.
pub(crate) type Started<L> = Result<node::NodeCore<L, TrackedStore>, Box<NotStarted<TrackedStore>>>;

/// The store fault a start's store fired, if any (whether it joined or not).
fn start_fault_fired<L: RaftLog>(result: &Started<L>) -> Option<StoreOp> {
    match result {
        Ok(core) => core.app().fsm().store().fault_fired.take(),
        Err(failed) => failed
            .app
            .as_ref()
            .and_then(|a| a.fsm().store().fault_fired.take()),
    }
}

/// What a start that produced no running node leaves.
pub(crate) struct Failed {
    /// Why the node is down now.
    pub reason: DownReason,
    /// The start's outcome, as the checkers name it.
    pub outcome: StartOutcome,
    /// The index whose apply an armed crash cut, if any.
    pub cut: Option<u64>,
    /// The store, if it could be opened.
    pub store: Option<TrackedStore>,
}

/// Takes apart a start that produced no running node; a store that could
/// not be opened or read fails `store-open` (or ends the run, if the
/// machine ran out of something).
pub(crate) fn start_failed(
    obs: &mut super::observe::Observer,
    now: u64,
    node: u8,
    not_started: node::NotStarted<TrackedStore>,
) -> Failed {
    let node::NotStarted { failure, app } = not_started;
    let (reason, outcome) = match &failure {
        StartFailure::Refused(r) => (DownReason::Refused, StartOutcome::Refused(r.name())),
        StartFailure::Halted(_) => (DownReason::Halted, StartOutcome::Halted),
        StartFailure::Crashed { .. } => (DownReason::Crashed, StartOutcome::Crashed),
        StartFailure::Store(_) => (DownReason::Broken, StartOutcome::Broken),
    };
    let cut = match failure {
        StartFailure::Store(msg) => {
            obs.store_failure(now, "store-open", node, msg);
            None
        }
        StartFailure::Crashed { partial } => partial,
        _ => None,
    };
    Failed {
        reason,
        outcome,
        cut,
        store: app.map(node::Registry::into_store),
    }
}
