//! The cluster as every runtime holds it, written once: each member's
//! process and books across incarnations, and the run's observer,
//! clients, fault injector and seeded streams. A driver (the native
//! engine, the hosted runtimes) owns one beside what only it has (its
//! clock, its transport, where its files live) and tells it the time.
//!
//! What is the same on every runtime is a method here: the time and the
//! books (`record`, `violation`, ...), a node's next tick, what a node
//! core reports that is only observed (an apply, a halt, a note), the
//! gates probed after a registration applies, the rows a store synced.

use std::cell::RefCell;
use std::rc::Rc;

use super::clients::Clients;
use super::injector::Injector;
use super::observe::{Member, Observer};
use super::start;
use super::target::Books;
use super::{DownReason, SimOptions};
use crate::marks::SimMark;
use crate::node::{ApplyRecord, NodeCore, NodeParams, Note};
use crate::oracle::checkers::Checkers;
use crate::proposal_order::ProposalOrder;
use crate::rng::{KeyedRng, Streams, Subsystem};
use crate::scenario::Scenario;
use crate::store::{Corruption, SyncedRowChange, TrackedStore};
use crate::trace::kinds::Kind;
use crate::trace::Trace;
use regsim_engine::process::Process;
use regsim_engine::storage::RaftLog;
use writer_registry::HaltRecord;

/// A node's name (`n1` for node 0), as the trace and the files say it.
pub(crate) fn name(node: u8) -> String {
    format!("n{}", node + 1)
}

/// One cluster member across its incarnations, over Raft log `L`.
pub(crate) struct Node<L: RaftLog> {
    /// The harness's books on the member across incarnations.
    pub member: Member,
    pub state: Process<NodeCore<L, TrackedStore>>,
    /// Registry row changes the node's store synced, until the checkers
    /// see them (filled only with the oracles on).
    pub synced_rows: Rc<RefCell<Vec<SyncedRowChange>>>,
    /// Row corruptions injected while down, done when the store reopens
    /// (nothing reads a closed store): (target member, dek, how).
    pub corruptions: Vec<(u8, u32, Corruption)>,
    /// Ticks drawn so far: keys the next tick's jitter.
    tick_seq: u64,
}

/// The cluster and the run's books, over Raft log `L`.
pub(crate) struct Cluster<L: RaftLog> {
    pub sc: Scenario,
    pub opts: SimOptions,
    /// Virtual time, in microseconds: the driver's clock, which it sets
    /// before each thing it hands the cluster.
    pub now: u64,
    pub nodes: Vec<Node<L>>,
    /// The trace, marks, counters and checkers.
    pub obs: Observer,
    /// The clients' commands and the nodes' nonce counters.
    pub clients: Clients,
    /// The fault injector: what is armed inside the nodes.
    pub injector: Injector,
    pub proposal_order: ProposalOrder,
    /// Tick jitter, keyed by node.
    timing: Vec<KeyedRng>,
    /// Election timeouts, keyed by node, drawn once per incarnation.
    pub election: Vec<KeyedRng>,
    pub logger: slog::Logger,
    /// The run ended converged and the nodes still up are being stopped.
    pub converged_end: bool,
    /// The run is over: stops release their stores instead of killing.
    pub finishing: bool,
}

impl<L: RaftLog> Cluster<L> {
    /// The cluster of `sc` before anything starts: every member down.
    pub fn new(sc: &Scenario, streams: &Streams, opts: SimOptions) -> Self {
        let n = sc.nodes;
        let nn = usize::from(n);
        Cluster {
            nodes: (0..n)
                .map(|i| Node {
                    member: Member::new(writer_registry::ids::full_node_id(&name(i))),
                    state: Process::Down(DownReason::Crashed),
                    synced_rows: Default::default(),
                    corruptions: Vec::new(),
                    tick_seq: 0,
                })
                .collect(),
            obs: Observer::new(
                Checkers::new(n, sc.policy.persist(), opts.oracles),
                Trace::new(opts.keep_trace_lines).keeping_events(opts.keep_events),
                sc.deks.clone(),
            ),
            clients: Clients::new(n, sc.workload.client_attempts),
            injector: Injector::new(streams.family(Subsystem::Faults, 0, nn), sc.faults.down_ms),
            proposal_order: ProposalOrder::new(sc.workload.registration_order, n, streams),
            timing: streams.family(Subsystem::Timing, 0, nn),
            election: streams.family(Subsystem::Timing, 1_000, nn),
            logger: slog::Logger::root(slog::Discard, slog::o!()),
            converged_end: false,
            finishing: false,
            sc: sc.clone(),
            opts,
            now: 0,
        }
    }

