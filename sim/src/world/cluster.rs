//! The cluster as every runtime holds it, written once: each member's
//! process and books across incarnations, and the run's observer,
//! clients, fault injector and seeded streams. A driver (the native
//! engine, the hosted runtimes) owns one beside what only it has (its
//! clock, its transport, where its files live) and tells it the time.
//!
//! What is the same on every runtime and every system is a method here:
//! the time and the books (`record`, `violation`, ...), a node's next
//! tick, a failed start's new incarnation. What a node core reports that
//! only its system understands (an apply, a halt, a note, a restore) goes
//! to the system's hooks (`super::system`).

use std::cell::RefCell;
use std::rc::Rc;

use super::clients::Clients;
use super::injector::Injector;
use super::observe::{Member, Observer};
use super::{DownReason, SimOptions};
use crate::marks::SimMark;
use crate::oracle::checkers::Checkers;
use crate::proposal_order::ProposalOrder;
use crate::rng::{KeyedRng, Streams, Subsystem};
use crate::scenario::Scenario;
use crate::store::{Corruption, SyncedRowChange};
use crate::trace::kinds::Kind;
use crate::trace::Trace;
use regsim_engine::node::{Application, NodeCore};
use regsim_engine::process::Process;
use regsim_engine::storage::RaftLog;

/// A node's name (`n1` for node 0), as the trace and the files say it.
pub(crate) fn name(node: u8) -> String {
    format!("n{}", node + 1)
}

/// One cluster member across its incarnations, running application `A`
/// over Raft log `L`.
pub(crate) struct Node<L: RaftLog, A: Application> {
    /// The harness's books on the member across incarnations.
    pub member: Member,
    pub state: Process<NodeCore<L, A>>,
    /// Registry row changes the node's store synced, until the checkers
    /// see them (filled only with the oracles on).
    pub synced_rows: Rc<RefCell<Vec<SyncedRowChange>>>,
    /// Row corruptions injected while down, done when the store reopens
    /// (nothing reads a closed store): (target member, dek, how).
    pub corruptions: Vec<(u8, u32, Corruption)>,
    /// Ticks drawn so far: keys the next tick's jitter.
    tick_seq: u64,
}

/// The cluster and the run's books, running application `A` (the system
/// under test's, see `super::system`) over Raft log `L`. (The books still named here, the observer's checkers, the
/// clients, the injector's registry faults, the proposal order and a
/// node's synced rows and queued corruptions, are the writer registry's:
/// they move behind `S` as the engine takes the world over.)
pub(crate) struct Cluster<L: RaftLog, A: Application> {
    pub sc: Scenario,
    pub opts: SimOptions,
    /// Virtual time, in microseconds: the driver's clock, which it sets
    /// before each thing it hands the cluster.
    pub now: u64,
    pub nodes: Vec<Node<L, A>>,
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

impl<L: RaftLog, A: Application> Cluster<L, A> {
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
    pub fn states(&self) -> impl Iterator<Item = &Process<NodeCore<L, A>>> + Clone {
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

    /// A start that produced no running process: the member is down for
    /// `reason`, and the next start is a new incarnation.
    pub fn start_failed(&mut self, node: u8, reason: DownReason) {
        let n = &mut self.nodes[usize::from(node)];
        n.state = Process::Down(reason);
        n.member.incarnation += 1;
    }
}
