//! The checkers as one owner: every oracle and each node's model, fed by
//! what the engine observes and what the fault injector records. They
//! hold their own state and never read the world's; the engine hands them
//! an [`Observation`] and goes on.

use writer_registry::registry::Space;
use writer_registry::startup::Refusal;
use writer_registry::{Halt, Outcome, PersistPolicy, StateDigest};

use super::agreement::{self, AgreementOracle};
use super::client_visible::ClientVisible;
use super::model::{Expected, NodeModel};
pub use super::observation::{Injected, Observation, RowCorruption, StartOutcome};
use super::purpose::{HaltEvent, Incarnation, InjectedRollback, PurposeOracle, RollbackHalt};
use super::raft::RaftOracle;
use super::snapshot_source::SnapshotSources;
use super::start_judge::StartJudge;
use super::Violations;
use crate::node::ApplyRecord;
use crate::store::{Image, SyncedRowChange};

/// Every checker of one run.
pub struct Checkers {
    /// The per-apply and state oracles run; the purpose oracle always does
    /// (its findings are the run's verdict even with oracles off).
    on: bool,
    v: Violations,
    raft: RaftOracle,
    pub(super) snapshot_status: super::snapshot_status::SnapshotStatus,
    agreement: AgreementOracle,
    purpose: PurposeOracle,
    models: Vec<NodeModel>,
    starts: Vec<Option<StartJudge>>,
    /// Every snapshot taken and delivered, and what each must carry.
    snapshots: SnapshotSources,
    /// `client-visible`: the KV commands acknowledged so far.
    client_visible: ClientVisible,
    /// Row bytes the harness injected, per node (node, key, value):
    /// INV-1..INV-3 do not judge that node's change to or from them (a
    /// snapshot carries them to its restorer).
    injected_rows: std::collections::BTreeSet<(u8, Vec<u8>, Vec<u8>)>,
}

impl Checkers {
    pub fn new(nodes: u8, policy: PersistPolicy, on: bool) -> Self {
        Checkers {
            on,
            v: Violations::default(),
            raft: RaftOracle::new(nodes),
            snapshot_status: Default::default(),
            agreement: AgreementOracle::default(),
            purpose: PurposeOracle::default(),
            models: (0..nodes).map(|_| NodeModel::new(policy)).collect(),
            starts: vec![None; usize::from(nodes)],
            snapshots: SnapshotSources::new(nodes),
            client_visible: ClientVisible::default(),
            injected_rows: Default::default(),
        }
    }

    /// The cluster's size.
    #[cfg(test)]
    pub fn nodes(&self) -> u8 {
        self.models.len() as u8
    }

    /// Whether the per-apply and state oracles run.
    pub fn on(&self) -> bool {
        self.on
    }

    /// A broken rule the engine itself saw (livelock, a store that would
    /// not open).
    pub fn violation(&mut self, oracle: &str, node: Option<u8>, at_us: u64, detail: String) {
        self.v.push(oracle, node, at_us, detail);
    }

    pub fn injected(&mut self, at_us: u64, what: Injected) {
        match what {
            Injected::Collision { full } => self.purpose.on_collision_injected(full),
            Injected::Malformed { data_hash } => self.purpose.on_malformed_injected(data_hash),
            Injected::Exotic { data_hash, opcode } => {
                self.purpose.on_exotic_injected(data_hash, opcode)
            }
            Injected::EpochPreset {
                node,
                full,
                epoch,
                high,
            } => self.purpose.on_epoch_preset(node, full, epoch, high, at_us),
            Injected::Rollback {
                node,
                full,
                to,
                high,
            } => self.purpose.on_rollback_injected(InjectedRollback {
                node,
                full,
                to,
                high,
                at_us,
                preset: false,
            }),
        }
    }

