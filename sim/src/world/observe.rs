//! The observing side of a world, written once for every runtime: what a
//! node core reports (applies, halts, guards, restores, leaders) and what
//! the world saw happen to it (stores that failed or fired a fault, cut
//! writes, synced rows) goes into the trace, the coverage marks and the
//! run's counters, and reaches the checkers as observations.
//!
//! A world owns one [`Observer`] and one [`Member`] per node; it keeps the
//! clock and passes the time in.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use writer_registry::startup::{GuardStage, Refusal};
use writer_registry::wire::{self, Registration};
use writer_registry::{Halt, HaltRecord, Outcome};

use super::clients::{Attempt, Clients};
use super::cluster::MemberBooks;
use super::{outcome_name, Stats};
use crate::disk::LogImage;
use crate::error::HarnessError;
use crate::marks::SimMark;
use crate::node;
use crate::oracle::checkers::{Checkers, Observation, RowCorruption, StartOutcome};
use crate::oracle::purpose::Incarnation;
use crate::store::{Corruption, Image, StoreOp, SyncedRowChange};
use crate::trace::kinds::{self, Kind};
use crate::trace::Trace;
use regsim_engine::in_flight::{Arrival, Envelope};
use regsim_engine::oracle::observation::RaftObservation;

/// The harness's books on one cluster member across its incarnations.
#[derive(Debug)]
pub struct Member {
    /// Its full node id (from its name).
    pub full: u64,
    /// Incarnations ended so far: the running one's number.
    pub incarnation: u32,
    /// Highest index applied before the last restart (replay window edge).
    pub high_water: u64,
    /// Highest index applied (or restored) by any incarnation so far.
    pub applied_max: u64,
    /// Index of the last halt, to see it hit again after a restart.
    pub halted_at: Option<u64>,
    /// Registry row changes the node's store synced, until the checkers
    /// see them (filled only with the oracles on).
    pub synced_rows: Rc<RefCell<Vec<SyncedRowChange>>>,
    /// Row corruptions injected while down, done when the store reopens
    /// (nothing reads a closed store): (target member, dek, how).
    pub corruptions: Vec<(u8, u32, Corruption)>,
}

impl MemberBooks for Member {
    fn incarnation(&self) -> u32 {
        self.incarnation
    }

    /// The next incarnation's replay window reaches what this one
    /// applied.
    fn ended(&mut self) {
        self.incarnation += 1;
        self.high_water = self.high_water.max(self.applied_max);
    }

    fn not_started(&mut self) {
        self.incarnation += 1;
    }
}

impl Member {
    pub(crate) fn new(full: u64) -> Self {
        Member {
            full,
            incarnation: 0,
            high_water: 0,
            applied_max: 0,
            halted_at: None,
            synced_rows: Default::default(),
            corruptions: Vec::new(),
        }
    }

    /// The running incarnation, as the checkers name it.
    pub(crate) fn who(&self, node: u8) -> Incarnation {
        (node, self.incarnation)
    }
}

/// The trace, the marks, the counters and the checkers of one run.
pub(crate) struct Observer {
    pub checkers: Checkers,
    pub trace: Trace,
    pub stats: Stats,
    pub marks: BTreeMap<&'static str, u64>,
    /// Set when the machine failed the run (no verdict follows).
    pub harness_error: Option<HarnessError>,
    /// First index at which each registration (dek, full, epoch) committed.
    committed_registrations: BTreeMap<(u32, u64, u16), u64>,
    /// The scenario's deks (every incarnation registers each).
    pub deks: Vec<u32>,
}

impl Observer {
    pub(crate) fn new(checkers: Checkers, trace: Trace, deks: Vec<u32>) -> Self {
        Observer {
            checkers,
            trace,
            stats: Stats::default(),
            marks: BTreeMap::new(),
            harness_error: None,
            committed_registrations: BTreeMap::new(),
            deks,
        }
    }

    pub(crate) fn mark(&mut self, mark: SimMark) {
        *self.marks.entry(mark.name()).or_default() += 1;
    }

    pub(crate) fn record(
        &mut self,
        now: u64,
        node: Option<u8>,
        kind: &'static Kind,
        a: u64,
        b: u64,
    ) {
        self.trace.record(now, node, kind, a, b);
    }

