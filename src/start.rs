//! The start sequence (`docs/spec.md` START-1..START-8) as a sans-IO step
//! machine: what a node must do at process start before it may encrypt.
//!
//! The machine owns no file, log or clock. It asks its driver for what it
//! needs through a [`Request`] (read the epoch file; write and sync it;
//! restore a snapshot; replay entries `from..=to` through the FSM; join
//! and propose the registrations) and is told what happened through an
//! [`Event`]. It makes the spec's decisions itself, in the spec's order,
//! and reports each guard decision as a typed [`GuardDecision`]. A node on
//! raft-rs (the simulator's), a turmoil or madsim host, or a user's own
//! node drives the same machine; it needs no Raft library.
//!
//! The order is the spec's, whatever the driver does:
//! 1. read the epoch file; `0xFFFF` refuses (START-1);
//! 2. guard before the bump, equality allowed (START-2);
//! 3. write epoch + 1 and sync it (START-3);
//! 4. restore a snapshot newer than the durable applied index, then replay
//!    the held committed entries up to the persisted commit, before joining;
//!    a halt here is a halt, not a refusal (START-4);
//! 5. guard after the replay, strictly ahead (START-5);
//! 6. join and propose (dek, own id, bumped epoch) for every dek, again
//!    with the same epoch until it applies locally (START-6);
//! 7. encryption under a dek only once its registration applied (START-7).
//!
//! A refusal is final for this process (START-8).

use crate::registry::WriterRegistryStore;
use crate::startup::{self, GuardStage, Refusal};
use crate::wire::Registration;
use crate::MutantSlot;

/// What the machine needs its driver to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// START-1: read the local epoch file; answer [`Event::EpochRead`].
    ReadEpochFile,
    /// START-3: write `epoch` to the epoch file, then sync it when `sync`
    /// (always, but under the `EpochBumpNotSynced` mutant); answer
    /// [`Event::EpochWritten`] with the node's durable log position.
    WriteEpochFile { epoch: u16, sync: bool },
    /// START-4: the snapshot at `index` is newer than the durable applied
    /// index: restore it into the FSM; answer [`Event::SnapshotRestored`].
    RestoreSnapshot { index: u64 },
    /// START-4: apply the committed entries `from..=to` held in the node's
    /// own log through the FSM, before joining the cluster (no campaign,
    /// no peer messages); answer [`Event::Replayed`], or
    /// [`Event::ReplayHalted`] at the first halt.
    Replay { from: u64, to: u64 },
    /// START-6: join the cluster and propose each registration (all at the
    /// bumped `epoch`), re-proposing the same ones until each applies on
    /// this node; answer [`Event::RegistrationApplied`] per dek.
    Join {
        epoch: u16,
        registrations: Vec<Registration>,
    },
    /// START-7: the node may now encrypt under `dek`.
    EncryptionAllowed { dek: u32 },
    /// Nothing to do until the next registration applies.
    Wait,
    /// START-8: the node refuses to start and stays down.
    Refused(Refusal),
    /// The replay halted (HALT-1): the node is halted, not refused.
    Halted,
}

/// What happened, as the driver tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The process started: begin the sequence.
    Begin,
    /// The epoch file holds `epoch`.
    EpochRead(u16),
    /// The bumped epoch is written (and synced, if asked). The node's log
    /// as it stands on disk: the FSM's durable applied index, the index of
    /// the snapshot the log holds (0 for none) and the commit index of the
    /// persisted hard state.
    EpochWritten {
        applied_index: u64,
        snapshot_index: u64,
        commit_index: u64,
    },
    /// The snapshot asked for is restored: the FSM's applied index is now
    /// `index`.
    SnapshotRestored { index: u64 },
    /// Every entry asked for was applied without a halt.
    Replayed,
    /// An entry of the replay halted the FSM.
    ReplayHalted,
    /// A registration applied on this node; only this process's own (its
    /// full id, the bumped epoch) allows encryption under its dek.
    RegistrationApplied { registration: Registration },
}

/// A guard decision, typed: which check, at which epoch, with what result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardDecision {
    pub stage: GuardStage,
    pub epoch: u16,
    pub result: Result<(), Refusal>,
}

/// The machine's answer to an event: the guard decision it made on the
/// way, if any, and what the driver must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Next {
    pub decision: Option<GuardDecision>,
    pub request: Request,
}

