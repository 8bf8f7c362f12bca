//! The writer registry as a raft node's application: the library's FSM
//! and start sequence behind the engine's node core
//! ([`regsim_engine::node`]), which drives raft-rs.
//!
//! [`Registry`] applies entries, snapshots and restores, and knows this
//! incarnation's own registrations; [`RegistryStart`] is the start hook
//! that runs the library's [`StartSequence`] (the spec's START-1..START-5)
//! over the node's epoch file while the core restores, replays and joins
//! (START-6; registrations are proposed by the driver through
//! [`Registry::unregistered_deks`]).

use raft::eraftpb::Entry;
use regsim_engine::node::{
    Application, Apply, Died, DiskFacts, RestoreError, StartEvent, StartHook, StartStep,
    DRIVER_CONTRACT,
};
use writer_registry::start::{Event, Request, StartSequence};
use writer_registry::startup::{GuardStage, Refusal};
use writer_registry::wire::{self, Registration};
use writer_registry::{Fsm, Halt, HaltRecord, Outcome, PersistPolicy};

pub use regsim_engine::node::{CrashPoints, Crashed, NoCrashes, RaftParams, ReadyStep};

pub mod storage;
#[cfg(test)]
mod tests;

use storage::{EpochStore, NodeStore, RaftLog};

/// A registry node's core: the engine's, running [`Registry`].
pub type NodeCore<L, S> = regsim_engine::node::NodeCore<L, Registry<S>>;
/// What a registry node's core reports.
pub type Output<S> = regsim_engine::node::Output<Registry<S>>;
/// Why a registry node's start did not produce a running node.
pub type StartFailure<S> = regsim_engine::node::StartFailure<Registry<S>>;
/// A registry node's start that did not produce a running node.
pub type NotStarted<S> = regsim_engine::node::NotStarted<Registry<S>>;

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
    /// The node core's part.
    pub fn raft(&self) -> RaftParams {
        RaftParams {
            index: self.index,
            election_tick: self.election_tick,
            heartbeat_tick: self.heartbeat_tick,
            mutant: core_mutant(self.mutant),
        }
    }
}

/// The node core's own mutants, out of the run's.
#[cfg(feature = "mutants")]
fn core_mutant(slot: writer_registry::MutantSlot) -> regsim_engine::node::CoreMutantSlot {
    use regsim_engine::node::CoreMutant as C;
    use writer_registry::mutants::Mutant as M;
    Some(match slot? {
        M::LogNotSyncedOnOpen => C::LogNotSyncedOnOpen,
        M::ReplayStopsShort => C::ReplayStopsShort,
        M::PersistedSentEarly => C::PersistedSentEarly,
        M::PersistReportedAtWrite => C::PersistReportedAtWrite,
        M::LostSnapshotUnreachableOnly => C::LostSnapshotUnreachableOnly,
        M::SnapshotTermCurrent => C::SnapshotTermCurrent,
        _ => return None,
    })
}