    pub fn observe(&mut self, at_us: u64, obs: Observation) {
        match obs {
            Observation::Applied {
                node,
                who,
                full,
                rec,
                outcome,
                window_edge,
            } => self.applied(at_us, node, who, full, rec, outcome, window_edge),
            Observation::Guard {
                who,
                full,
                result: Err(r),
            } => self.refused(at_us, who, full, r),
            Observation::Guard { .. } => {}
            Observation::RegistrationProposed {
                who,
                proposal_id,
                data,
            } => {
                if let Some(r) = writer_registry::wire::registration_of(data) {
                    let reg = (r.dek, r.full_node_id, r.local_epoch);
                    self.purpose
                        .on_registration_proposed(who, proposal_id, reg, at_us);
                }
            }
            Observation::Started {
                node,
                inc,
                full,
                deks,
                store,
                epoch,
                disk_commit,
            } => {
                self.purpose.on_start((node, inc), at_us);
                if self.on {
                    self.started(at_us, node, full, deks, store, epoch, disk_commit);
                }
            }
            Observation::Nonce {
                who,
                dek,
                node16,
                epoch,
            } => self.purpose.on_nonce(at_us, who, dek, node16, epoch),
            Observation::EncryptionGate {
                who,
                dek,
                epoch,
                open,
            } => self
                .purpose
                .on_encryption_gate(at_us, who, dek, epoch, open),
            // What purpose needs of stops and snapshots, oracles on or off.
            Observation::Stopped {
                node,
                store,
                library_digest,
                converged_end,
            } => {
                self.purpose.on_stopped(node);
                if self.on {
                    self.stopped(at_us, node, store, library_digest, converged_end);
                }
            }
            obs @ (Observation::SnapshotTaken { .. }
            | Observation::SnapshotDelivered { .. }
            | Observation::Restored { .. }) => self.observe_snapshot(at_us, obs),
            obs @ (Observation::RowCorrupted(_) | Observation::StoreFault { .. }) => {
                self.observe_injected(at_us, obs)
            }
            other if self.on => self.observe_on(at_us, other),
            _ => {}
        }
    }

    /// Snapshots taken, delivered and restored: the purpose oracle always
    /// learns their sources, the oracles judge them when on.
    fn observe_snapshot(&mut self, at_us: u64, obs: Observation) {
        match obs {
            Observation::SnapshotTaken {
                node,
                index,
                data,
                meta,
            } => {
                let hash = crate::fnv::fnv1a64(data);
                self.purpose.on_snapshot_taken(node, hash);
                if self.on {
                    self.raft
                        .on_snapshot(&mut self.v, at_us, node, "taken", meta);
                    self.snapshot_taken(at_us, node, index, data, hash);
                }
            }
            Observation::SnapshotDelivered {
                to,
                index,
                data_hash,
            } => {
                self.snapshots.delivered(to, index, data_hash);
            }
            Observation::Restored {
                node,
                index,
                replay,
                disk_hash,
                window_edge,
            } => {
                let hash = self.snapshots.restored_hash(node, index, replay, disk_hash);
                self.purpose.on_snapshot_restored(node, hash);
                if self.on {
                    self.restored(at_us, node, index, hash, window_edge);
                }
            }
            _ => unreachable!("observe hands over snapshot observations only"),
        }
    }

    /// Faults the harness injected into a node's store.
    fn observe_injected(&mut self, at_us: u64, obs: Observation) {
        match obs {
            Observation::RowCorrupted(c) => {
                let node = c.node;
                self.purpose
                    .on_row_corrupted(node, c.dek, c.node16, c.how, at_us);
                if self.on {
                    self.injected_rows
                        .insert((node, c.key.clone(), c.value.clone()));
                    self.models[usize::from(node)].inject_row(c.key, c.old, c.value);
                }
            }
            Observation::StoreFault { node, op } => {
                self.purpose.on_store_fault(node, at_us);
                if self.on {
                    self.models[usize::from(node)].store_fault(op);
                }
            }
            _ => unreachable!("observe hands over injections only"),
        }
    }

