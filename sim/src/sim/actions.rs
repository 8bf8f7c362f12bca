//! What each scheduled action means, decided once for every runtime.
//!
//! A world offers the primitives its runtime does its own way (stopping a
//! process, losing power, cutting links, handing a snapshot or a faulty
//! client's entry to a node) as a [`Target`]; [`apply`] decides in which
//! node states a fault takes effect (a crash, a pause, what is armed, an
//! epoch file or row changed while down), what it arms, and what the
//! trace, the checkers and the coverage marks learn of it, so a fault
//! means the same on the native engine, turmoil and madsim. Restarts,
//! resumes, snapshots, client commands and injected entries still check
//! their node's state inside each runtime's primitive (they agree today;
//! the one world will decide those here too). A row corruption queued
//! here is carried out when the store reopens ([`corrupt_rows`]).

use writer_registry::ids::node16;
use writer_registry::wire::{self, Registration};

use super::injector::Injector;
use super::observe::Observer;
use super::DownReason;
use crate::marks::SimMark;
use crate::node::ReadyStep;
use crate::oracle::checkers::Injected;
use crate::schedule::Action;
use crate::store::{Journal, SimStore};
use crate::trace::kinds::{self, Kind};

/// A node as a scheduled action sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Life {
    /// A process runs.
    Running,
    /// A process exists but is paused.
    Paused,
    /// No process; its files are the harness's to change.
    Down(DownReason),
    /// No process, and a start is on its way (hosted runtimes: the host
    /// has not run it yet); its files are no longer the harness's.
    Starting,
}

impl Life {
    /// A process exists: faults can be armed in it.
    pub(crate) fn has_process(&self) -> bool {
        matches!(self, Life::Running | Life::Paused)
    }

    /// Down for a reason a restart undoes (crashed or halted), and not
    /// being started: its epoch file and store may be changed.
    pub(crate) fn restartable(&self) -> bool {
        matches!(self, Life::Down(DownReason::Crashed | DownReason::Halted))
    }
}

/// The run's books, as an action writes into them at the current time.
pub(crate) struct Books<'a> {
    pub obs: &'a mut Observer,
    pub injector: &'a mut Injector,
    pub now: u64,
}

impl<'a> Books<'a> {
    pub(crate) fn at(obs: &'a mut Observer, injector: &'a mut Injector, now: u64) -> Self {
        Books { obs, injector, now }
    }

    fn record(&mut self, node: Option<u8>, kind: &'static Kind, a: u64, b: u64) {
        self.obs.record(self.now, node, kind, a, b);
    }
}

/// A faulty client's entry, proposed through a node: if raft takes it,
/// the injector records `injected` and the trace `kind` with `(a, b)`.
pub(crate) struct Injection {
    pub data: Vec<u8>,
    pub injected: Injected,
    pub kind: &'static Kind,
    pub a: u64,
    pub b: u64,
}