/// The node core's own mutants: none in the default build.
#[cfg(not(feature = "mutants"))]
fn core_mutant(slot: writer_registry::MutantSlot) -> regsim_engine::node::CoreMutantSlot {
    slot
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

/// What the registry reports besides its applies: its start sequence's
/// decisions.
#[derive(Debug, Clone)]
pub enum Note {
    /// A guard of the start sequence decided.
    Guard {
        stage: GuardStage,
        epoch: u16,
        result: Result<(), Refusal>,
    },
    /// The epoch file was written.
    EpochBumped { from: u16, to: u16 },
}

/// The writer registry as the node core's application: the FSM over the
/// node's store, and the start sequence that knows this incarnation's
/// epoch and which of its registrations have applied.
pub struct Registry<S: NodeStore> {
    fsm: Fsm<S>,
    sequence: StartSequence,
    full_node_id: u64,
    mutant: writer_registry::MutantSlot,
}

impl<S: NodeStore> Registry<S> {
    /// START-1: opens the state machine (its durable state).
    pub fn open(params: &NodeParams, store: S) -> Result<Self, String> {
        let fsm = Fsm::open_with(store, params.policy, params.mutant).map_err(|e| e.to_string())?;
        let sequence = StartSequence::new(params.full_node_id, params.deks.clone(), params.mutant);
        Ok(Registry {
            fsm,
            sequence,
            full_node_id: params.full_node_id,
            mutant: params.mutant,
        })
    }

    pub fn fsm(&self) -> &Fsm<S> {
        &self.fsm
    }

    /// Dies: returns what survives (the store and its journal).
    pub fn into_store(self) -> S {
        self.fsm.into_store()
    }

    /// The local epoch this incarnation registers and encrypts with.
    pub fn epoch(&self) -> u16 {
        self.sequence.epoch()
    }

    /// Deks whose own registration has not applied locally yet.
    pub fn unregistered_deks(&self) -> Vec<u32> {
        self.sequence.unregistered()
    }

    /// START-7: may this incarnation encrypt under `dek`?
    pub fn can_encrypt(&self, dek: u32) -> bool {
        self.sequence.may_encrypt(dek)
    }

    /// The registration entry for `dek` at this incarnation's epoch.
    pub fn registration_entry(&self, dek: u32, proposal_id: u64) -> Vec<u8> {
        let reg = Registration {
            dek,
            full_node_id: self.full_node_id,
            local_epoch: self.sequence.epoch(),
        };
        wire::encode_entry(proposal_id, &reg.encode_payload())
    }

    /// The entry's registration if it is this incarnation's own.
    fn own_registration(&self, data: &[u8]) -> Option<Registration> {
        let any_epoch = writer_registry::mutated!(self.mutant, OldRegistrationOpensEncryption);
        wire::registration_of(data).filter(|r| {
            r.full_node_id == self.full_node_id
                && (r.local_epoch == self.sequence.epoch() || any_epoch)
        })
    }

    /// This incarnation's own `registration` applied here (START-7).
    fn note_own_registration(&mut self, registration: Registration) {
        let store = self.fsm.store();
        self.sequence
            .on(Event::RegistrationApplied { registration }, store)
            .unwrap_or_else(|e| panic!("{DRIVER_CONTRACT} {e}"));
    }

    /// Builds the record of one apply, reading the state it left behind.
    /// `unsynced_before` is the journal's unsynced batch count before the
    /// apply: any more after it are this apply's own writes, not yet
    /// durable.
    fn record(
        &self,
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
                self.fsm.store().get_row(&key).ok().flatten(),
            )
        });
        ApplyRecord {
            index: entry.index,
            term: entry.term,
            data: entry.data.to_vec(),
            result,
            replay,
            digest: self.fsm.digest(),
            row,
            unsynced: self.fsm.store().unsynced_writes() > unsynced_before,
        }
    }
}

impl<S: NodeStore> Application for Registry<S> {
    type Applied = ApplyRecord;
    type Halt = HaltRecord;
    type Note = Note;
    type Refusal = Refusal;

    fn applied_index(&self) -> u64 {
        self.fsm.applied_index()
    }

    fn apply(&mut self, entry: &Entry, replay: bool) -> Result<Apply<Self>, Died> {
        let unsynced_before = self.fsm.store().unsynced_writes();
        let result = self.fsm.apply(entry.index, &entry.data);
        if self.fsm.store().process_died() {
            return Err(Died);
        }
        // START-7 learns of the incarnation's own registrations as the
        // running node applies them (a replay's are an earlier epoch's).
        let own = (!replay && matches!(&result, Ok(Outcome::Registration(_))))
            .then(|| self.own_registration(&entry.data))
            .flatten();
        if let Some(registration) = own {
            self.note_own_registration(registration);
        }
        let report = self.record(entry, result.clone(), replay, unsynced_before);
        Ok(Apply {
            report,
            halt: result.err().map(|halt| HaltRecord {
                index: entry.index,
                halt,
            }),
            own: own.is_some(),
        })
    }

