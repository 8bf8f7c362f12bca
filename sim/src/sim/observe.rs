//! Feeding the oracles: every output of a node core is recorded in the
//! trace and shown to the checkers that judge it.

use super::*;

impl Sim<'_> {
    /// Shows the checkers the node's synced log, if a sync moved it since
    /// they last saw it (before the outputs that followed the sync).
    pub(super) fn observe_synced(&mut self, node: u8) {
        let i = usize::from(node);
        if !self.checkers.on() {
            return;
        }
        let disk = self.slots[i].disk.clone();
        let disk = disk.borrow();
        if disk.syncs() != self.slots[i].seen_syncs {
            self.slots[i].seen_syncs = disk.syncs();
            let synced = Observation::Synced {
                node,
                log: disk.synced(),
            };
            self.checkers.observe(self.now, synced);
        }
    }

    /// After a registration applied on `node`: its encryption gates.
    pub(super) fn probe_encryption(&mut self, node: u8) {
        let s = &self.slots[usize::from(node)];
        let State::Up(core) = &s.state else { return };
        let who = (node, s.incarnation);
        observe_gates(&mut self.checkers, self.now, who, core, &self.sc.deks);
    }

    /// Shows the checkers a message as it leaves, with the sender's disk.
    fn observe_send(&mut self, from: u8, msg: &raft::eraftpb::Message) {
        if !self.checkers.on() {
            return;
        }
        let disk = self.slots[usize::from(from)].disk.clone();
        let disk = disk.borrow();
        let sent = Observation::Sent {
            from,
            msg,
            synced: disk.synced(),
            written: disk.written(),
        };
        self.checkers.observe(self.now, sent);
    }

    /// Hands the row changes the node's store synced to the checkers.
    pub(super) fn drain_row_changes(&mut self, node: u8) {
        let changes = std::mem::take(&mut *self.slots[usize::from(node)].synced_rows.borrow_mut());
        if !changes.is_empty() {
            let observation = Observation::RowsSynced {
                node,
                changes: &changes,
            };
            self.checkers.observe(self.now, observation);
        }
    }

    pub(super) fn process_outputs(&mut self, node: u8, out: &mut Vec<Output<TrackedStore>>) {
        for o in out.drain(..) {
            match o {
                Output::Send(m) => {
                    self.observe_send(node, &m);
                    self.send(node, m)
                }
                Output::Sync { ready } => {
                    let i = usize::from(node);
                    let s = &mut self.slots[i];
                    let seq = s.sync_seq;
                    s.sync_seq += 1;
                    let st = &self.sc.storage;
                    let lat = self.storage[i]
                        .draw(seq)
                        .range(0, st.sync_us[0], st.sync_us[1]);
                    let at = (self.now + lat).max(s.sync_free_at);
                    s.sync_free_at = at;
                    let inc = s.incarnation;
                    self.push(at, Ev::SyncDone { node, inc, ready });
                }
                Output::Applied(rec) => self.on_applied(node, rec),
                Output::Halted(h) => {
                    self.stats.halts += 1;
                    match h.halt.kind() {
                        writer_registry::HaltKind::KekNotConfigured
                        | writer_registry::HaltKind::UnknownOpcode => {
                            self.mark(SimMark::ExoticEntryHalted)
                        }
                        writer_registry::HaltKind::Store => self.mark(SimMark::StoreErrorHalted),
                        _ => {}
                    }
                    self.record(Some(node), &kinds::HALT, h.index, 0);
                    let slot = &mut self.slots[usize::from(node)];
                    if slot.halted_at.replace(h.index) == Some(h.index) {
                        self.mark(SimMark::HaltRehitAfterRestart);
                    }
                }
                Output::Note(Note::Guard {
                    stage,
                    epoch,
                    result,
                }) => self.on_guard(node, stage, epoch, result),
                Output::Note(Note::EpochBumped { from, to }) => self.record(
                    Some(node),
                    &kinds::EPOCH_BUMP,
                    u64::from(from),
                    u64::from(to),
                ),
                Output::SnapshotRestored { index, replay } => self.on_restored(node, index, replay),
                Output::BecameLeader { term } => {
                    self.stats.elections += 1;
                    let in_flight = self.slots.iter().any(|s| matches!(&s.state, State::Up(c) | State::Paused(c) if !c.app().unregistered_deks().is_empty()));
                    if self.stats.elections > 1 && in_flight {
                        self.mark(SimMark::LeaderChangeRegistrationInFlight);
                    }
                    self.record(Some(node), &kinds::LEADER, term, 0);
                    let disk = self.slots[usize::from(node)].disk.clone();
                    let disk = disk.borrow();
                    let log = disk.written();
                    self.checkers
                        .observe(self.now, Observation::Leader { node, term, log });
                }
            }
        }
    }

    pub(super) fn on_applied(&mut self, node: u8, rec: node::ApplyRecord) {
        let i = usize::from(node);
        let actual = outcome_name(&rec.result);
        trace_apply(&mut self.trace, self.now, node, &rec, actual);
        if rec.replay && rec.index <= self.slots[i].high_water {
            self.mark(SimMark::ReplayAlreadyApplied);
        }
        if let Some(r) = wire::registration_of(&rec.data) {
            let epoch = match &self.slots[i].state {
                State::Up(core) | State::Paused(core) => Some(core.app().epoch()),
                State::Down(_) => None,
            };
            let own = (self.slots[i].full, epoch, &self.sc.deks[..]);
            for mark in registration_marks(&rec, r, &mut self.committed_registrations, own) {
                self.mark(mark);
            }
        }
        if let Err(halt) = &rec.result {
            if self.environment_halt(node, &rec, halt) {
                return;
            }
        }
        let s = &self.slots[i];
        let observation = Observation::Applied {
            node,
            who: (node, s.incarnation),
            full: s.full,
            rec: &rec,
            outcome: actual,
            window_edge: s.high_water,
        };
        self.checkers.observe(self.now, observation);
        if let Ok(outcome) = &rec.result {
            let s = &mut self.slots[i];
            s.applied_max = s.applied_max.max(rec.index);
            if let Outcome::Kv { proposal_id } = outcome {
                self.stats.kv_applied += 1;
                self.clients.applied(*proposal_id);
            }
        }
    }
}