    /// The observations only the oracles need (with oracles on).
    fn observe_on(&mut self, at_us: u64, obs: Observation) {
        match obs {
            Observation::StartEnded {
                node,
                outcome,
                epoch_file,
            } => self.start_ended(at_us, node, outcome, epoch_file),
            Observation::WriteCut {
                node,
                index,
                entry,
                disk_hash,
            } => {
                let source = self.snapshots.cut_source(node, index, disk_hash);
                self.models[usize::from(node)].write_cut(index, entry, source.as_ref());
            }
            Observation::PowerLost { node } => self.models[usize::from(node)].power_lost(),
            Observation::Synced { node, log } => self.raft.on_synced(node, log),
            Observation::SnapshotFailed { from, to, term } => {
                self.snapshot_status.on_failed(from, to, term)
            }
            Observation::Delivered {
                from,
                to,
                msg,
                from_synced,
                to_written_last,
            } => self.snapshot_status.on_delivered(
                at_us,
                msg,
                from,
                to,
                from_synced,
                to_written_last,
            ),
            Observation::Sent {
                from,
                msg,
                synced,
                written,
            } => {
                super::persisted::check_send(&mut self.v, at_us, from, msg, synced, written);
                self.snapshot_status.on_sent(&mut self.v, at_us, from, msg);
                if msg.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot {
                    let meta = msg.get_snapshot().get_metadata();
                    self.raft
                        .on_snapshot(&mut self.v, at_us, from, "sent", meta);
                }
            }
            Observation::Leader { node, term, log } => {
                self.raft.on_leader(&mut self.v, at_us, node, term, log);
            }
            Observation::RowsSynced { node, changes } => self.rows_synced(at_us, node, changes),
            // Taken by `observe` whether the oracles are on or not (listed,
            // so that a new observation must be placed on one side).
            Observation::Applied { .. }
            | Observation::Guard { .. }
            | Observation::RegistrationProposed { .. }
            | Observation::Started { .. }
            | Observation::Nonce { .. }
            | Observation::EncryptionGate { .. }
            | Observation::RowCorrupted(_)
            | Observation::Stopped { .. }
            | Observation::SnapshotTaken { .. }
            | Observation::SnapshotDelivered { .. }
            | Observation::Restored { .. }
            | Observation::StoreFault { .. } => {}
        }
    }

    /// A start-sequence guard refused: the purpose oracle judges whether
    /// an injected cause is behind it.
    fn refused(&mut self, at_us: u64, who: Incarnation, full: u64, r: &Refusal) {
        let (owner, ahead) = match r {
            Refusal::ForeignOwner { owner, .. } => (Some(*owner), None),
            Refusal::EpochNotAhead { dek, last_seen, .. } => (None, Some((*dek, *last_seen))),
            _ => (None, None),
        };
        let own16 = writer_registry::ids::node16(full);
        let slot = match r {
            Refusal::ForeignOwner { dek, .. }
            | Refusal::EpochNotAhead { dek, .. }
            | Refusal::CorruptRow { dek, .. } => Some((*dek, own16)),
            _ => None,
        };
        self.purpose.on_refusal(
            who,
            full,
            at_us,
            r.name(),
            owner,
            ahead,
            slot,
            r.to_string(),
        );
    }

    /// INV-1..INV-3 on each synced row change a node made of its own.
    fn rows_synced(&mut self, at_us: u64, node: u8, changes: &[SyncedRowChange]) {
        for c in changes {
            let injected = |v: &Option<Vec<u8>>| {
                v.as_ref().is_some_and(|v| {
                    self.injected_rows
                        .contains(&(node, c.key.clone(), v.clone()))
                })
            };
            if injected(&c.old) || injected(&c.new) {
                // The harness's damage (or a snapshot carrying
                // it), not a state the node made of its own.
                continue;
            }
            agreement::check_row_change(&mut self.v, at_us, node, c);
        }
    }

    /// A store reopened: it must lie in the model's allowed set; then the
    /// start judge runs START-1 and START-2 on the model.
    #[allow(clippy::too_many_arguments)]
    fn started(
        &mut self,
        at_us: u64,
        node: u8,
        full: u64,
        deks: &[u32],
        store: Option<&Image>,
        epoch: u16,
        disk_commit: u64,
    ) {
        let model = &mut self.models[usize::from(node)];
        if let Some(diff) = store.and_then(|image| model.check_store(image)) {
            self.v.push(
                "durability",
                Some(node),
                at_us,
                format!("reopened store outside what its acknowledged writes allow: {diff}"),
            );
        }
        model.started();
        self.snapshot_status.on_started(node);
        let judge = StartJudge::new(model, (full, deks), epoch, disk_commit);
        self.starts[usize::from(node)] = Some(judge);
    }

