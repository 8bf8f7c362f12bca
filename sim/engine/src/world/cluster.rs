//! The cluster as every runtime holds it, written once and generic over
//! the system under test: each member's process across incarnations, the
//! time, the seeded streams every system's nodes draw from (tick jitter,
//! election timeouts), and the system's books (`sys`, one per run, and a
//! member's, one per node). A driver (the native engine, the hosted
//! runtimes) owns one beside what only it has (its clock, its transport,
//! where its files live) and tells it the time.
//!
//! What is the same on every runtime and every system is a method here:
//! the time and the books (`record`, `violation`), a node's next tick, a
//! failed start's new incarnation. What a node core reports that only its
//! system understands goes to the system's hooks (`super::system`).

use crate::node::{Application, CrashPoints, NodeCore};
use crate::oracle::observation::RaftObservation;
use crate::process::{DownReason, Process};
use crate::rng::{KeyedRng, Streams, Subsystem};
use crate::storage::RaftLog;
use crate::trace::kind::Kind;
use crate::trace::kinds;

/// A node's name (`n1` for node 0), as the trace and the files say it.
pub fn name(node: u8) -> String {
    format!("n{}", node + 1)
}

/// The system's books on one member across its incarnations, as the
/// world reads them.
pub trait MemberBooks {
    /// The running incarnation's number (the next one's while down).
    fn incarnation(&self) -> u32;

    /// A process ended: the next start is a new incarnation (and the
    /// system's books on the member move on with it).
    fn ended(&mut self);

    /// A start produced no running process: the next start is a new
    /// incarnation.
    fn not_started(&mut self);
}

/// The system's books on the whole run, as the world writes into them:
/// the trace and the checkers, and the faults armed inside the nodes.
pub trait RunBooks {
    /// Records a trace event at `now`.
    fn record(&mut self, now: u64, node: Option<u8>, kind: &'static Kind, a: u64, b: u64);

    /// Reports a violation of `oracle` at `now`.
    fn violation(&mut self, now: u64, oracle: &str, node: Option<u8>, detail: String);

    /// Whether the system's checkers look at the Raft layer (its oracles
    /// are on): a runtime reads its disks for them only then.
    fn raft_checked(&self) -> bool;

    /// Shows the system's checkers a fact of the Raft layer at `now`.
    fn raft(&mut self, now: u64, fact: RaftObservation<'_>);

    /// A start of a down node is attempted (counted).
    fn start_attempted(&mut self);

    /// `node`'s process died: what was armed inside it dies with it.
    fn process_died(&mut self, node: u8);

    /// The crash points armed inside `node` for the next call.
    fn crash_points(&mut self, node: u8) -> &mut dyn CrashPoints;

    /// The crash armed inside `node` takes the power with it.
    fn armed_power_loss(&self, node: u8) -> bool;
}

/// One cluster member across its incarnations, running application `A`
/// over Raft log `L`, with its system's books `M`.
pub struct Node<L: RaftLog, A: Application, M> {
    /// The system's books on the member across incarnations.
    pub member: M,
    /// Its process: running or paused with a core, or down for a reason.
    pub state: Process<NodeCore<L, A>>,
    /// Ticks drawn so far: keys the next tick's jitter.
    tick_seq: u64,
}

/// The fixed facts of a run's timing the world needs.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// A Raft tick, in microseconds (jittered by up to 10% per tick).
    pub tick_us: u64,
    /// How many syncs and snapshot reports one call may ask for before
    /// the run is a livelock.
    pub max_follow_ups: u64,
}

/// The cluster and the run's books: application `A` over Raft log `L`,
/// with the system's books on each member (`M`) and on the run (`B`).
pub struct Cluster<L: RaftLog, A: Application, M, B> {
    /// Virtual time, in microseconds: the driver's clock, which it sets
    /// before each thing it hands the cluster.
    pub now: u64,
    /// Every member, in node order (raft id `index + 1`).
    pub nodes: Vec<Node<L, A, M>>,
    /// The system's books on the run.
    pub sys: B,
    /// The run's tick and follow-up bound.
    pub timing: Timing,
    /// Tick jitter, keyed by node.
    jitter: Vec<KeyedRng>,
    /// Election timeouts, keyed by node, drawn once per incarnation.
    election: Vec<KeyedRng>,
    /// raft-rs's logger (discarding: the trace is the run's record).
    pub logger: slog::Logger,
}

impl<L: RaftLog, A: Application, M: MemberBooks, B: RunBooks> Cluster<L, A, M, B> {
    /// The cluster before anything starts, every member down, with the
    /// system's books on each member (in node order) and on the run.
    pub fn new(members: Vec<M>, sys: B, streams: &Streams, timing: Timing) -> Self {
        let n = members.len();
        Cluster {
            nodes: members
                .into_iter()
                .map(|member| Node {
                    member,
                    state: Process::Down(DownReason::Crashed),
                    tick_seq: 0,
                })
                .collect(),
            sys,
            timing,
            jitter: streams.family(Subsystem::Timing, 0, n),
            election: streams.family(Subsystem::Timing, 1_000, n),
            logger: slog::Logger::root(slog::Discard, slog::o!()),
            now: 0,
        }
    }