/// Asks incarnation `who`'s start sequence, as a client would, under which
/// of `deks` it may now encrypt, and shows the checkers each answer (both
/// worlds call this after a registration applied).
pub(crate) fn observe_gates<L: node::storage::RaftLog, S: node::storage::NodeStore>(
    checkers: &mut crate::oracle::checkers::Checkers,
    now: u64,
    who: crate::oracle::purpose::Incarnation,
    core: &node::NodeCore<L, S>,
    deks: &[u32],
) {
    let epoch = core.app().epoch();
    for &dek in deks {
        let open = core.app().can_encrypt(dek);
        let gate = Observation::EncryptionGate {
            who,
            dek,
            epoch,
            open,
        };
        checkers.observe(now, gate);
    }
}

/// The apply at `now` and what it did to state, into the trace hash.
pub(crate) fn trace_apply(
    trace: &mut Trace,
    now: u64,
    node: u8,
    rec: &node::ApplyRecord,
    actual: &'static str,
) {
    let kind = if rec.replay {
        &kinds::REPLAY
    } else {
        &kinds::APPLY
    };
    // The entry's bytes show in the line (for `regsim inspect entry`);
    // the outcome and the row below put its effect in the hash.
    trace.record_entry(now, Some(node), kind, rec.index, rec.term, &rec.data);
    // What the apply did, and the row it left: state, in the hash.
    // The second number: the apply returned before its writes synced.
    let outcome = kinds::outcome(&rec.result);
    debug_assert_eq!(outcome.name(), actual);
    trace.record(now, Some(node), outcome, rec.index, u64::from(rec.unsynced));
    if let Some((key, value)) = &rec.row {
        match value {
            Some(v) => trace.record_bytes(now, Some(node), &kinds::ROW, &[key, v]),
            None => trace.record_bytes(now, Some(node), &kinds::ROW, &[key]),
        }
    }
}

