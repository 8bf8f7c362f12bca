//! The state machine a Raft node drives: decode, apply, persist, halt.
//!
//! Contract:
//! - [`Fsm::apply`] takes committed entries in index order, each exactly
//!   once per incarnation (index `applied + 1`).
//! - Every apply that writes makes its writes durable before it returns.
//! - The first halt is sticky: every later apply returns the same halt and
//!   the applied index stays at the last entry before it.
//! - Where the durable applied index lives is the [`PersistPolicy`].

use crate::applier::{Applied, Applier, Halt};
use crate::digest::StateDigest;
use crate::registry::{Batch, Op, Space, StoreError, WriterRegistryStore, APPLIED_INDEX_KEY};
use crate::snapshot::Snapshot;
use crate::wire::{decode_entry, Command, Entry};

/// Where the durable applied index is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PersistPolicy {
    /// As the original: the durable applied index moves only at snapshots
    /// and with ordinary KV commands, never with encryption entries or
    /// no-ops. After a restart the node replays every entry after it: the
    /// replay window.
    Faithful,
    /// Every apply writes its changes and the applied index in one batch,
    /// synced before apply returns: no replay window.
    Atomic,
}

impl PersistPolicy {
    pub fn name(self) -> &'static str {
        match self {
            PersistPolicy::Faithful => "faithful",
            PersistPolicy::Atomic => "atomic",
        }
    }
}

/// What a successfully applied entry was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Empty entry data (a new leader's no-op).
    Empty,
    /// A writer registration and what it did.
    Registration(Applied),
    /// An ordinary KV command, stored under its proposal id.
    Kv { proposal_id: u64 },
}

/// The halt that stopped the FSM and the entry that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaltRecord {
    pub index: u64,
    pub halt: Halt,
}

/// The writer-registry state machine over a store `S`.
pub struct Fsm<S: WriterRegistryStore> {
    store: S,
    policy: PersistPolicy,
    applied_index: u64,
    halted: Option<HaltRecord>,
    digest: StateDigest,
    mutant: crate::MutantSlot,
}

impl<S: WriterRegistryStore> Fsm<S> {
    /// Opens the FSM over a store: reads the durable applied index (0 when
    /// none was written) and builds the digest with one scan.
    pub fn open(store: S, policy: PersistPolicy) -> Result<Self, StoreError> {
        Self::open_with(store, policy, Default::default())
    }

    /// [`Fsm::open`] for a driver that carries a run context: `mutant` is
    /// the run's mutant with the `mutants` feature (see `crate::mutants`)
    /// and `()` without it.
    pub fn open_with(
        store: S,
        policy: PersistPolicy,
        mutant: crate::MutantSlot,
    ) -> Result<Self, StoreError> {
        let mut applied_index = store.applied_index()?.unwrap_or(0);
        if crate::mutated!(mutant, ReplayOneTooFar) {
            applied_index += 1;
        }
        let mut digest = StateDigest::default();
        for space in [Space::Registry, Space::Kv] {
            for (k, v) in store.scan(space)? {
                digest.update(space, &k, &v, true);
            }
        }
        Ok(Fsm {
            store,
            policy,
            applied_index,
            halted: None,
            digest,
            mutant,
        })
    }

    pub fn policy(&self) -> PersistPolicy {
        self.policy
    }

    /// Index of the last entry applied in this incarnation (or restored).
    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    pub fn halted(&self) -> Option<&HaltRecord> {
        self.halted.as_ref()
    }