    pub(crate) fn violation(&mut self, now: u64, oracle: &str, node: Option<u8>, detail: String) {
        self.checkers.violation(oracle, node, now, detail);
    }

    /// A store that could not be opened, read or written: a violation of
    /// `oracle`, unless the machine ran out of a resource (files, space,
    /// memory), which ends the run as a harness error instead.
    pub(crate) fn store_failure(&mut self, now: u64, oracle: &str, node: u8, detail: String) {
        match crate::error::environment_cause(&detail) {
            Some(cause) => {
                self.harness_error
                    .get_or_insert(HarnessError::Environment(format!(
                        "{cause}: n{} at {now}us: {detail}",
                        node + 1
                    )));
            }
            None => self.violation(now, oracle, Some(node), detail),
        }
    }

    /// The harness's digest of the bytes a store holds (at a stop, and at
    /// a restart once the store is reopened): the hash sees state. A store
    /// that cannot be read back fails `store-open`.
    pub(crate) fn state(
        &mut self,
        now: u64,
        node: u8,
        digest: Result<(u64, u64), writer_registry::registry::StoreError>,
    ) {
        match digest {
            Ok((digest, pairs)) => self.record(now, Some(node), &kinds::STATE, digest, pairs),
            Err(e) => {
                self.record(now, Some(node), &kinds::STATE_UNREADABLE, 0, 0);
                let detail = format!("reading the store back: {e}");
                self.store_failure(now, "store-open", node, detail);
            }
        }
    }

    /// A report's view of the registry rows a store holds (see
    /// [`Trace::note_rows`]).
    pub(crate) fn note_rows(&mut self, now: u64, node: u8, image: Option<&Image>) {
        if let Some(image) = image.filter(|_| self.trace.keeps_events()) {
            let rows = image
                .iter()
                .filter(|((space, _), _)| *space == writer_registry::registry::Space::Registry)
                .map(|((_, k), v)| (k.as_slice(), v.as_slice()));
            self.trace.note_rows(now, node, rows);
        }
    }

    /// An injected store fault fired inside the call just made: the
    /// checkers learn it before they judge what the call reported.
    pub(crate) fn store_fault_fired(&mut self, now: u64, node: u8, fired: Option<StoreOp>) {
        if let Some(op) = fired {
            let code = u64::from(op == StoreOp::Sync);
            self.record(now, Some(node), &kinds::STORE_FAULT_FIRED, code, 0);
            self.checkers
                .observe(now, Observation::StoreFault { node, op });
        }
    }

    /// A crash cut the apply of `index` between its write and its sync:
    /// its effects may be in the store (the member's replay window reaches
    /// it), and the checkers learn what the harness's disk held there.
    pub(crate) fn write_cut(
        &mut self,
        now: u64,
        node: u8,
        member: &mut Member,
        index: u64,
        disk: &LogImage,
    ) {
        member.applied_max = member.applied_max.max(index);
        if !self.checkers.on() {
            return;
        }
        let cut = Observation::WriteCut {
            node,
            index,
            entry: disk.entry(index).map(|e| e.data.as_ref()),
            disk_hash: disk.snapshot_hash_at(index),
        };
        self.checkers.observe(now, cut);
    }

    /// The harness damaged a row of a down node's store (and synced it):
    /// `old` the bytes before, `value` after.
    pub(crate) fn row_corrupted(
        &mut self,
        now: u64,
        node: u8,
        (dek, node16): (u32, u16),
        (key, old, value): (Vec<u8>, Vec<u8>, Vec<u8>),
        how: crate::store::Corruption,
    ) {
        self.trace
            .record_bytes(now, Some(node), &kinds::ROW_CORRUPTED, &[&key, &value]);
        self.mark(how.mark());
        let corrupted = Observation::RowCorrupted(RowCorruption {
            node,
            dek,
            node16,
            key,
            old,
            value,
            how: how.name(),
        });
        self.checkers.observe(now, corrupted);
    }