/// Coverage marks of a registration's apply on a node whose full id is
/// `full`, running at `epoch` (if up) with `deks` configured; `committed`
/// keeps the first index at which each registration (dek, full, epoch)
/// committed.
pub(crate) fn registration_marks(
    rec: &node::ApplyRecord,
    r: Registration,
    committed: &mut BTreeMap<(u32, u64, u16), u64>,
    (full, epoch, deks): (u64, Option<u16>, &[u32]),
) -> Vec<SimMark> {
    let mut marks = Vec::new();
    if !rec.replay && r.full_node_id == full {
        // START-7's rare order: an older incarnation's registration
        // applies on its successor after the successor joined.
        if epoch.is_some_and(|e| r.local_epoch < e) {
            marks.push(SimMark::OldRegistrationAfterJoin);
        }
        // A later dek's registration of this epoch before an earlier one's.
        let earlier = deks.iter().take_while(|&&d| d != r.dek);
        if epoch == Some(r.local_epoch)
            && earlier
                .clone()
                .any(|&d| !committed.contains_key(&(d, full, r.local_epoch)))
        {
            marks.push(SimMark::RegistrationOutOfOrder);
        }
    }
    let row_last = rec
        .row
        .as_ref()
        .and_then(|(_, v)| v.as_deref())
        .filter(|v| v.len() == 12 && v[..8] == r.full_node_id.to_be_bytes())
        .map(|v| u16::from_be_bytes([v[10], v[11]]));
    // The registrant's own row, after the apply: only a later entry
    // of the same writer can have taken it past this epoch (a
    // rollback halt leaves it untouched; an apply cannot pass it).
    if rec.replay && row_last.is_some_and(|last| last > r.local_epoch) {
        marks.push(SimMark::ReplayOverLaterRow);
    }
    let first = *committed
        .entry((r.dek, r.full_node_id, r.local_epoch))
        .or_insert(rec.index);
    if first != rec.index && !rec.replay {
        marks.push(SimMark::DuplicateRegistrationCommit);
    }
    marks
}

impl Sim<'_> {
    /// A halt from a store that failed for want of a machine resource:
    /// the run ends as a harness error (true), with no verdict.
    fn environment_halt(&mut self, node: u8, rec: &node::ApplyRecord, halt: &Halt) -> bool {
        if halt.kind() != writer_registry::HaltKind::Store {
            return false;
        }
        let Some(cause) = crate::error::environment_cause(&halt.to_string()) else {
            return false;
        };
        self.harness_error
            .get_or_insert(HarnessError::Environment(format!(
                "{cause}: n{} applying entry {}: {halt}",
                node + 1,
                rec.index
            )));
        true
    }

    pub(super) fn on_restored(&mut self, node: u8, index: u64, replay: bool) {
        let i = usize::from(node);
        if !replay {
            self.stats.snapshot_installs += 1;
            if self.slots[i].incarnation > 0 {
                self.mark(SimMark::SnapshotInstallRestarted);
            }
        }
        self.record(
            Some(node),
            &kinds::SNAPSHOT_RESTORED,
            index,
            u64::from(replay),
        );
        if let State::Up(core) | State::Paused(core) = &self.slots[i].state {
            // Into the trace: every byte the restore left.
            let digest = crate::store::state_digest(core.app().fsm().store());
            // A report folds row changes onto the last scan; a restore
            // replaces every row at once, so it needs a scan of its own
            // (kept, never hashed: the digest above covers the bytes).
            let image = self
                .trace
                .keeps_events()
                .then(|| scan_image(core.app().fsm().store()).ok())
                .flatten();
            self.record_state(node, digest);
            self.note_rows(node, image.as_ref());
        }
        // The snapshot a start restores is the one its disk holds.
        let disk_hash = self.slots[i]
            .disk
            .borrow()
            .written()
            .snapshot_hash_at(index);
        let restored = Observation::Restored {
            node,
            index,
            replay,
            disk_hash,
            window_edge: self.slots[i].high_water,
        };
        self.checkers.observe(self.now, restored);
        let s = &mut self.slots[i];
        s.applied_max = s.applied_max.max(index);
    }

    pub(super) fn on_guard(
        &mut self,
        node: u8,
        stage: GuardStage,
        epoch: u16,
        result: Result<(), Refusal>,
    ) {
        let i = usize::from(node);
        let strict = stage == GuardStage::AfterReplay;
        let refusal = result.as_ref().err().map(kinds::refusal);
        let decision = if refusal.is_some() {
            &kinds::GUARD_REFUSED
        } else {
            &kinds::GUARD_ALLOWED
        };
        self.record(Some(node), decision, u64::from(strict), u64::from(epoch));
        if let Some(kind) = refusal {
            self.record(Some(node), kind, u64::from(strict), u64::from(epoch));
        }
        let (full, inc) = (self.slots[i].full, self.slots[i].incarnation);
        let observation = Observation::Guard {
            who: (node, inc),
            full,
            result: &result,
        };
        self.checkers.observe(self.now, observation);
        if result.is_err() {
            self.stats.refusals += 1;
        }
    }
}
