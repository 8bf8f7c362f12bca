//! A second system through the world: a counter, not a writer registry,
//! started, called, stopped and started again by `lifecycle` and `call`
//! on a one-node cluster over raft-rs's memory log. Proves the seam
//! holds a system the world was not written for, and holds the world to
//! the order its hooks are documented in.

use raft::eraftpb::{Entry, Message};

use super::{Begun, Failed, Started, System, SystemCluster, SystemOutput};
use crate::mem_log::MemLog;
use crate::node::{
    self, Application, Apply, CrashPoints, Died, DiskFacts, NoCrashes, NotStarted, RaftParams,
    RestoreError, StartEvent, StartFailure, StartHook, StartStep,
};
use crate::process::DownReason;
use crate::rng::Streams;
use crate::storage::RaftLog;
use crate::trace::kind::Kind;
use crate::world::call::{self, FollowUp, Outputs, Runtime};
use crate::world::cluster::{Cluster, MemberBooks, RunBooks, Timing};
use crate::world::lifecycle::{self, Files};

/// The counter's books on one member: only its incarnations.
#[derive(Default)]
struct CounterMember {
    incarnation: u32,
}

impl MemberBooks for CounterMember {
    fn incarnation(&self) -> u32 {
        self.incarnation
    }
    fn start_failed(&mut self) {
        self.incarnation += 1;
    }
}

/// The counter's books on the run: the hooks called, in order, and the
/// trace events the world recorded (no observer, no checkers: the world
/// needs none of the writer registry's).
#[derive(Default)]
struct CounterBooks {
    hooks: Vec<&'static str>,
    events: Vec<&'static str>,
    starts: u64,
    crash: Option<NoCrashes>,
}

impl RunBooks for CounterBooks {
    fn record(&mut self, _: u64, _: Option<u8>, kind: &'static Kind, _: u64, _: u64) {
        self.events.push(kind.name());
    }
    fn violation(&mut self, _: u64, oracle: &str, _: Option<u8>, detail: String) {
        panic!("{oracle}: {detail}");
    }
    fn start_attempted(&mut self) {
        self.starts += 1;
    }
    fn crash_points(&mut self, _: u8) -> &mut dyn CrashPoints {
        self.crash.get_or_insert(NoCrashes)
    }
    fn armed_power_loss(&self, _: u8) -> bool {
        false
    }
}

type Counted<L> = SystemCluster<L, CounterSystem>;

fn hook<L: RaftLog>(c: &mut Counted<L>, name: &'static str) {
    c.sys.hooks.push(name);
}

fn hooks(b: &mut Bench) -> Vec<&'static str> {
    std::mem::take(&mut b.c.sys.hooks)
}

/// Counts the entries it applied; its one owed proposal is `b"own"`.
struct Counter {
    applied: u64,
    count: u64,
    owes: bool,
}

impl Application for Counter {
    type Applied = (u64, bool);
    type Halt = u64;
    type Note = ();
    type Refusal = ();

    fn applied_index(&self) -> u64 {
        self.applied
    }
    fn apply(&mut self, entry: &Entry, replay: bool) -> Result<Apply<Self>, Died> {
        self.applied = entry.index;
        let own = entry.data[..] == b"own"[..];
        if !entry.data.is_empty() {
            self.count += 1;
        }
        self.owes &= !own;
        Ok(Apply {
            report: (entry.index, replay),
            halt: None,
            own,
        })
    }
    fn snapshot(&mut self) -> Result<Vec<u8>, Died> {
        Ok(self.count.to_le_bytes().to_vec())
    }
    fn restore(&mut self, _data: &[u8]) -> Result<u64, RestoreError> {
        Err(RestoreError::Failed(
            "the counter takes no snapshots".into(),
        ))
    }
    fn is_own_proposal(&self, data: &[u8]) -> bool {
        data == b"own"
    }
    fn own_proposals_pending(&self) -> bool {
        self.owes
    }
}

/// Joins at once.
struct Join;

impl StartHook<Counter> for Join {
    fn next(
        &mut self,
        _: StartEvent,
        _: &mut Counter,
        _: DiskFacts,
        _: &mut Vec<node::Output<Counter>>,
    ) -> StartStep<()> {
        StartStep::Join
    }
}

/// The counter as a system: its store is the applied index and the count
/// a process leaves.
struct CounterSystem;

impl System for CounterSystem {
    type App = Counter;
    type Member = CounterMember;
    type Books = CounterBooks;
    type Store = (u64, u64);
    type Tracked = (u64, u64);
    type Image = (u64, u64);
    type Closing = (u64, u64);
    type Digest = ();
    type Params = RaftParams;
    type StartFacts = ();
    type Outcome = bool;
    type Call = ();
    type Owed = ();

