//! The checkers as one owner: every oracle and each node's model, fed by
//! what the engine observes and what the fault injector records. They
//! hold their own state and never read the world's; the engine hands them
//! an [`Observation`] and goes on.

use std::collections::BTreeMap;

use writer_registry::registry::Space;
use writer_registry::startup::Refusal;
use writer_registry::{Halt, Outcome, PersistPolicy, StateDigest};

use super::agreement::{self, AgreementOracle};
use super::model::{describe_difference, Expected, NodeModel, SnapshotState};
use super::purpose::{HaltEvent, Incarnation, InjectedRollback, PurposeOracle, RollbackHalt};
use super::raft::RaftOracle;
use super::Violations;
use crate::disk::LogImage;
use crate::node::ApplyRecord;
use crate::store::{Image, SyncedRowChange};

/// How a start ended, as the engine saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOutcome {
    Joined,
    Refused(&'static str),
    Halted,
    /// An armed crash struck during the start.
    Crashed,
    /// The store or the disk could not be read (its own violation).
    Broken,
}

/// A registry row the harness damaged: node `node`'s row `key` (slot
/// `dek`, `node16`), now `value` (`how`).
#[derive(Debug, Clone)]
pub struct RowCorruption {
    pub node: u8,
    pub dek: u32,
    pub node16: u16,
    pub key: Vec<u8>,
    /// The row as the reopened store held it before the damage.
    pub old: Vec<u8>,
    pub value: Vec<u8>,
    pub how: &'static str,
}

