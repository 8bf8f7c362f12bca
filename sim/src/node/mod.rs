//! The node core: one Raft member running the writer-registry FSM.
//!
//! Sans-IO: it takes ticks, messages, proposals, sync completions and
//! snapshot requests as method calls and reports what happened as
//! [`Output`]s (messages to send, syncs to schedule, applies, halts). It
//! owns no clock, socket or random source; the driver decides when
//! anything happens. A crash is the driver dropping the core; what
//! survives is the disk, the epoch file and the store's journal.

use std::collections::VecDeque;

use raft::eraftpb::{Entry, Message, Snapshot};
use raft::{Config, RawNode, StateRole};
use writer_registry::start::{Event, Request, StartSequence};
use writer_registry::startup::{GuardStage, Refusal};
use writer_registry::wire::{self, Registration};
use writer_registry::{Fsm, Halt, HaltRecord, Outcome, PersistPolicy};

pub mod storage;
#[cfg(test)]
mod tests;

use storage::{EpochStore, LogOp, NodeStore, RaftLog};

/// Fixed facts about a node.
#[derive(Debug, Clone)]
pub struct NodeParams {
    /// 0-based position in the cluster; raft id is `index + 1`.
    pub index: u8,
    pub full_node_id: u64,
    pub deks: Vec<u32>,
    pub policy: PersistPolicy,
    pub election_tick: usize,
    pub heartbeat_tick: usize,
    /// The run's mutant (the `mutants` feature), `()` otherwise.
    pub mutant: writer_registry::MutantSlot,
}

impl NodeParams {
    pub fn raft_id(&self) -> u64 {
        u64::from(self.index) + 1
    }
}

/// The steps of handling a Ready, where an armed crash can strike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadyStep {
    /// After sending `messages()`, before writing the Ready to disk.
    AfterSend,
    /// After the write, before its sync.
    AfterWrite,
    /// After the sync, before sending `persisted_messages()`.
    AfterSync,
    /// After the persisted messages, before applying committed entries.
    AfterPersistedSend,
    /// After the first of several committed entries is applied.
    MidApply,
}

impl ReadyStep {
    pub const ALL: [ReadyStep; 5] = [
        ReadyStep::AfterSend,
        ReadyStep::AfterWrite,
        ReadyStep::AfterSync,
        ReadyStep::AfterPersistedSend,
        ReadyStep::MidApply,
    ];
}

/// Where the process can die inside the core: the driver's fault injector
/// decides, the core only asks at each point. The core holds no fault
/// state of its own.
pub trait CrashPoints {
    /// Does the process die at `step` of the Ready being handled?
    fn at_ready_step(&mut self, step: ReadyStep) -> bool;
    /// Does it die now, with its own registration's commit persisted and
    /// the registration not yet applied (asked only at such a point)?
    fn before_own_registration_applies(&mut self) -> bool;
    /// Does it die now, with its own registration under one DEK applied
    /// and another DEK's still to come (asked only at such a point)?
    fn between_own_registrations(&mut self) -> bool {
        false
    }
    /// Does it die now, a leader about to step the first acknowledgement
    /// of its own registration, not yet committed (asked only then)?
    fn own_registration_acked(&mut self) -> bool {
        false
    }
}

/// No crashes: a node outside any fault injection.
pub struct NoCrashes;

impl CrashPoints for NoCrashes {
    fn at_ready_step(&mut self, _: ReadyStep) -> bool {
        false
    }
    fn before_own_registration_applies(&mut self) -> bool {
        false
    }
}

fn check(crash: &mut dyn CrashPoints, step: ReadyStep) -> Result<(), Crashed> {
    if crash.at_ready_step(step) {
        return Err(CRASHED);
    }
    Ok(())
}

/// One apply, as the oracles need to see it.
#[derive(Debug, Clone)]
pub struct ApplyRecord {
    pub index: u64,
    pub term: u64,
    pub data: Vec<u8>,
    pub result: Result<Outcome, Halt>,
    /// Applied during the startup replay (step 4), before joining.
    pub replay: bool,
    /// The FSM digest right after this apply.
    pub digest: writer_registry::StateDigest,
    /// For a registration: its row key and the row's bytes right after.
    pub row: Option<(Vec<u8>, Option<Vec<u8>>)>,
    /// Writes were still unsynced when the apply returned (the spec
    /// requires every write to be durable first).
    pub unsynced: bool,
}

