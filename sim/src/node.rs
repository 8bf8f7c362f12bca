//! The node core: one Raft member running the writer-registry FSM.
//!
//! Sans-IO: it takes ticks, messages, proposals, sync completions and
//! snapshot requests as method calls and reports what happened as
//! [`Output`]s (messages to send, syncs to schedule, applies, halts). It
//! owns no clock, socket or random source; the driver decides when
//! anything happens. A crash is the driver dropping the core; what
//! survives is the disk, the epoch file and the store's journal.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use raft::eraftpb::{Entry, Message, Snapshot};
use raft::{Config, RawNode, StateRole};
use writer_registry::start::{Event, Request, StartSequence};
use writer_registry::startup::{GuardStage, Refusal};
use writer_registry::wire::{self, Command, Registration};
use writer_registry::{Fsm, Halt, HaltRecord, Outcome, PersistPolicy};

use crate::disk::{DiskOp, DiskStorage, EpochFile, RaftDisk};
use crate::store::TrackedStore;

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
fn record(
    fsm: &Fsm<TrackedStore>,
    entry: &Entry,
    result: Result<Outcome, Halt>,
    replay: bool,
    unsynced_before: usize,
) -> ApplyRecord {
    use writer_registry::WriterRegistryStore;
    let row = match wire::decode_entry(&entry.data) {
        Ok(wire::Entry::Proposal {
            command: Command::Registration(r),
            ..
        }) => {
            let key = writer_registry::RowKey {
                dek: r.dek,
                node16: writer_registry::ids::node16(r.full_node_id),
            };
            Some((
                key.encode().to_vec(),
                fsm.store().get_row(&key).ok().flatten(),
            ))
        }
        _ => None,
    };
    ApplyRecord {
        index: entry.index,
        term: entry.term,
        data: entry.data.to_vec(),
        result,
        replay,
        digest: fsm.digest(),
        row,
        unsynced: fsm.store().journal.unsynced_batches() > unsynced_before,
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
pub struct NotStarted {
    pub failure: StartFailure,
    pub store: Option<TrackedStore>,
}

fn not_started(failure: StartFailure, store: Option<TrackedStore>) -> Box<NotStarted> {
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
pub struct NodeCore {
    params: NodeParams,
    raw: RawNode<DiskStorage>,
    disk: Rc<RefCell<RaftDisk>>,
    fsm: Fsm<TrackedStore>,
    inflight: VecDeque<InFlight>,
    /// The start sequence, joined: it knows which deks may encrypt.
    sequence: StartSequence,
    armed: Option<ReadyStep>,
    /// Crash at the sync of the Ready that commits this incarnation's own
    /// registration, before applying it.
    armed_before_registration: bool,
    was_leader: bool,
}

/// Drives the library's start sequence ([`StartSequence`], the spec's
/// START-1..START-5) over this node's epoch file, log and FSM and, if
/// nothing refuses or halts, joins the cluster (START-6; registrations are
/// proposed by the driver through [`NodeCore::unregistered_deks`]).
pub fn start(
    params: NodeParams,
    disk: Rc<RefCell<RaftDisk>>,
    epoch_file: &mut EpochFile,
    store: TrackedStore,
    logger: &slog::Logger,
    out: &mut Vec<Output>,
) -> Result<NodeCore, Box<NotStarted>> {
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
                let disk = disk.borrow();
                let image = disk.written();
                Event::EpochWritten {
                    applied_index: fsm.applied_index(),
                    snapshot_index: image.snapshot_index(),
                    commit_index: image.hard_state.commit,
                }
            }
            Request::RestoreSnapshot { .. } => match restore_from_disk(&mut fsm, &disk, out) {
                Ok(()) => Event::SnapshotRestored,
                Err(failure) => return Err(not_started(failure, Some(fsm.into_store()))),
            },
            Request::Replay { from, to } => match replay(&mut fsm, &disk, from, to, out) {
                Ok(None) => Event::Replayed,
                Ok(Some(record)) => {
                    out.push(Output::Halted(record.clone()));
                    return Err(not_started(
                        StartFailure::Halted(record),
                        Some(fsm.into_store()),
                    ));
                }
                Err(failure) => return Err(not_started(failure, Some(fsm.into_store()))),
            },
            Request::Refused(r) => {
                return Err(not_started(
                    StartFailure::Refused(r),
                    Some(fsm.into_store()),
                ))
            }
            Request::Join { .. } => return join(params, disk, fsm, sequence, logger),
            Request::Halted | Request::EncryptionAllowed { .. } | Request::Wait => {
                unreachable!("the sequence asks for these only after a replay halt or a join")
            }
        };
    }
}

