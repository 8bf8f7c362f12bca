//! Purpose: what the registry is for, judged with ground truth the nodes
//! do not have (which conflicts were injected, who really wrote what).
//!
//! - Nonce safety: no two writer incarnations use one (dek, node16, epoch).
//! - Justified halts and refusals: each traces to one specific injected
//!   cause of its kind that precedes it (a collision with an injected
//!   writer, an injected malformed entry, or an epoch-file rollback whose
//!   re-opened epochs the halting entry or refusing start really used),
//!   and the report names that cause.

use std::collections::{BTreeMap, BTreeSet};

use regsim_engine::oracle::checker::Checker;
use writer_registry::startup::Refusal;
use writer_registry::Halt;

pub use super::observation::Incarnation;
use super::observation::{Injected, Observation};
use super::reference::{Found, Shown};
use super::Violations;
use crate::node::ApplyRecord;

/// A purpose failure, labelled by a narrow signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeFailure {
    pub signature: String,
    pub node: Option<u8>,
    pub at_us: u64,
    pub detail: String,
}

/// What a halt looked like, as the purpose oracle judges it.
#[derive(Debug, Clone)]
pub struct HaltEvent {
    pub node: u8,
    pub at_us: u64,
    pub index: u64,
    pub kind: &'static str,
    /// Full ids the halt names (owner and registrant).
    pub ids: Vec<u64>,
    pub data_hash: u64,
    /// The registry slot (dek, node16) the halt met, for a halt on a row.
    pub slot: Option<(u32, u16)>,
    /// A rollback halt's registration (dek, full, epoch) with the row's
    /// last_seen, and the entry's proposal id.
    pub rollback: Option<RollbackHalt>,
    /// The node was re-applying an index it had applied before a restart.
    pub in_replay_window: bool,
    pub message: String,
}

/// What a rollback halt says: the entry's registration and the row it met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollbackHalt {
    pub dek: u32,
    pub full: u64,
    pub epoch: u16,
    pub last_seen: u16,
    pub proposal_id: u64,
}

/// An injected replacement of node `node`'s (full id `full`) epoch file:
/// by its older copy `to` (a rollback; the file had held up to `high`), or
/// by a preset value `to` (`preset`: true).
#[derive(Debug, Clone, Copy)]
pub struct InjectedRollback {
    pub node: u8,
    pub full: u64,
    pub to: u16,
    pub high: u16,
    pub at_us: u64,
    pub preset: bool,
}

