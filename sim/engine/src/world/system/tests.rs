//! A second system through the world: a counter, not a writer registry,
//! started, called, stopped and started again by `lifecycle` and `call`
//! on a one-node cluster over raft-rs's memory log, with books of its
//! own. Proves the seam holds a system the world was not written for, and
//! holds the world to the order the hooks are documented in (the
//! system's hooks and the runtime's callbacks logged in one sequence),
//! on the paths a start, a call and a stop can take.

use raft::eraftpb::{Entry, Message};

use super::{Begun, Started, System, SystemCluster, SystemOutput};
use crate::mem_log::MemLog;
use crate::node::{
    self, Application, Apply, CrashPoints, Died, DiskFacts, NoCrashes, RaftParams, RestoreError,
    StartEvent, StartFailure, StartHook, StartStep,
};
use crate::oracle::observation::RaftObservation;
use crate::process::{DownReason, Process};
use crate::rng::Streams;
use crate::storage::RaftLog;
use crate::trace::kind::Kind;
use crate::world::call::{self, FollowUp, Outputs, Runtime};
use crate::world::cluster::{Cluster, MemberBooks, RunBooks, Timing};
use crate::world::lifecycle::{self, Files};
use crate::zone::inside_system;

/// The counter's books on one member: its incarnations, and how many
/// ended as processes (not as failed starts).
#[derive(Default)]
struct CounterMember {
    incarnation: u32,
    processes_ended: u32,
}

impl MemberBooks for CounterMember {
    fn incarnation(&self) -> u32 {
        self.incarnation
    }
    fn ended(&mut self) {
        self.incarnation += 1;
        self.processes_ended += 1;
    }
    fn not_started(&mut self) {
        self.incarnation += 1;
    }
}

/// The counter's books on the run: the hooks and runtime callbacks
/// called, in order, and the trace events the world recorded (no
/// observer, no checkers: the world needs none of the writer registry's).
#[derive(Default)]
struct CounterBooks {
    log: Vec<&'static str>,
    events: Vec<&'static str>,
    starts: u64,
    disarmed: u64,
    crash: Option<NoCrashes>,
    /// The next start's hook refuses.
    refuse: bool,
}