    /// A node proposes its own registration under `dek` (START-6).
    pub(crate) fn registration_proposed(
        &mut self,
        now: u64,
        node: u8,
        member: &Member,
        (dek, proposal_id): (u32, u64),
        data: &[u8],
    ) {
        self.record(
            now,
            Some(node),
            &kinds::REGISTER,
            u64::from(dek),
            proposal_id,
        );
        let proposed = Observation::RegistrationProposed {
            who: member.who(node),
            proposal_id,
            data,
        };
        self.checkers.observe(now, proposed);
    }

    /// A node took `snapshot` of its state at `index` and compacted its log.
    pub(crate) fn snapshot_taken(
        &mut self,
        now: u64,
        node: u8,
        index: u64,
        snapshot: &raft::eraftpb::Snapshot,
    ) {
        self.stats.snapshots_taken += 1;
        self.record(now, Some(node), &kinds::SNAPSHOT, index, 0);
        let taken = Observation::SnapshotTaken {
            node,
            index,
            data: snapshot.get_data(),
            meta: snapshot.get_metadata(),
        };
        self.checkers.observe(now, taken);
    }

    /// A message that left as `sent` arrives: the engine's in-flight rule
    /// judges it (given each node's incarnation now and whether its link
    /// is cut now), and a drop at the receiver's host is traced.
    pub(crate) fn arrival(
        &mut self,
        now: u64,
        sent: Envelope,
        incarnation: impl Fn(u8) -> u32,
        cut: bool,
    ) -> Arrival {
        let arrival = sent.arrival(incarnation, cut);
        if arrival == Arrival::Dropped {
            let from = u64::from(sent.from);
            self.record(now, Some(sent.to), &kinds::DROP_ARRIVING, from, 0);
        }
        arrival
    }

    /// A raft message from `from` reached `to`'s running process: traced,
    /// and a snapshot shown to the checkers as delivered (their ground
    /// truth of what a restore may hold).
    pub(crate) fn delivered(&mut self, now: u64, to: u8, from: u8, msg: &raft::eraftpb::Message) {
        let kind = msg.get_msg_type() as u64;
        self.record(now, Some(to), &kinds::DELIVER, u64::from(from), kind);
        if msg.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot {
            let snap = msg.get_snapshot();
            let delivered = Observation::SnapshotDelivered {
                to,
                index: snap.get_metadata().index,
                data_hash: crate::fnv::fnv1a64(snap.get_data()),
            };
            self.checkers.observe(now, delivered);
        }
    }

    /// A client command's attempt reached `node` (its `member`, its
    /// running registry if up): the bytes to propose, encrypted once at
    /// the first node able to (an earlier attempt may have encrypted
    /// since this one left: its bytes are resent, never encrypted twice),
    /// with the nonce shown to the checkers and the proposal traced;
    /// `None` while no node could encrypt it.
    pub(crate) fn client_proposal<S: node::storage::NodeStore>(
        &mut self,
        now: u64,
        clients: &mut Clients,
        (node, member, app): (u8, &Member, Option<&node::Registry<S>>),
        cmd: usize,
        attempt: Attempt,
    ) -> Option<Vec<u8>> {
        let mut data = clients.data(cmd).or(attempt.data);
        if let Some(app) = app.filter(|app| data.is_none() && app.can_encrypt(attempt.dek)) {
            let (full, epoch) = (member.full, app.epoch());
            data = Some(clients.encrypt(cmd, node, full, epoch));
            let nonce = Observation::Nonce {
                who: member.who(node),
                dek: attempt.dek,
                node16: writer_registry::ids::node16(full),
                epoch,
            };
            self.checkers.observe(now, nonce);
        }
        if data.is_some() {
            self.stats.kv_proposed += 1;
            self.record(now, Some(node), &kinds::KV_PROPOSE, attempt.proposal_id, 0);
        }
        data
    }

    /// Hands the row changes a node's store synced to the checkers.
    pub(crate) fn rows_synced(&mut self, now: u64, node: u8, rows: &RefCell<Vec<SyncedRowChange>>) {
        let changes = std::mem::take(&mut *rows.borrow_mut());
        if !changes.is_empty() {
            let observation = Observation::RowsSynced {
                node,
                changes: &changes,
            };
            self.checkers.observe(now, observation);
        }
    }