/// What the engine saw happen, as the checkers need it.
pub enum Observation<'a> {
    /// A node's store reopened for a new incarnation, holding `store`
    /// (`None`: it could not be read back, already a violation); `epoch`
    /// is what its epoch file holds (the harness's disk) as START-1 reads
    /// it.
    Started {
        node: u8,
        inc: u32,
        full: u64,
        deks: &'a [u32],
        store: Option<&'a Image>,
        epoch: u16,
        /// The commit index of the hard state on the harness's disk, as
        /// the start reads it: START-4 replays up to it before the join.
        disk_commit: u64,
    },
    /// The start that began with the last `Started` ended; `epoch_file`
    /// is the file's (written, synced) value after it.
    StartEnded {
        node: u8,
        outcome: StartOutcome,
        epoch_file: (u16, u16),
    },
    /// A node's process stopped (crash, halt, refusal or the run's end)
    /// leaving `store`. `library_digest`: the FSM's own digest, when a
    /// running FSM stopped. `converged_end`: the run ended converged with
    /// this node up (the client-visible check runs).
    Stopped {
        node: u8,
        store: &'a Image,
        library_digest: Option<StateDigest>,
        converged_end: bool,
    },
    /// An apply. `outcome` is its outcome's name; `window_edge` is the
    /// highest index the node had applied before its last restart (at or
    /// below it, the node is in its replay window).
    Applied {
        node: u8,
        who: Incarnation,
        full: u64,
        rec: &'a ApplyRecord,
        outcome: &'static str,
        window_edge: u64,
    },
    /// A node took a snapshot at `index` whose bytes are `data` and whose
    /// metadata is `meta` (as its disk holds them).
    SnapshotTaken {
        node: u8,
        index: u64,
        data: &'a [u8],
        meta: &'a raft::eraftpb::SnapshotMetadata,
    },
    /// A node's log as the harness's disk synced it changed to `log`.
    Synced { node: u8, log: &'a LogImage },
    /// Node `from` handed `msg` to the network, with its log as synced
    /// and as written at that moment.
    Sent {
        from: u8,
        msg: &'a raft::eraftpb::Message,
        synced: &'a LogImage,
        written: &'a LogImage,
    },
    /// The transport delivered a snapshot message for `index` to `to`.
    SnapshotDelivered { to: u8, index: u64, data_hash: u64 },
    /// The transport told `from` that its snapshot message of `term` to
    /// `to` did not arrive (it decided so: dropped, cut, or the receiver
    /// gone).
    SnapshotFailed { from: u8, to: u8, term: u64 },
    /// The transport handed `msg` from `from` to `to`, which steps it now
    /// (the outputs of that step follow); from the harness's disks,
    /// `from`'s synced log and the last index of `to`'s written log. (The
    /// hosted runtimes never fail a snapshot, so they need not show it.)
    Delivered {
        from: u8,
        to: u8,
        msg: &'a raft::eraftpb::Message,
        from_synced: &'a LogImage,
        to_written_last: u64,
    },
    /// A snapshot at `index` was restored into a node's FSM: during its
    /// start (`disk_hash`: the snapshot its disk holds) or installed from
    /// a leader (the last one delivered for that index).
    Restored {
        node: u8,
        index: u64,
        replay: bool,
        disk_hash: Option<u64>,
        window_edge: u64,
    },
    /// A crash cut a write between the write and its sync while the node
    /// applied, snapshotted or restored `index`. `entry`: the entry at
    /// `index` on the harness's disk; `disk_hash`: the snapshot the disk
    /// holds at that index.
    WriteCut {
        node: u8,
        index: u64,
        entry: Option<&'a [u8]>,
        disk_hash: Option<u64>,
    },
    /// A node lost power: what it wrote and never synced is gone.
    PowerLost { node: u8 },
    /// The harness damaged a registry row and synced it, while the node
    /// was down.
    RowCorrupted(RowCorruption),
    /// An injected I/O error failed the node's registry write or the sync
    /// after it, in the call whose outputs come next.
    StoreFault { node: u8, op: crate::store::StoreOp },
    /// A start-sequence guard decision of incarnation `who`, as the node
    /// reports it.
    Guard {
        who: Incarnation,
        full: u64,
        result: &'a Result<(), Refusal>,
    },
    /// Incarnation `who` proposed the registration entry `data` under
    /// `proposal_id`.
    RegistrationProposed {
        who: Incarnation,
        proposal_id: u64,
        data: &'a [u8],
    },
    /// A node became leader of `term`, with its log as written.
    Leader {
        node: u8,
        term: u64,
        log: &'a LogImage,
    },
    /// Registry rows a node's store changed and synced, in order.
    RowsSynced {
        node: u8,
        changes: &'a [SyncedRowChange],
    },
    /// After a registration applied on its node, incarnation `who`
    /// answered whether it may encrypt under `dek` at `epoch` (`open`):
    /// START-7's gate, asked as a client would ask it.
    EncryptionGate {
        who: Incarnation,
        dek: u32,
        epoch: u16,
        open: bool,
    },
    /// An incarnation encrypted under (dek, node16, epoch).
    Nonce {
        who: Incarnation,
        dek: u32,
        node16: u16,
        epoch: u16,
    },
}

/// What the fault injector did, recorded for the purpose oracle.
pub enum Injected {
    /// A registration for the non-member writer `full`.
    Collision { full: u64 },
    /// A corrupted entry whose data hashes to `data_hash`.
    Malformed { data_hash: u64 },
    /// A bootstrap, rotation or reserved-opcode entry.
    Exotic { data_hash: u64, opcode: u8 },
    /// Node `node`'s (full id `full`) epoch file, which had held up to
    /// `high`, set to `epoch`.
    EpochPreset {
        node: u8,
        full: u64,
        epoch: u16,
        high: u16,
    },
    /// Node `node` (full id `full`)'s epoch file, which had held up to
    /// `high`, was replaced by the older copy `to`.
    Rollback {
        node: u8,
        full: u64,
        to: u16,
        high: u16,
    },
}

/// What the start judge knows of a start in progress: the spec's start
/// sequence run by the model, from the harness's epoch file and the
/// model's own rows, whatever order the node runs its steps in.
#[derive(Debug, Clone)]
struct StartJudge {
    full: u64,
    deks: Vec<u32>,
    /// The epoch file as START-1 reads it.
    epoch: u16,
    /// START-1/START-2's decision on the model's rows.
    before: Option<&'static str>,
    /// Entries the node applied during this start (its replay).
    replayed: u64,
    /// The commit index on the harness's disk as the start read it.
    disk_commit: u64,
    /// The model expects the replay to halt.
    model_halted: bool,
}

