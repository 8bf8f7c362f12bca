//! Conformance: an independent model of one node's state machine and of
//! what its store must hold.
//!
//! Written from the spec, not from the library: its own entry decoding,
//! its own row layout, its own rule order, and its own expectation of
//! durability. The model changes only by
//! - applies it has checked ([`NodeModel::apply`]): each computes the
//!   batch the spec says the apply writes (a row, a KV pair, and the
//!   applied index where the persistence policy puts it, REPLAY-2/5) and,
//!   when that batch is not empty, the sync that makes everything before
//!   it durable (APPLY-8);
//! - snapshots: one taken writes the applied index ([`NodeModel::snapshot_taken`]);
//!   one restored becomes the state its *source* model held when that
//!   snapshot was taken, never what the restoring node wrote
//!   ([`NodeModel::restore`]);
//! - the harness's own ground truth: a power loss rolls the model back to
//!   what reached a sync ([`NodeModel::power_lost`]); a crash that cut a
//!   write between its write and its sync adds that one batch as a
//!   possibility ([`NodeModel::write_cut`]);
//! - a reopened or stopped store, only once shown to lie in the allowed
//!   set ([`NodeModel::check_store`]): exactly the model's state, or that
//!   state plus one whole batch a crash cut. A store outside it is a
//!   violation naming the key and both values; it is adopted afterwards
//!   only so that one breach does not cascade.
//!
//! The Raft log, the hard state and the epoch file are the harness's own
//! simulated disk, not part of this model: the oracles read them as
//! ground truth.

use writer_registry::registry::{Space, APPLIED_INDEX_KEY};
use writer_registry::PersistPolicy;

use crate::store::Image;

/// What the model expects an entry to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Empty,
    Kv,
    Insert,
    Advance,
    NoOp,
    /// A halt of the named kind (library `HaltKind::name`s).
    Halt(&'static str),
    /// Bootstrap or rotation: the stub halts, or the body is malformed.
    KekOrMalformed,
}

impl Expected {
    pub fn name(self) -> &'static str {
        match self {
            Expected::Empty => "empty",
            Expected::Kv => "kv",
            Expected::Insert => "insert",
            Expected::Advance => "advance",
            Expected::NoOp => "no-op",
            Expected::Halt(k) => k,
            Expected::KekOrMalformed => "kek-not-configured|malformed",
        }
    }

    /// Whether the entry stops the FSM (nothing written, applied index
    /// stays).
    pub fn halts(self) -> bool {
        matches!(self, Expected::Halt(_) | Expected::KekOrMalformed)
    }

    /// Does the node's outcome (named the same way) match?
    pub fn admits(self, actual: &str) -> bool {
        match self {
            Expected::KekOrMalformed => actual == "kek-not-configured" || actual == "malformed",
            other => other.name() == actual,
        }
    }
}

enum Cmd<'a> {
    Empty,
    /// A KV command: stored under its proposal id, the whole FSM payload
    /// as the value.
    Kv {
        proposal_id: u64,
        payload: &'a [u8],
    },
    Reg {
        dek: u32,
        full: u64,
        epoch: u16,
    },
    Malformed,
    KekOrMalformed,
    Unknown,
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, &b| acc << 8 | u64::from(b))
}

fn decode(data: &[u8]) -> Cmd<'_> {
    if data.is_empty() {
        return Cmd::Empty;
    }
    if data[0] != 1 || data.len() < 10 {
        return Cmd::Malformed;
    }
    let body = &data[10..];
    match data[9] {
        3 if body.len() == 15 && body[0] == 1 => Cmd::Reg {
            dek: be(&body[1..5]) as u32,
            full: be(&body[5..13]),
            epoch: be(&body[13..15]) as u16,
        },
        3 => Cmd::Malformed,
        4 | 5 => Cmd::KekOrMalformed,
        6 | 7 => Cmd::Unknown,
        _ => Cmd::Kv {
            proposal_id: be(&data[1..9]),
            payload: &data[9..],
        },
    }
}

