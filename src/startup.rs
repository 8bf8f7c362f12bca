//! The startup guard: the checks a node makes against its own registry
//! rows at process start (spec, "Starting a node", steps 1, 2 and 5).
//!
//! The applier cannot tell a replay from a genuine reuse of an epoch (both
//! arrive as "epoch == last_seen"), so the original checks the local epoch
//! at process start instead: before the bump (equality allowed: the node
//! may have crashed after registering) and after replaying its log (the
//! bumped epoch must be strictly greater than every row's last_seen).

use crate::ids::node16;
use crate::registry::{MalformedRow, RowKey, RowValue, StoreError, WriterRegistryStore};

/// The local epoch value that means "no epochs left".
pub const EPOCH_EXHAUSTED: u16 = 0xFFFF;

/// Which of the two guard checks is being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuardStage {
    /// Step 2: before the bump; `last_seen == epoch` is allowed.
    BeforeBump,
    /// Step 5: after replay; the bumped epoch must exceed every last_seen.
    AfterReplay,
}

/// Why a node refuses to start. It stays down until an operator acts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("local epoch file holds 0xffff: epochs exhausted")]
    EpochsExhausted,
    #[error(
        "dek {dek}: slot {node16:#06x} belongs to {owner:#018x}, not this node {own:#018x} ({stage:?})"
    )]
    ForeignOwner {
        stage: GuardStage,
        dek: u32,
        node16: u16,
        owner: u64,
        own: u64,
    },
    #[error("dek {dek}: row last_seen {last_seen} is not below the local epoch {epoch} allowed at {stage:?}")]
    EpochNotAhead {
        stage: GuardStage,
        dek: u32,
        epoch: u16,
        last_seen: u16,
    },
    #[error("dek {dek}: corrupt own row: {error}")]
    CorruptRow { dek: u32, error: MalformedRow },
    #[error("registry store failure during the startup guard: {0}")]
    Store(#[from] StoreError),
}

impl Refusal {
    /// Short stable name, for tallies and signatures.
    pub fn name(&self) -> &'static str {
        match self {
            Refusal::EpochsExhausted => "epochs-exhausted",
            Refusal::ForeignOwner { .. } => "foreign-owner",
            Refusal::EpochNotAhead { .. } => "epoch-not-ahead",
            Refusal::CorruptRow { .. } => "corrupt-row",
            Refusal::Store(_) => "store",
        }
    }
}

/// Step 1's exhaustion check on the epoch read from the local file.
pub fn check_epoch_file(epoch: u16) -> Result<(), Refusal> {
    if epoch == EPOCH_EXHAUSTED {
        return Err(Refusal::EpochsExhausted);
    }
    Ok(())
}

/// Steps 2 and 5: for every dek, the row at this node's node16 must be
/// absent, or owned by `own_full` with a last_seen the `epoch` may follow.
pub fn guard<S: WriterRegistryStore + ?Sized>(
    store: &S,
    own_full: u64,
    deks: &[u32],
    epoch: u16,
    stage: GuardStage,
) -> Result<(), Refusal> {
    for &dek in deks {
        let key = RowKey {
            dek,
            node16: node16(own_full),
        };
        let Some(raw) = store.get_row(&key)? else {
            continue;
        };
        let row = RowValue::decode(&raw).map_err(|error| Refusal::CorruptRow { dek, error })?;
        if row.full_node_id != own_full {
            return Err(Refusal::ForeignOwner {
                stage,
                dek,
                node16: key.node16,
                owner: row.full_node_id,
                own: own_full,
            });
        }
        let refused = match stage {
            GuardStage::BeforeBump => row.last_seen > epoch,
            GuardStage::AfterReplay => row.last_seen >= epoch,
        };
        if refused {
            return Err(Refusal::EpochNotAhead {
                stage,
                dek,
                epoch,
                last_seen: row.last_seen,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryRegistry;

    fn store_with(full: u64, dek: u32, epoch: u16) -> MemoryRegistry {
        MemoryRegistry::with_registrations(&[(dek, full, epoch)])
    }

    #[test]
    fn before_bump_allows_equal_after_replay_does_not() {
        let store = store_with(0x10_0001, 1, 3);
        assert!(guard(&store, 0x10_0001, &[1], 3, GuardStage::BeforeBump).is_ok());
        assert!(guard(&store, 0x10_0001, &[1], 2, GuardStage::BeforeBump).is_err());
        assert!(matches!(
            guard(&store, 0x10_0001, &[1], 3, GuardStage::AfterReplay),
            Err(Refusal::EpochNotAhead {
                last_seen: 3,
                epoch: 3,
                ..
            })
        ));
        assert!(guard(&store, 0x10_0001, &[1], 4, GuardStage::AfterReplay).is_ok());
    }

    #[test]
    fn foreign_owner_and_missing_rows() {
        let store = store_with(0xAB_0001, 1, 3);
        assert!(matches!(
            guard(&store, 0x10_0001, &[1], 9, GuardStage::BeforeBump),
            Err(Refusal::ForeignOwner {
                owner: 0xAB_0001,
                ..
            })
        ));
        assert!(guard(&store, 0x10_0001, &[2, 3], 0, GuardStage::AfterReplay).is_ok());
        assert_eq!(check_epoch_file(0xFFFF), Err(Refusal::EpochsExhausted));
        assert!(check_epoch_file(0xFFFE).is_ok());
    }
}
