//! The checkers as one owner: every oracle and each node's model, fed by
//! what the engine observes and what the fault injector records. They
//! hold their own state and never read the world's; the engine hands them
//! an [`Observation`] and goes on.

use writer_registry::registry::Pairs;
use writer_registry::startup::{GuardStage, Refusal};
use writer_registry::{Halt, Outcome, StateDigest};

use super::agreement::{self, AgreementOracle};
use super::model::NodeModel;
use super::purpose::{HaltEvent, Incarnation, PurposeOracle};
use super::raft::RaftOracle;
use super::Violations;
use crate::disk::LogImage;
use crate::node::ApplyRecord;
use crate::store::{Image, SyncedRowChange};

/// What the engine saw happen, as the checkers need it.
pub enum Observation<'a> {
    /// A node (re)opened its store with these registry rows and this
    /// durable applied index.
    Started { node: u8, rows: Pairs, applied: u64 },
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
    /// A snapshot restored into a node's FSM, with the registry and the
    /// library digest it left.
    Restored {
        node: u8,
        index: u64,
        rows: Pairs,
        digest: StateDigest,
        window_edge: u64,
    },
    /// A start-sequence guard decision.
    Guard {
        node: u8,
        full: u64,
        deks: &'a [u32],
        stage: GuardStage,
        epoch: u16,
        result: &'a Result<(), Refusal>,
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
    /// A node's store reopened holding `actual`, where the journal of what
    /// reached a sync (power loss) or a write (crash) says `expected`.
    Reopened {
        node: u8,
        expected: &'a Image,
        actual: &'a Image,
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
    /// Node `full`'s epoch file was replaced by an older copy.
    Rollback { full: u64 },
}

/// Every checker of one run.
pub struct Checkers {
    /// The per-apply and state oracles run; the purpose oracle always does
    /// (its findings are the run's verdict even with oracles off).
    on: bool,
    v: Violations,
    raft: RaftOracle,
    agreement: AgreementOracle,
    purpose: PurposeOracle,
    models: Vec<NodeModel>,
}

impl Checkers {
    pub fn new(nodes: u8, on: bool) -> Self {
        Checkers {
            on,
            v: Violations::default(),
            raft: RaftOracle::default(),
            agreement: AgreementOracle::default(),
            purpose: PurposeOracle::default(),
            models: (0..nodes).map(|_| NodeModel::default()).collect(),
        }
    }

    /// Whether the per-apply and state oracles run.
    pub fn on(&self) -> bool {
        self.on
    }

    /// A broken rule the engine itself saw (livelock, a store that would
    /// not open, a reopened store that lost data).
    pub fn violation(&mut self, oracle: &str, node: Option<u8>, at_us: u64, detail: String) {
        self.v.push(oracle, node, at_us, detail);
    }

    pub fn injected(&mut self, what: Injected) {
        match what {
            Injected::Collision { full } => self.purpose.on_collision_injected(full),
            Injected::Malformed { data_hash } => self.purpose.on_malformed_injected(data_hash),
            Injected::Rollback { full } => self.purpose.on_rollback_injected(full),
        }
    }

    pub fn observe(&mut self, at_us: u64, obs: Observation) {
        match obs {
            Observation::Started {
                node,
                rows,
                applied,
            } => self.models[usize::from(node)].reset(rows, applied),
            Observation::Applied {
                node,
                who,
                full,
                rec,
                outcome,
                window_edge,
            } => self.applied(at_us, node, who, full, rec, outcome, window_edge),
            Observation::Restored {
                node,
                index,
                rows,
                digest,
                window_edge,
            } => {
                self.models[usize::from(node)].reset(rows, index);
                if self.on && index >= window_edge {
                    self.agreement
                        .on_state(&mut self.v, at_us, node, index, digest);
                }
            }
            Observation::Guard {
                node,
                full,
                deks,
                stage,
                epoch,
                result,
            } => self.guard(at_us, node, full, deks, stage, epoch, result),
            Observation::Leader { node, term, log } => {
                if self.on {
                    self.raft.on_leader(&mut self.v, at_us, node, term, log);
                }
            }
            Observation::Nonce {
                who,
                dek,
                node16,
                epoch,
            } => self.purpose.on_nonce(at_us, who, dek, node16, epoch),
            Observation::RowsSynced { node, changes } => {
                if self.on {
                    for c in changes {
                        agreement::check_row_change(&mut self.v, at_us, node, c);
                    }
                }
            }
            Observation::Reopened {
                node,
                expected,
                actual,
            } => {
                if self.on && actual != expected {
                    let lost = expected
                        .iter()
                        .filter(|(k, v)| actual.get(*k) != Some(*v))
                        .count();
                    let extra = actual.keys().filter(|k| !expected.contains_key(*k)).count();
                    self.v.push(
                        "durability",
                        Some(node),
                        at_us,
                        format!("reopened store differs from what was synced/written: {lost} pairs lost or changed, {extra} unexpected"),
                    );
                }
            }
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
            Ok(_) => {
                if let Some(r) = writer_registry::wire::registration_of(&rec.data)
                    .filter(|r| r.full_node_id == full)
                {
                    self.purpose.on_own_registration(who, r.dek, r.local_epoch);
                }
                if self.on && rec.index >= window_edge {
                    self.agreement
                        .on_state(&mut self.v, at_us, node, rec.index, rec.digest);
                }
            }
            Err(halt) => self.purpose.on_halt(HaltEvent {
                node,
                at_us,
                index: rec.index,
                kind: halt.kind().name(),
                ids: halt_ids(halt),
                data_hash: writer_registry::ids::fnv1a64(&rec.data),
                in_replay_window: rec.index <= window_edge,
                message: halt.to_string(),
            }),
        }
    }

    /// The per-apply oracles: sync before ack, Raft safety, conformance.
    fn check_apply(&mut self, at_us: u64, node: u8, rec: &ApplyRecord, actual: &'static str) {
        if rec.unsynced {
            let detail = format!(
                "entry {} returned with registry writes not yet synced",
                rec.index
            );
            self.v.push("sync-before-ack", Some(node), at_us, detail);
        }
        self.raft
            .on_apply(&mut self.v, at_us, node, rec.index, rec.term, &rec.data);
        let model = &mut self.models[usize::from(node)];
        let expected = model.apply(rec.index, &rec.data);
        if !expected.admits(actual) {
            let detail = format!(
                "entry {} ({}): node did {actual}{}, model expects {}",
                rec.index,
                wire_summary(&rec.data),
                halt_suffix(&rec.result),
                expected.name()
            );
            self.v.push("conformance", Some(node), at_us, detail);
        } else if let Some((key, model_row)) = model.row_for(&rec.data) {
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

    #[allow(clippy::too_many_arguments)]
    fn guard(
        &mut self,
        at_us: u64,
        node: u8,
        full: u64,
        deks: &[u32],
        stage: GuardStage,
        epoch: u16,
        result: &Result<(), Refusal>,
    ) {
        let strict = stage == GuardStage::AfterReplay;
        let actual = result.as_ref().err().map(Refusal::name);
        if self.on {
            let expected = self.models[usize::from(node)].guard(full, deks, epoch, strict);
            if expected != actual {
                self.v.push(
                    "conformance",
                    Some(node),
                    at_us,
                    format!(
                        "guard {stage:?} at epoch {epoch}: node {actual:?}, model {expected:?}"
                    ),
                );
            }
        }
        if let Err(r) = result {
            let owner = match r {
                Refusal::ForeignOwner { owner, .. } => Some(*owner),
                _ => None,
            };
            self.purpose
                .on_refusal(node, full, at_us, r.name(), owner, r.to_string());
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