/// Builds the record of one apply, reading the state it left behind.
/// `unsynced_before` is the journal's unsynced batch count before the
/// apply: any more after it are this apply's own writes, not yet durable.
fn record<S: NodeStore>(
    fsm: &Fsm<S>,
    entry: &Entry,
    result: Result<Outcome, Halt>,
    replay: bool,
    unsynced_before: usize,
) -> ApplyRecord {
    let row = wire::registration_of(&entry.data).map(|r| {
        let key = writer_registry::RowKey {
            dek: r.dek,
            node16: writer_registry::ids::node16(r.full_node_id),
        };
        (
            key.encode().to_vec(),
            fsm.store().get_row(&key).ok().flatten(),
        )
    });
    ApplyRecord {
        index: entry.index,
        term: entry.term,
        data: entry.data.to_vec(),
        result,
        replay,
        digest: fsm.digest(),
        row,
        unsynced: fsm.store().unsynced_writes() > unsynced_before,
    }
}

/// What the core asks of its driver or reports to the oracles.
#[derive(Debug, Clone)]
pub enum Output {
    Send(Message),
    /// Schedule the sync of Ready `ready`; call [`NodeCore::sync_done`]
    /// for it later, in Ready order.
    Sync {
        ready: u64,
    },
    Applied(ApplyRecord),
    Halted(HaltRecord),
    Guard {
        stage: GuardStage,
        epoch: u16,
        result: Result<(), Refusal>,
    },
    EpochBumped {
        from: u16,
        to: u16,
    },
    SnapshotRestored {
        index: u64,
        replay: bool,
    },
    BecameLeader {
        term: u64,
    },
}

/// Why a start did not produce a running node.
#[derive(Debug)]
pub enum StartFailure {
    Refused(Refusal),
    Halted(HaltRecord),
    /// An armed crash struck during the replay, cutting the apply of `partial`.
    Crashed {
        partial: Option<u64>,
    },
    /// The store could not be opened or read (a violation).
    Store(String),
}

/// A start that did not produce a running node, and the store it leaves
/// (absent when the store itself could not be read).
#[derive(Debug)]
pub struct NotStarted<S> {
    pub failure: StartFailure,
    pub store: Option<S>,
}

fn not_started<S>(failure: StartFailure, store: Option<S>) -> Box<NotStarted<S>> {
    Box::new(NotStarted { failure, store })
}

/// An armed crash fired: the driver must kill the node now. `partial` is
/// the index whose apply was cut between its write and its sync: its
/// effects may already be in the store, so the replay window reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crashed {
    pub partial: Option<u64>,
}

const CRASHED: Crashed = Crashed { partial: None };

struct InFlight {
    number: u64,
    seq: u64,
    persisted: Vec<Message>,
    committed: Vec<Entry>,
    snapshot: Option<Snapshot>,
}

/// A running node.
pub struct NodeCore<L: RaftLog, S: NodeStore> {
    params: NodeParams,
    raw: RawNode<L>,
    fsm: Fsm<S>,
    inflight: VecDeque<InFlight>,
    /// The start sequence, joined: it knows which deks may encrypt.
    sequence: StartSequence,
    was_leader: bool,
}

