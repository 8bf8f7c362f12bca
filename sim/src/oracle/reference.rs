//! The reference the checkers judge against: each node's independent
//! model ([`NodeModel`]) and what each snapshot carries and where it went
//! ([`SnapshotSources`]). It is no checker: it pushes nothing. Several
//! checkers read it (conformance, the start judge, replica agreement, the
//! snapshot and invariant checkers), so one owner keeps it and none holds
//! a copy: [`Reference::observe`] brings it up to date with each
//! observation before any checker is shown that observation, and the
//! checkers read it afterwards, through shared references only, from what
//! they are shown ([`Shown`]).
//!
//! Where it must judge to know what to keep (whether a store lies in the
//! allowed set before adopting it, whether a snapshot carried its taker's
//! state before recording what a restore of it becomes), it hands its
//! finding over as a [`Found`] for the checker that reports it; deciding
//! whether a node's behaviour conforms is the checkers' business.

use regsim_engine::oracle::observation::{RaftObservation, RaftView};

use super::model::{Expected, NodeModel};
use super::observation::Observation;
use super::snapshots::SnapshotSources;
use writer_registry::PersistPolicy;

/// Each node's model and the run's snapshots.
pub struct Reference {
    models: Vec<NodeModel>,
    snapshots: SnapshotSources,
}

/// What the reference made of one observation, for the checkers that
/// report it. With the oracles off the reference models nothing: only
/// the snapshots' hashes are worked out (the purpose oracle, which always
/// runs, reads them).
#[derive(Debug, Default)]
pub enum Found {
    /// Nothing beyond the observation itself.
    #[default]
    Nothing,
    /// An apply: what the model expected it to do (its row is the
    /// model's now).
    Apply(Expected),
    /// A store reopened or stopped: how it lies outside what the model
    /// allows, if it does (the model has adopted it either way).
    Store(Option<String>),
    /// A snapshot taken: its bytes' hash, and how it differs from its
    /// taker's model state, if it does.
    SnapshotTaken { hash: u64, differs: Option<String> },
    /// A snapshot restored: its hash (`None`: a leader's snapshot that was
    /// never delivered), and the node that took it (`None`: no node did,
    /// or the oracles are off). The restorer's model is now the taker's
    /// state.
    Restored {
        hash: Option<u64>,
        taker: Option<u8>,
    },
}

/// What every checker is shown: an observation, what the reference made
/// of it, and the reference after it.
pub struct Shown<'a> {
    /// What happened.
    pub what: &'a Observation<'a>,
    /// What the reference made of it.
    pub found: &'a Found,
    /// The reference, already brought up to date with `what`.
    pub reference: &'a Reference,
}

impl RaftView for Shown<'_> {
    fn raft(&self) -> Option<RaftObservation<'_>> {
        self.what.raft()
    }
}

impl Reference {
    /// A cluster of `nodes` with empty stores under `policy`.
    pub fn new(nodes: u8, policy: PersistPolicy) -> Self {
        Reference {
            models: (0..nodes).map(|_| NodeModel::new(policy)).collect(),
            snapshots: SnapshotSources::new(nodes),
        }
    }

    /// The cluster's size.
    pub fn nodes(&self) -> u8 {
        self.models.len() as u8
    }

    /// Node `node`'s model.
    pub fn model(&self, node: u8) -> &NodeModel {
        &self.models[usize::from(node)]
    }

    /// Brings the reference up to date with `obs` (`on`: the oracles
    /// run; otherwise only snapshot deliveries and hashes are kept).
    pub fn observe(&mut self, on: bool, obs: &Observation) -> Found {
        match *obs {
            Observation::SnapshotDelivered {
                to,
                index,
                data_hash,
            } => {
                self.snapshots.delivered(to, index, data_hash);
                Found::Nothing
            }
            Observation::SnapshotTaken {
                node, index, data, ..
            } => {
                let hash = crate::fnv::fnv1a64(data);
                let differs = if on {
                    let model = &mut self.models[usize::from(node)];
                    self.snapshots.taken(node, model, (index, data, hash))
                } else {
                    None
                };
                Found::SnapshotTaken { hash, differs }
            }
            Observation::Restored {
                node,
                index,
                replay,
                disk_hash,
                ..
            } => {
                let hash = self.snapshots.restored_hash(node, index, replay, disk_hash);
                let taker = if on {
                    self.restore(node, index, hash)
                } else {
                    None
                };
                Found::Restored { hash, taker }
            }
            _ if !on => Found::Nothing,
            _ => self.model_observe(obs),
        }
    }

    /// `node` restored the snapshot at `index` hashing to `hash`: its
    /// model becomes the source's state. The taker, if some node took it.
    fn restore(&mut self, node: u8, index: u64, hash: Option<u64>) -> Option<u8> {
        let source = self.snapshots.source(hash)?;
        self.models[usize::from(node)].restore(&source.state(), index, source.tainted);
        Some(source.taker)
    }

    /// What the models are told with the oracles on (snapshots aside).
    fn model_observe(&mut self, obs: &Observation) -> Found {
        match *obs {
            Observation::Applied { node, rec, .. } => {
                Found::Apply(self.models[usize::from(node)].apply(rec.index, &rec.data))
            }
            Observation::Started { node, store, .. } => {
                // The reopened store must lie in the allowed set; the new
                // incarnation's FSM starts at its durable applied index.
                let model = &mut self.models[usize::from(node)];
                let outside = store.and_then(|image| model.check_store(image));
                model.started();
                Found::Store(outside)
            }
            Observation::Stopped { node, store, .. } => {
                Found::Store(self.models[usize::from(node)].check_store(store))
            }
            Observation::WriteCut {
                node,
                index,
                entry,
                disk_hash,
            } => {
                let source = self.snapshots.cut_source(node, index, disk_hash);
                self.models[usize::from(node)].write_cut(index, entry, source.as_ref());
                Found::Nothing
            }
            Observation::PowerLost { node } => {
                self.models[usize::from(node)].power_lost();
                Found::Nothing
            }
            Observation::RowCorrupted(ref c) => {
                let model = &mut self.models[usize::from(c.node)];
                model.inject_row(c.key.clone(), c.old.clone(), c.value.clone());
                Found::Nothing
            }
            Observation::StoreFault { node, op } => {
                self.models[usize::from(node)].store_fault(op);
                Found::Nothing
            }
            // Nothing the models hold (snapshots are taken in `observe`);
            // listed, so that a new observation must be placed.
            Observation::SnapshotTaken { .. }
            | Observation::SnapshotDelivered { .. }
            | Observation::Restored { .. }
            | Observation::StartEnded { .. }
            | Observation::Guard { .. }
            | Observation::RegistrationProposed { .. }
            | Observation::Nonce { .. }
            | Observation::EncryptionGate { .. }
            | Observation::Raft(_)
            | Observation::RowsSynced { .. } => Found::Nothing,
        }
    }
}
