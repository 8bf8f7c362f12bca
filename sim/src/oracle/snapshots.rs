//! What each snapshot carries and where each went: part of the
//! reference the checkers read ([`super::reference`]). Every snapshot a
//! node takes must carry its taker's model state at its index; that state
//! is kept, by the snapshot bytes' hash, as what a restore of it becomes.
//! A restore is of a snapshot some node took: a leader's as the transport
//! delivered it to that node, a start's as the harness's disk holds it.
//! `snapshot-content` and `snapshot-source` report what this finds
//! ([`super::snapshot_source`]).

use std::collections::BTreeMap;

use writer_registry::registry::Space;

use super::model::{describe_difference, NodeModel, SnapshotState};
use crate::store::Image;

/// What a snapshot carries, as its taker's model held it.
pub(super) struct Source {
    state: Carried,
    /// The node that took it.
    pub taker: u8,
    /// The taker's state held injected bytes: so does the restorer's.
    pub tainted: bool,
}

/// A source's state: the snapshot's own bytes when they carried exactly
/// the taker's model state (decoded only if a node restores it, which few
/// do), or the model's state when they did not.
enum Carried {
    Bytes(Vec<u8>),
    State(SnapshotState),
}

impl Source {
    /// The state a restore of it becomes.
    pub(super) fn state(&self) -> SnapshotState {
        match &self.state {
            Carried::State(s) => s.clone(),
            Carried::Bytes(data) => writer_registry::Snapshot::decode(data)
                .map(|s| snapshot_image(s.rows, s.kv))
                .expect("decoded once when taken"),
        }
    }
}

/// A snapshot's registry rows and KV pairs as an image.
pub(super) fn snapshot_image(
    rows: writer_registry::registry::Pairs,
    kv: writer_registry::registry::Pairs,
) -> Image {
    let mut image = Image::new();
    for (space, pairs) in [(Space::Registry, rows), (Space::Kv, kv)] {
        image.extend(pairs.into_iter().map(|(k, v)| ((space, k), v)));
    }
    image
}

/// Every snapshot taken (what it must carry) and delivered (to whom).
pub(super) struct SnapshotSources {
    /// The state each snapshot ever taken must carry, by its bytes' hash:
    /// a restore becomes its source's model state.
    taken: BTreeMap<u64, Source>,
    /// Per node, the last snapshot delivered for each index (its hash).
    delivered: Vec<BTreeMap<u64, u64>>,
}

impl SnapshotSources {
    pub(super) fn new(nodes: u8) -> Self {
        SnapshotSources {
            taken: BTreeMap::new(),
            delivered: vec![BTreeMap::new(); usize::from(nodes)],
        }
    }

    /// The transport handed `to` a snapshot at `index` whose bytes hash to
    /// `hash`.
    pub(super) fn delivered(&mut self, to: u8, index: u64, hash: u64) {
        self.delivered[usize::from(to)].insert(index, hash);
    }

    /// The hash of the snapshot `node` restored at `index`: a start's
    /// (`replay`) is the one its disk holds (`disk_hash`), a leader's the
    /// last one delivered to it at that index.
    pub(super) fn restored_hash(
        &self,
        node: u8,
        index: u64,
        replay: bool,
        disk_hash: Option<u64>,
    ) -> Option<u64> {
        if replay {
            disk_hash
        } else {
            self.delivered[usize::from(node)].get(&index).copied()
        }
    }

    /// The state of the snapshot at `index` an armed crash cut on `node`
    /// (its disk's, `disk_hash`, or the last one delivered to it there),
    /// if some node took it.
    pub(super) fn cut_source(
        &self,
        node: u8,
        index: u64,
        disk_hash: Option<u64>,
    ) -> Option<SnapshotState> {
        let hash = disk_hash.or_else(|| self.delivered[usize::from(node)].get(&index).copied());
        hash.and_then(|h| self.taken.get(&h)).map(Source::state)
    }

    /// `node`, whose model is `model`, took the snapshot at `index` with
    /// bytes `data` hashing to `hash`: what a restore of it becomes is
    /// kept, and how it differs from the model is returned (for
    /// `snapshot-content`).
    pub(super) fn taken(
        &mut self,
        node: u8,
        model: &mut NodeModel,
        (index, data, hash): (u64, &[u8], u64),
    ) -> Option<String> {
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
        let tainted = model.tainted();
        self.taken.entry(hash).or_insert(Source {
            state,
            taker: node,
            tainted,
        });
        diff
    }

    /// The source of a restored snapshot hashing to `hash`, if some node
    /// took it.
    pub(super) fn source(&self, hash: Option<u64>) -> Option<&Source> {
        hash.and_then(|h| self.taken.get(&h))
    }
}