/// An event the machine cannot take in its current phase: the driver
/// broke the protocol (a bug of the driver, never of a node's state).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("start sequence: event {event:?} does not fit phase {phase}")]
pub struct OutOfOrder {
    pub event: Event,
    pub phase: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    New,
    ReadingEpoch,
    WritingEpoch,
    Restoring { index: u64, to: u64 },
    Replaying,
    Joined,
    Refused,
    Halted,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::New => "new",
            Phase::ReadingEpoch => "reading the epoch file",
            Phase::WritingEpoch => "writing the epoch file",
            Phase::Restoring { .. } => "restoring a snapshot",
            Phase::Replaying => "replaying",
            Phase::Joined => "joined",
            Phase::Refused => "refused",
            Phase::Halted => "halted",
        }
    }
}

/// One process start of one node.
#[derive(Debug, Clone)]
pub struct StartSequence {
    own_full: u64,
    deks: Vec<u32>,
    mutant: MutantSlot,
    phase: Phase,
    /// The bumped epoch, once chosen.
    epoch: u16,
    /// Deks whose registration applied locally (START-7).
    registered: Vec<u32>,
}

impl StartSequence {
    /// The sequence of a node with full id `own_full` that registers under
    /// every one of `deks`.
    pub fn new(own_full: u64, deks: Vec<u32>, mutant: MutantSlot) -> Self {
        StartSequence {
            own_full,
            deks,
            mutant,
            phase: Phase::New,
            epoch: 0,
            registered: Vec::new(),
        }
    }

    /// Takes `event`; `store` is the node's registry, read by the guards.
    pub fn on<S: WriterRegistryStore + ?Sized>(
        &mut self,
        event: Event,
        store: &S,
    ) -> Result<Next, OutOfOrder> {
        let next = match (self.phase, event) {
            (Phase::New, Event::Begin) => {
                self.phase = Phase::ReadingEpoch;
                Next {
                    decision: None,
                    request: Request::ReadEpochFile,
                }
            }
            (Phase::ReadingEpoch, Event::EpochRead(epoch)) => self.epoch_read(epoch, store),
            (
                Phase::WritingEpoch,
                Event::EpochWritten {
                    applied_index,
                    snapshot_index,
                    commit_index,
                },
            ) => {
                // REPLAY-3: after the durable applied index, or after the
                // snapshot restored when it is newer.
                let from = applied_index.max(snapshot_index) + 1;
                if snapshot_index > applied_index {
                    self.phase = Phase::Restoring {
                        index: snapshot_index,
                        to: commit_index,
                    };
                    Next {
                        decision: None,
                        request: Request::RestoreSnapshot {
                            index: snapshot_index,
                        },
                    }
                } else {
                    self.replay(from, commit_index, store)
                }
            }
            // The replay starts after the index the FSM now holds, which
            // must be the snapshot's (REPLAY-3).
            (Phase::Restoring { index, to }, Event::SnapshotRestored { index: restored })
                if restored == index =>
            {
                self.replay(index + 1, to, store)
            }
            (Phase::Replaying, Event::Replayed) => self.after_replay(store),
            (Phase::Replaying, Event::ReplayHalted) => {
                self.phase = Phase::Halted;
                Next {
                    decision: None,
                    request: Request::Halted,
                }
            }
            (Phase::Joined, Event::RegistrationApplied { registration: r }) => {
                let own = r.full_node_id == self.own_full
                    && (r.local_epoch == self.epoch
                        || crate::mutated!(self.mutant, OldRegistrationOpensEncryption));
                let request =
                    if own && self.deks.contains(&r.dek) && !self.registered.contains(&r.dek) {
                        self.registered.push(r.dek);
                        Request::EncryptionAllowed { dek: r.dek }
                    } else {
                        Request::Wait
                    };
                Next {
                    decision: None,
                    request,
                }
            }
            (phase, event) => {
                return Err(OutOfOrder {
                    event,
                    phase: phase.name(),
                })
            }
        };
        Ok(next)
    }

    /// The bumped epoch this process registers and encrypts with (0 until
    /// the epoch file was read).
    pub fn epoch(&self) -> u16 {
        self.epoch
    }

    /// Whether the sequence ended with the node joined (not refused or
    /// halted, and past the replay).
    pub fn joined(&self) -> bool {
        self.phase == Phase::Joined
    }

    /// START-7: may the node encrypt under `dek`?
    pub fn may_encrypt(&self, dek: u32) -> bool {
        self.registered.contains(&dek) || crate::mutated!(self.mutant, EncryptBeforeRegistration)
    }