    /// A start ended: the start judge holds its outcome to the spec's.
    fn start_ended(&mut self, at_us: u64, node: u8, outcome: StartOutcome, epoch_file: (u16, u16)) {
        if let Some(judge) = self.starts[usize::from(node)].take() {
            let model = &self.models[usize::from(node)];
            judge.ended((&mut self.v, at_us, node), model, outcome, epoch_file);
        }
    }

    /// A process stopped: its store against the model; the library's own
    /// digest against the stored bytes; at a converged end, every
    /// acknowledged KV command on it.
    fn stopped(
        &mut self,
        at_us: u64,
        node: u8,
        store: &Image,
        library_digest: Option<StateDigest>,
        converged_end: bool,
    ) {
        if let Some(diff) = self.models[usize::from(node)].check_store(store) {
            self.v.push(
                "conformance-state",
                Some(node),
                at_us,
                format!("store at stop differs from the model: {diff}"),
            );
        }
        if let Some(digest) = library_digest {
            let mut of_store = StateDigest::default();
            for ((space, k), v) in store.iter().filter(|((s, _), _)| *s != Space::Meta) {
                of_store.update(*space, k, v, true);
            }
            if of_store != digest {
                self.v.push(
                    "library-digest",
                    Some(node),
                    at_us,
                    format!("the FSM's incremental digest {digest} is not the digest of its stored bytes {of_store}"),
                );
            }
        }
        if converged_end {
            let at = (&mut self.v, at_us, node);
            self.client_visible.converged_replica(at, store);
        }
    }

    fn snapshot_taken(&mut self, at_us: u64, node: u8, index: u64, data: &[u8], hash: u64) {
        let model = &mut self.models[usize::from(node)];
        let at = (&mut self.v, at_us, node);
        self.snapshots.taken(at, model, (index, data, hash));
    }

