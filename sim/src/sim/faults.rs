//! Scheduled actions: crashes, power loss, pauses, armed crash points,
//! epoch rollbacks, partitions, injected conflicts and snapshots.

use super::*;
use crate::oracle::checkers::Injected;

impl Sim<'_> {
    pub(super) fn act(&mut self, action: Action) {
        match action {
            Action::Crash { node } => {
                if matches!(
                    self.slots[usize::from(node)].state,
                    State::Up(_) | State::Paused(_)
                ) {
                    self.crash(node, false);
                }
            }
            Action::PowerLoss { node } => self.crash(node, true),
            Action::Restart { node } => self.restart(node),
            Action::Pause { node } => {
                if self.slots[usize::from(node)].state.set_paused(true) {
                    self.record(Some(node), &kinds::PAUSE, 0, 0);
                }
            }
            Action::Resume { node } => self.resume(node),
            Action::ArmReadyCrash { .. }
            | Action::ArmRegistryCrash { .. }
            | Action::EpochRollback { .. }
            | Action::EpochPreset { .. }
            | Action::CorruptRow { .. }
            | Action::ArmBetweenDeksCrash { .. }
            | Action::ArmStoreError { .. }
            | Action::ArmRegistrationCrash { .. }
            | Action::ArmAckCrash { .. } => self.arm(action),
            Action::Partition { .. } | Action::OneWay { .. } | Action::Heal => self.links(action),
            Action::Kv { .. } => self.client_command(action),
            Action::Snapshot { .. } => self.snapshot(action),
            Action::Collision { .. } | Action::Malformed { .. } | Action::Exotic { .. } => {
                self.inject(action)
            }
            Action::EndOfFaults => self.end_of_faults(action),
        }
    }

    /// Crashes armed inside a node, and epoch rollbacks.
    fn arm(&mut self, action: Action) {
        match action {
            Action::ArmReadyCrash {
                node,
                step,
                power_loss,
            } => {
                if self.slots[usize::from(node)].state.has_process() {
                    self.injector.arm_ready_crash(node, step, power_loss);
                    let code = ReadyStep::ALL.iter().position(|&x| x == step).unwrap_or(0) as u64;
                    self.record(
                        Some(node),
                        &kinds::ARM_READY_CRASH,
                        code,
                        u64::from(power_loss),
                    );
                }
            }
            Action::ArmRegistryCrash { node, power_loss } => {
                if self.slots[usize::from(node)].state.has_process() {
                    self.injector.arm_registry_crash(node, power_loss);
                    self.record(
                        Some(node),
                        &kinds::ARM_REGISTRY_CRASH,
                        u64::from(power_loss),
                        0,
                    );
                }
            }
            Action::EpochRollback { node } => {
                match self.slots[usize::from(node)].state {
                    State::Down(DownReason::Crashed | DownReason::Halted) => {
                        self.roll_back_epoch(node)
                    }
                    // A running node's file is replaced when it next goes down.
                    State::Up(_) | State::Paused(_) => self.injector.roll_back_at_next_crash(node),
                    State::Down(_) => {}
                }
            }
            Action::EpochPreset { node, epoch } => {
                // Only a down node's file: a running process holds its own.
                if let State::Down(DownReason::Crashed | DownReason::Halted) =
                    self.slots[usize::from(node)].state
                {
                    let slot = &mut self.slots[usize::from(node)];
                    let high = slot.epoch_file.preset(epoch);
                    let full = slot.member.full;
                    self.injector.record(Injected::EpochPreset {
                        node,
                        full,
                        epoch,
                        high,
                    });
                    self.record(Some(node), &kinds::EPOCH_PRESET, u64::from(epoch), 0);
                    self.mark(if epoch == 0xFFFF {
                        SimMark::EpochPresetExhausted
                    } else {
                        SimMark::EpochPresetNearExhaustion
                    });
                }
            }
            Action::CorruptRow {
                node,
                target,
                dek,
                mode,
            } => {
                // Only a down node's store: a running process owns its own.
                if let State::Down(DownReason::Crashed | DownReason::Halted) =
                    self.slots[usize::from(node)].state
                {
                    self.slots[usize::from(node)]
                        .corruptions
                        .push((target, dek, mode));
                }
            }
            Action::ArmStoreError { node, op, errno } => {
                if self.slots[usize::from(node)].state.has_process() {
                    self.injector.arm_store_error(node, op, errno);
                    let op_code = u64::from(op == crate::store::StoreOp::Sync);
                    let errno_code = u64::from(errno == crate::store::Errno::Enospc);
                    self.record(Some(node), &kinds::ARM_STORE_ERROR, op_code, errno_code);
                }
            }
            Action::ArmBetweenDeksCrash { node } => {
                if self.slots[usize::from(node)].state.has_process() {
                    self.injector.arm_between_registrations_crash(node);
                    self.record(Some(node), &kinds::ARM_BETWEEN_DEKS_CRASH, 0, 0);
                }
            }
            Action::ArmAckCrash { node } => {
                if self.slots[usize::from(node)].state.has_process() {
                    self.injector.arm_ack_crash(node);
                    self.record(Some(node), &kinds::ARM_ACK_CRASH, 0, 0);
                }
            }
            Action::ArmRegistrationCrash { node } => {
                if self.slots[usize::from(node)].state.has_process() {
                    self.injector.arm_registration_crash(node);
                    self.record(Some(node), &kinds::ARM_REGISTRATION_CRASH, 0, 0);
                }
            }
            _ => unreachable!("`act` routes {} elsewhere", action.kind()),
        }
    }

    /// Partitions, one-way cuts and their healing.
    fn links(&mut self, action: Action) {
        match action {
            Action::Partition { side } => {
                self.network.partition(&side);
                self.record(
                    None,
                    &kinds::PARTITION,
                    side.iter().fold(0, |m, &x| m | 1 << x),
                    0,
                );
            }
            Action::OneWay { from, to } => {
                self.network.cut(from, to);
                self.record(None, &kinds::ONE_WAY, u64::from(from), u64::from(to));
            }
            Action::Heal => {
                self.network.heal();
                self.record(None, &kinds::HEAL, 0, 0);
            }
            _ => unreachable!("`act` routes {} elsewhere", action.kind()),
        }
    }

    /// A client KV command arrives.
    fn client_command(&mut self, action: Action) {
        match action {
            Action::Kv { node, dek } => {
                let cmd = self.clients.command(node, dek);
                self.client_attempt(cmd);
            }
            _ => unreachable!("`act` routes {} elsewhere", action.kind()),
        }
    }

    /// A node snapshots and compacts its log.
    fn snapshot(&mut self, action: Action) {
        match action {
            Action::Snapshot { node } => {
                let min_new = self.sc.snapshots.keep_entries;
                let mut taken = None;
                self.with_core(node, |core, _, _| {
                    taken = core.take_snapshot(min_new)?;
                    Ok(false)
                });
                if let Some(index) = taken {
                    self.obs.stats.snapshots_taken += 1;
                    self.record(Some(node), &kinds::SNAPSHOT, index, 0);
                    let disk = self.slots[usize::from(node)].disk.clone();
                    let disk = disk.borrow();
                    let snapshot = &disk.written().snapshot;
                    let taken = Observation::SnapshotTaken {
                        node,
                        index,
                        data: snapshot.get_data(),
                        meta: snapshot.get_metadata(),
                    };
                    self.obs.checkers.observe(self.now, taken);
                }
            }
            _ => unreachable!("`act` routes {} elsewhere", action.kind()),
        }
    }

    /// A faulty client proposes a conflict or corrupt bytes.
    fn inject(&mut self, action: Action) {
        match action {
            Action::Collision {
                via,
                victim,
                dek,
                high_bits,
            } => {
                let fake = collision_writer(self.slots[usize::from(victim)].member.full, high_bits);
                let pid = self.next_pid();
                let data = collision_entry(pid, dek, fake);
                if self.propose(via, data) {
                    self.injector.record(Injected::Collision { full: fake });
                    self.record(Some(via), &kinds::INJECT_COLLISION, fake, u64::from(dek));
                }
            }
            Action::Malformed { via, variant } => {
                let pid = self.next_pid();
                let data = malformed_entry(
                    pid,
                    self.sc.deks[0],
                    self.slots[usize::from(via)].member.full,
                    variant,
                );
                let hash = fnv1a64(&data);
                if self.propose(via, data) {
                    self.injector
                        .record(Injected::Malformed { data_hash: hash });
                    self.record(Some(via), &kinds::INJECT_MALFORMED, u64::from(variant), 0);
                }
            }
            Action::Exotic { via, opcode } => {
                let pid = self.next_pid();
                let fulls: Vec<u64> = self.slots.iter().map(|s| s.member.full).collect();
                let data = wire::encode_entry(
                    pid,
                    &exotic_payload(self.sc.deks[0], &fulls, fulls[usize::from(via)], opcode),
                );
                let hash = fnv1a64(&data);
                if self.propose(via, data) {
                    self.injector.record(Injected::Exotic {
                        data_hash: hash,
                        opcode,
                    });
                    self.record(Some(via), &kinds::INJECT_EXOTIC, u64::from(opcode), 0);
                }
            }
            _ => unreachable!("`act` routes {} elsewhere", action.kind()),
        }
    }

    /// The fault phase ends: heal, resume and restart everything; liveness is owed from now.
    fn end_of_faults(&mut self, action: Action) {
        match action {
            Action::EndOfFaults => {
                self.record(None, &kinds::END_OF_FAULTS, 0, 0);
                self.network.heal();
                for i in 0..self.sc.nodes {
                    self.injector.disarm(i);
                    self.resume(i);
                    self.restart(i);
                }
                self.liveness_deadline = Some(self.now + self.sc.liveness_bound_ms * 1000);
            }
            _ => unreachable!("`act` routes {} elsewhere", action.kind()),
        }
    }

    pub(super) fn resume(&mut self, node: u8) {
        let s = &mut self.slots[usize::from(node)];
        if s.state.set_paused(false) {
            let held = std::mem::take(&mut s.held);
            self.record(Some(node), &kinds::RESUME, held.len() as u64, 0);
            self.schedule_tick(node);
            for work in held {
                match work {
                    Held::Message {
                        from,
                        from_inc,
                        msg,
                    } => self.hand_over(from, from_inc, node, msg),
                    Held::SyncDone(ready) => {
                        self.with_core(node, |core, out, crash| core.sync_done(ready, out, crash))
                    }
                    Held::SnapshotFate {
                        to,
                        delivered,
                        term,
                    } => self.report_snapshot_fate(node, to, delivered, term),
                }
            }
        }
    }

    /// Replaces a down node's epoch file with its previous synced copy.
    pub(super) fn roll_back_epoch(&mut self, node: u8) {
        self.injector.take_rollback(node);
        let s = &mut self.slots[usize::from(node)];
        let Some((older, high)) = s.epoch_file.roll_back() else {
            return;
        };
        let full = s.member.full;
        self.injector.record(Injected::Rollback {
            node,
            full,
            to: older,
            high,
        });
        self.record(Some(node), &kinds::EPOCH_ROLLBACK, u64::from(older), 0);
    }

    pub(super) fn crash(&mut self, node: u8, power_loss: bool) {
        let i = usize::from(node);
        if matches!(self.slots[i].state, State::Up(_) | State::Paused(_)) {
            self.obs.stats.crashes += 1;
            self.stop(node, DownReason::Crashed);
        }
        if power_loss {
            self.obs.stats.power_losses += 1;
            let s = &mut self.slots[i];
            s.disk.borrow_mut().power_loss();
            s.epoch_file.power_loss();
            self.record(Some(node), &kinds::POWER_LOSS, 0, 0);
            self.lose_unsynced_writes(node);
            self.obs
                .checkers
                .observe(self.now, Observation::PowerLost { node });
        }
        if self.injector.take_rollback(node) {
            self.roll_back_epoch(node);
        }
    }

    /// A power loss on a down node's store: it keeps what synced and a
    /// seeded whole-batch prefix of what did not (fjall: and a torn part
    /// of the next batch, for its recovery to cut).
    fn lose_unsynced_writes(&mut self, node: u8) {
        let i = usize::from(node);
        let seq = self.slots[i].power_seq;
        self.slots[i].power_seq += 1;
        let Some((closed, journal)) = self.slots[i].closed.as_mut() else {
            return;
        };
        let unsynced = journal.unsynced_batches() as u64;
        let draw = self.power[i].draw(seq);
        let keep = draw.range(0, 0, unsynced) as usize;
        let torn = draw.range(1, 0, 1_000) as f64 / 1_000.0;
        match closed.power_loss(journal, keep, torn) {
            Ok(rows) => {
                self.record(Some(node), &kinds::POWER_LOSS_KEPT, keep as u64, unsynced);
                if rows > 0 {
                    self.mark(SimMark::PowerLossUnsyncedRegistry);
                }
            }
            Err(e) => self.store_failure("store-open", node, format!("power loss: {e}")),
        }
    }

    /// An armed crash is not in the schedule, so neither is its restart:
    /// the down time comes from the node's fault stream, keyed by how many
    /// armed crashes it has had.
    pub(super) fn restart_after_armed_crash(&mut self, node: u8) {
        let down_us = self.injector.down_after_armed_crash(node);
        self.push(self.now + down_us, Ev::ArmedRestart { node });
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
