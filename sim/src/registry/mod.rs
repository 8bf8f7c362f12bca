//! The writer registry as the system under test: what the world asks of
//! it at each point of a node's life and of each call
//! ([`crate::world::system::System`]), answered from the registry's
//! books (its observer and checkers, its clients, its fault injector) and
//! its store (fjall behind the harness's journal and fault flags).
//!
//! - `books`: the registry's books on a run (the world's `RunBooks`) and
//!   the cluster built over them.
//! - `start`: a start's bookkeeping (what is noted and armed before the
//!   core's start runs, and what is noted once it ran).

mod books;
mod start;

pub(crate) use books::{cluster, fulls, RegistryBooks};

use writer_registry::registry::StoreError;
use writer_registry::wire;

use crate::marks::SimMark;
use crate::node::{self, ApplyRecord, NodeParams, Note, StartFailure};
use crate::store::{image_digest, scan_image, Image, Journal, SimStore, StoreOp, TrackedStore};
use crate::trace::kinds;
use crate::world::cluster::Cluster;
use crate::world::observe::Member;
use crate::world::system::{Begun, Started, System, SystemOutput};
use crate::world::target::{self, Books};
use crate::world::DownReason;
use regsim_engine::node::Output;
use regsim_engine::storage::RaftLog;

/// The writer registry (the marker the world is generic over).
pub struct WriterRegistry;

/// The world's cluster running the writer registry over Raft log `L`.
pub(crate) type RegistryCluster<L> =
    Cluster<L, node::Registry<TrackedStore>, Member, RegistryBooks>;

/// What a call notes between its beginning and its end.
pub struct RegistryCall {
    /// A crash inside the registry's write was armed as the call began
    /// (its firing is a coverage mark).
    crash_armed: bool,
    /// A registration applied (not replayed): the encryption gates are
    /// probed once the call is over.
    registered: bool,
}

/// What a stopped store is closing with: what it holds, and the digest
/// and pair count of what reached a sync.
pub type Closing = (Result<Image, StoreError>, (u64, u64));

impl System for WriterRegistry {
    type App = node::Registry<TrackedStore>;
    type Member = Member;
    type Books = RegistryBooks;
    type Store = (SimStore, Journal);
    type Tracked = TrackedStore;
    type Image = Image;
    type Closing = Closing;
    type Digest = writer_registry::StateDigest;
    type Params = NodeParams;
    type StartFacts = (u16, u16);
    type Call = RegistryCall;
    type Owed = u32;