    const JOINED: bool = true;
    const CRASHED: bool = false;

    fn call_begins<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8) {
        hook(c, "call_begins");
    }
    fn call_round<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        _: u8,
        _: &[SystemOutput<Self>],
        _: &mut (),
    ) {
        hook(c, "call_round");
    }
    fn call_ends<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8, _: ()) {
        hook(c, "call_ends");
    }
    fn settled<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8) {
        hook(c, "settled");
    }
    fn applied<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8, (_, replay): (u64, bool)) {
        hook(c, if replay { "replayed" } else { "applied" });
    }
    fn halted<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8, _: &u64) {
        hook(c, "halted");
    }
    fn note<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8, _: ()) {
        hook(c, "note");
    }
    fn restored<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8, _: (u64, bool), _: Option<u64>) {
        hook(c, "restored");
    }
    fn owed_in_flight<L: RaftLog>(c: &SystemCluster<L, Self>) -> bool {
        c.states()
            .any(|p| p.core().is_some_and(|core| core.app().owes))
    }
    fn owed<L: RaftLog>(c: &mut SystemCluster<L, Self>, node: u8) -> Option<Vec<()>> {
        hook(c, "owed");
        let core = c.nodes[usize::from(node)].state.core()?;
        core.app().owes.then(|| vec![()])
    }
    fn proposal<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8, _: &()) -> Option<Vec<u8>> {
        hook(c, "proposal");
        Some(b"own".to_vec())
    }
    fn retry_us<L: RaftLog>(_: &SystemCluster<L, Self>) -> u64 {
        1_000
    }
    fn reopened<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        _: u8,
        store: &mut (u64, u64),
        _: &mut dyn FnMut(&(u64, u64)),
    ) -> Option<(u64, u64)> {
        hook(c, "reopened");
        Some(*store)
    }
    fn begin_start<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        (store, _): ((u64, u64), Option<(u64, u64)>),
        _: ((), u64),
    ) -> Begun<Self> {
        hook(c, "begin_start");
        let params = RaftParams {
            index: node,
            election_tick: 3,
            heartbeat_tick: 1,
            mutant: Default::default(),
        };
        Self::call_begins(c, node);
        Begun {
            params,
            tracked: store,
            call: (),
        }
    }
    fn start_ran<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8, _: (), _: &Started<L, Self>) {
        hook(c, "start_ran");
    }
    fn start_failed<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        _: u8,
        not_started: NotStarted<Counter>,
    ) -> Failed<Self> {
        hook(c, "start_failed");
        let reason = match not_started.failure {
            StartFailure::Crashed { .. } => DownReason::Crashed,
            _ => DownReason::Broken,
        };
        Failed {
            reason,
            outcome: false,
            cut: None,
            store: not_started.app.map(|a| (a.applied, a.count)),
        }
    }
    fn start_ended<L: RaftLog>(c: &mut SystemCluster<L, Self>, _: u8, joined: bool, _: ()) {
        hook(
            c,
            if joined {
                "start_ended joined"
            } else {
                "start_ended"
            },
        );
    }
    fn process_ended<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        reason: DownReason,
    ) -> Option<((u64, u64), Option<()>)> {
        hook(c, "process_ended");
        let n = &mut c.nodes[usize::from(node)];
        let core = n.state.stop(reason)?;
        n.member.incarnation += 1;
        let app = core.into_app();
        Some(((app.applied, app.count), Some(())))
    }
    fn close(store: (u64, u64)) -> ((u64, u64), (u64, u64)) {
        (store, store)
    }
    fn closed<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        _: u8,
        store: (u64, u64),
    ) -> Option<(u64, u64)> {
        hook(c, "closed");
        Some(store)
    }
    fn stopped<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        _: u8,
        _: Option<&(u64, u64)>,
        _: Option<()>,
    ) {
        hook(c, "stopped");
    }
}

/// A runtime of one node whose messages go nowhere, whose syncs complete
/// at once, and which keeps the count a stopped process leaves.
struct Bench {
    c: SystemCluster<MemLog, CounterSystem>,
    /// The store kept while the node is down.
    kept: Option<(u64, u64)>,
    /// The log across incarnations (memory: every write durable).
    log: MemLog,
    retries: Vec<u64>,
}

impl Runtime for Bench {
    type Log = MemLog;
    type System = CounterSystem;