    /// Deks whose registration has not applied locally yet, in the
    /// configured order: what the driver keeps proposing (START-6).
    pub fn unregistered(&self) -> Vec<u32> {
        self.deks
            .iter()
            .copied()
            .filter(|d| !self.registered.contains(d))
            .collect()
    }

    /// The registrations this process proposes (START-6).
    pub fn registrations(&self) -> Vec<Registration> {
        self.deks
            .iter()
            .map(|&dek| Registration {
                dek,
                full_node_id: self.own_full,
                local_epoch: self.epoch,
            })
            .collect()
    }

    fn refuse(&mut self, decision: GuardDecision) -> Next {
        let refusal = decision.result.clone().err();
        match refusal {
            Some(r) => {
                self.phase = Phase::Refused;
                Next {
                    decision: Some(decision),
                    request: Request::Refused(r),
                }
            }
            None => unreachable!("refuse is called with a refusing decision"),
        }
    }

    fn guards_run(&self) -> bool {
        !crate::mutated!(self.mutant, GuardSkipped)
    }

    /// The deks the guards check: all of them (under the mutant, those up
    /// to the first without a row at this node's slot).
    fn guarded_deks<S: WriterRegistryStore + ?Sized>(&self, store: &S) -> Vec<u32> {
        if !crate::mutated!(self.mutant, GuardStopsAtMissingRow) {
            return self.deks.clone();
        }
        let node16 = crate::ids::node16(self.own_full);
        self.deks
            .iter()
            .copied()
            .take_while(|&dek| {
                let key = crate::RowKey { dek, node16 };
                !matches!(store.get_row(&key), Ok(None))
            })
            .collect()
    }

    /// START-1 and START-2, then the bump of START-3.
    fn epoch_read<S: WriterRegistryStore + ?Sized>(&mut self, epoch: u16, store: &S) -> Next {
        if let Err(r) = startup::check_epoch_file(epoch) {
            return self.refuse(GuardDecision {
                stage: GuardStage::BeforeBump,
                epoch,
                result: Err(r),
            });
        }
        let mut decision = None;
        if self.guards_run() {
            // Under the mutant, the rows meet the epoch START-3 would write.
            let against = if crate::mutated!(self.mutant, BumpBeforeGuard) {
                epoch + 1
            } else {
                epoch
            };
            let deks = self.guarded_deks(store);
            let result =
                startup::guard(store, self.own_full, &deks, against, GuardStage::BeforeBump);
            let d = GuardDecision {
                stage: GuardStage::BeforeBump,
                epoch,
                result,
            };
            if d.result.is_err() {
                return self.refuse(d);
            }
            decision = Some(d);
        }
        self.epoch = epoch + 1;
        self.phase = Phase::WritingEpoch;
        Next {
            decision,
            request: Request::WriteEpochFile {
                epoch: self.epoch,
                sync: !crate::mutated!(self.mutant, EpochBumpNotSynced),
            },
        }
    }

    /// START-4: replay what there is, or go straight to START-5.
    fn replay<S: WriterRegistryStore + ?Sized>(&mut self, from: u64, to: u64, store: &S) -> Next {
        self.phase = Phase::Replaying;
        if from > to {
            return self.after_replay(store);
        }
        Next {
            decision: None,
            request: Request::Replay { from, to },
        }
    }