    /// A stopped process's store, as the harness read it back.
    pub(crate) fn stopped(
        &mut self,
        now: u64,
        node: u8,
        store: &Image,
        library_digest: Option<writer_registry::StateDigest>,
        converged_end: bool,
    ) {
        let stopped = Observation::Stopped {
            node,
            store,
            library_digest,
            converged_end: converged_end && library_digest.is_some(),
        };
        self.checkers.observe(now, stopped);
    }

    /// Asks incarnation `who`'s start sequence, as a client would, under
    /// which deks it may now encrypt, and shows the checkers each answer
    /// (after a registration applied).
    pub(crate) fn gates<S: node::storage::NodeStore>(
        &mut self,
        now: u64,
        who: Incarnation,
        app: &node::Registry<S>,
    ) {
        let epoch = app.epoch();
        for &dek in &self.deks {
            let open = app.can_encrypt(dek);
            let gate = Observation::EncryptionGate {
                who,
                dek,
                epoch,
                open,
            };
            self.checkers.observe(now, gate);
        }
    }

    /// One apply: trace, marks, the checkers, the clients. `epoch`: the
    /// node's running incarnation's, if it is up.
    pub(crate) fn applied(
        &mut self,
        now: u64,
        node: u8,
        member: &mut Member,
        rec: node::ApplyRecord,
        epoch: Option<u16>,
        clients: &mut Clients,
    ) {
        let actual = outcome_name(&rec.result);
        trace_apply(&mut self.trace, now, node, &rec, actual);
        if rec.replay && rec.index <= member.high_water {
            self.mark(SimMark::ReplayAlreadyApplied);
        }
        if let Some(r) = wire::registration_of(&rec.data) {
            let own = (member.full, epoch, &self.deks[..]);
            for mark in registration_marks(&rec, r, &mut self.committed_registrations, own) {
                self.mark(mark);
            }
        }
        if let Err(halt) = &rec.result {
            if self.environment_halt(node, &rec, halt) {
                return;
            }
        }
        let observation = Observation::Applied {
            node,
            who: member.who(node),
            full: member.full,
            rec: &rec,
            outcome: actual,
            window_edge: member.high_water,
        };
        self.checkers.observe(now, observation);
        if let Ok(outcome) = &rec.result {
            member.applied_max = member.applied_max.max(rec.index);
            if let Outcome::Kv { proposal_id } = outcome {
                self.stats.kv_applied += 1;
                clients.applied(*proposal_id);
            }
        }
    }

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

    /// The FSM halted at `h`.
    pub(crate) fn halted(&mut self, now: u64, node: u8, member: &mut Member, h: &HaltRecord) {
        self.stats.halts += 1;
        match h.halt.kind() {
            writer_registry::HaltKind::KekNotConfigured
            | writer_registry::HaltKind::UnknownOpcode => self.mark(SimMark::ExoticEntryHalted),
            writer_registry::HaltKind::Store => self.mark(SimMark::StoreErrorHalted),
            _ => {}
        }
        self.record(now, Some(node), &kinds::HALT, h.index, 0);
        if member.halted_at.replace(h.index) == Some(h.index) {
            self.mark(SimMark::HaltRehitAfterRestart);
        }
    }

    /// A start begins on a store that reopened holding `image` (`None`:
    /// unreadable), `applied` its applied index; the epoch file reads
    /// `epoch` (written, synced) and the harness's disk holds commit
    /// `disk_commit`. `election_tick`: the incarnation's drawn timeout.
    pub(crate) fn start_begins(
        &mut self,
        now: u64,
        node: u8,
        member: &Member,
        (image, applied): (Option<&Image>, u64),
        epoch: (u16, u16),
        (disk_commit, election_tick): (u64, usize),
    ) {
        let inc = member.incarnation;
        let started = Observation::Started {
            node,
            inc,
            full: member.full,
            deks: &self.deks,
            store: image,
            epoch: epoch.0,
            disk_commit,
        };
        self.checkers.observe(now, started);
        let (inc, tick) = (u64::from(inc), election_tick as u64);
        self.record(now, Some(node), &kinds::START, inc, tick);
        let (written, synced) = (u64::from(epoch.0), u64::from(epoch.1));
        self.record(now, Some(node), &kinds::EPOCH_FILE, written, synced);
        self.record(now, Some(node), &kinds::DURABLE, applied, disk_commit);
    }