    /// Every member's process, in node order.
    pub fn states(&self) -> impl Iterator<Item = &Process<NodeCore<L, TrackedStore>>> + Clone {
        self.nodes.iter().map(|s| &s.state)
    }

    /// Node `node`'s current incarnation.
    pub fn incarnation(&self, node: u8) -> u32 {
        self.nodes[usize::from(node)].member.incarnation
    }

    /// Every member's full node id, in node order.
    pub fn fulls(&self) -> Vec<u64> {
        self.nodes.iter().map(|s| s.member.full).collect()
    }

    /// Fires a coverage mark.
    pub fn mark(&mut self, mark: SimMark) {
        self.obs.mark(mark);
    }

    /// Records a trace event now.
    pub fn record(&mut self, node: Option<u8>, kind: &'static Kind, a: u64, b: u64) {
        self.obs.record(self.now, node, kind, a, b);
    }

    /// Reports a violation of `oracle` now.
    pub fn violation(&mut self, oracle: &str, node: Option<u8>, detail: String) {
        self.obs.violation(self.now, oracle, node, detail);
    }

    /// Reports a store that failed the harness's own reading of it.
    pub fn store_failure(&mut self, oracle: &str, node: u8, detail: String) {
        self.obs.store_failure(self.now, oracle, node, detail);
    }

    /// The delay to `node`'s next Raft tick: the scenario's tick with up
    /// to 10% jitter, so that nodes with equal timeouts drift apart.
    pub fn tick_delay_us(&mut self, node: u8) -> u64 {
        let i = usize::from(node);
        let seq = self.nodes[i].tick_seq;
        self.nodes[i].tick_seq += 1;
        let tick = self.sc.tick_ms * 1000;
        tick + self.timing[i].draw(seq).range(0, 0, tick / 10)
    }

    /// Records the harness's digest of a node's stored bytes (at a stop,
    /// at a restart once the store is reopened, after a restore): the
    /// trace's hash sees state.
    pub fn record_state(
        &mut self,
        node: u8,
        digest: Result<(u64, u64), writer_registry::registry::StoreError>,
    ) {
        self.obs.state(self.now, node, digest);
    }

    /// A report's view of the registry rows a store holds.
    pub fn note_rows(&mut self, node: u8, image: Option<&crate::store::Image>) {
        self.obs.note_rows(self.now, node, image);
    }

    /// Shows the checkers the store a stopped process left (`None`:
    /// unreadable, already a violation). `library_digest`: the FSM's own
    /// digest, when a running FSM stopped.
    pub fn stopped(
        &mut self,
        node: u8,
        store: Option<&crate::store::Image>,
        library_digest: Option<writer_registry::StateDigest>,
    ) {
        if let Some(store) = store {
            let converged_end = self.converged_end;
            self.obs
                .stopped(self.now, node, store, library_digest, converged_end);
        }
    }

    /// A store fault that fired in the call just made (`fired`), noted.
    pub fn store_fault_fired(&mut self, node: u8, fired: Option<crate::store::StoreOp>) {
        self.obs.store_fault_fired(self.now, node, fired);
    }

    /// After a registration applied on `node`: its encryption gates.
    pub fn probe_encryption(&mut self, node: u8) {
        let s = &self.nodes[usize::from(node)];
        let Some(core) = s.state.running() else {
            return;
        };
        self.obs.gates(self.now, s.member.who(node), core.app());
    }

    /// Hands the row changes the node's store synced to the checkers.
    pub fn drain_row_changes(&mut self, node: u8) {
        let rows = &self.nodes[usize::from(node)].synced_rows;
        self.obs.rows_synced(self.now, node, rows);
    }

    /// An entry the node core applied (or replayed), observed with the
    /// epoch its application runs at.
    pub fn applied(&mut self, node: u8, rec: ApplyRecord) {
        let i = usize::from(node);
        let epoch = self.nodes[i].state.core().map(|core| core.app().epoch());
        let member = &mut self.nodes[i].member;
        self.obs
            .applied(self.now, node, member, rec, epoch, &mut self.clients);
    }

    /// Some member still has a registration of its own to see applied
    /// (what a leader change finds in flight).
    pub fn registrations_in_flight(&self) -> bool {
        self.states().any(|p| {
            p.core()
                .is_some_and(|c| !c.app().unregistered_deks().is_empty())
        })
    }

