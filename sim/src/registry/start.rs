//! A start's bookkeeping, the same on every runtime: what the harness
//! notes and arms before a node core's start runs, and what it notes once
//! it ran. The world in between opens the files and calls the core.

use crate::node::{NodeParams, StartFailure};
use crate::oracle::checkers::StartOutcome;
use crate::scenario::Scenario;
use crate::store::{Image, Journal, SimStore, StoreOp, TrackedStore};
use crate::world::clients::Clients;
use crate::world::observe::{Member, Observer};
use crate::world::target::Books;
use crate::world::SimOptions;
use writer_registry::WriterRegistryStore;

/// What a start opens: the store, its journal and what it holds (`None`
/// when it could not be read back).
pub(crate) type Opened = (SimStore, Journal, Option<Image>);

/// Where the start begins: the books and the clients.
pub(crate) type StartBooks<'a> = (Books<'a>, &'a mut Clients);

/// A start of `node` begins, its files open: its member's books move to
/// the new incarnation (the clients count its nonces afresh; its replay
/// window reaches what the store holds), the checkers see what it starts
/// from (`epoch`: the epoch file's written and synced values; `commit`:
/// the Raft log's commit index), and its store is tracked for the
/// injector and, with the oracles on, the member's synced rows.
/// `election_tick`: the incarnation's drawn election timeout. Returns the
/// core's parameters and the tracked store.
pub(crate) fn begin(
    (books, clients): StartBooks<'_>,
    (sc, opts): (&Scenario, &SimOptions),
    (node, member, election_tick): (u8, &mut Member, usize),
    (store, journal, image): Opened,
    (epoch, commit): ((u16, u16), u64),
) -> (NodeParams, TrackedStore) {
    let applied = store.applied_index().ok().flatten().unwrap_or(0);
    clients.restarted(node);
    member.applied_max = applied;
    let seen = (image.as_ref(), applied);
    let timing = (commit, election_tick);
    books
        .obs
        .start_begins(books.now, node, member, seen, epoch, timing);
    let sink = opts.oracles.then(|| member.synced_rows.clone());
    let tracked = books.injector.tracked_store(node, store, journal, sink);
    let params = crate::world::node_params(sc, node, member.full, election_tick, opts.mutant);
    (params, tracked)
}

/// The core's start ran: a registry crash armed before it
/// (`registry_crash_armed`) that fired in it is marked, and a store fault
/// that fired (`fired`) is noted.
pub(crate) fn ran(
    mut books: Books<'_>,
    node: u8,
    registry_crash_armed: bool,
    fired: Option<StoreOp>,
) {
    books.registry_crash_fired(node, registry_crash_armed);
    books.obs.store_fault_fired(books.now, node, fired);
}

/// A start that produced no running node: a store that could not be
/// opened or read fails `store-open` (or ends the run, if the machine ran
/// out of something).
pub(crate) fn start_failed(
    obs: &mut Observer,
    now: u64,
    node: u8,
    failure: &StartFailure<TrackedStore>,
) {
    if let StartFailure::Store(msg) = failure {
        obs.store_failure(now, "store-open", node, msg.clone());
    }
}

/// A start's outcome as the checkers name it (`failure`: `None` when it
/// joined).
pub(crate) fn outcome(failure: Option<&StartFailure<TrackedStore>>) -> StartOutcome {
    match failure {
        None => StartOutcome::Joined,
        Some(StartFailure::Refused(r)) => StartOutcome::Refused(r.name()),
        Some(StartFailure::Halted(_)) => StartOutcome::Halted,
        Some(StartFailure::Crashed { .. }) => StartOutcome::Crashed,
        Some(StartFailure::Store(_)) => StartOutcome::Broken,
    }
}
