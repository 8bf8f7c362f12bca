//! The writer registry applier: the spec's seven-step rule order, exactly.
//!
//! The applier keeps no state of its own between calls; the store is the
//! only truth. It cannot exist without one: [`Applier::new`] takes the store
//! by mutable reference and there is no other constructor, so "an applier
//! without a store" is unrepresentable and needs no runtime check.

use crate::registry::{
    Batch, MalformedRow, RowKey, RowValue, Space, StoreError, WriterRegistryStore,
};
use crate::wire::{Command, DecodeError, Registration, OP_BOOTSTRAP, OP_ROTATION};

/// What a successful registration did to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Case 1: the slot was empty; the row now holds `row`.
    Inserted(RowValue),
    /// Case 2: the epoch advanced from `from` to `row.last_seen`.
    Advanced { from: u16, row: RowValue },
    /// Case 5: the epoch equals last_seen; nothing was written.
    Unchanged,
}

impl Applied {
    /// The row to write, if any.
    pub fn written_row(&self) -> Option<RowValue> {
        match self {
            Applied::Inserted(row) | Applied::Advanced { row, .. } => Some(*row),
            Applied::Unchanged => None,
        }
    }
}

/// Why an entry halted the state machine. Every variant carries what an
/// operator needs to read the halt without the log: the dek, full ids in
/// hex, and the epochs involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Halt {
    /// Case 3: a registration whose epoch is below the row's last_seen.
    #[error(
        "epoch rollback under dek {dek}: writer {full_node_id:#018x} (node16 {node16:#06x}) \
         registered epoch {epoch}, below its last_seen {last_seen} (owner {full_node_id:#018x})"
    )]
    Rollback {
        dek: u32,
        node16: u16,
        full_node_id: u64,
        epoch: u16,
        last_seen: u16,
    },
    /// Case 4: the slot belongs to a different full id.
    #[error(
        "node16 collision under dek {dek}: slot {node16:#06x} belongs to {existing:#018x} \
         (epochs {first_seen}..={last_seen}), registration from {incoming:#018x} at epoch {epoch}"
    )]
    Collision {
        dek: u32,
        node16: u16,
        existing: u64,
        incoming: u64,
        epoch: u16,
        first_seen: u16,
        last_seen: u16,
    },
    /// The entry's bytes do not decode.
    #[error("malformed entry: {0}")]
    Malformed(DecodeError),
    /// The stored row has the wrong shape.
    #[error("corrupt registry row under dek {dek} node16 {node16:#06x}: {error}")]
    CorruptRow {
        dek: u32,
        node16: u16,
        error: MalformedRow,
    },
    /// The store failed; the state on disk is whatever it last synced.
    #[error("registry store failure: {0}")]
    Store(StoreError),
    /// Bootstrap (0x04) or rotation (0x05) before KEK plumbing exists.
    #[error("cannot apply {} entry: KEK not configured", opcode_name(*.opcode))]
    KekNotConfigured { opcode: u8 },
    /// A reserved encryption opcode (0x06, 0x07).
    #[error("unknown encryption opcode {opcode:#04x}")]
    UnknownOpcode { opcode: u8 },
    /// The driver handed the FSM an index other than the next one.
    #[error("entry index {got} out of order: expected {expected}")]
    OutOfOrder { expected: u64, got: u64 },
}

/// Coarse class of a [`Halt`], for tallies and signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HaltKind {
    Rollback,
    Collision,
    Malformed,
    CorruptRow,
    Store,
    KekNotConfigured,
    UnknownOpcode,
    OutOfOrder,
}

impl HaltKind {
    /// Every kind, in declaration order.
    pub const ALL: [HaltKind; 8] = [
        HaltKind::Rollback,
        HaltKind::Collision,
        HaltKind::Malformed,
        HaltKind::CorruptRow,
        HaltKind::Store,
        HaltKind::KekNotConfigured,
        HaltKind::UnknownOpcode,
        HaltKind::OutOfOrder,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HaltKind::Rollback => "rollback",
            HaltKind::Collision => "collision",
            HaltKind::Malformed => "malformed",
            HaltKind::CorruptRow => "corrupt-row",
            HaltKind::Store => "store",
            HaltKind::KekNotConfigured => "kek-not-configured",
            HaltKind::UnknownOpcode => "unknown-opcode",
            HaltKind::OutOfOrder => "out-of-order",
        }
    }
}

