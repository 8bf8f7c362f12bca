//! The meaning of each event kind, at its own level: a recording target
//! stands in for a world, so a change of what a fault means fails here,
//! named, before any trace hash moves.

use super::ack_crash::ArmAckCrash;
use super::between_deks_crash::ArmBetweenDeksCrash;
use super::collision::{self, Collision};
use super::corrupt_row::CorruptRow;
use super::crash::Crash;
use super::end_of_faults::EndOfFaults;
use super::epoch_preset::EpochPreset;
use super::epoch_rollback::EpochRollback;
use super::exotic::Exotic;
use super::malformed::Malformed;
use super::partition::{Heal, OneWay, Partition};
use super::pause::Pause;
use super::power_loss::PowerLoss;
use super::ready_crash::ArmReadyCrash;
use super::registration_crash::ArmRegistrationCrash;
use super::registry_crash::ArmRegistryCrash;
use super::store_error::ArmStoreError;
use super::Action;
use crate::node::ReadyStep;
use crate::oracle::checkers::Checkers;
use crate::rng::{Streams, Subsystem};
use crate::store::{Corruption, Errno, StoreOp};
use crate::trace::Trace;
use crate::world::injector::Injector;
use crate::world::observe::Observer;
use crate::world::target::{Books, Injection, Life, Target};
use crate::world::DownReason;

/// A world of `lives.len()` nodes that records the primitives asked of it.
struct Recording {
    lives: Vec<Life>,
    obs: Observer,
    injector: Injector,
    calls: Vec<String>,
}

impl Recording {
    fn new(lives: Vec<Life>) -> Self {
        let n = lives.len() as u8;
        let streams = Streams::new(7);
        Recording {
            obs: Observer::new(
                Checkers::new(n, writer_registry::PersistPolicy::Faithful, false),
                Trace::new(true),
                vec![1, 2],
            ),
            injector: Injector::new(streams.family(Subsystem::Faults, 0, lives.len()), [1, 2]),
            lives,
            calls: Vec::new(),
        }
    }

    /// The trace lines so far, less their time and node columns.
    fn lines(&mut self) -> Vec<String> {
        crate::world::testing::lines(&mut self.obs.trace, 2..usize::MAX)
    }
}

