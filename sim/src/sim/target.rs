//! The native engine's side of the schedule's events: its [`Target`]
//! (each event kind in [`crate::faults`] decides when it applies), crashes
//! and power loss on its disks and stores, resuming a paused node.

use super::*;
use crate::world::target::{self, Books, Injection, Life, Target};

/// The native engine's primitives.
impl Target for Sim<'_> {
    fn life(&self, node: u8) -> Life {
        Life::of(&self.c.nodes[usize::from(node)].state)
    }

    fn books<R>(&mut self, f: impl FnOnce(Books<'_>) -> R) -> R {
        f(Books::at(
            &mut self.c.obs,
            &mut self.c.injector,
            self.clock.now(),
        ))
    }

    fn fulls(&self) -> Vec<u64> {
        self.c.fulls()
    }

    fn first_dek(&self) -> u32 {
        self.c.sc.deks[0]
    }

    fn next_pid(&mut self) -> u64 {
        self.c.clients.next_pid()
    }

    fn crash(&mut self, node: u8, power_loss: bool) {
        Sim::crash(self, node, power_loss);
    }

    fn restart(&mut self, node: u8) {
        Sim::restart(self, node);
    }

    fn pause(&mut self, node: u8) -> bool {
        self.c.nodes[usize::from(node)].state.set_paused(true)
    }

    fn resume(&mut self, node: u8) {
        Sim::resume(self, node);
    }

    fn roll_back_epoch(&mut self, node: u8) {
        Sim::roll_back_epoch(self, node);
    }

    fn preset_epoch(&mut self, node: u8, epoch: u16) {
        let slot = &mut self.slots[usize::from(node)];
        let who = (node, self.c.nodes[usize::from(node)].member.full);
        let books = Books::at(&mut self.c.obs, &mut self.c.injector, self.c.now);
        target::preset_epoch_file(books, &mut slot.epoch_file, who, epoch);
    }

    fn queue_corruption(&mut self, node: u8, corruption: (u8, u32, crate::store::Corruption)) {
        self.c.nodes[usize::from(node)].corruptions.push(corruption);
    }

    fn partition(&mut self, side: &[u8]) {
        self.network.partition(side);
    }

    fn one_way(&mut self, from: u8, to: u8) {
        self.network.cut(from, to);
    }

    fn heal(&mut self) {
        self.network.heal();
    }

    fn client_command(&mut self, node: u8, dek: u32) {
        let cmd = self.c.clients.command(node, dek);
        self.client_attempt(cmd);
    }

    fn snapshot(&mut self, node: u8) {
        let min_new = self.c.sc.snapshots.keep_entries;
        let mut taken = None;
        self.with_core(node, |core, _, _| {
            taken = core.take_snapshot(min_new)?;
            Ok(false)
        });
        if let Some(index) = taken {
            let disk = self.slots[usize::from(node)].disk.clone();
            let disk = disk.borrow();
            let snapshot = &disk.written().snapshot;
            self.c
                .obs
                .snapshot_taken(self.clock.now(), node, index, snapshot);
        }
    }

    fn inject(&mut self, via: u8, injection: Injection) {
        let Injection {
            data,
            injected,
            kind,
            a,
            b,
        } = injection;
        if self.propose(via, data) {
            self.c.injector.record(injected);
            self.c.record(Some(via), kind, a, b);
        }
    }

    fn owe_liveness(&mut self) {
        self.liveness_deadline = Some(self.clock.now() + self.c.sc.liveness_bound_ms * 1000);
    }
}

impl Sim<'_> {
    pub(super) fn resume(&mut self, node: u8) {
        if self.c.nodes[usize::from(node)].state.set_paused(false) {
            let held = std::mem::take(&mut self.slots[usize::from(node)].held);
            self.c
                .record(Some(node), &kinds::RESUME, held.len() as u64, 0);
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
        let slot = &mut self.slots[usize::from(node)];
        let who = (node, self.c.nodes[usize::from(node)].member.full);
        let books = Books::at(&mut self.c.obs, &mut self.c.injector, self.c.now);
        target::roll_back_epoch_file(books, &mut slot.epoch_file, who);
    }

    pub(super) fn crash(&mut self, node: u8, power_loss: bool) {
        let i = usize::from(node);
        if self.c.nodes[i].state.exists() {
            self.c.obs.stats.crashes += 1;
            self.stop(node, DownReason::Crashed);
        }
        if power_loss {
            self.c.obs.stats.power_losses += 1;
            let s = &mut self.slots[i];
            s.disk.borrow_mut().power_loss();
            s.epoch_file.power_loss();
            self.c.record(Some(node), &kinds::POWER_LOSS, 0, 0);
            self.lose_unsynced_writes(node);
            self.c
                .obs
                .checkers
                .observe(self.clock.now(), Observation::PowerLost { node });
        }
        if self.c.injector.take_rollback(node) {
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
                self.c
                    .record(Some(node), &kinds::POWER_LOSS_KEPT, keep as u64, unsynced);
                if rows > 0 {
                    self.c.mark(SimMark::PowerLossUnsyncedRegistry);
                }
            }
            Err(e) => self
                .c
                .store_failure("store-open", node, format!("power loss: {e}")),
        }
    }

    /// An armed crash is not in the schedule, so neither is its restart:
    /// the down time comes from the node's fault stream, keyed by how many
    /// armed crashes it has had.
    pub(super) fn restart_after_armed_crash(&mut self, node: u8) {
        let down_us = self.c.injector.down_after_armed_crash(node);
        self.push(self.clock.now() + down_us, Ev::ArmedRestart { node });
    }
}