/// One injected damage of a row: (how, when, the node whose store it was).
type Damage = (&'static str, u64, u8);

#[derive(Debug, Default)]
pub struct PurposeOracle {
    nonces: BTreeMap<(u32, u16, u16), BTreeSet<Incarnation>>,
    /// (incarnation, dek, epoch) whose own registration applied on its node.
    registered: BTreeSet<(Incarnation, u32, u16)>,
    /// (incarnation, dek, open) already flagged by the gate check.
    gates: BTreeSet<(Incarnation, u32, bool)>,
    fake_ids: BTreeSet<u64>,
    malformed: BTreeSet<u64>,
    /// Every injected epoch-file rollback, in order.
    rollbacks: Vec<InjectedRollback>,
    /// Injected bootstrap, rotation and reserved-opcode entries: data hash
    /// -> what it was.
    exotic: BTreeMap<u64, &'static str>,
    /// Injected epoch-file presets: (node, epoch, when).
    presets: Vec<(u8, u16, u64)>,
    /// Injected row corruptions: (node, dek, node16) -> (how, when, the
    /// node whose store was damaged: another one's when a snapshot
    /// carried the damage here).
    corruptions: BTreeMap<(u8, u32, u16), Vec<Damage>>,
    /// Who took each snapshot, by its bytes' hash.
    snapshot_takers: BTreeMap<u64, u8>,
    /// Injected store I/O errors that fired and no halt has claimed yet:
    /// node -> when.
    store_faults: BTreeMap<u8, u64>,
    /// When each incarnation started (its start read the epoch file).
    started: BTreeMap<Incarnation, u64>,
    /// Which incarnation proposed each registration proposal id.
    proposers: BTreeMap<u64, Incarnation>,
    /// When each registration (dek, full, epoch) was first proposed.
    first_proposed: BTreeMap<(u32, u64, u16), u64>,
    /// Each justified halt or refusal and the injected cause behind it.
    justifications: Vec<String>,
    failures: Vec<PurposeFailure>,
    justified_halts: u64,
    justified_refusals: u64,
}

impl PurposeOracle {
    /// A member incarnation's own registration applied on its own node.
    pub fn on_own_registration(&mut self, who: Incarnation, dek: u32, epoch: u16) {
        self.registered.insert((who, dek, epoch));
    }

    /// START-7 (ID-8): incarnation `who` says whether it may encrypt
    /// under `dek` at `epoch` (`open`): exactly once the model saw that
    /// very registration apply on its own node. Open before it is a
    /// nonce-safety failure; still closed after it, START-6/7's sequence
    /// stuck (each flagged once per incarnation and dek).
    pub fn on_encryption_gate(
        &mut self,
        at_us: u64,
        who: Incarnation,
        dek: u32,
        epoch: u16,
        open: bool,
    ) {
        let registered = self.registered.contains(&(who, dek, epoch));
        if open == registered || !self.gates.insert((who, dek, open)) {
            return;
        }
        let (signature, detail) = if open {
            ("encryption-unregistered", format!("n{}#{} may encrypt under dek {dek} at epoch {epoch}, but that registration has not applied on its own node", who.0 + 1, who.1))
        } else {
            ("encryption-withheld", format!("n{}#{} may not encrypt under dek {dek} at epoch {epoch}, though that registration applied on its own node (START-7 opens it then)", who.0 + 1, who.1))
        };
        self.failures.push(PurposeFailure {
            signature: signature.into(),
            node: Some(who.0),
            at_us,
            detail,
        });
    }

    /// A member incarnation encrypted with nonce prefix (dek, node16, epoch).
    /// The registry protects a prefix only once it records it: using one
    /// the writer's own node has not applied is a nonce-safety failure even
    /// before anyone else reuses it.
    pub fn on_nonce(&mut self, at_us: u64, who: Incarnation, dek: u32, node16: u16, epoch: u16) {
        if !self.registered.contains(&(who, dek, epoch)) {
            self.failures.push(PurposeFailure {
                signature: "nonce-unregistered".into(),
                node: Some(who.0),
                at_us,
                detail: format!("n{}#{} encrypted under dek {dek} node16 {node16:#06x} epoch {epoch} before its registration applied on its own node", who.0 + 1, who.1),
            });
        }
        let users = self.nonces.entry((dek, node16, epoch)).or_default();
        if users.insert(who) && users.len() == 2 {
            let names: Vec<String> = users
                .iter()
                .map(|(n, i)| format!("n{}#{i}", n + 1))
                .collect();
            self.failures.push(PurposeFailure {
                signature: "nonce-reuse".into(),
                node: Some(who.0),
                at_us,
                detail: format!(
                    "dek {dek} node16 {node16:#06x} epoch {epoch} used by {}",
                    names.join(" and ")
                ),
            });
        }
    }

    pub fn on_collision_injected(&mut self, fake_full: u64) {
        self.fake_ids.insert(fake_full);
    }

    pub fn on_malformed_injected(&mut self, data_hash: u64) {
        self.malformed.insert(data_hash);
    }

    /// A bootstrap (4), rotation (5) or reserved-opcode (6, 7) entry.
    pub fn on_exotic_injected(&mut self, data_hash: u64, opcode: u8) {
        let what = match opcode {
            4 => "bootstrap",
            5 => "rotation",
            _ => "reserved-opcode",
        };
        self.exotic.insert(data_hash, what);
    }

    /// Node `node`'s stored row (dek, node16) was damaged (`how`).
    pub fn on_row_corrupted(
        &mut self,
        node: u8,
        dek: u32,
        node16: u16,
        how: &'static str,
        at_us: u64,
    ) {
        // Every damage stays on record: two on one row combine.
        self.corruptions
            .entry((node, dek, node16))
            .or_default()
            .push((how, at_us, node));
    }

    /// Node `node` took a snapshot whose bytes hash to `hash`.
    pub fn on_snapshot_taken(&mut self, node: u8, hash: u64) {
        self.snapshot_takers.entry(hash).or_insert(node);
    }

    /// Node `node` restored the snapshot whose bytes hash to `hash`: its
    /// rows are now the taker's, damage included (or none).
    pub fn on_snapshot_restored(&mut self, node: u8, hash: Option<u64>) {
        let taker = hash.and_then(|h| self.snapshot_takers.get(&h).copied());
        self.inherit_corruptions(taker, node);
    }

    /// `to`'s rows became those `from` held: `from`'s damage (none when
    /// `from` is unknown) replaces `to`'s.
    pub fn inherit_corruptions(&mut self, from: Option<u8>, to: u8) {
        if from == Some(to) {
            return;
        }
        let carried: Vec<_> = self
            .corruptions
            .iter()
            .filter(|((n, _, _), _)| Some(*n) == from)
            .map(|((_, dek, node16), causes)| ((to, *dek, *node16), causes.clone()))
            .collect();
        self.corruptions.retain(|(n, _, _), _| *n != to);
        self.corruptions.extend(carried);
    }

    /// The corruption of `node`'s row `slot` behind a halt or refusal of
    /// kind `kind`: only damage that can cause that kind (a truncated row
    /// a corrupt-row, a flipped owner a collision or foreign owner, a
    /// raised last_seen a rollback or an epoch not ahead).
    fn corruption_behind(&self, node: u8, slot: Option<(u32, u16)>, kind: &str) -> Option<String> {
        let (dek, node16) = slot?;
        self.corruptions
            .get(&(node, dek, node16))?
            .iter()
            .find(|(how, _, _)| match *how {
                "truncate" => kind == "corrupt-row",
                "owner-bit" => matches!(kind, "collision" | "foreign-owner"),
                "last-seen-up" => matches!(kind, "rollback" | "epoch-not-ahead"),
                _ => false,
            })
            .map(|(how, at, origin)| {
                let carried = if *origin == node {
                    String::new()
                } else {
                    format!(", carried to n{} by a snapshot", node + 1)
                };
                format!(
                    "an injected corruption ({how}) of n{}'s row dek {dek} node16 {node16:#06x} at {:.6}s{carried}",
                    origin + 1,
                    *at as f64 / 1e6
                )
            })
    }

    /// An injected store I/O error fired on `node`.
    pub fn on_store_fault(&mut self, node: u8, at_us: u64) {
        self.store_faults.insert(node, at_us);
    }

    /// `node`'s process stopped: a store error no halt of it claimed
    /// (one that struck a snapshot's write) explains nothing later.
    pub fn on_stopped(&mut self, node: u8) {
        self.store_faults.remove(&node);
    }

    /// Node `node`'s (full id `full`) epoch file, which had held up to
    /// `high`, was set to `epoch`: a cause of exhaustion, and, where it
    /// lowered the file, of the refusals and halts a rollback causes.
    pub fn on_epoch_preset(&mut self, node: u8, full: u64, epoch: u16, high: u16, at_us: u64) {
        self.presets.push((node, epoch, at_us));
        if epoch < high {
            self.rollbacks.push(InjectedRollback {
                node,
                full,
                to: epoch,
                high,
                at_us,
                preset: true,
            });
        }
    }

    pub fn on_rollback_injected(&mut self, rollback: InjectedRollback) {
        self.rollbacks.push(rollback);
    }

    /// An incarnation started (read its epoch file) at `at_us`.
    pub fn on_start(&mut self, who: Incarnation, at_us: u64) {
        self.started.insert(who, at_us);
    }

    /// An incarnation proposed its registration (dek, full, epoch) under
    /// `proposal_id` at `at_us`.
    pub fn on_registration_proposed(
        &mut self,
        who: Incarnation,
        proposal_id: u64,
        (dek, full, epoch): (u32, u64, u16),
        at_us: u64,
    ) {
        self.proposers.insert(proposal_id, who);
        self.first_proposed
            .entry((dek, full, epoch))
            .or_insert(at_us);
    }

    /// The rollback that explains why the row of (dek, full) holds
    /// `last_seen`, ahead of an incarnation that started at `started`:
    /// injected on `full`'s node no later than that start, after the
    /// registration that wrote `last_seen` was proposed (it may apply
    /// only later, replayed from the log: its epoch was used before the
    /// rollback either way).
    fn rollback_behind(
        &self,
        dek: u32,
        full: u64,
        last_seen: u16,
        started: u64,
    ) -> Option<&InjectedRollback> {
        let written = *self.first_proposed.get(&(dek, full, last_seen))?;
        // The row's epoch lies in the range the replacement re-opened.
        self.rollbacks.iter().find(|r| {
            r.full == full
                && r.to < last_seen
                && last_seen <= r.high
                && written < r.at_us
                && r.at_us <= started
        })
    }

    fn describe(r: &InjectedRollback) -> String {
        if r.preset {
            return format!(
                "epoch-file preset of n{} to {:#06x} at {:.6}s",
                r.node + 1,
                r.to,
                r.at_us as f64 / 1e6
            );
        }
        format!(
            "epoch-file rollback of n{} at {:.6}s ({} -> {})",
            r.node + 1,
            r.at_us as f64 / 1e6,
            r.high,
            r.to
        )
    }

    /// The injected cause behind a halt, if it has one.
    fn halt_cause(&self, h: &HaltEvent) -> Option<String> {
        if let Some(what) = self.exotic.get(&h.data_hash) {
            let halts = matches!(
                h.kind,
                "kek-not-configured" | "unknown-opcode" | "malformed"
            );
            return halts.then(|| format!("an injected {what} entry"));
        }
        match h.kind {
            "malformed" => self
                .malformed
                .contains(&h.data_hash)
                .then(|| "an injected malformed entry".to_string()),
            "collision" => h
                .ids
                .iter()
                .find(|id| self.fake_ids.contains(id))
                .map(|id| format!("an injected registration of writer {id:#018x}")),
            "rollback" => {
                // The halting entry was proposed by an incarnation that
                // started after the rollback (from the rolled-back file or
                // a descendant of it), and the row it met was written
                // before the rollback.
                let rb = h.rollback?;
                let proposer = self.proposers.get(&rb.proposal_id)?;
                let started = *self.started.get(proposer)?;
                let r = self
                    .rollback_behind(rb.dek, rb.full, rb.last_seen, started)
                    .filter(|r| r.node == proposer.0 && rb.epoch > r.to)?;
                Some(format!(
                    "{} (entry from n{}#{}, started after it)",
                    Self::describe(r),
                    proposer.0 + 1,
                    proposer.1
                ))
            }
            _ => None,
        }
    }

    pub fn on_halt(&mut self, h: HaltEvent) {
        let cause = if h.kind == "store" {
            self.store_faults.remove(&h.node).map(|at| {
                format!(
                    "an injected store I/O error on n{} at {:.6}s",
                    h.node + 1,
                    at as f64 / 1e6
                )
            })
        } else if matches!(h.kind, "corrupt-row" | "collision" | "rollback") {
            self.halt_cause(&h)
                .or_else(|| self.corruption_behind(h.node, h.slot, h.kind))
        } else {
            self.halt_cause(&h)
        };
        if let Some(cause) = cause {
            self.justified_halts += 1;
            self.justifications.push(format!(
                "n{} halt ({}) at index {} at {:.6}s: {cause}",
                h.node + 1,
                h.kind,
                h.index,
                h.at_us as f64 / 1e6
            ));
            return;
        }
        let pattern = if h.in_replay_window {
            "replay-window"
        } else {
            "steady"
        };
        self.failures.push(PurposeFailure {
            signature: format!("unjustified-halt:{}:{pattern}", h.kind),
            node: Some(h.node),
            at_us: h.at_us,
            detail: format!("halt at index {}: {}", h.index, h.message),
        });
    }

    /// A refusal by incarnation `who` of member `full`: `owner` is the
    /// foreign owner it names, `ahead` the (dek, last_seen) of a row ahead
    /// of its epoch.
    #[allow(clippy::too_many_arguments)]
    pub fn on_refusal(
        &mut self,
        who: Incarnation,
        full: u64,
        at_us: u64,
        name: &'static str,
        owner: Option<u64>,
        ahead: Option<(u32, u16)>,
        slot: Option<(u32, u16)>,
        message: String,
    ) {
        let node = who.0;
        let started = self.started.get(&who).copied().unwrap_or(0);
        let corrupted = matches!(name, "corrupt-row" | "foreign-owner" | "epoch-not-ahead")
            .then(|| self.corruption_behind(node, slot, name))
            .flatten();
        let cause = corrupted.or_else(|| match name {
            "foreign-owner" => owner
                .filter(|o| self.fake_ids.contains(o))
                .map(|o| format!("an injected registration of writer {o:#018x}")),
            // The row was ahead because of what the node wrote before its
            // epoch file was rolled back, before this start.
            "epoch-not-ahead" => ahead.and_then(|(dek, last)| {
                self.rollback_behind(dek, full, last, started)
                    .map(Self::describe)
            }),
            // The file reached 0xFFFF through a preset on this node before
            // this start (0xFFFF itself, or 0xFFFE and then a bump).
            "epochs-exhausted" => self
                .presets
                .iter()
                .find(|(n, _, at)| *n == node && *at <= started)
                .map(|(_, epoch, at)| {
                    format!(
                        "epoch-file preset of n{} to {epoch:#06x} at {:.6}s",
                        node + 1,
                        *at as f64 / 1e6
                    )
                }),
            _ => None,
        });
        if let Some(cause) = cause {
            self.justified_refusals += 1;
            self.justifications.push(format!(
                "n{} refusal ({name}) at {:.6}s: {cause}",
                node + 1,
                at_us as f64 / 1e6
            ));
            return;
        }
        self.failures.push(PurposeFailure {
            signature: format!("unjustified-refusal:{name}"),
            node: Some(node),
            at_us,
            detail: message,
        });
    }

    pub fn failures(&self) -> &[PurposeFailure] {
        &self.failures
    }

    pub fn justified(&self) -> (u64, u64) {
        (self.justified_halts, self.justified_refusals)
    }

    /// Each justified halt and refusal with the injected cause behind it.
    pub fn justifications(&self) -> &[String] {
        &self.justifications
    }
}

/// Shown every observation whether the oracles are on or off: its
/// findings are the run's verdict either way. It reports none of them to
/// the violations sink: they are findings, read after the run through
/// [`PurposeOracle::failures`] and judged against what a scenario allows.
impl Checker<Shown<'_>> for PurposeOracle {
    fn observe(&mut self, at_us: u64, shown: &Shown<'_>, _: &mut Violations) {
        match (shown.what, shown.found) {
            (
                &Observation::Applied {
                    node,
                    who,
                    full,
                    rec,
                    window_edge,
                    ..
                },
                _,
            ) => self.applied(at_us, (node, who, full), rec, window_edge),
            (
                &Observation::Guard {
                    who,
                    full,
                    result: Err(r),
                },
                _,
            ) => self.refused(at_us, who, full, r),
            (
                &Observation::RegistrationProposed {
                    who,
                    proposal_id,
                    data,
                },
                _,
            ) => {
                if let Some(r) = writer_registry::wire::registration_of(data) {
                    let reg = (r.dek, r.full_node_id, r.local_epoch);
                    self.on_registration_proposed(who, proposal_id, reg, at_us);
                }
            }
            (&Observation::Started { node, inc, .. }, _) => self.on_start((node, inc), at_us),
            (
                &Observation::Nonce {
                    who,
                    dek,
                    node16,
                    epoch,
                },
                _,
            ) => self.on_nonce(at_us, who, dek, node16, epoch),
            (
                &Observation::EncryptionGate {
                    who,
                    dek,
                    epoch,
                    open,
                },
                _,
            ) => self.on_encryption_gate(at_us, who, dek, epoch, open),
            (&Observation::Stopped { node, .. }, _) => self.on_stopped(node),
            (&Observation::SnapshotTaken { node, .. }, &Found::SnapshotTaken { hash, .. }) => {
                self.on_snapshot_taken(node, hash)
            }
            (&Observation::Restored { node, .. }, &Found::Restored { hash, .. }) => {
                self.on_snapshot_restored(node, hash)
            }
            (Observation::RowCorrupted(c), _) => {
                self.on_row_corrupted(c.node, c.dek, c.node16, c.how, at_us)
            }
            (&Observation::StoreFault { node, .. }, _) => self.on_store_fault(node, at_us),
            _ => {}
        }
    }
}