impl Target for Recording {
    fn life(&self, node: u8) -> Life {
        self.lives[usize::from(node)].clone()
    }
    fn books<R>(&mut self, f: impl FnOnce(Books<'_>) -> R) -> R {
        f(Books::at(&mut self.obs, &mut self.injector, 5))
    }
    fn fulls(&self) -> Vec<u64> {
        (0..self.lives.len() as u64).map(|i| 0x1000 + i).collect()
    }
    fn first_dek(&self) -> u32 {
        1
    }
    fn next_pid(&mut self) -> u64 {
        9
    }
    fn crash(&mut self, node: u8, power_loss: bool) {
        self.calls.push(format!("crash {node} {power_loss}"));
    }
    fn restart(&mut self, node: u8) {
        self.calls.push(format!("restart {node}"));
    }
    fn pause(&mut self, node: u8) -> bool {
        self.calls.push(format!("pause {node}"));
        self.lives[usize::from(node)] == Life::Running
    }
    fn resume(&mut self, node: u8) {
        self.calls.push(format!("resume {node}"));
    }
    fn roll_back_epoch(&mut self, node: u8) {
        self.calls.push(format!("roll back {node}"));
    }
    fn preset_epoch(&mut self, node: u8, epoch: u16) {
        self.calls.push(format!("preset {node} {epoch}"));
    }
    fn queue_corruption(&mut self, node: u8, (target, dek, _): (u8, u32, Corruption)) {
        self.calls.push(format!("corrupt {node} {target} {dek}"));
    }
    fn partition(&mut self, side: &[u8]) {
        self.calls.push(format!("partition {side:?}"));
    }
    fn one_way(&mut self, from: u8, to: u8) {
        self.calls.push(format!("one-way {from} {to}"));
    }
    fn heal(&mut self) {
        self.calls.push("heal".into());
    }
    fn client_command(&mut self, node: u8, dek: u32) {
        self.calls.push(format!("kv {node} {dek}"));
    }
    fn snapshot(&mut self, node: u8) {
        self.calls.push(format!("snapshot {node}"));
    }
    fn inject(&mut self, via: u8, injection: Injection) {
        let kind = injection.kind.name();
        let (a, b) = (injection.a, injection.b);
        self.calls.push(format!("inject {via} {kind} {a:#x} {b}"));
    }
    fn owe_liveness(&mut self) {
        self.calls.push("owe liveness".into());
    }
}

fn apply(t: &mut impl Target, event: impl Into<Action>) {
    event.into().apply(t);
}

const RUNNING: u8 = 0;
const PAUSED: u8 = 1;
const CRASHED: u8 = 2;
const REFUSED: u8 = 3;
const STARTING: u8 = 4;

fn world() -> Recording {
    Recording::new(vec![
        Life::Running,
        Life::Paused,
        Life::Down(DownReason::Crashed),
        Life::Down(DownReason::Refused),
        Life::Starting,
    ])
}

fn arming(node: u8) -> Vec<Action> {
    vec![
        ArmReadyCrash {
            node,
            step: ReadyStep::AfterWrite,
            power_loss: true,
        }
        .into(),
        ArmRegistryCrash {
            node,
            power_loss: false,
        }
        .into(),
        ArmStoreError {
            node,
            op: StoreOp::Sync,
            errno: Errno::Enospc,
        }
        .into(),
        ArmBetweenDeksCrash { node }.into(),
        ArmAckCrash { node }.into(),
        ArmRegistrationCrash { node }.into(),
    ]
}

#[test]
fn faults_are_armed_only_in_a_process_and_say_what_they_armed() {
    let mut w = world();
    for node in [CRASHED, REFUSED, STARTING] {
        for a in arming(node) {
            apply(&mut w, a);
        }
    }
    assert!(w.lines().is_empty(), "armed without a process");
    for node in [RUNNING, PAUSED] {
        for a in arming(node) {
            apply(&mut w, a);
        }
    }
    let lines = w.lines();
    assert_eq!(lines.len(), 12, "{lines:?}");
    assert_eq!(lines[0], "arm-ready-crash step=after-write power_loss=yes");
    assert_eq!(lines[2], "arm-store-error op=sync errno=enospc");
    assert!(w.injector.registry_crash_armed(PAUSED));
    assert!(w.injector.registry_crash_armed(RUNNING));
    assert!(!w.injector.registry_crash_armed(STARTING));
    assert!(w.calls.is_empty(), "arming asks the world nothing");
}

#[test]
fn a_crash_needs_a_process_and_a_power_loss_does_not() {
    let mut w = world();
    for node in [RUNNING, PAUSED, CRASHED, STARTING] {
        apply(&mut w, Crash { node });
    }
    apply(&mut w, PowerLoss { node: CRASHED });
    assert_eq!(w.calls, ["crash 0 false", "crash 1 false", "crash 2 true"]);
}

#[test]
fn a_down_node_s_files_change_only_while_a_restart_would_undo_it() {
    let mut w = world();
    for node in [RUNNING, PAUSED, CRASHED, REFUSED, STARTING] {
        apply(
            &mut w,
            EpochPreset {
                node,
                epoch: 0xFFFF,
            },
        );
        let (target, dek, mode) = (RUNNING, 2, Corruption::Truncate);
        apply(
            &mut w,
            CorruptRow {
                node,
                target,
                dek,
                mode,
            },
        );
        apply(&mut w, EpochRollback { node });
    }
    assert_eq!(w.calls, ["preset 2 65535", "corrupt 2 0 2", "roll back 2"]);
    // A running node's rollback waits for its next crash.
    assert!(w.injector.take_rollback(RUNNING));
    assert!(w.injector.take_rollback(PAUSED));
    assert!(!w.injector.take_rollback(REFUSED));
}

#[test]
fn a_pause_needs_a_running_process_and_is_recorded_only_then() {
    let mut w = world();
    for node in [RUNNING, PAUSED, CRASHED] {
        apply(&mut w, Pause { node });
    }
    assert_eq!(w.calls, ["pause 0", "pause 1"]);
    assert_eq!(w.lines(), ["pause"]);
}

#[test]
fn links_are_cut_then_recorded_and_the_end_of_faults_restores_everything() {
    let mut w = world();
    apply(&mut w, Partition { side: vec![0, 2] });
    apply(&mut w, OneWay { from: 1, to: 3 });
    apply(&mut w, Heal {});
    assert_eq!(
        w.lines(),
        ["partition side=n1,n3", "one-way from=n2 to=n4", "heal"]
    );
    w.calls.clear();
    apply(&mut w, ArmAckCrash { node: RUNNING });
    apply(&mut w, EndOfFaults {});
    let mut want = vec!["heal".to_string()];
    for n in 0..5 {
        want.push(format!("resume {n}"));
        want.push(format!("restart {n}"));
    }
    want.push("owe liveness".into());
    assert_eq!(w.calls, want);
    // The end of faults heals without a second heal line.
    assert_eq!(w.lines(), ["arm-ack-crash", "end-of-faults"]);
    assert!(!crate::node::CrashPoints::own_proposal_acked(
        w.injector.crash_points(RUNNING)
    ));
}

#[test]
fn a_faulty_client_s_entry_names_what_it_injects() {
    let mut w = world();
    let collision = Collision {
        via: 1,
        victim: 0,
        dek: 2,
        high_bits: 0xab,
    };
    apply(&mut w, collision);
    apply(&mut w, Malformed { via: 0, variant: 1 });
    apply(&mut w, Exotic { via: 0, opcode: 7 });
    let fake = collision::writer(0x1000, 0xab);
    assert_eq!(
        w.calls,
        [
            format!("inject 1 inject-collision {fake:#x} 2"),
            "inject 0 inject-malformed 0x1 0".to_string(),
            "inject 0 inject-exotic 0x7 0".to_string(),
        ]
    );
}

/// One event of every kind.
fn one_of_each() -> Vec<Action> {
    use super::{kv::Kv, restart::Restart, snapshot::Snapshot};
    vec![
        Crash { node: 0 }.into(),
        PowerLoss { node: 0 }.into(),
        Restart { node: 0 }.into(),
        Pause { node: 0 }.into(),
        super::pause::Resume { node: 0 }.into(),
        ArmReadyCrash {
            node: 0,
            step: ReadyStep::AfterSend,
            power_loss: false,
        }
        .into(),
        ArmRegistryCrash {
            node: 0,
            power_loss: true,
        }
        .into(),
        EpochRollback { node: 0 }.into(),
        ArmRegistrationCrash { node: 0 }.into(),
        ArmBetweenDeksCrash { node: 0 }.into(),
        ArmAckCrash { node: 0 }.into(),
        ArmStoreError {
            node: 0,
            op: StoreOp::Write,
            errno: Errno::Eio,
        }
        .into(),
        Partition { side: vec![1] }.into(),
        OneWay { from: 0, to: 2 }.into(),
        Heal {}.into(),
        Kv { node: 0, dek: 1 }.into(),
        Snapshot { node: 0 }.into(),
        Collision {
            via: 0,
            victim: 1,
            dek: 1,
            high_bits: 0xab,
        }
        .into(),
        Malformed { via: 0, variant: 2 }.into(),
        EpochPreset {
            node: 0,
            epoch: 0xFFFE,
        }
        .into(),
        CorruptRow {
            node: 0,
            target: 1,
            dek: 2,
            mode: Corruption::OwnerBit,
        }
        .into(),
        Exotic { via: 0, opcode: 5 }.into(),
        EndOfFaults {}.into(),
    ]
}

#[test]
fn every_kind_is_named_once_and_its_events_round_trip_through_a_file() {
    let events = one_of_each();
    let named: Vec<&str> = events.iter().map(Action::kind).collect();
    assert_eq!(named, Action::KINDS, "one sample per kind, in list order");
    for event in events {
        let text = toml::to_string(&event).unwrap();
        assert!(
            text.starts_with(&format!("kind = \"{}\"\n", event.kind())),
            "{text}"
        );
        let back: Action = toml::from_str(&text).unwrap();
        assert_eq!(back, event);
        event.check(3, &[1, 2], &|f| f.to_string()).unwrap();
    }
}

#[test]
fn the_shrinker_drops_an_event_with_what_undoes_or_accompanies_it() {
    let family = |kind: &str| {
        let event = one_of_each()
            .into_iter()
            .find(|e| e.kind() == kind)
            .unwrap();
        event.family()
    };
    for (kind, family_of) in [
        ("resume", "pause"),
        ("pause", "pause"),
        ("arm-between-deks-crash", "arm-registration-crash"),
        ("arm-ack-crash", "arm-registration-crash"),
        ("one-way", "partition"),
        ("heal", "partition"),
        ("crash", "crash"),
        ("end-of-faults", "end-of-faults"),
    ] {
        assert_eq!(family(kind), family_of, "{kind}");
    }
    let restoring: Vec<&str> = one_of_each()
        .iter()
        .filter(|e| e.restores())
        .map(Action::kind)
        .collect();
    assert_eq!(restoring, ["restart", "resume", "heal", "end-of-faults"]);
    assert_eq!(Action::restoring_kinds(), restoring);
    for event in one_of_each() {
        let family = event.family();
        assert!(Action::KINDS.contains(&family), "{family} is no kind");
    }
}