/// Drives the library's start sequence ([`StartSequence`], the spec's
/// START-1..START-5) over this node's epoch file, log and FSM and, if
/// nothing refuses or halts, joins the cluster (START-6; registrations are
/// proposed by the driver through [`NodeCore::unregistered_deks`]).
pub fn start<L: RaftLog, S: NodeStore, E: EpochStore>(
    params: NodeParams,
    mut log: L,
    epoch_file: &mut E,
    store: S,
    logger: &slog::Logger,
    out: &mut Vec<Output>,
) -> Result<NodeCore<L, S>, Box<NotStarted<S>>> {
    // The log as the process reads it may hold a crashed predecessor's
    // unsynced writes (the page cache survives a process crash): sync it
    // before replaying from it or handing it to raft-rs, which both take
    // it as persisted. Without this a replay applies entries up to a
    // commit index a power loss then takes back, and the FSM ends ahead
    // of its log (raft-rs refuses to start: applied out of range).
    if !writer_registry::mutated!(params.mutant, LogNotSyncedOnOpen) {
        log.sync_all();
    }
    // START-1: open the state machine (its durable state).
    let mut fsm = match Fsm::open_with(store, params.policy, params.mutant) {
        Ok(fsm) => fsm,
        Err(e) => return Err(not_started(StartFailure::Store(e.to_string()), None)),
    };
    let mut sequence = StartSequence::new(params.full_node_id, params.deks.clone(), params.mutant);
    let mut event = Event::Begin;
    loop {
        let next = sequence
            .on(event, fsm.store())
            .unwrap_or_else(|e| panic!("{} {e}", crate::panics::DRIVER_CONTRACT));
        if let Some(d) = next.decision {
            out.push(Output::Guard {
                stage: d.stage,
                epoch: d.epoch,
                result: d.result,
            });
        }
        event = match next.request {
            Request::ReadEpochFile => Event::EpochRead(epoch_file.read()),
            Request::WriteEpochFile { epoch, sync } => {
                let from = epoch_file.read();
                epoch_file.write(epoch);
                if sync {
                    epoch_file.sync();
                }
                out.push(Output::EpochBumped { from, to: epoch });
                Event::EpochWritten {
                    applied_index: fsm.applied_index(),
                    snapshot_index: log.held_snapshot().get_metadata().index,
                    commit_index: log.persisted_commit(),
                }
            }
            Request::RestoreSnapshot { .. } => match restore_from_disk(&mut fsm, &log, out) {
                Ok(()) => Event::SnapshotRestored {
                    index: fsm.applied_index(),
                },
                Err(failure) => return Err(not_started(failure, Some(fsm.into_store()))),
            },
            Request::Replay { from, to } => {
                match replay(&mut fsm, &log, from, replay_end(&params, to), out) {
                    Ok(None) => Event::Replayed,
                    Ok(Some(record)) => {
                        out.push(Output::Halted(record.clone()));
                        return Err(not_started(
                            StartFailure::Halted(record),
                            Some(fsm.into_store()),
                        ));
                    }
                    Err(failure) => return Err(not_started(failure, Some(fsm.into_store()))),
                }
            }
            Request::Refused(r) => {
                return Err(not_started(
                    StartFailure::Refused(r),
                    Some(fsm.into_store()),
                ))
            }
            Request::Join { .. } => return join(params, log, fsm, sequence, logger),
            Request::Halted | Request::EncryptionAllowed { .. } | Request::Wait => {
                unreachable!("the sequence asks for these only after a replay halt or a join")
            }
        };
    }
}

/// START-6: the Raft node joins with the FSM's applied index.
fn join<L: RaftLog, S: NodeStore>(
    params: NodeParams,
    log: L,
    fsm: Fsm<S>,
    sequence: StartSequence,
    logger: &slog::Logger,
) -> Result<NodeCore<L, S>, Box<NotStarted<S>>> {
    let e = params.election_tick;
    let config = Config {
        id: params.raft_id(),
        election_tick: e,
        min_election_tick: e,
        max_election_tick: e + 1,
        heartbeat_tick: params.heartbeat_tick,
        applied: fsm.applied_index(),
        pre_vote: true,
        check_quorum: true,
        max_inflight_msgs: 64,
        max_size_per_msg: 64 * 1024,
        ..Default::default()
    };
    let raw = match RawNode::new(&config, log, logger) {
        Ok(raw) => raw,
        Err(e) => {
            return Err(not_started(
                StartFailure::Store(format!("raft: {e}")),
                Some(fsm.into_store()),
            ))
        }
    };
    Ok(NodeCore {
        params,
        raw,
        fsm,
        inflight: VecDeque::new(),
        sequence,
        was_leader: false,
    })
}

/// START-4's first half: restore the snapshot the disk holds.
fn restore_from_disk<L: RaftLog, S: NodeStore>(
    fsm: &mut Fsm<S>,
    log: &L,
    out: &mut Vec<Output>,
) -> Result<(), StartFailure> {
    let snap = writer_registry::Snapshot::decode(log.held_snapshot().get_data())
        .map_err(|e| StartFailure::Store(format!("snapshot on disk: {e}")))?;
    if let Err(e) = fsm.restore(&snap) {
        return Err(crash_or_store(fsm, e.to_string(), snap.applied_index));
    }
    out.push(Output::SnapshotRestored {
        index: snap.applied_index,
        replay: true,
    });
    Ok(())
}