impl Halt {
    pub fn kind(&self) -> HaltKind {
        match self {
            Halt::Rollback { .. } => HaltKind::Rollback,
            Halt::Collision { .. } => HaltKind::Collision,
            Halt::Malformed(_) => HaltKind::Malformed,
            Halt::CorruptRow { .. } => HaltKind::CorruptRow,
            Halt::Store(_) => HaltKind::Store,
            Halt::KekNotConfigured { .. } => HaltKind::KekNotConfigured,
            Halt::UnknownOpcode { .. } => HaltKind::UnknownOpcode,
            Halt::OutOfOrder { .. } => HaltKind::OutOfOrder,
        }
    }
}

impl From<StoreError> for Halt {
    fn from(e: StoreError) -> Self {
        Halt::Store(e)
    }
}

fn opcode_name(opcode: u8) -> &'static str {
    match opcode {
        OP_BOOTSTRAP => "bootstrap",
        OP_ROTATION => "rotation",
        _ => "encryption",
    }
}

/// Applies encryption commands to a store.
pub struct Applier<'s, S: WriterRegistryStore + ?Sized> {
    store: &'s mut S,
    mutant: crate::MutantSlot,
}

impl<'s, S: WriterRegistryStore + ?Sized> Applier<'s, S> {
    pub fn new(store: &'s mut S) -> Self {
        Applier {
            store,
            mutant: Default::default(),
        }
    }

    /// An applier for a caller that carries a run context: `mutant` is the
    /// run's mutant with the `mutants` feature and `()` without it.
    pub fn with_slot(store: &'s mut S, mutant: crate::MutantSlot) -> Self {
        Applier { store, mutant }
    }

    /// Applies one registration and makes its write durable before
    /// returning (the original syncs every write).
    pub fn apply(&mut self, reg: &Registration) -> Result<Applied, Halt> {
        let mut batch = Batch::new();
        let applied = self.stage_registration(reg, &mut batch)?;
        if !batch.is_empty() {
            self.store.write(&batch)?;
            self.store.sync()?;
        }
        Ok(applied)
    }

    /// Decides an encryption command and adds its writes to `batch`
    /// without writing anything: the caller commits the batch (with
    /// whatever else belongs in it) and syncs. On a halt `batch` is
    /// untouched.
    ///
    /// Returns `None` for a KV command, which is not the applier's business.
    pub fn stage(
        &mut self,
        command: &Command<'_>,
        batch: &mut Batch,
    ) -> Result<Option<Applied>, Halt> {
        match command {
            Command::Registration(reg) => self.stage_registration(reg, batch).map(Some),
            // The original first shipped both as KEK-less stubs; they decode
            // (so garbage is still "malformed") and then halt.
            Command::Bootstrap(_) => Err(Halt::KekNotConfigured {
                opcode: OP_BOOTSTRAP,
            }),
            Command::Rotation(_) => Err(Halt::KekNotConfigured {
                opcode: OP_ROTATION,
            }),
            Command::Reserved { opcode, .. } => Err(Halt::UnknownOpcode { opcode: *opcode }),
            Command::Kv(_) => Ok(None),
        }
    }