fn key(dek: u32, slot: u16) -> Vec<u8> {
    let mut k = b"!encryption|writers|".to_vec();
    k.extend(dek.to_be_bytes());
    k.push(b'|');
    k.extend(slot.to_be_bytes());
    k
}

fn value(full: u64, first: u16, last: u16) -> Vec<u8> {
    let mut v = full.to_be_bytes().to_vec();
    v.extend(first.to_be_bytes());
    v.extend(last.to_be_bytes());
    v
}

/// A stored row as the model reads it: (full, first, last), or corrupt.
fn parse(v: &[u8]) -> Option<(u64, u16, u16)> {
    (v.len() == 12).then(|| (be(&v[..8]), be(&v[8..10]) as u16, be(&v[10..12]) as u16))
}

/// A key of the model's image: the space and the key bytes.
pub type Key = (Space, Vec<u8>);

/// One write of a batch, as the model expects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelOp {
    Put(Key, Vec<u8>),
    Delete(Key),
}

fn applied_key() -> Key {
    (Space::Meta, APPLIED_INDEX_KEY.to_vec())
}

/// The harness's own digest of one (space, key, value) pair; a state's
/// digest is the wrapping sum over its pairs, so it updates in O(1).
fn pair_hash(space: Space, k: &[u8], v: &[u8]) -> u64 {
    crate::store::digest_pairs(std::iter::once((space, k, v))).0
}

/// A state's digest over its registry and KV spaces (the applied index is
/// node-local and left out): (sum of pair hashes, pair count).
pub type ModelDigest = (u64, u64);

/// The registry and KV pairs of a state: what a snapshot carries.
pub type SnapshotState = Image;

/// One difference between a store and the model, for a report.
/// Stored bytes as reports show them: hex, as `regsim inspect` takes it,
/// or `absent`.
pub fn shown(bytes: Option<&[u8]>) -> String {
    bytes.map_or_else(|| "absent".to_string(), writer_registry::hex::encode)
}

/// A row's value is shown in hex, as `regsim inspect row` takes it; the
/// durable applied index as the number it is (an 8-byte big-endian
/// integer, by the spec's conventions), as the trace's `index=` shows it.
pub fn describe_difference(expected: &Image, actual: &Image) -> Option<String> {
    let keys: std::collections::BTreeSet<&Key> = expected.keys().chain(actual.keys()).collect();
    let mut differing = keys
        .into_iter()
        .filter(|k| expected.get(*k) != actual.get(*k));
    let first = differing.next()?;
    let more = differing.count();
    let is_index = first.0 == Space::Meta && first.1 == APPLIED_INDEX_KEY;
    let show = |v: Option<&Vec<u8>>| match v.map(|v| <[u8; 8]>::try_from(v.as_slice())) {
        Some(Ok(be)) if is_index => u64::from_be_bytes(be).to_string(),
        _ => shown(v.map(Vec::as_slice)),
    };
    let field = match first.0 {
        Space::Meta if is_index => "durable applied index".to_string(),
        space => format!(
            "{} key {}",
            space.name(),
            writer_registry::hex::encode(&first.1)
        ),
    };
    Some(format!(
        "{field}: store holds {}, model expects {}{}",
        show(actual.get(first)),
        show(expected.get(first)),
        if more > 0 {
            format!(" (and {more} more keys differ)")
        } else {
            String::new()
        }
    ))
}

/// The model of one node: what its FSM and store must hold.
#[derive(Debug, Clone)]
pub struct NodeModel {
    policy: PersistPolicy,
    /// What the store holds now, as the spec says it must.
    live: Image,
    /// The in-process applied index (the durable one is in `live`).
    applied: u64,
    /// How to turn `live` back into what reached a sync, newest last.
    undo: Vec<(Key, Option<Vec<u8>>)>,
    /// Batches written and not synced since the last sync, in write order
    /// (all of them in `live`).
    pending: Vec<Vec<ModelOp>>,
    /// How many of `pending` a store must still hold: all of them, until
    /// a power loss makes any whole-batch prefix possible.
    floor: usize,
    /// The write a crash cut between its write and its sync, if one did:
    /// each alternative is a batch that may have been in flight there (not
    /// in `live`; the next look at the store settles it).
    cut: Vec<Vec<ModelOp>>,
    /// An injected I/O error fired in the call whose applies come next.
    fault: Option<crate::store::StoreOp>,
    /// A registry row the harness damaged (and synced, making everything
    /// before it durable) since the store was last looked at.
    injected: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    /// The state holds injected bytes (until a restore replaces it): it
    /// is this node's, not what replicas must agree on.
    tainted: bool,
    digest: ModelDigest,
}