    fn cluster(&mut self) -> &mut SystemCluster<MemLog, CounterSystem> {
        &mut self.c
    }
    fn observe_synced(&mut self, _: u8) {}
    fn observe_send(&mut self, _: u8, _: &Message) {}
    fn send(&mut self, _: u8, _: Message) -> Option<FollowUp> {
        None
    }
    fn sync(&mut self, _: u8, ready: u64) -> Option<FollowUp> {
        Some(FollowUp::Sync(ready))
    }
    fn snapshot_hash(&self, _: u8, _: u64) -> Option<u64> {
        None
    }
    fn leader(&mut self, _: u8, _: u64, in_flight: bool) {
        hook(
            &mut self.c,
            if in_flight { "leader owed" } else { "leader" },
        );
    }
    fn write_cut(&mut self, _: u8, _: u64) {}
    fn stop(&mut self, node: u8, reason: DownReason) {
        lifecycle::stop(self, node, reason);
    }
    fn armed_crash(&mut self, node: u8, _: bool) {
        lifecycle::stop(self, node, DownReason::Crashed);
    }
}

impl Files for Bench {
    fn forget_work(&mut self, _: u8) {}
    fn keep_store(&mut self, _: u8, store: (u64, u64)) {
        self.kept = Some(store);
    }
    fn open_store(&mut self, _: u8) -> Option<(u64, u64)> {
        Some(self.kept.take().unwrap_or_default())
    }
    fn open_log(&mut self, _: u8) -> Option<MemLog> {
        Some(self.log.clone())
    }
    fn start_facts(&self, _: u8) {}
    fn start_from(&mut self, _: u8, log: &MemLog) -> u64 {
        log.persisted_commit()
    }
    fn run_start(
        &mut self,
        _: u8,
        params: RaftParams,
        log: MemLog,
        (applied, count): (u64, u64),
        out: &mut Outputs<CounterSystem>,
    ) -> Started<MemLog, CounterSystem> {
        let open = || {
            Ok(Counter {
                applied,
                count,
                owes: true,
            })
        };
        node::start(params, log, open, &mut Join, &self.c.logger, out)
    }
    fn observe_start(&mut self, _: u8) {}
    fn joined(&mut self, _: u8) {}
    fn retry_owed(&mut self, _: u8, _: u32, at: u64) {
        self.retries.push(at);
    }
}

fn bench() -> Bench {
    let timing = Timing {
        tick_us: 10_000,
        max_follow_ups: 100,
    };
    let members = vec![CounterMember::default()];
    Bench {
        c: Cluster::new(members, CounterBooks::default(), &Streams::new(1), timing),
        kept: None,
        log: MemLog::single_voter(),
        retries: Vec::new(),
    }
}

fn tick(b: &mut Bench) {
    call::call(b, 0, |core, out, crash| {
        core.tick(out, crash).map(|()| false)
    });
}

#[test]
fn a_system_the_world_was_not_written_for_starts_applies_stops_and_starts_again() {
    let mut b = bench();
    assert!(lifecycle::start(&mut b, 0), "the counter joins");
    assert_eq!(
        hooks(&mut b),
        [
            "reopened",
            "begin_start",
            "call_begins",
            "start_ran",
            "start_ended joined",
            // What it owes goes out as it joins (dropped: no leader yet).
            "owed",
            "proposal",
            "call_begins",
            "call_round",
            "call_ends",
            "settled",
            "settled",
        ],
        "a start's hooks in their documented order"
    );
    assert_eq!(b.retries, [1_000], "retried after the system's interval");

    // A lone voter elects itself; its owed proposal then commits.
    for _ in 0..10 {
        tick(&mut b);
    }
    let seen = hooks(&mut b);
    assert!(seen.contains(&"leader owed"), "{seen:?}");
    lifecycle::propose_owed(&mut b, 0);
    let seen = hooks(&mut b);
    assert!(
        seen.contains(&"applied"),
        "the owed proposal applied: {seen:?}"
    );
    let count = b.c.nodes[0].state.core().map(|c| c.app().count);
    assert_eq!(count, Some(1));
    lifecycle::propose_owed(&mut b, 0);
    assert_eq!(
        hooks(&mut b),
        ["owed"],
        "nothing owed once applied, no retry"
    );

    lifecycle::stop(&mut b, 0, DownReason::Crashed);
    assert_eq!(
        hooks(&mut b),
        ["process_ended", "closed", "stopped"],
        "a stop's hooks in their documented order"
    );
    assert_eq!(
        b.kept.map(|(_, count)| count),
        Some(1),
        "the runtime keeps what the process left"
    );

    assert!(lifecycle::start(&mut b, 0), "it starts again");
    let count = b.c.nodes[0].state.core().map(|c| c.app().count);
    assert_eq!(count, Some(1), "from the store it left");
    assert_eq!(b.c.incarnation(0), 1, "as its next incarnation");
    assert_eq!(
        b.c.sys.starts, 2,
        "each start counted in the system's books"
    );
    assert!(b.c.sys.events.is_empty(), "no start failed, no crash fired");
}