    /// The seven steps of the spec, in order.
    pub fn stage_registration(
        &mut self,
        reg: &Registration,
        batch: &mut Batch,
    ) -> Result<Applied, Halt> {
        // 1. key = (dek, low 16 bits); read the row; store errors propagate.
        let node16 = if crate::mutated!(self.mutant, Node16HighBits) {
            (reg.full_node_id >> 48) as u16
        } else {
            crate::ids::node16(reg.full_node_id)
        };
        let key = RowKey {
            dek: reg.dek,
            node16,
        };
        let Some(raw) = self.store.get_row(&key)? else {
            // 2. No row: insert.
            let row = RowValue {
                full_node_id: reg.full_node_id,
                first_seen: reg.local_epoch,
                last_seen: reg.local_epoch,
            };
            batch.put(Space::Registry, key.encode(), row.encode());
            mark!(ApplierInsert);
            return Ok(Applied::Inserted(row));
        };
        // 3. A malformed value is corruption.
        let row = RowValue::decode(&raw).map_err(|error| {
            mark!(ApplierCorruptRow);
            Halt::CorruptRow {
                dek: key.dek,
                node16: key.node16,
                error,
            }
        })?;
        if crate::mutated!(self.mutant, CollisionAfterEpoch) && reg.local_epoch <= row.last_seen {
            return self.compare_epochs(reg, &key, &row, batch);
        }
        if crate::mutated!(self.mutant, CollisionNotChecked) && row.full_node_id != reg.full_node_id
        {
            let row = RowValue {
                full_node_id: reg.full_node_id,
                first_seen: reg.local_epoch,
                last_seen: reg.local_epoch,
            };
            batch.put(Space::Registry, key.encode(), row.encode());
            return Ok(Applied::Inserted(row));
        }
        // 4. A different full id owns the slot: collision, before any epoch test.
        if row.full_node_id != reg.full_node_id {
            mark!(ApplierCollision);
            return Err(Halt::Collision {
                dek: key.dek,
                node16: key.node16,
                existing: row.full_node_id,
                incoming: reg.full_node_id,
                epoch: reg.local_epoch,
                first_seen: row.first_seen,
                last_seen: row.last_seen,
            });
        }
        self.compare_epochs(reg, &key, &row, batch)
    }

    /// Steps 5 to 7, for a row the registrant owns.
    fn compare_epochs(
        &mut self,
        reg: &Registration,
        key: &RowKey,
        row: &RowValue,
        batch: &mut Batch,
    ) -> Result<Applied, Halt> {
        let equal_halts = crate::mutated!(self.mutant, EqualEpochHalts);
        // 5. Equal epoch: idempotent replay, nothing written.
        if reg.local_epoch == row.last_seen && !equal_halts {
            mark!(ApplierNoOp);
            return Ok(Applied::Unchanged);
        }
        // 6. Lower epoch: rollback.
        if reg.local_epoch < row.last_seen || (equal_halts && reg.local_epoch == row.last_seen) {
            if crate::mutated!(self.mutant, RollbackNotHalted) {
                return Ok(Applied::Unchanged);
            }
            mark!(ApplierRollback);
            return Err(Halt::Rollback {
                dek: key.dek,
                node16: key.node16,
                full_node_id: reg.full_node_id,
                epoch: reg.local_epoch,
                last_seen: row.last_seen,
            });
        }
        // 7. Higher epoch: advance, first_seen kept.
        let mut advanced = RowValue {
            last_seen: reg.local_epoch,
            ..*row
        };
        if crate::mutated!(self.mutant, FirstSeenOverwritten) {
            advanced.first_seen = reg.local_epoch;
        }
        if crate::mutated!(self.mutant, LastSeenNotAdvanced) {
            advanced.last_seen = row.last_seen;
        }
        batch.put(Space::Registry, key.encode(), advanced.encode());
        mark!(ApplierAdvance);
        Ok(Applied::Advanced {
            from: row.last_seen,
            row: advanced,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::HaltKind;

    #[test]
    fn all_lists_every_halt_kind_once_in_declaration_order() {
        for (i, kind) in HaltKind::ALL.into_iter().enumerate() {
            // Exhaustive: a new kind does not compile here until it has
            // its place, which ALL must then give it.
            let place = match kind {
                HaltKind::Rollback => 0,
                HaltKind::Collision => 1,
                HaltKind::Malformed => 2,
                HaltKind::CorruptRow => 3,
                HaltKind::Store => 4,
                HaltKind::KekNotConfigured => 5,
                HaltKind::UnknownOpcode => 6,
                HaltKind::OutOfOrder => 7,
            };
            assert_eq!(place, i, "{kind:?}");
        }
    }
}