impl NodeModel {
    pub fn new(policy: PersistPolicy) -> Self {
        NodeModel {
            policy,
            live: Image::new(),
            applied: 0,
            undo: Vec::new(),
            pending: Vec::new(),
            floor: 0,
            cut: Vec::new(),
            fault: None,
            injected: Vec::new(),
            tainted: false,
            digest: (0, 0),
        }
    }

    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// The durable applied index the model expects in the store.
    pub fn durable_applied(&self) -> u64 {
        self.live.get(&applied_key()).map_or(0, |v| be(v))
    }

    /// The harness's digest of the registry and KV the node must hold.
    pub fn digest(&self) -> ModelDigest {
        self.digest
    }

    /// Everything the store must hold (all spaces).
    pub fn image(&self) -> &Image {
        &self.live
    }

    /// The registry and KV pairs: what a snapshot taken now carries.
    pub fn snapshot_state(&self) -> SnapshotState {
        self.live
            .iter()
            .filter(|((space, _), _)| *space != Space::Meta)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The row bytes the model holds for a registration's slot.
    pub fn row_for(&self, data: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
        match decode(data) {
            Cmd::Reg { dek, full, .. } => {
                let k = key(dek, (full & 0xFFFF) as u16);
                let v = self.live.get(&(Space::Registry, k.clone())).cloned();
                Some((k, v))
            }
            _ => None,
        }
    }

    fn row(&self, k: &[u8]) -> Option<&Vec<u8>> {
        self.live.get(&(Space::Registry, k.to_vec()))
    }

    /// What applying entry `index` must do, and the batch it must write;
    /// changes nothing.
    pub fn plan(&self, index: u64, data: &[u8]) -> (Expected, Vec<ModelOp>) {
        if index != self.applied + 1 {
            return (Expected::Halt("out-of-order"), Vec::new());
        }
        let mut batch = Vec::new();
        let expected = match decode(data) {
            Cmd::Empty => Expected::Empty,
            Cmd::Kv {
                proposal_id,
                payload,
            } => {
                batch.push(ModelOp::Put(
                    (Space::Kv, proposal_id.to_be_bytes().to_vec()),
                    payload.to_vec(),
                ));
                Expected::Kv
            }
            Cmd::Malformed => Expected::Halt("malformed"),
            Cmd::KekOrMalformed => Expected::KekOrMalformed,
            Cmd::Unknown => Expected::Halt("unknown-opcode"),
            Cmd::Reg { dek, full, epoch } => {
                let k = key(dek, (full & 0xFFFF) as u16);
                let mut put = |v| batch.push(ModelOp::Put((Space::Registry, k.clone()), v));
                match self.row(&k).map(|v| parse(v)) {
                    None => {
                        put(value(full, epoch, epoch));
                        Expected::Insert
                    }
                    Some(None) => Expected::Halt("corrupt-row"),
                    Some(Some((owner, _, _))) if owner != full => Expected::Halt("collision"),
                    Some(Some((_, _, last))) if epoch == last => Expected::NoOp,
                    Some(Some((_, _, last))) if epoch < last => Expected::Halt("rollback"),
                    Some(Some((owner, first, _))) => {
                        put(value(owner, first, epoch));
                        Expected::Advance
                    }
                }
            }
        };
        if expected.halts() {
            return (expected, Vec::new());
        }
        // REPLAY-2, REPLAY-5: where the durable applied index moves.
        let persist_index = match self.policy {
            PersistPolicy::Atomic => true,
            PersistPolicy::Faithful => expected == Expected::Kv,
        };
        if persist_index {
            batch.push(ModelOp::Put(applied_key(), index.to_be_bytes().to_vec()));
        }
        (expected, batch)
    }

    /// Applies entry `index` and says what should have happened. A halt
    /// leaves the model where it was; a write is synced before the apply
    /// returns, which makes every earlier write durable too.
    pub fn apply(&mut self, index: u64, data: &[u8]) -> Expected {
        let (expected, batch) = self.plan(index, data);
        let registry_write = batch.iter().any(|op| match op {
            ModelOp::Put((space, _), _) | ModelOp::Delete((space, _)) => *space == Space::Registry,
        });
        // The armed fault strikes the first registry write (or its sync).
        if let Some(op) = self.fault.filter(|_| registry_write) {
            self.fault = None;
            // The spec: a store error propagates and halts. A failed sync
            // leaves the write in the store, not durable.
            if op == crate::store::StoreOp::Sync {
                self.cut.push(batch);
            }
            return Expected::Halt("store");
        }
        if !expected.halts() {
            self.write(&batch, true);
            self.applied = index;
        }
        expected
    }

    /// Writes `batch` into the live state; `synced`: and syncs it.
    fn write(&mut self, batch: &[ModelOp], synced: bool) {
        if batch.is_empty() {
            return;
        }
        for op in batch {
            let (k, new) = match op {
                ModelOp::Put(k, v) => (k, Some(v.clone())),
                ModelOp::Delete(k) => (k, None),
            };
            let old = self.set(k, new);
            if !synced {
                self.undo.push((k.clone(), old));
            }
        }
        if synced {
            // A sync makes every earlier write durable too.
            self.undo.clear();
            self.pending.clear();
            self.floor = 0;
        } else {
            self.pending.push(batch.to_vec());
            self.floor = self.pending.len();
        }
    }

    /// Sets one key of the live state, keeping the digest; the old value.
    fn set(&mut self, k: &Key, new: Option<Vec<u8>>) -> Option<Vec<u8>> {
        let old = match &new {
            Some(v) => self.live.insert(k.clone(), v.clone()),
            None => self.live.remove(k),
        };
        if k.0 != Space::Meta {
            if let Some(o) = &old {
                self.digest.0 = self.digest.0.wrapping_sub(pair_hash(k.0, &k.1, o));
                self.digest.1 -= 1;
            }
            if let Some(n) = &new {
                self.digest.0 = self.digest.0.wrapping_add(pair_hash(k.0, &k.1, n));
                self.digest.1 += 1;
            }
        }
        old
    }

    /// A snapshot was taken: the applied index is written and synced
    /// first. The snapshot must carry [`Self::snapshot_state`].
    pub fn snapshot_taken(&mut self) {
        let batch = [ModelOp::Put(
            applied_key(),
            self.applied.to_be_bytes().to_vec(),
        )];
        self.write(&batch, true);
    }

    /// Whether `rows` and `kv` (each in key order) are exactly the
    /// registry and KV space the model holds: compared in place, as every
    /// snapshot taken is.
    pub fn carries(&self, rows: &[(Vec<u8>, Vec<u8>)], kv: &[(Vec<u8>, Vec<u8>)]) -> bool {
        let held = self
            .live
            .iter()
            .filter(|((space, _), _)| *space != Space::Meta)
            .map(|((space, k), v)| (*space, k, v));
        let carried = rows
            .iter()
            .map(|(k, v)| (Space::Registry, k, v))
            .chain(kv.iter().map(|(k, v)| (Space::Kv, k, v)));
        held.eq(carried)
    }

    /// The batch restoring `source` at `index` writes over the live state.
    fn restore_batch(&self, source: &SnapshotState, index: u64) -> Vec<ModelOp> {
        let mut batch: Vec<ModelOp> = self
            .live
            .keys()
            .filter(|k| k.0 != Space::Meta && !source.contains_key(*k))
            .map(|k| ModelOp::Delete(k.clone()))
            .collect();
        batch.extend(
            source
                .iter()
                .map(|(k, v)| ModelOp::Put(k.clone(), v.clone())),
        );
        batch.push(ModelOp::Put(applied_key(), index.to_be_bytes().to_vec()));
        batch
    }

    /// A snapshot taken at `index` with state `source` was restored: the
    /// whole registry and KV space become the source's, in one synced
    /// batch.
    pub fn restore(&mut self, source: &SnapshotState, index: u64, tainted: bool) {
        let batch = self.restore_batch(source, index);
        self.write(&batch, true);
        self.applied = index;
        self.tainted = tainted;
    }

    /// The harness damaged the registry row `key` to `value` while the
    /// node was down, and synced it (fjall's sync makes every earlier
    /// write durable too). Judged, with the rest of the store, at the next
    /// look at it.
    /// `old` is the row as the reopened store held it before: it must lie
    /// in the allowed set like the rest of the store.
    pub fn inject_row(&mut self, key: Vec<u8>, old: Vec<u8>, value: Vec<u8>) {
        self.injected.push((key, old, value));
        self.tainted = true;
    }

    /// Whether the state holds injected bytes (replica agreement does not
    /// apply to it).
    pub fn tainted(&self) -> bool {
        self.tainted
    }

    /// A crash cut a write between the write and its sync. `entry`: the
    /// entry at the cut index, from the harness's disk; `snapshot`: the
    /// state of a snapshot at that index the node was restoring. Each
    /// write that could have been in flight there becomes a possibility.
    pub fn write_cut(
        &mut self,
        index: u64,
        entry: Option<&[u8]>,
        snapshot: Option<&SnapshotState>,
    ) {
        if let Some(data) = entry.filter(|_| index == self.applied + 1) {
            let (expected, batch) = self.plan(index, data);
            if !expected.halts() && !batch.is_empty() {
                self.cut.push(batch);
            }
        }
        if index == self.applied {
            self.cut.push(vec![ModelOp::Put(
                applied_key(),
                index.to_be_bytes().to_vec(),
            )]);
        }
        if let Some(source) = snapshot {
            self.cut.push(self.restore_batch(source, index));
        }
    }

    /// An injected I/O error failed a registry write or the sync after it:
    /// the apply that made it must halt with a store error.
    pub fn store_fault(&mut self, op: crate::store::StoreOp) {
        self.fault = Some(op);
    }

    /// Power was lost: of the batches never synced, a store may keep any
    /// whole-batch prefix, in write order.
    pub fn power_lost(&mut self) {
        self.floor = 0;
    }

    /// Checks a store image (reopened, or at a stop) against the allowed
    /// set: what reached a sync, plus a whole-batch prefix of the batches
    /// written since (all of them unless power was lost), plus possibly the
    /// one write a crash cut. Adopts the store as the new state (what it
    /// kept of the unsynced batches stays unsynced) and returns the
    /// difference when it lies outside.
    pub fn check_store(&mut self, actual: &Image) -> Option<String> {
        let cut = std::mem::take(&mut self.cut);
        // A fault that fired outside an apply (a snapshot's write) died
        // with the process.
        self.fault = None;
        let injected = std::mem::take(&mut self.injected);
        let verdict = self.check_allowed(actual, &cut, &injected);
        if !injected.is_empty() {
            // The damage and the syncs that wrote it: all durable now.
            for (k, _, v) in injected {
                self.set(&(Space::Registry, k), Some(v));
            }
            self.undo.clear();
            self.pending.clear();
            self.floor = 0;
        }
        verdict
    }

    /// [`Self::check_store`]'s comparison, with `injected` written over
    /// each candidate state.
    fn check_allowed(
        &mut self,
        actual: &Image,
        cut: &[Vec<ModelOp>],
        injected: &[(Vec<u8>, Vec<u8>, Vec<u8>)],
    ) -> Option<String> {
        let with_injected = |state: &Image| {
            let mut s = state.clone();
            for (k, _, v) in injected {
                s.insert((Space::Registry, k.clone()), v.clone());
            }
            s
        };
        // Each damaged row held, before its first damage, what the
        // candidate state holds: the damage cannot cover a lost write.
        let held_before = |state: &Image| {
            let mut seen = std::collections::BTreeSet::new();
            injected.iter().all(|(k, old, _)| {
                !seen.insert(k) || state.get(&(Space::Registry, k.clone())) == Some(old)
            })
        };
        let fits = |state: &Image| {
            if injected.is_empty() {
                state == actual
            } else {
                held_before(state) && with_injected(state) == *actual
            }
        };
        if injected.is_empty() && *actual == self.live && self.floor == self.pending.len() {
            return None;
        }
        // What reached a sync, then each allowed prefix in turn.
        let mut state = self.live.clone();
        for (k, old) in self.undo.iter().rev() {
            match old {
                Some(v) => state.insert(k.clone(), v.clone()),
                None => state.remove(k),
            };
        }
        let mut kept = None;
        for j in 0..=self.pending.len() {
            if j > 0 {
                apply_ops(&mut state, &self.pending[j - 1]);
            }
            if j < self.floor {
                continue;
            }
            if fits(&state) {
                kept = Some((j, None));
                break;
            }
            if j == self.pending.len() {
                kept = cut
                    .iter()
                    .find(|b| {
                        let mut with = state.clone();
                        apply_ops(&mut with, b);
                        fits(&with)
                    })
                    .map(|b| (j, Some(b.clone())));
            }
        }
        match kept {
            Some((j, batch)) => {
                self.power_lost_to(j);
                self.pending.truncate(j);
                self.floor = j;
                if let Some(b) = batch {
                    self.write(&b, false);
                }
                None
            }
            None => {
                let diff = describe_difference(&with_injected(&self.live), actual).or_else(|| {
                    // What shows matches: the damage covered a row that
                    // held something else before it.
                    injected.iter().find_map(|(k, old, _)| {
                        let expected = self.live.get(&(Space::Registry, k.clone()));
                        (expected != Some(old)).then(|| {
                            format!(
                                "registry key {}: held {} before the injected damage, model expects {}",
                                writer_registry::hex::encode(k),
                                writer_registry::hex::encode(old),
                                expected.map_or_else(|| "absent".into(), |v| writer_registry::hex::encode(v))
                            )
                        })
                    })
                });
                self.adopt(actual);
                diff
            }
        }
    }

    /// Undoes the adopted unsynced batches after the first `j`.
    fn power_lost_to(&mut self, j: usize) {
        let keep: usize = self.pending[..j].iter().map(Vec::len).sum();
        while self.undo.len() > keep {
            let (k, old) = self.undo.pop().expect("longer than keep");
            self.set(&k, old);
        }
    }

    /// Takes `actual` as the state (after a reported breach only).
    fn adopt(&mut self, actual: &Image) {
        self.live.clear();
        self.digest = (0, 0);
        for (k, v) in actual {
            self.set(k, Some(v.clone()));
        }
        self.undo.clear();
        self.pending.clear();
        self.floor = 0;
    }

    /// A new incarnation opened the store: its FSM starts at the durable
    /// applied index the model holds.
    pub fn started(&mut self) {
        self.applied = self.durable_applied();
    }

    /// The startup guard's expected decision: `None` to start, or the
    /// refusal's name. `strict` is the after-replay check (START-5);
    /// otherwise START-1 and START-2.
    pub fn guard(&self, own: u64, deks: &[u32], epoch: u16, strict: bool) -> Option<&'static str> {
        if epoch == 0xFFFF && !strict {
            return Some("epochs-exhausted");
        }
        for &dek in deks {
            let Some(v) = self.row(&key(dek, (own & 0xFFFF) as u16)) else {
                continue;
            };
            let Some((owner, _, last)) = parse(v) else {
                return Some("corrupt-row");
            };
            if owner != own {
                return Some("foreign-owner");
            }
            if last > epoch || (strict && last == epoch) {
                return Some("epoch-not-ahead");
            }
        }
        None
    }
}

fn apply_ops(image: &mut Image, batch: &[ModelOp]) {
    for op in batch {
        match op {
            ModelOp::Put(k, v) => {
                image.insert(k.clone(), v.clone());
            }
            ModelOp::Delete(k) => {
                image.remove(k);
            }
        }
    }
}