    /// START-5, then START-6.
    fn after_replay<S: WriterRegistryStore + ?Sized>(&mut self, store: &S) -> Next {
        let mut decision = None;
        if self.guards_run() {
            let strictness = if crate::mutated!(self.mutant, GuardAfterReplayNotStrict) {
                GuardStage::BeforeBump
            } else {
                GuardStage::AfterReplay
            };
            let deks = self.guarded_deks(store);
            let result = startup::guard(store, self.own_full, &deks, self.epoch, strictness);
            let d = GuardDecision {
                stage: GuardStage::AfterReplay,
                epoch: self.epoch,
                result,
            };
            if d.result.is_err() {
                return self.refuse(d);
            }
            decision = Some(d);
        }
        self.phase = Phase::Joined;
        Next {
            decision,
            request: Request::Join {
                epoch: self.epoch,
                registrations: self.registrations(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Applier, MemoryRegistry};

    const OWN: u64 = 0x08b3_7b07_b558_d4c0;
    const OTHER: u64 = 0xdead_beef_0000_d4c0;

    fn slot() -> MutantSlot {
        Default::default()
    }

    fn registered(rows: &[(u32, u64, u16)]) -> MemoryRegistry {
        MemoryRegistry::with_registrations(rows)
    }

    fn applied(dek: u32, full: u64, epoch: u16) -> Event {
        Event::RegistrationApplied {
            registration: Registration {
                dek,
                full_node_id: full,
                local_epoch: epoch,
            },
        }
    }

    fn begin(seq: &mut StartSequence, store: &MemoryRegistry) {
        let next = seq.on(Event::Begin, store).unwrap();
        assert_eq!(next.request, Request::ReadEpochFile);
    }

    fn written(applied: u64, snapshot: u64, commit: u64) -> Event {
        Event::EpochWritten {
            applied_index: applied,
            snapshot_index: snapshot,
            commit_index: commit,
        }
    }

    #[test]
    fn a_new_node_bumps_to_1_replays_nothing_and_registers_every_dek() {
        let store = MemoryRegistry::new();
        let mut seq = StartSequence::new(OWN, vec![7, 9], slot());
        begin(&mut seq, &store);
        let next = seq.on(Event::EpochRead(0), &store).unwrap();
        assert_eq!(next.decision.unwrap().result, Ok(()));
        assert_eq!(
            next.request,
            Request::WriteEpochFile {
                epoch: 1,
                sync: true
            }
        );
        let next = seq.on(written(0, 0, 0), &store).unwrap();
        let decision = next.decision.unwrap();
        assert_eq!(
            (decision.stage, decision.epoch, decision.result),
            (GuardStage::AfterReplay, 1, Ok(()))
        );
        let Request::Join {
            epoch,
            registrations,
        } = next.request
        else {
            panic!("expected join, got {:?}", next.request)
        };
        assert_eq!(epoch, 1);
        assert_eq!(
            registrations
                .iter()
                .map(|r| (r.dek, r.full_node_id, r.local_epoch))
                .collect::<Vec<_>>(),
            vec![(7, OWN, 1), (9, OWN, 1)]
        );
        assert!(
            !seq.may_encrypt(7),
            "START-7: not before the registration applied"
        );
        // Another writer's, or this node's from an earlier epoch: no.
        for other in [applied(7, OTHER, 1), applied(7, OWN, 0), applied(8, OWN, 1)] {
            assert_eq!(seq.on(other, &store).unwrap().request, Request::Wait);
        }
        assert!(!seq.may_encrypt(7));
        assert_eq!(
            seq.on(applied(7, OWN, 1), &store).unwrap().request,
            Request::EncryptionAllowed { dek: 7 }
        );
        assert!(seq.may_encrypt(7) && !seq.may_encrypt(9));
        assert_eq!(seq.unregistered(), vec![9]);
        // A second apply of the same registration allows nothing new.
        assert_eq!(
            seq.on(applied(7, OWN, 1), &store).unwrap().request,
            Request::Wait
        );
    }

    #[test]
    fn an_exhausted_epoch_file_refuses_before_any_guard() {
        // A foreign owner would refuse too (START-2): the exhaustion check
        // (START-1) must be the one that answers.
        let store = registered(&[(1, OTHER, 1)]);
        let mut seq = StartSequence::new(OWN, vec![1], slot());
        begin(&mut seq, &store);
        let next = seq.on(Event::EpochRead(0xFFFF), &store).unwrap();
        assert_eq!(next.request, Request::Refused(Refusal::EpochsExhausted));
        assert_eq!(next.decision.unwrap().stage, GuardStage::BeforeBump);
        assert!(
            seq.on(written(0, 0, 0), &store).is_err(),
            "START-8: refused stays refused"
        );
    }

    #[test]
    fn the_guard_before_the_bump_allows_equality_and_refuses_a_row_ahead() {
        // START-2: a crash right after registering leaves last_seen == epoch.
        let store = registered(&[(1, OWN, 3)]);
        let mut seq = StartSequence::new(OWN, vec![1], slot());
        begin(&mut seq, &store);
        let next = seq.on(Event::EpochRead(3), &store).unwrap();
        assert!(matches!(
            next.request,
            Request::WriteEpochFile { epoch: 4, .. }
        ));
        let mut seq = StartSequence::new(OWN, vec![1], slot());
        begin(&mut seq, &store);
        let next = seq.on(Event::EpochRead(2), &store).unwrap();
        assert!(
            matches!(
                next.request,
                Request::Refused(Refusal::EpochNotAhead {
                    last_seen: 3,
                    epoch: 2,
                    ..
                })
            ),
            "{next:?}"
        );
    }

    #[test]
    fn a_foreign_owner_of_the_slot_refuses() {
        let store = registered(&[(1, OTHER, 1)]);
        let mut seq = StartSequence::new(OWN, vec![1], slot());
        begin(&mut seq, &store);
        let next = seq.on(Event::EpochRead(5), &store).unwrap();
        assert!(matches!(
            next.request,
            Request::Refused(Refusal::ForeignOwner { owner: OTHER, .. })
        ));
    }

    #[test]
    fn replay_runs_from_the_applied_index_or_after_a_newer_snapshot() {
        let store = MemoryRegistry::new();
        let mut seq = StartSequence::new(OWN, vec![1], slot());
        begin(&mut seq, &store);
        seq.on(Event::EpochRead(0), &store).unwrap();
        assert_eq!(
            seq.on(written(4, 2, 9), &store).unwrap().request,
            Request::Replay { from: 5, to: 9 }
        );
        let mut seq = StartSequence::new(OWN, vec![1], slot());
        begin(&mut seq, &store);
        seq.on(Event::EpochRead(0), &store).unwrap();
        assert_eq!(
            seq.on(written(4, 6, 9), &store).unwrap().request,
            Request::RestoreSnapshot { index: 6 }
        );
        assert_eq!(
            seq.on(Event::SnapshotRestored { index: 6 }, &store)
                .unwrap()
                .request,
            Request::Replay { from: 7, to: 9 }
        );
        // A restore that left the FSM elsewhere than the snapshot asked for
        // is the driver's error.
        let mut other = StartSequence::new(OWN, vec![1], slot());
        begin(&mut other, &store);
        other.on(Event::EpochRead(0), &store).unwrap();
        other.on(written(4, 6, 9), &store).unwrap();
        assert!(other
            .on(Event::SnapshotRestored { index: 5 }, &store)
            .is_err());
        // Joining before the replay finished is out of order.
        assert!(seq.on(applied(1, OWN, 1), &store).is_err());
    }

    #[test]
    fn the_guard_after_replay_is_strict_and_sees_what_the_replay_wrote() {
        // The replay re-applied this node's registration at the epoch the
        // (rolled back) file now bumps to: equal is not ahead (START-5).
        let mut store = MemoryRegistry::new();
        let mut seq = StartSequence::new(OWN, vec![1], slot());
        begin(&mut seq, &store);
        seq.on(Event::EpochRead(1), &store).unwrap();
        assert_eq!(
            seq.on(written(0, 0, 3), &store).unwrap().request,
            Request::Replay { from: 1, to: 3 }
        );
        Applier::new(&mut store)
            .apply(&Registration {
                dek: 1,
                full_node_id: OWN,
                local_epoch: 2,
            })
            .unwrap();
        let next = seq.on(Event::Replayed, &store).unwrap();
        let decision = next.decision.unwrap();
        assert_eq!(decision.stage, GuardStage::AfterReplay);
        assert!(matches!(
            next.request,
            Request::Refused(Refusal::EpochNotAhead {
                last_seen: 2,
                epoch: 2,
                ..
            })
        ));
        assert!(!seq.joined());
    }

    #[test]
    fn a_halt_during_replay_is_a_halt_not_a_refusal() {
        let store = MemoryRegistry::new();
        let mut seq = StartSequence::new(OWN, vec![1], slot());
        begin(&mut seq, &store);
        seq.on(Event::EpochRead(0), &store).unwrap();
        seq.on(written(0, 0, 2), &store).unwrap();
        let next = seq.on(Event::ReplayHalted, &store).unwrap();
        assert_eq!(
            next,
            Next {
                decision: None,
                request: Request::Halted
            }
        );
        assert!(seq.on(Event::Replayed, &store).is_err());
    }

    #[test]
    fn events_out_of_order_are_the_driver_s_error() {
        let store = MemoryRegistry::new();
        let mut seq = StartSequence::new(OWN, vec![1], slot());
        let e = seq.on(Event::EpochRead(0), &store).unwrap_err();
        assert_eq!(e.phase, "new");
        begin(&mut seq, &store);
        assert!(seq.on(Event::Begin, &store).is_err());
    }
}