/// The last entry the replay applies: `to` (under the mutant, one short).
fn replay_end(params: &NodeParams, to: u64) -> u64 {
    if writer_registry::mutated!(params.mutant, ReplayStopsShort) {
        to.saturating_sub(1)
    } else {
        to
    }
}

/// START-4's second half: apply the held entries `from..=to`; the halt
/// that stops it, if any.
fn replay<L: RaftLog, S: NodeStore>(
    fsm: &mut Fsm<S>,
    log: &L,
    from: u64,
    to: u64,
    out: &mut Vec<Output>,
) -> Result<Option<HaltRecord>, StartFailure> {
    for index in from..=to {
        let Some(entry) = log.held_entry(index) else {
            return Err(StartFailure::Store(format!(
                "commit index {to} but entry {index} is not on disk"
            )));
        };
        let unsynced_before = fsm.store().unsynced_writes();
        let result = fsm.apply(index, &entry.data);
        if fsm.store().process_died() {
            return Err(StartFailure::Crashed {
                partial: Some(index),
            });
        }
        out.push(Output::Applied(record(
            fsm,
            &entry,
            result.clone(),
            true,
            unsynced_before,
        )));
        if let Err(halt) = result {
            return Ok(Some(HaltRecord { index, halt }));
        }
    }
    Ok(None)
}

fn crash_or_store<S: NodeStore>(fsm: &Fsm<S>, message: String, index: u64) -> StartFailure {
    if fsm.store().process_died() {
        StartFailure::Crashed {
            partial: Some(index),
        }
    } else {
        StartFailure::Store(message)
    }
}

impl<L: RaftLog, S: NodeStore> NodeCore<L, S> {
    pub fn params(&self) -> &NodeParams {
        &self.params
    }

    /// The local epoch this incarnation registers and encrypts with.
    pub fn epoch(&self) -> u16 {
        self.sequence.epoch()
    }

    /// The Raft log as this incarnation holds it.
    pub fn log(&self) -> &L {
        self.raw.store()
    }

    pub fn fsm(&self) -> &Fsm<S> {
        &self.fsm
    }

    /// Dies: returns what survives (the store and its journal).
    pub fn into_store(self) -> S {
        self.fsm.into_store()
    }

    pub fn is_leader(&self) -> bool {
        self.raw.raft.state == StateRole::Leader
    }

    pub fn term(&self) -> u64 {
        self.raw.raft.term
    }

    pub fn leader_id(&self) -> u64 {
        self.raw.raft.leader_id
    }

    pub fn commit_index(&self) -> u64 {
        self.raw.raft.raft_log.committed
    }

    pub fn last_index(&self) -> u64 {
        self.raw.raft.raft_log.last_index()
    }

    /// Deks whose own registration has not applied locally yet.
    pub fn unregistered_deks(&self) -> Vec<u32> {
        self.sequence.unregistered()
    }

    /// START-7: may this incarnation encrypt under `dek`?
    pub fn can_encrypt(&self, dek: u32) -> bool {
        self.sequence.may_encrypt(dek)
    }

    pub fn tick(
        &mut self,
        out: &mut Vec<Output>,
        crash: &mut dyn CrashPoints,
    ) -> Result<(), Crashed> {
        self.raw.tick();
        self.drive(out, crash)
    }

    pub fn step(
        &mut self,
        msg: Message,
        out: &mut Vec<Output>,
        crash: &mut dyn CrashPoints,
    ) -> Result<(), Crashed> {
        if self.acks_own_registration(&msg) && crash.own_registration_acked() {
            return Err(CRASHED);
        }
        // Errors here are stale or foreign messages raft-rs declines.
        let _ = self.raw.step(msg);
        self.drive(out, crash)
    }

    /// Tells raft whether a snapshot it sent to `to` (raft id) arrived:
    /// without this a leader waits on a lost snapshot forever.
    pub fn report_snapshot(
        &mut self,
        to: u64,
        delivered: bool,
        out: &mut Vec<Output>,
        crash: &mut dyn CrashPoints,
    ) -> Result<(), Crashed> {
        let status = if delivered {
            raft::SnapshotStatus::Finish
        } else {
            raft::SnapshotStatus::Failure
        };
        if delivered || !writer_registry::mutated!(self.params.mutant, LostSnapshotUnreachableOnly)
        {
            self.raw.report_snapshot(to, status);
        }
        if !delivered {
            self.raw.report_unreachable(to);
        }
        self.drive(out, crash)
    }