/// What a snapshot carries, as its taker's model held it.
struct Source {
    state: Carried,
    taker: u8,
    /// The taker's state held injected bytes: so does the restorer's.
    tainted: bool,
}

/// A source's state: the snapshot's own bytes when they carried exactly
/// the taker's model state (decoded only if a node restores it, which few
/// do), or the model's state when they did not.
enum Carried {
    Bytes(Vec<u8>),
    State(SnapshotState),
}

impl Source {
    fn state(&self) -> SnapshotState {
        match &self.state {
            Carried::State(s) => s.clone(),
            Carried::Bytes(data) => writer_registry::Snapshot::decode(data)
                .map(|s| snapshot_image(s.rows, s.kv))
                .expect("decoded once when taken"),
        }
    }
}

/// A snapshot's registry rows and KV pairs as an image.
fn snapshot_image(
    rows: writer_registry::registry::Pairs,
    kv: writer_registry::registry::Pairs,
) -> Image {
    let mut image = Image::new();
    for (space, pairs) in [(Space::Registry, rows), (Space::Kv, kv)] {
        image.extend(pairs.into_iter().map(|(k, v)| ((space, k), v)));
    }
    image
}

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
    /// The state each snapshot ever taken must carry, by its bytes' hash:
    /// a restore becomes its source's model state.
    snapshot_sources: BTreeMap<u64, Source>,
    /// Per node, the last snapshot delivered for each index (its hash).
    delivered: Vec<BTreeMap<u64, u64>>,
    /// KV commands acknowledged to a client (applied somewhere): proposal
    /// id -> the payload every converged replica must hold.
    acknowledged: BTreeMap<u64, Vec<u8>>,
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
            snapshot_sources: BTreeMap::new(),
            delivered: vec![BTreeMap::new(); usize::from(nodes)],
            acknowledged: BTreeMap::new(),
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
                self.delivered[usize::from(to)].insert(index, data_hash);
            }
            Observation::Restored {
                node,
                index,
                replay,
                disk_hash,
                window_edge,
            } => {
                let hash = if replay {
                    disk_hash
                } else {
                    self.delivered[usize::from(node)].get(&index).copied()
                };
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
                let hash =
                    disk_hash.or_else(|| self.delivered[usize::from(node)].get(&index).copied());
                let source = hash
                    .and_then(|h| self.snapshot_sources.get(&h))
                    .map(Source::state);
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
    /// model runs START-1 and START-2 itself.
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
        self.starts[usize::from(node)] = Some(StartJudge {
            full,
            deks: deks.to_vec(),
            epoch,
            before: model.guard(full, deks, epoch, false),
            replayed: 0,
            disk_commit,
            model_halted: false,
        });
    }

    /// A start ended: was its outcome the one the spec's sequence, run on
    /// the model, gives?
    fn start_ended(&mut self, at_us: u64, node: u8, outcome: StartOutcome, epoch_file: (u16, u16)) {
        let Some(j) = self.starts[usize::from(node)].take() else {
            return;
        };
        let e = j.epoch;
        let mut wrong = |detail: String| self.v.push("start-sequence", Some(node), at_us, detail);
        if let Some(refusal) = j.before {
            let refused_first = outcome == StartOutcome::Refused(refusal)
                && j.replayed == 0
                && epoch_file == (e, e);
            if !refused_first {
                wrong(format!(
                    "epoch file {e}: START-1/START-2 refuse ({refusal}) before any bump or replay; the node ended {outcome:?} after {} replayed entries with its epoch file at {epoch_file:?}",
                    j.replayed
                ));
            }
            return;
        }
        if outcome == StartOutcome::Broken {
            return;
        }
        if epoch_file != (e + 1, e + 1) {
            wrong(format!(
                "epoch file {e}: START-3 bumps it to {} and syncs it before the replay; it holds {epoch_file:?} (written, synced)",
                e + 1
            ));
        }
        let applied = self.models[usize::from(node)].applied();
        if outcome == StartOutcome::Joined && applied < j.disk_commit {
            wrong(format!(
                "START-4 replays the held entries up to the commit index on disk ({}) before the join; the node joined with entries applied up to {applied}",
                j.disk_commit
            ));
        }
        let after = self.models[usize::from(node)].guard(j.full, &j.deks, e + 1, true);
        let agrees = match outcome {
            StartOutcome::Refused(r) => !j.model_halted && after == Some(r),
            StartOutcome::Joined => !j.model_halted && after.is_none(),
            StartOutcome::Halted => j.model_halted,
            StartOutcome::Crashed | StartOutcome::Broken => true,
        };
        if !agrees {
            let expected = if j.model_halted {
                "a halt in the replay".to_string()
            } else {
                match after {
                    Some(r) => format!("a START-5 refusal ({r})"),
                    None => "a join".to_string(),
                }
            };
            wrong(format!(
                "epoch file {e}: the spec's sequence on the model's rows gives {expected}; the node ended {outcome:?}"
            ));
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
            let missing = self
                .acknowledged
                .iter()
                .filter(|(pid, payload)| {
                    store.get(&(Space::Kv, pid.to_be_bytes().to_vec())) != Some(*payload)
                })
                .map(|(pid, _)| *pid)
                .collect::<Vec<_>>();
            if let Some(first) = missing.first() {
                self.v.push(
                    "client-visible",
                    Some(node),
                    at_us,
                    format!(
                        "{} acknowledged KV commands missing or changed on a converged replica (first: proposal {first})",
                        missing.len()
                    ),
                );
            }
        }
    }

    fn snapshot_taken(&mut self, at_us: u64, node: u8, index: u64, data: &[u8], hash: u64) {
        let model = &mut self.models[usize::from(node)];
        model.snapshot_taken();
        let applied = model.applied();
        // A restore of it becomes what the model held: the snapshot's own
        // bytes when they carry exactly that (the common case, kept without
        // a copy of the model), the model's state otherwise.
        let (state, diff) = match writer_registry::Snapshot::decode(data) {
            Err(e) => (
                Carried::State(model.snapshot_state()),
                Some(format!("undecodable: {e}")),
            ),
            Ok(s) if s.applied_index != applied || index != applied => (
                Carried::State(model.snapshot_state()),
                Some(format!(
                    "taken at index {index} carrying applied index {}, the model has applied {applied}",
                    s.applied_index
                )),
            ),
            Ok(s) if model.carries(&s.rows, &s.kv) => (Carried::Bytes(data.to_vec()), None),
            Ok(s) => {
                let expected = model.snapshot_state();
                let diff = describe_difference(&expected, &snapshot_image(s.rows, s.kv));
                (Carried::State(expected), diff)
            }
        };
        if let Some(diff) = diff {
            self.v.push(
                "snapshot-content",
                Some(node),
                at_us,
                format!("snapshot at {index}: {diff}"),
            );
        }
        let tainted = self.models[usize::from(node)].tainted();
        self.snapshot_sources.entry(hash).or_insert(Source {
            state,
            taker: node,
            tainted,
        });
    }

    fn restored(&mut self, at_us: u64, node: u8, index: u64, hash: Option<u64>, window_edge: u64) {
        let i = usize::from(node);
        match hash.and_then(|h| self.snapshot_sources.get(&h)) {
            Some(source) => {
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
            }
            None => {
                self.v.push(
                    "snapshot-source",
                    Some(node),
                    at_us,
                    format!("restored a snapshot at {index} that no node took"),
                );
                return;
            }
        }
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
                    self.acknowledged
                        .entry(*proposal_id)
                        .or_insert_with(|| rec.data.get(9..).unwrap_or_default().to_vec());
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
            if let Some(j) = &mut self.starts[usize::from(node)] {
                j.replayed += 1;
                j.model_halted |= expected.halts();
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
                    "entry {}: row bytes {:?} but model holds {:?}",
                    rec.index,
                    actual_row.as_deref().map(writer_registry::hex::encode),
                    model_row.as_deref().map(writer_registry::hex::encode)
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