/// START-6: the Raft node joins with the FSM's applied index.
fn join(
    params: NodeParams,
    disk: Rc<RefCell<RaftDisk>>,
    fsm: Fsm<TrackedStore>,
    sequence: StartSequence,
    logger: &slog::Logger,
) -> Result<NodeCore, Box<NotStarted>> {
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
    let raw = match RawNode::new(&config, DiskStorage(disk.clone()), logger) {
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
        disk,
        fsm,
        inflight: VecDeque::new(),
        sequence,
        armed: None,
        armed_before_registration: false,
        was_leader: false,
    })
}

/// START-4's first half: restore the snapshot the disk holds.
fn restore_from_disk(
    fsm: &mut Fsm<TrackedStore>,
    disk: &Rc<RefCell<RaftDisk>>,
    out: &mut Vec<Output>,
) -> Result<(), StartFailure> {
    let disk = disk.borrow();
    let snap = writer_registry::Snapshot::decode(disk.written().snapshot.get_data())
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

/// START-4's second half: apply the held entries `from..=to`; the halt
/// that stops it, if any.
fn replay(
    fsm: &mut Fsm<TrackedStore>,
    disk: &Rc<RefCell<RaftDisk>>,
    from: u64,
    to: u64,
    out: &mut Vec<Output>,
) -> Result<Option<HaltRecord>, StartFailure> {
    let disk = disk.borrow();
    let image = disk.written();
    for index in from..=to {
        let Some(entry) = image.entry(index) else {
            return Err(StartFailure::Store(format!(
                "commit index {to} but entry {index} is not on disk"
            )));
        };
        let unsynced_before = fsm.store().journal.unsynced_batches();
        let result = fsm.apply(index, &entry.data);
        if fsm.store().crashed {
            return Err(StartFailure::Crashed {
                partial: Some(index),
            });
        }
        out.push(Output::Applied(record(
            fsm,
            entry,
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

fn crash_or_store(fsm: &Fsm<TrackedStore>, message: String, index: u64) -> StartFailure {
    if fsm.store().crashed {
        StartFailure::Crashed {
            partial: Some(index),
        }
    } else {
        StartFailure::Store(message)
    }
}

impl NodeCore {
    pub fn params(&self) -> &NodeParams {
        &self.params
    }

    /// The local epoch this incarnation registers and encrypts with.
    pub fn epoch(&self) -> u16 {
        self.sequence.epoch()
    }

    pub fn fsm(&self) -> &Fsm<TrackedStore> {
        &self.fsm
    }

    /// Dies: returns what survives (the store and its journal).
    pub fn into_store(self) -> TrackedStore {
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

    /// Arms a crash at `step` of the next Ready that reaches it.
    pub fn arm_ready_crash(&mut self, step: ReadyStep) {
        self.armed = Some(step);
    }

    pub fn tick(&mut self, out: &mut Vec<Output>) -> Result<(), Crashed> {
        self.raw.tick();
        self.drive(out)
    }

    pub fn step(&mut self, msg: Message, out: &mut Vec<Output>) -> Result<(), Crashed> {
        // Errors here are stale or foreign messages raft-rs declines.
        let _ = self.raw.step(msg);
        self.drive(out)
    }

    /// Tells raft whether a snapshot it sent to `to` (raft id) arrived:
    /// without this a leader waits on a lost snapshot forever.
    pub fn report_snapshot(
        &mut self,
        to: u64,
        delivered: bool,
        out: &mut Vec<Output>,
    ) -> Result<(), Crashed> {
        let status = if delivered {
            raft::SnapshotStatus::Finish
        } else {
            raft::SnapshotStatus::Failure
        };
        self.raw.report_snapshot(to, status);
        if !delivered {
            self.raw.report_unreachable(to);
        }
        self.drive(out)
    }

    /// Proposes entry data; false when raft drops it (no known leader).
    pub fn propose(&mut self, data: Vec<u8>, out: &mut Vec<Output>) -> Result<bool, Crashed> {
        let accepted = self.raw.propose(vec![], data).is_ok();
        self.drive(out)?;
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

    fn check_armed(&mut self, step: ReadyStep) -> Result<(), Crashed> {
        if self.armed == Some(step) {
            self.armed = None;
            return Err(CRASHED);
        }
        Ok(())
    }

    /// Handles every pending Ready (asynchronous persistence).
    fn drive(&mut self, out: &mut Vec<Output>) -> Result<(), Crashed> {
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
            self.check_armed(ReadyStep::AfterSend)?;
            let mut ops = Vec::new();
            let snapshot = (!rd.snapshot().is_empty()).then(|| rd.snapshot().clone());
            if let Some(s) = &snapshot {
                ops.push(DiskOp::InstallSnapshot(s.clone()));
            }
            if !rd.entries().is_empty() {
                ops.push(DiskOp::Append(rd.take_entries()));
            }
            if let Some(hs) = rd.hs() {
                ops.push(DiskOp::HardState(hs.clone()));
            }
            let seq = self.disk.borrow_mut().write(ops);
            self.check_armed(ReadyStep::AfterWrite)?;
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
        }
        Ok(())
    }

    /// The sync of Ready `ready` completed: release its persisted messages,
    /// tell raft, then apply what it committed. Returns whether the FSM
    /// halted (the driver stops the node).
    pub fn sync_done(&mut self, ready: u64, out: &mut Vec<Output>) -> Result<bool, Crashed> {
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
        self.disk.borrow_mut().sync_through(flight.seq);
        self.check_armed(ReadyStep::AfterSync)?;
        for m in flight.persisted {
            out.push(Output::Send(m));
        }
        self.check_armed(ReadyStep::AfterPersistedSend)?;
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
        if self.armed_before_registration
            && flight
                .committed
                .iter()
                .any(|e| self.own_registration(&e.data).is_some())
        {
            self.armed_before_registration = false;
            return Err(CRASHED);
        }
        let count = flight.committed.len();
        for (i, entry) in flight.committed.into_iter().enumerate() {
            if entry.index <= self.fsm.applied_index() {
                continue;
            }
            if i == 1 && count > 1 {
                self.check_armed(ReadyStep::MidApply)?;
            }
            let unsynced_before = self.fsm.store().journal.unsynced_batches();
            let result = self.fsm.apply(entry.index, &entry.data);
            if self.fsm.store().crashed {
                return Err(Crashed {
                    partial: Some(entry.index),
                });
            }
            if let Ok(Outcome::Registration(_)) = &result {
                self.note_own_registration(&entry.data);
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
        }
        self.drive(out)?;
        Ok(false)
    }

    fn note_own_registration(&mut self, data: &[u8]) {
        if let Some(r) = self.own_registration(data) {
            let store = self.fsm.store();
            self.sequence
                .on(Event::RegistrationApplied { dek: r.dek }, store)
                .unwrap_or_else(|e| panic!("{} {e}", crate::panics::DRIVER_CONTRACT));
        }
    }

    /// Takes a snapshot at the applied index and compacts the log behind
    /// it, if at least `min_new` entries were applied since the last one.
    /// Returns the snapshot index taken.
    pub fn take_snapshot(&mut self, min_new: u64) -> Result<Option<u64>, Crashed> {
        let applied = self.fsm.applied_index();
        let (last_snap, term) = {
            let disk = self.disk.borrow();
            (
                disk.written().snapshot_index(),
                disk.written().term(applied),
            )
        };
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
        meta.term = term;
        meta.set_conf_state(self.disk.borrow().written().conf_state.clone());
        self.disk.borrow_mut().compact(&snap);
        Ok(Some(applied))
    }
}

impl NodeCore {
    /// Cancels armed crashes (the fault phase is over).
    pub fn disarm(&mut self) {
        self.armed = None;
        self.armed_before_registration = false;
    }

    /// Arms a crash between persisting the commit of this incarnation's own
    /// registration and applying it: the log then holds a registration the
    /// registry does not.
    pub fn arm_crash_before_own_registration(&mut self) {
        self.armed_before_registration = true;
    }

    /// The entry's registration if it is this incarnation's own.
    fn own_registration(&self, data: &[u8]) -> Option<Registration> {
        match wire::decode_entry(data) {
            Ok(wire::Entry::Proposal {
                command: Command::Registration(r),
                ..
            }) if r.full_node_id == self.params.full_node_id
                && r.local_epoch == self.sequence.epoch() =>
            {
                Some(r)
            }
            _ => None,
        }
    }
}
