//! The node core driven by hand over [`MemLog`] and a counter: the core's
//! contract with any application, no writer registry involved.

use raft::eraftpb::Entry;

use super::*;
use crate::mem_log::MemLog;

/// Sums the first byte of every entry; `b'!'` halts; entries starting
/// with `b'o'` are its own proposals.
#[derive(Default)]
pub(crate) struct Counter {
    applied: u64,
    sum: u64,
    replayed: Vec<u64>,
    pub own_pending: u32,
    die_at: Option<u64>,
}

impl Application for Counter {
    type Applied = (u64, bool);
    type Halt = u64;
    type Note = &'static str;
    type Refusal = &'static str;

    fn applied_index(&self) -> u64 {
        self.applied
    }
    fn apply(&mut self, entry: &Entry, replay: bool) -> Result<Apply<Self>, Died> {
        if self.die_at == Some(entry.index) {
            return Err(Died);
        }
        self.applied = entry.index;
        let first = entry.data.first().copied();
        self.sum += u64::from(first.unwrap_or(0));
        if replay {
            self.replayed.push(entry.index);
        }
        let own = first == Some(b'o');
        if own {
            self.own_pending = self.own_pending.saturating_sub(1);
        }
        Ok(Apply {
            report: (entry.index, replay),
            halt: (first == Some(b'!')).then_some(entry.index),
            own,
        })
    }
    fn snapshot(&mut self) -> Result<Vec<u8>, Died> {
        Ok([self.applied.to_le_bytes(), self.sum.to_le_bytes()].concat())
    }
    fn restore(&mut self, data: &[u8]) -> Result<u64, RestoreError> {
        if data.len() != 16 {
            return Err(RestoreError::Undecodable(format!("{} bytes", data.len())));
        }
        self.applied = u64::from_le_bytes(data[..8].try_into().unwrap());
        self.sum = u64::from_le_bytes(data[8..].try_into().unwrap());
        Ok(self.applied)
    }
    fn is_own_proposal(&self, data: &[u8]) -> bool {
        data.first() == Some(&b'o')
    }
    fn own_proposals_pending(&self) -> bool {
        self.own_pending > 0
    }
}

/// Replays to the disk's commit, or refuses when told to.
pub(crate) struct Hook {
    refuse: bool,
    seen: Vec<StartEvent>,
}

impl StartHook<Counter> for Hook {
    fn next(
        &mut self,
        event: StartEvent,
        app: &mut Counter,
        disk: DiskFacts,
        out: &mut Vec<Output<Counter>>,
    ) -> StartStep<&'static str> {
        self.seen.push(event);
        out.push(Output::Note("asked"));
        match event {
            _ if self.refuse => StartStep::Refuse("told to"),
            StartEvent::Begin if disk.snapshot_index > 0 => StartStep::RestoreSnapshot,
            StartEvent::Begin | StartEvent::SnapshotRestored { .. }
                if disk.commit_index > app.applied_index() =>
            {
                StartStep::Replay {
                    from: app.applied_index() + 1,
                    to: disk.commit_index,
                }
            }
            _ => StartStep::Join,
        }
    }
}

fn params() -> RaftParams {
    RaftParams {
        index: 0,
        election_tick: 5,
        heartbeat_tick: 1,
        mutant: Default::default(),
    }
}

fn logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

pub(crate) type Core = NodeCore<MemLog, Counter>;

pub(crate) fn boot(
    log: MemLog,
    app: Counter,
    hook: &mut Hook,
) -> Result<Core, Box<NotStarted<Counter>>> {
    start(params(), log, || Ok(app), hook, &logger(), &mut Vec::new())
}

/// Completes every sync the outputs ask for, in order, like a driver.
fn settle(
    core: &mut Core,
    out: &mut Vec<Output<Counter>>,
    crash: &mut dyn CrashPoints,
) -> Result<bool, Crashed> {
    let mut halted = false;
    while let Some(o) = (!out.is_empty()).then(|| out.remove(0)) {
        if let Output::Sync { ready } = o {
            halted |= core.sync_done(ready, out, crash)?;
        }
    }
    Ok(halted)
}

pub(crate) fn lead(core: &mut Core) {
    let mut out = Vec::new();
    for _ in 0..50 {
        core.tick(&mut out, &mut NoCrashes).unwrap();
        settle(core, &mut out, &mut NoCrashes).unwrap();
        if core.is_leader() {
            return;
        }
    }
    panic!("a single voter never led");
}

pub(crate) fn propose(
    core: &mut Core,
    data: &[u8],
    crash: &mut dyn CrashPoints,
) -> Result<bool, Crashed> {
    let mut out = Vec::new();
    assert!(core.propose(data.to_vec(), &mut out, crash)?);
    settle(core, &mut out, crash)
}

pub(crate) fn hook() -> Hook {
    Hook {
        refuse: false,
        seen: Vec::new(),
    }
}

#[test]
fn a_single_voter_leads_applies_in_order_and_halts_where_the_application_says() {
    let mut core = boot(MemLog::single_voter(), Counter::default(), &mut hook()).unwrap();
    lead(&mut core);
    let first = core.app().applied_index();
    assert!(!propose(&mut core, b"a", &mut NoCrashes).unwrap());
    assert_eq!(core.app().applied_index(), first + 1);
    assert_eq!(core.app().sum, u64::from(b'a'));
    assert!(
        propose(&mut core, b"!", &mut NoCrashes).unwrap(),
        "a halt stops the node"
    );
}