    fn restored(&mut self, at_us: u64, node: u8, index: u64, hash: Option<u64>, window_edge: u64) {
        let i = usize::from(node);
        let at = (&mut self.v, at_us, node);
        let Some(source) = self.snapshots.source_of_restore(at, index, hash) else {
            return;
        };
        self.models[i].restore(&source.state(), index, source.tainted);
        // The rows (damage included) are now the taker's.
        let taker = source.taker;
        let carried: Vec<_> = self
            .injected_rows
            .iter()
            .filter(|(n, _, _)| *n == taker)
            .map(|(_, k, v)| (node, k.clone(), v.clone()))
            .collect();
        self.injected_rows.extend(carried);
        if index >= window_edge && !self.models[i].tainted() {
            self.agreement
                .on_state(&mut self.v, at_us, node, index, self.models[i].digest());
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn applied(
        &mut self,
        at_us: u64,
        node: u8,
        who: Incarnation,
        full: u64,
        rec: &ApplyRecord,
        outcome: &'static str,
        window_edge: u64,
    ) {
        if self.on {
            self.check_apply(at_us, node, rec, outcome);
        }
        match &rec.result {
            Ok(result) => {
                if let Some(r) = writer_registry::wire::registration_of(&rec.data)
                    .filter(|r| r.full_node_id == full)
                {
                    self.purpose.on_own_registration(who, r.dek, r.local_epoch);
                }
                if !self.on {
                    return;
                }
                if let Outcome::Kv { proposal_id } = result {
                    self.client_visible.acknowledged(*proposal_id, &rec.data);
                }
                if rec.index >= window_edge && !self.models[usize::from(node)].tainted() {
                    let digest = self.models[usize::from(node)].digest();
                    self.agreement
                        .on_state(&mut self.v, at_us, node, rec.index, digest);
                }
            }
            Err(halt) => self.purpose.on_halt(HaltEvent {
                node,
                at_us,
                index: rec.index,
                kind: halt.kind().name(),
                ids: halt_ids(halt),
                data_hash: crate::fnv::fnv1a64(&rec.data),
                slot: match halt {
                    Halt::Rollback { dek, node16, .. }
                    | Halt::Collision { dek, node16, .. }
                    | Halt::CorruptRow { dek, node16, .. } => Some((*dek, *node16)),
                    _ => None,
                },
                rollback: match halt {
                    Halt::Rollback {
                        dek,
                        full_node_id,
                        epoch,
                        last_seen,
                        ..
                    } => Some(RollbackHalt {
                        dek: *dek,
                        full: *full_node_id,
                        epoch: *epoch,
                        last_seen: *last_seen,
                        proposal_id: rec
                            .data
                            .get(1..9)
                            .map_or(0, |b| u64::from_be_bytes(b.try_into().expect("8 bytes"))),
                    }),
                    _ => None,
                },
                in_replay_window: rec.index <= window_edge,
                message: halt.to_string(),
            }),
        }
    }

    /// The per-apply oracles: sync before ack, Raft safety, conformance.
    fn check_apply(&mut self, at_us: u64, node: u8, rec: &ApplyRecord, actual: &'static str) {
        // Durable before an apply *succeeds* (APPLY-8); a halted apply
        // acknowledged nothing (a failed sync leaves its write unsynced).
        if rec.unsynced && rec.result.is_ok() {
            let detail = format!(
                "entry {} returned with registry writes not yet synced",
                rec.index
            );
            self.v.push("sync-before-ack", Some(node), at_us, detail);
        }
        self.raft.on_apply(
            &mut self.v,
            at_us,
            node,
            rec.index,
            rec.term,
            &rec.data,
            rec.replay,
        );
        let model = &mut self.models[usize::from(node)];
        let expected = model.apply(rec.index, &rec.data);
        if rec.replay {
            if let Some(judge) = &mut self.starts[usize::from(node)] {
                judge.replayed(expected.halts());
            }
        }
        if !expected.admits(actual) {
            let detail = format!(
                "entry {} ({}): node did {actual}{}, model expects {}",
                rec.index,
                wire_summary(&rec.data),
                halt_suffix(&rec.result),
                expected.name()
            );
            self.v.push("conformance", Some(node), at_us, detail);
        } else if let Some((key, model_row)) = model
            .row_for(&rec.data)
            .filter(|_| expected != Expected::Halt("store"))
        {
            // After a store error the row may hold the failed sync's write
            // or not: the whole-state check at the stop judges it.
            let actual_row = rec
                .row
                .as_ref()
                .filter(|(k, _)| *k == key)
                .and_then(|(_, v)| v.clone());
            if actual_row != model_row {
                let detail = format!(
                    "entry {}: row bytes {} but model holds {}",
                    rec.index,
                    super::model::shown(actual_row.as_deref()),
                    super::model::shown(model_row.as_deref())
                );
                self.v.push("conformance", Some(node), at_us, detail);
            }
        }
    }

    /// Entries committed in the run (the Raft oracle's count).
    pub fn committed(&self) -> u64 {
        self.raft.committed()
    }

    /// The verdict material: every violation, and the purpose oracle.
    pub fn finish(self) -> (Violations, PurposeOracle) {
        (self.v, self.purpose)
    }
}

fn halt_suffix(r: &Result<Outcome, Halt>) -> String {
    match r {
        Err(h) => format!(" ({h})"),
        Ok(_) => String::new(),
    }
}

fn halt_ids(h: &Halt) -> Vec<u64> {
    match h {
        Halt::Rollback { full_node_id, .. } => vec![*full_node_id],
        Halt::Collision {
            existing, incoming, ..
        } => vec![*existing, *incoming],
        _ => Vec::new(),
    }
}

fn wire_summary(data: &[u8]) -> String {
    use writer_registry::wire;
    match wire::decode_entry(data) {
        Ok(wire::Entry::Empty) => "empty".into(),
        Ok(wire::Entry::Proposal {
            command: wire::Command::Registration(r),
            ..
        }) => {
            format!(
                "registration dek {} full {:#018x} epoch {}",
                r.dek, r.full_node_id, r.local_epoch
            )
        }
        Ok(wire::Entry::Proposal { .. }) => "proposal".into(),
        Err(e) => format!("undecodable: {e}"),
    }
}