    fn call_begins<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8) -> RegistryCall {
        RegistryCall {
            crash_armed: c.sys.injector.registry_crash_armed(node),
            registered: false,
        }
    }

    fn call_round<L: RaftLog>(
        c: &mut RegistryCluster<L>,
        node: u8,
        out: &[SystemOutput<Self>],
        call: &mut RegistryCall,
    ) {
        let fired = c.nodes[usize::from(node)].state.core();
        let fired = fired.and_then(|core| core.app().fsm().store().fault_fired.take());
        c.sys.obs.store_fault_fired(c.now, node, fired);
        call.registered |= out.iter().any(|o| {
            matches!(o, Output::Applied(r) if !r.replay && wire::registration_of(&r.data).is_some())
        });
    }

    fn call_ends<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8, call: RegistryCall) {
        if call.registered {
            probe_encryption(c, node);
        }
        Books::at(&mut c.sys.obs, &mut c.sys.injector, c.now)
            .registry_crash_fired(node, call.crash_armed);
    }

    fn settled<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8) {
        let rows = &c.nodes[usize::from(node)].member.synced_rows;
        c.sys.obs.rows_synced(c.now, node, rows);
    }

    fn applied<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8, rec: ApplyRecord) {
        let i = usize::from(node);
        let epoch = c.nodes[i].state.core().map(|core| core.app().epoch());
        let member = &mut c.nodes[i].member;
        c.sys
            .obs
            .applied(c.now, node, member, rec, epoch, &mut c.sys.clients);
    }

    fn halted<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8, h: &writer_registry::HaltRecord) {
        let member = &mut c.nodes[usize::from(node)].member;
        c.sys.obs.halted(c.now, node, member, h);
    }

    fn note<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8, note: Note) {
        let member = &c.nodes[usize::from(node)].member;
        c.sys.obs.note(c.now, node, member, note);
    }

    /// The bytes the restore left go into the trace, and the checkers
    /// judge it against `disk_hash`.
    fn restored<L: RaftLog>(
        c: &mut RegistryCluster<L>,
        node: u8,
        (index, replay): (u64, bool),
        disk_hash: Option<u64>,
    ) {
        let i = usize::from(node);
        c.sys
            .obs
            .restoring(c.now, node, &c.nodes[i].member, index, replay);
        if let Some(core) = c.nodes[i].state.core() {
            let store = core.app().fsm().store();
            let digest = crate::store::state_digest(store);
            // A report folds row changes onto the last scan; a restore
            // replaces every row at once, so it needs a scan of its own
            // (kept, never hashed: the digest covers the bytes).
            let image = c
                .sys
                .obs
                .trace
                .keeps_events()
                .then(|| scan_image(store).ok())
                .flatten();
            c.sys.obs.state(c.now, node, digest);
            c.sys.obs.note_rows(c.now, node, image.as_ref());
        }
        let member = &mut c.nodes[i].member;
        c.sys
            .obs
            .restored(c.now, node, member, (index, replay), disk_hash);
    }

    /// START-6: the deks `node` still has to register, in the order its
    /// proposals go.
    fn owed<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8) -> Vec<u32> {
        let Some(core) = c.nodes[usize::from(node)].state.core() else {
            return Vec::new();
        };
        let mut deks = core.app().unregistered_deks();
        c.sys.proposal_order.arrange(node, &mut deks);
        deks
    }

    /// The registration entry of `node` for `dek` under a fresh proposal
    /// id.
    fn proposal<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8, dek: &u32) -> Option<Vec<u8>> {
        let pid = c.sys.clients.next_pid();
        let n = &c.nodes[usize::from(node)];
        let data = n.state.core()?.app().registration_entry(*dek, pid);
        c.sys
            .obs
            .registration_proposed(c.now, node, &n.member, (*dek, pid), &data);
        Some(data)
    }

    fn retry_us<L: RaftLog>(c: &RegistryCluster<L>) -> u64 {
        c.sys.sc.workload.registration_retry_ms * 1000
    }

    /// Does the row damage queued while the node was down, then records
    /// what the store holds (one scan serves the checkers and the trace's
    /// digest); judging it is the checkers' job.
    fn reopened<L: RaftLog>(
        c: &mut RegistryCluster<L>,
        node: u8,
        store: &mut (SimStore, Journal),
        synced: &mut dyn FnMut(&(SimStore, Journal)),
    ) -> Option<Image> {
        let i = usize::from(node);
        let corruptions = std::mem::take(&mut c.nodes[i].member.corruptions);
        let fulls = fulls(c);
        target::corrupt_rows(
            (&mut c.sys.obs, c.now),
            node,
            corruptions,
            &fulls,
            store,
            synced,
        );
        let scanned = scan_image(&store.0);
        if let Err(e) = &scanned {
            let detail = format!("scan after reopen: {e}");
            c.sys.obs.store_failure(c.now, "durability", node, detail);
        }
        record_scan(c, node, &scanned);
        scanned.ok()
    }

    fn begin_start<L: RaftLog>(
        c: &mut RegistryCluster<L>,
        node: u8,
        ((store, journal), image): ((SimStore, Journal), Option<Image>),
        facts: ((u16, u16), u64),
    ) -> Begun<Self> {
        let election_tick = c.election_tick(node, c.sys.sc.election_ticks);
        let member = &mut c.nodes[usize::from(node)].member;
        let sys = &mut c.sys;
        let books = Books::at(&mut sys.obs, &mut sys.injector, c.now);
        let (params, tracked) = start::begin(
            (books, &mut sys.clients),
            (&sys.sc, &sys.opts),
            (node, member, election_tick),
            (store, journal, image),
            facts,
        );
        let call = Self::call_begins(c, node);
        Begun {
            params,
            tracked,
            call,
        }
    }

    /// A registry crash armed before the start that fired in it is
    /// marked, and a store fault that fired is noted.
    fn start_ran<L: RaftLog>(
        c: &mut RegistryCluster<L>,
        node: u8,
        call: RegistryCall,
        result: &Started<L, Self>,
    ) {
        let books = Books::at(&mut c.sys.obs, &mut c.sys.injector, c.now);
        start::ran(books, node, call.crash_armed, start_fault_fired(result));
    }

    fn start_failed<L: RaftLog>(
        c: &mut RegistryCluster<L>,
        node: u8,
        failure: &StartFailure<TrackedStore>,
    ) {
        start::start_failed(&mut c.sys.obs, c.now, node, failure);
    }

    fn into_tracked(app: node::Registry<TrackedStore>) -> TrackedStore {
        app.into_store()
    }

    fn start_ended<L: RaftLog>(
        c: &mut RegistryCluster<L>,
        node: u8,
        failure: Option<&StartFailure<TrackedStore>>,
        epoch_file: (u16, u16),
    ) {
        let outcome = start::outcome(failure);
        c.sys.obs.start_ended(c.now, node, outcome, epoch_file);
    }

    /// A crash between a node's first registrations is a coverage mark
    /// (not the run's end stopping it).
    fn process_ending<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8, reason: &DownReason) {
        let core = c.nodes[usize::from(node)].state.core();
        if let (Some(core), DownReason::Crashed) = (core, reason) {
            let missing = core.app().unregistered_deks().len();
            if !c.sys.finishing && missing > 0 && missing < c.sys.obs.deks.len() {
                c.sys.obs.mark(SimMark::CrashBetweenDekRegistrations);
            }
        }
    }

    /// The library's digest, unless the process was killed inside a
    /// write.
    fn leave(
        app: node::Registry<TrackedStore>,
    ) -> (TrackedStore, Option<writer_registry::StateDigest>) {
        let digest = (!app.fsm().store().crashed).then(|| app.fsm().digest());
        (app.into_store(), digest)
    }

    /// What it holds, and what of it reached a sync as the harness's
    /// journal saw it (a run that skips a sync leaves a different durable
    /// image).
    fn close(tracked: TrackedStore) -> ((SimStore, Journal), Closing) {
        let TrackedStore { inner, journal, .. } = tracked;
        let scanned = scan_image(&inner);
        let synced = journal.synced_digest();
        ((inner, journal), (scanned, synced))
    }

    fn closed<L: RaftLog>(
        c: &mut RegistryCluster<L>,
        node: u8,
        (scanned, (synced, pairs)): Closing,
    ) -> Option<Image> {
        record_scan(c, node, &scanned);
        c.record(Some(node), &kinds::SYNCED_STATE, synced, pairs);
        scanned.ok()
    }

    fn stopped<L: RaftLog>(
        c: &mut RegistryCluster<L>,
        node: u8,
        image: Option<&Image>,
        digest: Option<writer_registry::StateDigest>,
    ) {
        if let Some(store) = image {
            let converged_end = c.sys.converged_end;
            c.sys.obs.stopped(c.now, node, store, digest, converged_end);
        }
    }
}

/// A scan of a node's store (at a reopen, at a close): its digest into
/// the trace (its hash sees state) and, for a report, its rows.
fn record_scan<L: RaftLog>(
    c: &mut RegistryCluster<L>,
    node: u8,
    scanned: &Result<Image, StoreError>,
) {
    let digest = scanned.as_ref().map(image_digest).map_err(Clone::clone);
    c.sys.obs.state(c.now, node, digest);
    c.sys.obs.note_rows(c.now, node, scanned.as_ref().ok());
}

/// After a registration applied on `node`: its encryption gates.
fn probe_encryption<L: RaftLog>(c: &mut RegistryCluster<L>, node: u8) {
    let s = &c.nodes[usize::from(node)];
    let Some(core) = s.state.running() else {
        return;
    };
    c.sys.obs.gates(c.now, s.member.who(node), core.app());
}

/// The store fault a start's store fired, if any (whether it joined or not).
fn start_fault_fired<L: RaftLog>(result: &Started<L, WriterRegistry>) -> Option<StoreOp> {
    match result {
        Ok(core) => core.app().fsm().store().fault_fired.take(),
        Err(failed) => failed
            .app
            .as_ref()
            .and_then(|a| a.fsm().store().fault_fired.take()),
    }
}