    /// A halt the node core reported.
    pub fn halted(&mut self, node: u8, h: &HaltRecord) {
        let member = &mut self.nodes[usize::from(node)].member;
        self.obs.halted(self.now, node, member, h);
    }

    /// A note the node core reported.
    pub fn note(&mut self, node: u8, note: Note) {
        let member = &self.nodes[usize::from(node)].member;
        self.obs.note(self.now, node, member, note);
    }

    /// The node core restored the snapshot at `index` (in its start's
    /// replay, or installed from a leader): the bytes the restore left go
    /// into the trace, and the checkers judge it against `disk_hash`,
    /// the harness's hash of the snapshot the node's disk holds there.
    pub fn restored(&mut self, node: u8, (index, replay): (u64, bool), disk_hash: Option<u64>) {
        let i = usize::from(node);
        self.obs
            .restoring(self.now, node, &self.nodes[i].member, index, replay);
        if let Some(core) = self.nodes[i].state.core() {
            let store = core.app().fsm().store();
            let digest = crate::store::state_digest(store);
            // A report folds row changes onto the last scan; a restore
            // replaces every row at once, so it needs a scan of its own
            // (kept, never hashed: the digest covers the bytes).
            let image = self
                .obs
                .trace
                .keeps_events()
                .then(|| crate::store::scan_image(store).ok())
                .flatten();
            self.record_state(node, digest);
            self.note_rows(node, image.as_ref());
        }
        let member = &mut self.nodes[i].member;
        self.obs
            .restored(self.now, node, member, (index, replay), disk_hash);
    }

    /// `node`'s process ends for `reason` (see `Books::process_ended`):
    /// its store and the library's digest of it, if a process existed.
    pub fn process_ended(
        &mut self,
        node: u8,
        reason: DownReason,
    ) -> Option<(TrackedStore, Option<writer_registry::StateDigest>)> {
        let n = &mut self.nodes[usize::from(node)];
        let books = Books::at(&mut self.obs, &mut self.injector, self.now);
        books.process_ended(node, (&mut n.state, &mut n.member), reason, self.finishing)
    }

    /// A start that produced no running process: the member is down for
    /// `reason`, and the next start is a new incarnation.
    pub fn start_failed(&mut self, node: u8, reason: DownReason) {
        let n = &mut self.nodes[usize::from(node)];
        n.state = Process::Down(reason);
        n.member.incarnation += 1;
    }

    /// START-6: the deks `node` still has to register, in the order its
    /// proposals go (none while paused: the driver only keeps retrying);
    /// `None` when it runs no process or has registered every dek.
    pub fn registrations_due(&mut self, node: u8) -> Option<Vec<u32>> {
        let state = &self.nodes[usize::from(node)].state;
        let mut deks = state.core()?.app().unregistered_deks();
        if deks.is_empty() {
            return None;
        }
        if state.is_paused() {
            return Some(Vec::new());
        }
        self.proposal_order.arrange(node, &mut deks);
        Some(deks)
    }

    /// The registration entry of `node` for `dek` under a fresh proposal
    /// id, noted as proposed; `None` when the process is gone (a proposal
    /// before it crashed the node).
    pub fn registration(&mut self, node: u8, dek: u32) -> Option<Vec<u8>> {
        let pid = self.clients.next_pid();
        let n = &self.nodes[usize::from(node)];
        let data = n.state.core()?.app().registration_entry(dek, pid);
        self.obs
            .registration_proposed(self.now, node, &n.member, (dek, pid), &data);
        Some(data)
    }

    /// A start of `node` begins, its files open (see `start::begin`):
    /// `epoch` is the epoch file's written and synced values, `commit`
    /// the Raft log's commit index. The core's parameters and its
    /// tracked store.
    pub fn begin_start(
        &mut self,
        node: u8,
        opened: start::Opened,
        (epoch, commit): ((u16, u16), u64),
    ) -> (NodeParams, TrackedStore) {
        let i = usize::from(node);
        let n = &mut self.nodes[i];
        let books = Books::at(&mut self.obs, &mut self.injector, self.now);
        start::begin(
            (books, &mut self.clients, &mut self.election[i]),
            (&self.sc, &self.opts),
            (node, &mut n.member, &n.synced_rows),
            opened,
            (epoch, commit),
        )
    }
}