    /// Proposes entry data; false when raft drops it (no known leader).
    pub fn propose(
        &mut self,
        data: Vec<u8>,
        out: &mut Vec<Output>,
        crash: &mut dyn CrashPoints,
    ) -> Result<bool, Crashed> {
        let accepted = self.raw.propose(vec![], data).is_ok();
        self.drive(out, crash)?;
        Ok(accepted)
    }

    /// The registration entry for `dek` at this incarnation's epoch.
    pub fn registration_entry(&self, dek: u32, proposal_id: u64) -> Vec<u8> {
        let reg = Registration {
            dek,
            full_node_id: self.params.full_node_id,
            local_epoch: self.sequence.epoch(),
        };
        wire::encode_entry(proposal_id, &reg.encode_payload())
    }

    /// Handles every pending Ready (asynchronous persistence).
    fn drive(&mut self, out: &mut Vec<Output>, crash: &mut dyn CrashPoints) -> Result<(), Crashed> {
        while self.raw.has_ready() {
            let mut rd = self.raw.ready();
            let leader = self.raw.raft.state == StateRole::Leader;
            if leader && !self.was_leader {
                out.push(Output::BecameLeader {
                    term: self.raw.raft.term,
                });
            }
            self.was_leader = leader;
            for m in rd.take_messages() {
                out.push(Output::Send(m));
            }
            if writer_registry::mutated!(self.params.mutant, PersistedSentEarly) {
                for m in rd.take_persisted_messages() {
                    out.push(Output::Send(m));
                }
            }
            check(crash, ReadyStep::AfterSend)?;
            let mut ops = Vec::new();
            let snapshot = (!rd.snapshot().is_empty()).then(|| rd.snapshot().clone());
            if let Some(s) = &snapshot {
                ops.push(LogOp::InstallSnapshot(s.clone()));
            }
            if !rd.entries().is_empty() {
                ops.push(LogOp::Append(rd.take_entries()));
            }
            if let Some(hs) = rd.hs() {
                ops.push(LogOp::HardState(hs.clone()));
            }
            let seq = self.raw.mut_store().write(ops);
            check(crash, ReadyStep::AfterWrite)?;
            let number = rd.number();
            self.inflight.push_back(InFlight {
                number,
                seq,
                persisted: rd.take_persisted_messages(),
                committed: rd.take_committed_entries(),
                snapshot,
            });
            out.push(Output::Sync { ready: number });
            self.raw.advance_append_async(rd);
            if writer_registry::mutated!(self.params.mutant, PersistReportedAtWrite) {
                self.raw.on_persist_ready(number);
            }
        }
        Ok(())
    }