/// What a world offers the schedule's actions. Each primitive does only
/// its runtime's part; [`apply`] has decided that it applies.
pub(crate) trait Target {
    /// Node `node`'s state.
    fn life(&self, node: u8) -> Life;
    /// Runs `f` over the run's books.
    fn books<R>(&mut self, f: impl FnOnce(Books<'_>) -> R) -> R;
    /// Every member's full node id.
    fn fulls(&self) -> Vec<u64>;
    /// The scenario's first dek (the one faulty clients write under).
    fn first_dek(&self) -> u32;
    /// A fresh proposal id.
    fn next_pid(&mut self) -> u64;

    /// The process dies (if there is one) and, with `power_loss`, the
    /// node's unsynced writes go; an epoch rollback armed for its next
    /// crash is done.
    fn crash(&mut self, node: u8, power_loss: bool);
    /// Starts a node down for a reason a restart undoes.
    fn restart(&mut self, node: u8);
    /// Pauses a running process; false if it was not running.
    fn pause(&mut self, node: u8) -> bool;
    /// Resumes a paused process (what waited for it is handed over).
    fn resume(&mut self, node: u8);
    /// Rolls a restartable node's epoch file back.
    fn roll_back_epoch(&mut self, node: u8);
    /// Presets a restartable node's epoch file to `epoch`.
    fn preset_epoch(&mut self, node: u8, epoch: u16);
    /// Queues a row corruption for a restartable node's next reopen.
    fn queue_corruption(&mut self, node: u8, corruption: (u8, u32, crate::store::Corruption));
    /// Cuts every link between `side` and the other nodes.
    fn partition(&mut self, side: &[u8]);
    /// Cuts the link from `from` to `to`.
    fn one_way(&mut self, from: u8, to: u8);
    /// Repairs every link.
    fn heal(&mut self);
    /// A client's KV command arrives at `node` under `dek`.
    fn client_command(&mut self, node: u8, dek: u32);
    /// `node` snapshots and compacts its log.
    fn snapshot(&mut self, node: u8);
    /// A faulty client proposes an entry through `via`.
    fn inject(&mut self, via: u8, injection: Injection);
    /// The fault phase is over: liveness is owed from now.
    fn owe_liveness(&mut self);
}

/// Carries out `action` on `t`.
pub(crate) fn apply(t: &mut impl Target, action: Action) {
    match action {
        Action::Crash { node } => {
            if t.life(node).has_process() {
                t.crash(node, false);
            }
        }
        Action::PowerLoss { node } => t.crash(node, true),
        Action::Restart { node } => t.restart(node),
        Action::Pause { node } => {
            if t.life(node).has_process() && t.pause(node) {
                t.books(|mut b| b.record(Some(node), &kinds::PAUSE, 0, 0));
            }
        }
        Action::Resume { node } => t.resume(node),
        Action::ArmReadyCrash { .. }
        | Action::ArmRegistryCrash { .. }
        | Action::ArmStoreError { .. }
        | Action::ArmBetweenDeksCrash { .. }
        | Action::ArmAckCrash { .. }
        | Action::ArmRegistrationCrash { .. } => {
            let node = action.nodes()[0];
            if t.life(node).has_process() {
                t.books(|b| arm(b, action));
            }
        }
        Action::EpochRollback { node } => match t.life(node) {
            life if life.restartable() => t.roll_back_epoch(node),
            // A running node's file is replaced when it next goes down.
            life if life.has_process() => t.books(|b| b.injector.roll_back_at_next_crash(node)),
            _ => {}
        },
        // Only a down node's file and store: a running process owns them.
        Action::EpochPreset { node, epoch } => {
            if t.life(node).restartable() {
                t.preset_epoch(node, epoch);
            }
        }
        Action::CorruptRow {
            node,
            target,
            dek,
            mode,
        } => {
            if t.life(node).restartable() {
                t.queue_corruption(node, (target, dek, mode));
            }
        }
        Action::Partition { side } => {
            t.partition(&side);
            let mask = side.iter().fold(0, |m, &x| m | 1 << x);
            t.books(|mut b| b.record(None, &kinds::PARTITION, mask, 0));
        }
        Action::OneWay { from, to } => {
            t.one_way(from, to);
            let (a, b) = (u64::from(from), u64::from(to));
            t.books(|mut books| books.record(None, &kinds::ONE_WAY, a, b));
        }
        Action::Heal => {
            t.heal();
            t.books(|mut b| b.record(None, &kinds::HEAL, 0, 0));
        }
        Action::Kv { node, dek } => t.client_command(node, dek),
        Action::Snapshot { node } => t.snapshot(node),
        Action::Collision { .. } | Action::Malformed { .. } | Action::Exotic { .. } => {
            let via = action.nodes()[0];
            let injection = injection(t, action);
            t.inject(via, injection);
        }
        Action::EndOfFaults => {
            t.books(|mut b| b.record(None, &kinds::END_OF_FAULTS, 0, 0));
            t.heal();
            for node in 0..t.fulls().len() as u8 {
                t.books(|b| b.injector.disarm(node));
                t.resume(node);
                t.restart(node);
            }
            t.owe_liveness();
        }
    }
}

/// Arms a crash or store error inside a running node.
fn arm(mut b: Books<'_>, action: Action) {
    match action {
        Action::ArmReadyCrash {
            node,
            step,
            power_loss,
        } => {
            b.injector.arm_ready_crash(node, step, power_loss);
            let code = ReadyStep::ALL.iter().position(|&x| x == step).unwrap_or(0) as u64;
            let kind = &kinds::ARM_READY_CRASH;
            b.record(Some(node), kind, code, u64::from(power_loss));
        }
        Action::ArmRegistryCrash { node, power_loss } => {
            b.injector.arm_registry_crash(node, power_loss);
            let kind = &kinds::ARM_REGISTRY_CRASH;
            b.record(Some(node), kind, u64::from(power_loss), 0);
        }
        Action::ArmStoreError { node, op, errno } => {
            b.injector.arm_store_error(node, op, errno);
            let op_code = u64::from(op == crate::store::StoreOp::Sync);
            let errno_code = u64::from(errno == crate::store::Errno::Enospc);
            b.record(Some(node), &kinds::ARM_STORE_ERROR, op_code, errno_code);
        }
        Action::ArmBetweenDeksCrash { node } => {
            b.injector.arm_between_registrations_crash(node);
            b.record(Some(node), &kinds::ARM_BETWEEN_DEKS_CRASH, 0, 0);
        }
        Action::ArmAckCrash { node } => {
            b.injector.arm_ack_crash(node);
            b.record(Some(node), &kinds::ARM_ACK_CRASH, 0, 0);
        }
        Action::ArmRegistrationCrash { node } => {
            b.injector.arm_registration_crash(node);
            b.record(Some(node), &kinds::ARM_REGISTRATION_CRASH, 0, 0);
        }
        _ => unreachable!(
            "`apply` arms only the arming actions, not {}",
            action.kind()
        ),
    }
}

/// The entry a faulty client proposes, and what is recorded if raft takes it.
fn injection(t: &mut impl Target, action: Action) -> Injection {
    let pid = t.next_pid();
    let fulls = t.fulls();
    match action {
        Action::Collision {
            victim,
            dek,
            high_bits,
            ..
        } => {
            let fake = collision_writer(fulls[usize::from(victim)], high_bits);
            Injection {
                data: collision_entry(pid, dek, fake),
                injected: Injected::Collision { full: fake },
                kind: &kinds::INJECT_COLLISION,
                a: fake,
                b: u64::from(dek),
            }
        }
        Action::Malformed { via, variant } => {
            let data = malformed_entry(pid, t.first_dek(), fulls[usize::from(via)], variant);
            Injection {
                injected: Injected::Malformed {
                    data_hash: crate::fnv::fnv1a64(&data),
                },
                data,
                kind: &kinds::INJECT_MALFORMED,
                a: u64::from(variant),
                b: 0,
            }
        }
        Action::Exotic { via, opcode } => {
            let payload = exotic_payload(t.first_dek(), &fulls, fulls[usize::from(via)], opcode);
            let data = wire::encode_entry(pid, &payload);
            Injection {
                injected: Injected::Exotic {
                    data_hash: crate::fnv::fnv1a64(&data),
                    opcode,
                },
                data,
                kind: &kinds::INJECT_EXOTIC,
                a: u64::from(opcode),
                b: 0,
            }
        }
        _ => unreachable!("not a faulty client's entry: {}", action.kind()),
    }
}

/// Presets down node `node`'s epoch file (`full` its id) to `epoch` and
/// records the injection: for the checkers, in the trace, as a mark.
pub(crate) fn preset_epoch_file(
    mut b: Books<'_>,
    file: &mut crate::disk::EpochFile,
    (node, full): (u8, u64),
    epoch: u16,
) {
    let high = file.preset(epoch);
    b.injector.record(Injected::EpochPreset {
        node,
        full,
        epoch,
        high,
    });
    b.record(Some(node), &kinds::EPOCH_PRESET, u64::from(epoch), 0);
    b.obs.mark(if epoch == 0xFFFF {
        SimMark::EpochPresetExhausted
    } else {
        SimMark::EpochPresetNearExhaustion
    });
}

/// Rolls down node `node`'s epoch file back to its previous synced copy
/// and records the injection; false when it has none.
pub(crate) fn roll_back_epoch_file(
    mut b: Books<'_>,
    file: &mut crate::disk::EpochFile,
    (node, full): (u8, u64),
) -> bool {
    b.injector.take_rollback(node);
    let Some((older, high)) = file.roll_back() else {
        return false;
    };
    b.injector.record(Injected::Rollback {
        node,
        full,
        to: older,
        high,
    });
    b.record(Some(node), &kinds::EPOCH_ROLLBACK, u64::from(older), 0);
    true
}

/// Damages the rows the schedule corrupted while `node` was down (each
/// `(target, dek, how)`: the row of member `target`, whose full id is
/// `fulls[target]`), writing and syncing each itself, and tells the
/// checkers; a row that does not exist yet is left alone. `synced` sees
/// the store after each. Stops at a store failure.
pub(crate) fn corrupt_rows(
    (obs, now): (&mut Observer, u64),
    node: u8,
    corruptions: Vec<(u8, u32, crate::store::Corruption)>,
    fulls: &[u64],
    (store, journal): (&mut SimStore, &mut Journal),
    synced: &mut dyn FnMut(&SimStore),
) {
    for (target, dek, how) in corruptions {
        let node16 = node16(fulls[usize::from(target)]);
        let key = writer_registry::RowKey { dek, node16 }.encode().to_vec();
        let (old, value) = match crate::store::corrupt_row(store, journal, &key, how) {
            Ok(Some(change)) => change,
            Ok(None) => continue,
            Err(e) => {
                let detail = format!("injecting a row corruption: {e}");
                obs.store_failure(now, "store-open", node, detail);
                return;
            }
        };
        synced(store);
        obs.row_corrupted(now, node, (dek, node16), (key, old, value), how);
    }
}

/// The full id of a non-member writer sharing `victim`'s node16.
pub(crate) fn collision_writer(victim: u64, high_bits: u64) -> u64 {
    high_bits << 16 | u64::from(node16(victim))
}

/// A registration entry for the non-member writer `fake`.
pub(crate) fn collision_entry(pid: u64, dek: u32, fake: u64) -> Vec<u8> {
    let reg = Registration {
        dek,
        full_node_id: fake,
        local_epoch: 1,
    };
    wire::encode_entry(pid, &reg.encode_payload())
}

/// A corrupted registration of `full` (variant 0: a bad version byte, 1:
/// one byte short, else one byte long).
pub(crate) fn malformed_entry(pid: u64, dek: u32, full: u64, variant: u8) -> Vec<u8> {
    let mut payload = Registration {
        dek,
        full_node_id: full,
        local_epoch: 1,
    }
    .encode_payload();
    match variant {
        0 => payload[1] = 0x02,
        1 => {
            payload.pop();
        }
        _ => payload.push(0),
    }
    wire::encode_entry(pid, &payload)
}

/// A well-formed body for `opcode`: a bootstrap that would register
/// every member (`fulls`) at epoch 0, a DEK rotation proposed by `via`, or
/// a reserved opcode's few bytes. Each halts every replica (BOOT-1,
/// HALT-1).
pub(crate) fn exotic_payload(dek: u32, fulls: &[u64], via: u64, opcode: u8) -> Vec<u8> {
    let wrapped = vec![0xA5; 40];
    match opcode {
        wire::OP_BOOTSTRAP => wire::Bootstrap {
            storage_dek: dek,
            storage_wrapped: wrapped.clone(),
            raft_dek: dek.wrapping_add(1),
            raft_wrapped: wrapped,
            registrations: fulls
                .iter()
                .map(|&full| Registration {
                    dek,
                    full_node_id: full,
                    local_epoch: 0,
                })
                .collect(),
        }
        .encode_payload(),
        wire::OP_ROTATION => wire::Rotation {
            kind: wire::RotationKind::RotateDek,
            dek: dek.wrapping_add(100),
            purpose: wire::Purpose::Storage,
            wrapped,
            proposer: Registration {
                dek,
                full_node_id: via,
                local_epoch: 1,
            },
        }
        .encode_payload(),
        op => vec![op, 0x01, 0x00, 0x00],
    }
}

#[cfg(test)]
mod tests {
    //! The meaning of each action, at its own level: a recording target
    //! stands in for a world, so a change of what a fault means fails
    //! here, named, before any trace hash moves.

    use super::*;
    use crate::oracle::checkers::Checkers;
    use crate::rng::{Streams, Subsystem};
    use crate::store::{Corruption, Errno, StoreOp};
    use crate::trace::Trace;

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
            std::mem::replace(&mut self.obs.trace, Trace::new(true))
                .take_lines()
                .into_iter()
                .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" "))
                .collect()
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
            Action::ArmReadyCrash {
                node,
                step: ReadyStep::AfterWrite,
                power_loss: true,
            },
            Action::ArmRegistryCrash {
                node,
                power_loss: false,
            },
            Action::ArmStoreError {
                node,
                op: StoreOp::Sync,
                errno: Errno::Enospc,
            },
            Action::ArmBetweenDeksCrash { node },
            Action::ArmAckCrash { node },
            Action::ArmRegistrationCrash { node },
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
            apply(&mut w, Action::Crash { node });
        }
        apply(&mut w, Action::PowerLoss { node: CRASHED });
        assert_eq!(w.calls, ["crash 0 false", "crash 1 false", "crash 2 true"]);
    }

    #[test]
    fn a_down_node_s_files_change_only_while_a_restart_would_undo_it() {
        let mut w = world();
        for node in [RUNNING, PAUSED, CRASHED, REFUSED, STARTING] {
            apply(
                &mut w,
                Action::EpochPreset {
                    node,
                    epoch: 0xFFFF,
                },
            );
            let (target, dek, mode) = (RUNNING, 2, Corruption::Truncate);
            apply(
                &mut w,
                Action::CorruptRow {
                    node,
                    target,
                    dek,
                    mode,
                },
            );
            apply(&mut w, Action::EpochRollback { node });
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
            apply(&mut w, Action::Pause { node });
        }
        assert_eq!(w.calls, ["pause 0", "pause 1"]);
        assert_eq!(w.lines(), ["pause"]);
    }

    #[test]
    fn links_are_cut_then_recorded_and_the_end_of_faults_restores_everything() {
        let mut w = world();
        apply(&mut w, Action::Partition { side: vec![0, 2] });
        apply(&mut w, Action::OneWay { from: 1, to: 3 });
        apply(&mut w, Action::Heal);
        assert_eq!(
            w.lines(),
            ["partition side=n1,n3", "one-way from=n2 to=n4", "heal"]
        );
        w.calls.clear();
        apply(&mut w, Action::ArmAckCrash { node: RUNNING });
        apply(&mut w, Action::EndOfFaults);
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
        let collision = Action::Collision {
            via: 1,
            victim: 0,
            dek: 2,
            high_bits: 0xab,
        };
        apply(&mut w, collision);
        apply(&mut w, Action::Malformed { via: 0, variant: 1 });
        apply(&mut w, Action::Exotic { via: 0, opcode: 7 });
        let fake = collision_writer(0x1000, 0xab);
        assert_eq!(
            w.calls,
            [
                format!("inject 1 inject-collision {fake:#x} 2"),
                "inject 0 inject-malformed 0x1 0".to_string(),
                "inject 0 inject-exotic 0x7 0".to_string(),
            ]
        );
    }
}