#[test]
fn a_restart_replays_the_held_log_to_its_commit_before_joining() {
    let mut core = boot(MemLog::single_voter(), Counter::default(), &mut hook()).unwrap();
    lead(&mut core);
    propose(&mut core, b"a", &mut NoCrashes).unwrap();
    propose(&mut core, b"b", &mut NoCrashes).unwrap();
    let (log, applied) = (core.log().clone(), core.app().applied_index());
    let mut h = hook();
    let again = boot(log, Counter::default(), &mut h).unwrap();
    assert_eq!(again.app().applied_index(), applied);
    assert_eq!(again.app().replayed, (1..=applied).collect::<Vec<_>>());
    assert_eq!(h.seen, [StartEvent::Begin, StartEvent::Replayed]);
}

#[test]
fn a_snapshot_covers_the_log_and_a_restart_restores_it_first() {
    let mut core = boot(MemLog::single_voter(), Counter::default(), &mut hook()).unwrap();
    lead(&mut core);
    propose(&mut core, b"a", &mut NoCrashes).unwrap();
    let at = core.take_snapshot(1).unwrap().expect("a snapshot is due");
    assert_eq!(core.log().held_snapshot().get_metadata().index, at);
    assert_eq!(core.take_snapshot(1).unwrap(), None, "nothing new to cover");
    propose(&mut core, b"b", &mut NoCrashes).unwrap();
    let mut h = hook();
    let again = boot(core.log().clone(), Counter::default(), &mut h).unwrap();
    assert_eq!(again.app().sum, u64::from(b'a') + u64::from(b'b'));
    assert_eq!(
        again.app().replayed,
        [at + 1],
        "only what the snapshot lacks"
    );
    assert_eq!(h.seen[1], StartEvent::SnapshotRestored { index: at });
}

#[test]
fn a_refusing_hook_hands_the_application_back() {
    let mut h = hook();
    h.refuse = true;
    let Err(not) = boot(MemLog::single_voter(), Counter::default(), &mut h) else {
        panic!("joined")
    };
    assert!(matches!(not.failure, StartFailure::Refused("told to")));
    assert!(not.app.is_some());
    let Err(not) = start(
        params(),
        MemLog::single_voter(),
        || Err::<Counter, _>("no".into()),
        &mut hook(),
        &logger(),
        &mut Vec::new(),
    ) else {
        panic!("joined")
    };
    assert!(matches!(not.failure, StartFailure::Store(ref m) if m == "no"));
    assert!(not.app.is_none(), "nothing opened, nothing handed back");
}

#[test]
fn a_death_inside_an_apply_is_a_crash_cutting_that_index() {
    let mut core = boot(MemLog::single_voter(), Counter::default(), &mut hook()).unwrap();
    lead(&mut core);
    let next = core.last_index() + 1;
    let mut log = core.log().clone();
    core.app.die_at = Some(next);
    let crashed = propose(&mut core, b"a", &mut NoCrashes).unwrap_err();
    assert_eq!(crashed.partial, Some(next));
    // The same death during a start's replay fails the start likewise.
    log.sync_all();
    let app = Counter {
        die_at: Some(next),
        ..Counter::default()
    };
    let Err(not) = boot(log, app, &mut hook()) else {
        panic!("joined")
    };
    assert!(matches!(not.failure, StartFailure::Crashed { partial: Some(i) } if i == next));
}

/// Fires at one named point, once.
struct At(&'static str);

impl At {
    fn fire(&mut self, point: &str) -> bool {
        let hit = self.0 == point;
        if hit {
            self.0 = "";
        }
        hit
    }
}

impl CrashPoints for At {
    fn at_ready_step(&mut self, step: ReadyStep) -> bool {
        step == ReadyStep::AfterWrite && self.fire("after-write")
    }
    fn before_own_proposal_applies(&mut self) -> bool {
        self.fire("before-own")
    }
    fn between_own_proposals(&mut self) -> bool {
        self.fire("between-own")
    }
}

#[test]
fn crash_points_fire_where_the_driver_armed_them() {
    let mut core = boot(MemLog::single_voter(), Counter::default(), &mut hook()).unwrap();
    lead(&mut core);
    let before = core.app().applied_index();
    assert!(propose(&mut core, b"a", &mut At("after-write")).is_err());
    assert_eq!(core.app().applied_index(), before, "died before the apply");

    let mut core = boot(MemLog::single_voter(), Counter::default(), &mut hook()).unwrap();
    lead(&mut core);
    // An ordinary entry never asks the own-proposal point.
    let mut armed = At("before-own");
    propose(&mut core, b"a", &mut armed).unwrap();
    assert_eq!(armed.0, "before-own");
    let before = core.app().applied_index();
    assert!(propose(&mut core, b"o", &mut armed).is_err());
    assert_eq!(
        core.app().applied_index(),
        before,
        "died before its own entry applied"
    );

    let mut core = boot(MemLog::single_voter(), Counter::default(), &mut hook()).unwrap();
    lead(&mut core);
    core.app.own_pending = 2;
    assert!(
        propose(&mut core, b"o", &mut At("between-own")).is_err(),
        "one of two applied"
    );
    core.app.own_pending = 1;
    assert!(
        propose(&mut core, b"o", &mut At("between-own")).is_ok(),
        "none left to come"
    );
}