    fn snapshot(&mut self) -> Result<Vec<u8>, Died> {
        self.fsm.snapshot().map(|s| s.encode()).map_err(|_| Died)
    }

    fn restore(&mut self, data: &[u8]) -> Result<u64, RestoreError> {
        let snap = writer_registry::Snapshot::decode(data)
            .map_err(|e| RestoreError::Undecodable(e.to_string()))?;
        match self.fsm.restore(&snap) {
            Ok(()) => Ok(snap.applied_index),
            Err(_) if self.fsm.store().process_died() => Err(RestoreError::Died {
                index: snap.applied_index,
            }),
            Err(e) => Err(RestoreError::Failed(e.to_string())),
        }
    }

    fn is_own_proposal(&self, data: &[u8]) -> bool {
        self.own_registration(data).is_some()
    }

    fn own_proposals_pending(&self) -> bool {
        !self.sequence.unregistered().is_empty()
    }
}

/// The registry's start hook: the library's start sequence over the
/// node's epoch file.
pub struct RegistryStart<'e, E: EpochStore> {
    epoch_file: &'e mut E,
}

impl<S: NodeStore, E: EpochStore> StartHook<Registry<S>> for RegistryStart<'_, E> {
    fn next(
        &mut self,
        event: StartEvent,
        app: &mut Registry<S>,
        disk: DiskFacts,
        out: &mut Vec<Output<S>>,
    ) -> StartStep<Refusal> {
        let mut event = match event {
            StartEvent::Begin => Event::Begin,
            StartEvent::SnapshotRestored { index } => Event::SnapshotRestored { index },
            StartEvent::Replayed => Event::Replayed,
        };
        loop {
            let next = app
                .sequence
                .on(event, app.fsm.store())
                .unwrap_or_else(|e| panic!("{DRIVER_CONTRACT} {e}"));
            if let Some(d) = next.decision {
                out.push(Output::Note(Note::Guard {
                    stage: d.stage,
                    epoch: d.epoch,
                    result: d.result,
                }));
            }
            event = match next.request {
                Request::ReadEpochFile => Event::EpochRead(self.epoch_file.read()),
                Request::WriteEpochFile { epoch, sync } => {
                    let from = self.epoch_file.read();
                    self.epoch_file.write(epoch);
                    if sync {
                        self.epoch_file.sync();
                    }
                    out.push(Output::Note(Note::EpochBumped { from, to: epoch }));
                    Event::EpochWritten {
                        applied_index: app.fsm.applied_index(),
                        snapshot_index: disk.snapshot_index,
                        commit_index: disk.commit_index,
                    }
                }
                Request::RestoreSnapshot { .. } => return StartStep::RestoreSnapshot,
                Request::Replay { from, to } => return StartStep::Replay { from, to },
                Request::Refused(r) => return StartStep::Refuse(r),
                Request::Join { .. } => return StartStep::Join,
                Request::Halted | Request::EncryptionAllowed { .. } | Request::Wait => {
                    unreachable!("the sequence asks for these only after a replay halt or a join")
                }
            };
        }
    }
}

/// Starts a registry node: the engine's start, with the registry's store
/// opened as its application and its start sequence as the hook.
pub fn start<L: RaftLog, S: NodeStore, E: EpochStore>(
    params: NodeParams,
    log: L,
    epoch_file: &mut E,
    store: S,
    logger: &slog::Logger,
    out: &mut Vec<Output<S>>,
) -> Result<NodeCore<L, S>, Box<NotStarted<S>>> {
    let mut hook = RegistryStart { epoch_file };
    let open = || Registry::open(&params, store);
    regsim_engine::node::start(params.raft(), log, open, &mut hook, logger, out)
}