    /// The sync of Ready `ready` completed: release its persisted messages,
    /// tell raft, then apply what it committed. Returns whether the FSM
    /// halted (the driver stops the node).
    pub fn sync_done(
        &mut self,
        ready: u64,
        out: &mut Vec<Output>,
        crash: &mut dyn CrashPoints,
    ) -> Result<bool, Crashed> {
        let Some(front) = self.inflight.front() else {
            return Ok(false);
        };
        assert_eq!(
            front.number,
            ready,
            "{} syncs complete in Ready order",
            crate::panics::DRIVER_CONTRACT
        );
        let flight = self.inflight.pop_front().expect("front checked");
        self.raw.mut_store().sync_through(flight.seq);
        check(crash, ReadyStep::AfterSync)?;
        for m in flight.persisted {
            out.push(Output::Send(m));
        }
        check(crash, ReadyStep::AfterPersistedSend)?;
        self.raw.on_persist_ready(flight.number);
        if let Some(snap) = flight.snapshot {
            let index = snap.get_metadata().index;
            let decoded = writer_registry::Snapshot::decode(snap.get_data())
                .expect("snapshots are produced by this harness's FSM");
            if self.fsm.restore(&decoded).is_err() {
                return Err(Crashed {
                    partial: Some(index),
                });
            }
            out.push(Output::SnapshotRestored {
                index,
                replay: false,
            });
            self.raw.advance_apply_to(index);
        }
        if flight
            .committed
            .iter()
            .any(|e| self.own_registration(&e.data).is_some())
            && crash.before_own_registration_applies()
        {
            return Err(CRASHED);
        }
        let count = flight.committed.len();
        for (i, entry) in flight.committed.into_iter().enumerate() {
            if entry.index <= self.fsm.applied_index() {
                continue;
            }
            if i == 1 && count > 1 {
                check(crash, ReadyStep::MidApply)?;
            }
            let unsynced_before = self.fsm.store().unsynced_writes();
            let result = self.fsm.apply(entry.index, &entry.data);
            if self.fsm.store().process_died() {
                return Err(Crashed {
                    partial: Some(entry.index),
                });
            }
            let own = matches!(&result, Ok(Outcome::Registration(_)))
                .then(|| self.own_registration(&entry.data))
                .flatten();
            if let Some(registration) = own {
                self.note_own_registration(registration);
            }
            out.push(Output::Applied(record(
                &self.fsm,
                &entry,
                result.clone(),
                false,
                unsynced_before,
            )));
            if let Err(halt) = result {
                out.push(Output::Halted(HaltRecord {
                    index: entry.index,
                    halt,
                }));
                return Ok(true);
            }
            self.raw.advance_apply_to(entry.index);
            if own.is_some()
                && !self.sequence.unregistered().is_empty()
                && crash.between_own_registrations()
            {
                return Err(CRASHED);
            }
        }
        self.drive(out, crash)?;
        Ok(false)
    }

    /// This incarnation's own `registration` applied here (START-7).
    fn note_own_registration(&mut self, registration: Registration) {
        let store = self.fsm.store();
        self.sequence
            .on(Event::RegistrationApplied { registration }, store)
            .unwrap_or_else(|e| panic!("{} {e}", crate::panics::DRIVER_CONTRACT));
    }

    /// Takes a snapshot at the applied index and compacts the log behind
    /// it, if at least `min_new` entries were applied since the last one.
    /// Returns the snapshot index taken.
    pub fn take_snapshot(&mut self, min_new: u64) -> Result<Option<u64>, Crashed> {
        let applied = self.fsm.applied_index();
        let log = self.raw.store();
        let (last_snap, term) = (
            log.held_snapshot().get_metadata().index,
            log.held_term(applied),
        );
        let Some(term) = term else { return Ok(None) };
        if applied == 0 || applied < last_snap + min_new.max(1) {
            return Ok(None);
        }
        let data = match self.fsm.snapshot() {
            Ok(s) => s.encode(),
            Err(_) => {
                return Err(Crashed {
                    partial: Some(applied),
                })
            }
        };
        let mut snap = Snapshot::default();
        snap.set_data(data.into());
        let meta = snap.mut_metadata();
        meta.index = applied;
        meta.term = if writer_registry::mutated!(self.params.mutant, SnapshotTermCurrent) {
            self.raw.raft.term
        } else {
            term
        };
        meta.set_conf_state(self.raw.store().membership());
        self.raw.mut_store().compact(&snap);
        Ok(Some(applied))
    }
}

impl<L: RaftLog, S: NodeStore> NodeCore<L, S> {
    /// Whether `msg`, to this leader, acknowledges one of this
    /// incarnation's own registrations that has not committed yet.
    fn acks_own_registration(&self, msg: &Message) -> bool {
        if msg.get_msg_type() != raft::eraftpb::MessageType::MsgAppendResponse
            || msg.reject
            || msg.term != self.term()
            || !self.is_leader()
        {
            return false;
        }
        let log = self.raw.store();
        (self.commit_index() + 1..=msg.index.min(self.last_index())).any(|index| {
            log.held_entry(index)
                .is_some_and(|e| self.own_registration(&e.data).is_some())
        })
    }

    /// The entry's registration if it is this incarnation's own.
    fn own_registration(&self, data: &[u8]) -> Option<Registration> {
        let any_epoch =
            writer_registry::mutated!(self.params.mutant, OldRegistrationOpensEncryption);
        wire::registration_of(data).filter(|r| {
            r.full_node_id == self.params.full_node_id
                && (r.local_epoch == self.sequence.epoch() || any_epoch)
        })
    }
}