    /// Digest of the registry rows and KV data, maintained incrementally.
    pub fn digest(&self) -> StateDigest {
        self.digest
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives the store back (to close it, or to inspect it after a crash).
    pub fn into_store(self) -> S {
        self.store
    }

    /// Applies the committed entry `index` whose data is `data`.
    pub fn apply(&mut self, index: u64, data: &[u8]) -> Result<Outcome, Halt> {
        if let Some(record) = &self.halted {
            return Err(record.halt.clone());
        }
        match self.apply_inner(index, data) {
            Ok(outcome) => {
                self.applied_index = index;
                Ok(outcome)
            }
            Err(halt)
                if crate::mutated!(self.mutant, HaltIgnored)
                    && !matches!(halt, Halt::Store(_) | Halt::OutOfOrder { .. }) =>
            {
                self.applied_index = index;
                Ok(Outcome::Registration(Applied::Unchanged))
            }
            Err(halt) => {
                tracing::debug!(target: "writer_registry::fsm", index, %halt, "halt");
                if crate::mutated!(self.mutant, HaltPersistsIndex) {
                    let mut batch = Batch::new();
                    batch.put(Space::Meta, APPLIED_INDEX_KEY, index.to_be_bytes());
                    let _ = self.commit(&batch);
                }
                self.halted = Some(HaltRecord {
                    index,
                    halt: halt.clone(),
                });
                Err(halt)
            }
        }
    }

    fn apply_inner(&mut self, index: u64, data: &[u8]) -> Result<Outcome, Halt> {
        let expected = self.applied_index + 1;
        if index != expected {
            return Err(Halt::OutOfOrder {
                expected,
                got: index,
            });
        }
        let mut batch = Batch::new();
        let outcome = match decode_entry(data).map_err(Halt::Malformed)? {
            Entry::Empty => Outcome::Empty,
            Entry::Proposal {
                proposal_id,
                command: Command::Kv(payload),
            } => {
                batch.put(Space::Kv, proposal_id.to_be_bytes(), payload);
                Outcome::Kv { proposal_id }
            }
            Entry::Proposal { command, .. } => {
                let applied =
                    Applier::with_slot(&mut self.store, self.mutant).stage(&command, &mut batch)?;
                Outcome::Registration(applied.unwrap_or(Applied::Unchanged))
            }
        };
        let persist_index = match self.policy {
            PersistPolicy::Atomic => true,
            PersistPolicy::Faithful => {
                matches!(outcome, Outcome::Kv { .. })
                    || (crate::mutated!(self.mutant, FaithfulIndexWithRegistrations)
                        && !batch.is_empty())
            }
        };
        if persist_index {
            batch.put(Space::Meta, APPLIED_INDEX_KEY, index.to_be_bytes());
        }
        if crate::mutated!(self.mutant, AtomicTwoWrites) && self.policy == PersistPolicy::Atomic {
            // The bug: the applied index reaches a sync before the change.
            let (index_ops, rest): (Vec<&Op>, Vec<&Op>) =
                batch.ops().iter().partition(|op| op.space() == Space::Meta);
            for part in [index_ops, rest] {
                let mut b = Batch::new();
                for op in part {
                    match op {
                        Op::Put { space, key, value } => b.put(*space, key.clone(), value.clone()),
                        Op::Delete { space, key } => b.delete(*space, key.clone()),
                    }
                }
                self.commit(&b)?;
            }
            return Ok(outcome);
        }
        self.commit(&batch)?;
        Ok(outcome)
    }

    /// Writes `batch` atomically, syncs it, and folds it into the digest.
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut digest = self.digest;
        for op in batch.ops() {
            if op.space() == Space::Meta {
                continue;
            }
            if let Some(old) = self.store.get(op.space(), op.key())? {
                digest.update(op.space(), op.key(), &old, false);
            }
            if crate::mutated!(self.mutant, DigestSkipsKv) && op.space() == Space::Kv {
                continue;
            }
            if let Op::Put { space, key, value } = op {
                digest.update(*space, key, value, true);
            }
        }
        self.store.write(batch)?;
        // The write is in the store now, synced or not: the digest
        // describes what the store holds even if the sync fails.
        self.digest = digest;
        if !crate::mutated!(self.mutant, RegistryWriteNotSynced) {
            match self.store.sync() {
                Err(_) if crate::mutated!(self.mutant, StoreErrorSwallowed) => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// Takes a snapshot. Under both policies this is where the durable
    /// applied index catches up: it is written and synced first.
    pub fn snapshot(&mut self) -> Result<Snapshot, StoreError> {
        let mut batch = Batch::new();
        batch.put(
            Space::Meta,
            APPLIED_INDEX_KEY,
            self.applied_index.to_be_bytes(),
        );
        self.commit(&batch)?;
        let rows = if crate::mutated!(self.mutant, SnapshotOmitsRows) {
            Vec::new()
        } else {
            self.store.scan(Space::Registry)?
        };
        Ok(Snapshot {
            applied_index: self.applied_index,
            rows,
            kv: self.store.scan(Space::Kv)?,
        })
    }

    /// Replaces the whole state with `snapshot`, in one synced batch.
    /// Restoring also clears a halt: the state that halted is gone.
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        for (space, pairs) in [(Space::Registry, &snapshot.rows), (Space::Kv, &snapshot.kv)] {
            // Delete only what the snapshot lacks: a delete and a put of one
            // key in one batch would share a sequence number in fjall.
            let keep: std::collections::BTreeSet<&[u8]> =
                pairs.iter().map(|(k, _)| k.as_slice()).collect();
            for (k, _) in self.store.scan(space)? {
                if !keep.contains(k.as_slice()) {
                    batch.delete(space, k);
                }
            }
            for (k, v) in pairs {
                if crate::mutated!(self.mutant, RestoreKeepsOldValues)
                    && self.store.get(space, k)?.is_some()
                {
                    continue;
                }
                batch.put(space, k.clone(), v.clone());
            }
        }
        batch.put(
            Space::Meta,
            APPLIED_INDEX_KEY,
            snapshot.applied_index.to_be_bytes(),
        );
        self.store.write(&batch)?;
        // As in `commit`: the write is in the store now, synced or not, so
        // the digest describes it even if the sync fails.
        let mut digest = StateDigest::default();
        for (space, pairs) in [(Space::Registry, &snapshot.rows), (Space::Kv, &snapshot.kv)] {
            for (k, v) in pairs {
                digest.update(space, k, v, true);
            }
        }
        self.digest = digest;
        self.store.sync()?;
        self.applied_index = snapshot.applied_index;
        self.halted = None;
        Ok(())
    }
}