    /// The start that began with [`Self::start_begins`] ended; the epoch
    /// file reads `epoch_file` (written, synced).
    pub(crate) fn start_ended(
        &mut self,
        now: u64,
        node: u8,
        outcome: StartOutcome,
        epoch_file: (u16, u16),
    ) {
        let ended = Observation::StartEnded {
            node,
            outcome,
            epoch_file,
        };
        self.checkers.observe(now, ended);
    }

    /// What the registry reported besides its applies.
    pub(crate) fn note(&mut self, now: u64, node: u8, member: &Member, note: node::Note) {
        match note {
            node::Note::Guard {
                stage,
                epoch,
                result,
            } => self.guard(now, node, member, (stage, epoch), result),
            node::Note::EpochBumped { from, to } => {
                let (from, to) = (u64::from(from), u64::from(to));
                self.record(now, Some(node), &kinds::EPOCH_BUMP, from, to);
            }
        }
    }

    /// A guard of the start sequence decided.
    fn guard(
        &mut self,
        now: u64,
        node: u8,
        member: &Member,
        (stage, epoch): (GuardStage, u16),
        result: Result<(), Refusal>,
    ) {
        let strict = stage == GuardStage::AfterReplay;
        let refusal = result.as_ref().err().map(kinds::refusal);
        let decision = if refusal.is_some() {
            &kinds::GUARD_REFUSED
        } else {
            &kinds::GUARD_ALLOWED
        };
        let (strict, epoch) = (u64::from(strict), u64::from(epoch));
        self.record(now, Some(node), decision, strict, epoch);
        if let Some(kind) = refusal {
            self.record(now, Some(node), kind, strict, epoch);
        }
        let observation = Observation::Guard {
            who: member.who(node),
            full: member.full,
            result: &result,
        };
        self.checkers.observe(now, observation);
        if result.is_err() {
            self.stats.refusals += 1;
        }
    }

    /// A node became leader of `term`, its log as written `log`;
    /// `registrations_in_flight`: some node still waits for one of its own.
    pub(crate) fn leader(
        &mut self,
        now: u64,
        node: u8,
        term: u64,
        log: Option<&LogImage>,
        registrations_in_flight: bool,
    ) {
        self.stats.elections += 1;
        if self.stats.elections > 1 && registrations_in_flight {
            self.mark(SimMark::LeaderChangeRegistrationInFlight);
        }
        self.record(now, Some(node), &kinds::LEADER, term, 0);
        if let Some(log) = log {
            let leader = RaftObservation::Leader { node, term, log };
            self.checkers.observe(now, Observation::Raft(leader));
        }
    }

    /// A snapshot restore begins to be reported (the world records the
    /// state it left next, then calls [`Self::restored`]).
    pub(crate) fn restoring(
        &mut self,
        now: u64,
        node: u8,
        member: &Member,
        index: u64,
        replay: bool,
    ) {
        if !replay {
            self.stats.snapshot_installs += 1;
            if member.incarnation > 0 {
                self.mark(SimMark::SnapshotInstallRestarted);
            }
        }
        self.record(
            now,
            Some(node),
            &kinds::SNAPSHOT_RESTORED,
            index,
            u64::from(replay),
        );
    }

    /// A snapshot was restored; `disk_hash`: the snapshot the node's disk
    /// holds at `index`, if any.
    pub(crate) fn restored(
        &mut self,
        now: u64,
        node: u8,
        member: &mut Member,
        (index, replay): (u64, bool),
        disk_hash: Option<u64>,
    ) {
        let restored = Observation::Restored {
            node,
            index,
            replay,
            disk_hash,
            window_edge: member.high_water,
        };
        self.checkers.observe(now, restored);
        member.applied_max = member.applied_max.max(index);
    }
}

/// The apply at `now` and what it did to state, into the trace hash.
fn trace_apply(
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
fn registration_marks(
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