    /// Every member's process, in node order.
    pub fn states(&self) -> impl Iterator<Item = &Process<NodeCore<L, A>>> + Clone {
        self.nodes.iter().map(|s| &s.state)
    }

    /// Node `node`'s current incarnation.
    pub fn incarnation(&self, node: u8) -> u32 {
        self.nodes[usize::from(node)].member.incarnation()
    }

    /// Records a trace event now.
    pub fn record(&mut self, node: Option<u8>, kind: &'static Kind, a: u64, b: u64) {
        self.sys.record(self.now, node, kind, a, b);
    }

    /// Reports a violation of `oracle` now.
    pub fn violation(&mut self, oracle: &str, node: Option<u8>, detail: String) {
        self.sys.violation(self.now, oracle, node, detail);
    }

    /// The delay to `node`'s next Raft tick: the tick with up to 10%
    /// jitter, so that nodes with equal timeouts drift apart.
    pub fn tick_delay_us(&mut self, node: u8) -> u64 {
        let i = usize::from(node);
        let seq = self.nodes[i].tick_seq;
        self.nodes[i].tick_seq += 1;
        let tick = self.timing.tick_us;
        tick + self.jitter[i].draw(seq).range(0, 0, tick / 10)
    }

    /// A start that produced no running process: the member is down for
    /// `reason`, and the next start is a new incarnation.
    pub fn not_started(&mut self, node: u8, reason: DownReason) {
        let n = &mut self.nodes[usize::from(node)];
        n.state = Process::Down(reason);
        n.member.not_started();
    }

    /// `node`'s process ends for `reason`, the same for every system: it
    /// is down, its incarnation over, what was armed inside it disarmed,
    /// the stop traced (all also when no process existed). Returns its
    /// application, if a process existed.
    pub fn end_process(&mut self, node: u8, reason: DownReason) -> Option<A> {
        let n = &mut self.nodes[usize::from(node)];
        let core = n.state.stop(reason.clone());
        n.member.ended();
        self.sys.process_died(node);
        self.record(Some(node), &kinds::STOP, reason.code(), 0);
        Some(core?.into_app())
    }

    /// Some member still owes proposals of its own (what a leader change
    /// finds in flight).
    pub fn owed_in_flight(&self) -> bool {
        self.states()
            .any(|p| p.core().is_some_and(|c| c.app().own_proposals_pending()))
    }

    /// `node`'s election timeout for its running incarnation, in ticks,
    /// drawn within `range` from its own stream (keyed by incarnation).
    pub fn election_tick(&mut self, node: u8, range: [u64; 2]) -> usize {
        let inc = self.incarnation(node);
        self.election[usize::from(node)]
            .draw(u64::from(inc))
            .range(0, range[0], range[1]) as usize
    }
}