impl RunBooks for CounterBooks {
    fn record(&mut self, _: u64, _: Option<u8>, kind: &'static Kind, _: u64, _: u64) {
        self.events.push(kind.name());
    }
    fn violation(&mut self, _: u64, oracle: &str, _: Option<u8>, detail: String) {
        panic!("{oracle}: {detail}");
    }
    fn raft_checked(&self) -> bool {
        false
    }
    fn raft(&mut self, _: u64, _: RaftObservation<'_>) {}
    fn start_attempted(&mut self) {
        self.starts += 1;
    }
    fn process_died(&mut self, _: u8) {
        self.disarmed += 1;
    }
    fn crash_points(&mut self, _: u8) -> &mut dyn CrashPoints {
        self.crash.get_or_insert(NoCrashes)
    }
    fn armed_power_loss(&self, _: u8) -> bool {
        false
    }
}

type Counted<L> = SystemCluster<L, CounterSystem>;

fn log<L: RaftLog>(c: &mut Counted<L>, name: &'static str) {
    c.sys.log.push(name);
}

/// Counts the entries it applied; its one owed proposal is `b"own"`;
/// `b"halt"` halts it and `b"die"` kills its process inside the apply.
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
        if entry.data[..] == b"die"[..] {
            return Err(Died);
        }
        self.applied = entry.index;
        let own = entry.data[..] == b"own"[..];
        if !entry.data.is_empty() {
            self.count += 1;
        }
        self.owes &= !own;
        Ok(Apply {
            report: (entry.index, replay),
            halt: (entry.data[..] == b"halt"[..]).then_some(entry.index),
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

/// Joins at once, or refuses.
struct Hook {
    refuse: bool,
}

impl StartHook<Counter> for Hook {
    fn next(
        &mut self,
        _: StartEvent,
        _: &mut Counter,
        _: DiskFacts,
        _: &mut Vec<node::Output<Counter>>,
    ) -> StartStep<()> {
        if self.refuse {
            StartStep::Refuse(())
        } else {
            StartStep::Join
        }
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
    type Call = ();
    type Owed = ();

    fn call_begins<L: RaftLog>(c: &mut Counted<L>, _: u8) {
        log(c, "call_begins");
    }
    fn call_round<L: RaftLog>(c: &mut Counted<L>, _: u8, _: &[SystemOutput<Self>], _: &mut ()) {
        log(c, "call_round");
    }
    fn call_ends<L: RaftLog>(c: &mut Counted<L>, _: u8, _: ()) {
        log(c, "call_ends");
    }
    fn settled<L: RaftLog>(c: &mut Counted<L>, _: u8) {
        log(c, "settled");
    }
    fn applied<L: RaftLog>(c: &mut Counted<L>, _: u8, (_, replay): (u64, bool)) {
        log(c, if replay { "replayed" } else { "applied" });
    }
    fn halted<L: RaftLog>(c: &mut Counted<L>, _: u8, _: &u64) {
        log(c, "halted");
    }
    fn note<L: RaftLog>(c: &mut Counted<L>, _: u8, _: ()) {
        log(c, "note");
    }
    fn restored<L: RaftLog>(c: &mut Counted<L>, _: u8, _: (u64, bool), _: Option<u64>) {
        log(c, "restored");
    }
    fn owed<L: RaftLog>(c: &mut Counted<L>, _: u8) -> Vec<()> {
        log(c, "owed");
        vec![()]
    }
    fn proposal<L: RaftLog>(c: &mut Counted<L>, _: u8, _: &()) -> Option<Vec<u8>> {
        log(c, "proposal");
        Some(b"own".to_vec())
    }
    fn retry_us<L: RaftLog>(_: &Counted<L>) -> u64 {
        1_000
    }
    fn reopened<L: RaftLog>(
        c: &mut Counted<L>,
        _: u8,
        store: &mut (u64, u64),
        _: &mut dyn FnMut(&(u64, u64)),
    ) -> Option<(u64, u64)> {
        log(c, "reopened");
        Some(*store)
    }
    fn begin_start<L: RaftLog>(
        c: &mut Counted<L>,
        node: u8,
        (store, _): ((u64, u64), Option<(u64, u64)>),
        _: ((), u64),
    ) -> Begun<Self> {
        log(c, "begin_start");
        let params = RaftParams {
            index: node,
            election_tick: c.election_tick(node, [3, 6]),
            heartbeat_tick: 1,
            mutant: Default::default(),
        };
        Begun {
            params,
            tracked: store,
            call: (),
        }
    }
    fn start_ran<L: RaftLog>(c: &mut Counted<L>, _: u8, _: (), _: &Started<L, Self>) {
        log(c, "start_ran");
    }
    fn start_failed<L: RaftLog>(c: &mut Counted<L>, _: u8, _: &StartFailure<Counter>) {
        log(c, "start_failed");
    }
    fn into_tracked(app: Counter) -> (u64, u64) {
        (app.applied, app.count)
    }
    fn start_ended<L: RaftLog>(
        c: &mut Counted<L>,
        _: u8,
        failure: Option<&StartFailure<Counter>>,
        _: (),
    ) {
        log(
            c,
            match failure {
                None => "start_ended joined",
                Some(StartFailure::Refused(())) => "start_ended refused",
                Some(_) => "start_ended failed",
            },
        );
    }
    fn process_ending<L: RaftLog>(c: &mut Counted<L>, _: u8, _: &DownReason) {
        log(c, "process_ending");
    }
    fn leave(app: Counter) -> ((u64, u64), Option<()>) {
        ((app.applied, app.count), Some(()))
    }
    fn close(store: (u64, u64)) -> ((u64, u64), (u64, u64)) {
        (store, store)
    }
    fn closed<L: RaftLog>(c: &mut Counted<L>, _: u8, store: (u64, u64)) -> Option<(u64, u64)> {
        log(c, "closed");
        Some(store)
    }
    fn stopped<L: RaftLog>(c: &mut Counted<L>, _: u8, _: Option<&(u64, u64)>, _: Option<()>) {
        log(c, "stopped");
    }
}

/// A runtime of one node whose messages go nowhere, whose syncs complete
/// at once, and which keeps the store a stopped process leaves. Its
/// callbacks are logged beside the system's hooks.
struct Bench {
    c: Counted<MemLog>,
    /// The store kept while the node is down.
    kept: Option<(u64, u64)>,
    /// The log across incarnations (memory: every write durable).
    log: MemLog,
    /// The store cannot be opened.
    store_gone: bool,
    retries: Vec<u64>,
}

impl Bench {
    fn say(&mut self, name: &'static str) {
        self.c.sys.log.push(name);
    }
}

impl Runtime for Bench {
    type Log = MemLog;
    type System = CounterSystem;

    fn cluster(&mut self) -> &mut Counted<MemLog> {
        &mut self.c
    }
    fn observe_synced(&mut self, _: u8) {
        self.say("observe_synced");
    }
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
        self.say(if in_flight { "leader owed" } else { "leader" });
    }
    fn write_cut(&mut self, _: u8, _: u64) {
        self.say("write_cut");
    }
    fn stop(&mut self, node: u8, reason: DownReason) {
        lifecycle::stop(self, node, reason);
    }
    fn armed_crash(&mut self, node: u8, _: bool) {
        self.say("armed_crash");
        lifecycle::stop(self, node, DownReason::Crashed);
    }
}

impl Files for Bench {
    fn forget_work(&mut self, _: u8) {
        self.say("forget_work");
    }
    fn keep_store(&mut self, _: u8, store: (u64, u64)) {
        self.say("keep_store");
        self.kept = Some(store);
    }
    fn open_store(&mut self, _: u8) -> Option<(u64, u64)> {
        (!self.store_gone).then(|| self.kept.take().unwrap_or_default())
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
        // A core's start is a call into the system: its panics are blamed
        // by that zone.
        self.say(if inside_system() {
            "run_start"
        } else {
            "run_start outside the system's zone"
        });
        let open = || {
            Ok(Counter {
                applied,
                count,
                owes: true,
            })
        };
        let mut hook = Hook {
            refuse: std::mem::take(&mut self.c.sys.refuse),
        };
        node::start(params, log, open, &mut hook, &self.c.logger, out)
    }
    fn observe_start(&mut self, _: u8) {
        self.say("observe_start");
    }
    fn joined(&mut self, _: u8) {
        self.say("joined");
    }
    fn retry_owed(&mut self, _: u8, _: u32, at: u64) {
        self.say("retry_owed");
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
        store_gone: false,
        retries: Vec::new(),
    }
}

/// What every start that opened its store logs first: the system's
/// hooks around the runtime's core start.
const START_RUNS: [&str; 5] = [
    "reopened",
    "begin_start",
    "run_start",
    "start_ran",
    "observe_start",
];

/// What was logged since the last look.
fn seen(b: &mut Bench) -> Vec<&'static str> {
    std::mem::take(&mut b.c.sys.log)
}

fn call(b: &mut Bench) {
    call::call(b, 0, |core, out, crash| {
        core.tick(out, crash).map(|()| false)
    });
}

/// Started and elected: a lone voter elects itself within a few ticks,
/// and its owed proposal then applies.
fn leader() -> Bench {
    let mut b = bench();
    assert!(lifecycle::start(&mut b, 0), "the counter joins");
    for _ in 0..10 {
        call(&mut b);
    }
    lifecycle::propose_owed(&mut b, 0);
    let count = b.c.nodes[0].state.core().map(|c| c.app().count);
    assert_eq!(count, Some(1), "its owed proposal applied");
    seen(&mut b);
    b
}

/// Asserts that `calls` holds `names` in this order (others between).
fn in_order(calls: &[&str], names: &[&str]) {
    let at = |name| calls.iter().position(|c| c == name);
    for pair in names.windows(2) {
        let (a, b) = (at(&pair[0]), at(&pair[1]));
        assert!(a.is_some() && a < b, "{pair:?} in {calls:?}");
    }
}

/// Why node 0 is down, if it is.
fn down(b: &Bench) -> Option<DownReason> {
    match &b.c.nodes[0].state {
        Process::Down(reason) => Some(reason.clone()),
        _ => None,
    }
}

fn propose(b: &mut Bench, data: &[u8]) {
    let data = data.to_vec();
    call::call(b, 0, |core, out, crash| {
        core.propose(data, out, crash).map(|_| false)
    });
}

#[test]
fn a_start_runs_its_hooks_and_the_runtime_in_the_documented_order() {
    let mut b = bench();
    assert!(lifecycle::start(&mut b, 0), "the counter joins");
    assert_eq!(
        seen(&mut b),
        [
            &START_RUNS[..],
            &[
                "start_ended joined",
                "joined",
                // What it owes goes out as it joins (dropped: no leader yet).
                "owed",
                "proposal",
                "call_begins",
                "call_round",
                "observe_synced",
                "call_ends",
                "settled",
                "retry_owed",
                "settled",
            ],
        ]
        .concat(),
    );
    assert_eq!(b.retries, [1_000], "retried after the system's interval");
    assert_eq!(b.c.sys.starts, 1);
}

#[test]
fn a_system_the_world_was_not_written_for_applies_stops_and_starts_again() {
    let mut b = leader();
    lifecycle::propose_owed(&mut b, 0);
    assert_eq!(seen(&mut b), Vec::<&str>::new(), "nothing owed, no retry");
    propose(&mut b, b"x");
    let calls = seen(&mut b);
    assert!(calls.contains(&"applied"), "{calls:?}");

    lifecycle::stop(&mut b, 0, DownReason::Crashed);
    assert_eq!(
        seen(&mut b),
        [
            "process_ending",
            "forget_work",
            "keep_store",
            "closed",
            "stopped"
        ],
    );
    assert_eq!(b.kept.map(|(_, count)| count), Some(2), "the store as left");
    assert_eq!(b.c.sys.events, ["stop"], "the world traces the stop");
    assert_eq!(b.c.sys.disarmed, 1, "what was armed in it disarmed");
    assert_eq!(b.c.nodes[0].member.processes_ended, 1);

    assert!(lifecycle::start(&mut b, 0), "it starts again");
    let count = b.c.nodes[0].state.core().map(|c| c.app().count);
    assert_eq!(count, Some(2), "from the store it left");
    assert_eq!(b.c.incarnation(0), 1, "as its next incarnation");
}

#[test]
fn a_refused_start_stays_down_its_store_closed_and_is_never_a_crash() {
    let mut b = bench();
    b.c.sys.refuse = true;
    assert!(!lifecycle::start(&mut b, 0));
    assert_eq!(
        seen(&mut b),
        [
            &START_RUNS[..],
            &[
                "start_failed",
                "keep_store",
                "closed",
                "stopped",
                "start_ended refused",
                "settled",
            ],
        ]
        .concat(),
    );
    assert_eq!(b.c.sys.events, ["start-failed"], "no armed crash fired");
    assert_eq!(down(&b), Some(DownReason::Refused));
    assert_eq!(b.c.incarnation(0), 1, "the next start is a new incarnation");
    assert_eq!(b.c.nodes[0].member.processes_ended, 0, "no process ended");
    assert!(!lifecycle::start(&mut b, 0), "a refused node stays down");
    assert_eq!(b.c.sys.starts, 1, "and is not even attempted");
}

#[test]
fn a_halt_in_a_call_stops_the_node_for_good_reason() {
    let mut b = leader();
    propose(&mut b, b"halt");
    let calls = seen(&mut b);
    in_order(&calls, &["halted", "call_ends", "process_ending"]);
    assert_eq!(calls.last(), Some(&"settled"), "{calls:?}");
    assert_eq!(down(&b), Some(DownReason::Halted));
    assert!(b.c.sys.events.contains(&"stop"));
    assert!(lifecycle::start(&mut b, 0), "a halted node may start again");
}

#[test]
fn a_process_that_dies_inside_an_apply_is_a_crash_with_its_write_cut() {
    let mut b = leader();
    propose(&mut b, b"die");
    let calls = seen(&mut b);
    in_order(
        &calls,
        &["call_ends", "write_cut", "armed_crash", "process_ending"],
    );
    assert_eq!(b.c.sys.events, ["armed-crash-fired", "stop"]);
    assert_eq!(down(&b), Some(DownReason::Crashed));
}

#[test]
fn a_store_that_will_not_open_breaks_the_node_before_anything_starts() {
    let mut b = bench();
    b.store_gone = true;
    assert!(!lifecycle::start(&mut b, 0));
    assert_eq!(seen(&mut b), Vec::<&str>::new(), "no hook: nothing opened");
    assert_eq!(down(&b), Some(DownReason::Broken));
}

#[test]
fn a_paused_node_proposes_nothing_it_owes_and_only_retries() {
    let mut b = bench();
    assert!(lifecycle::start(&mut b, 0));
    seen(&mut b);
    assert!(b.c.nodes[0].state.set_paused(true));
    lifecycle::propose_owed(&mut b, 0);
    assert_eq!(seen(&mut b), ["retry_owed"], "no owed, no proposal");
    assert!(
        b.c.owed_in_flight(),
        "still owed, as a leader change sees it"
    );
}