impl PurposeOracle {
    /// What the fault injector did at `at_us`: the causes a halt or a
    /// refusal may be traced to.
    pub fn injected(&mut self, at_us: u64, what: Injected) {
        match what {
            Injected::Collision { full } => self.on_collision_injected(full),
            Injected::Malformed { data_hash } => self.on_malformed_injected(data_hash),
            Injected::Exotic { data_hash, opcode } => self.on_exotic_injected(data_hash, opcode),
            Injected::EpochPreset {
                node,
                full,
                epoch,
                high,
            } => self.on_epoch_preset(node, full, epoch, high, at_us),
            Injected::Rollback {
                node,
                full,
                to,
                high,
            } => self.on_rollback_injected(InjectedRollback {
                node,
                full,
                to,
                high,
                at_us,
                preset: false,
            }),
        }
    }

    /// Incarnation `who` of `node` (writer `full`) applied `rec`: its own
    /// registration is on record, a halt must trace to a cause.
    fn applied(
        &mut self,
        at_us: u64,
        (node, who, full): (u8, Incarnation, u64),
        rec: &ApplyRecord,
        window_edge: u64,
    ) {
        match &rec.result {
            Ok(_) => {
                if let Some(r) = writer_registry::wire::registration_of(&rec.data)
                    .filter(|r| r.full_node_id == full)
                {
                    self.on_own_registration(who, r.dek, r.local_epoch);
                }
            }
            Err(halt) => self.on_halt(HaltEvent {
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

    /// A start-sequence guard refused: is an injected cause behind it?
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
        self.on_refusal(
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
