//! An in-memory store: the fastest registry, for simulation and tests.

use std::collections::BTreeMap;

use super::{Batch, Op, Pairs, Space, StoreError, WriterRegistryStore};

/// Three ordered maps, one per [`Space`]. Writes are visible and "durable"
/// at once: a process-local store has nothing to sync, so power loss is
/// modelled by whoever drives it (the simulator undoes unsynced batches).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryRegistry {
    spaces: [BTreeMap<Vec<u8>, Vec<u8>>; 3],
}

impl MemoryRegistry {
    pub fn new() -> Self {
        Self::default()
    }
}

impl WriterRegistryStore for MemoryRegistry {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.spaces[space.index()].get(key).cloned())
    }

    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        Ok(self.spaces[space.index()]
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        for op in batch.ops() {
            let map = &mut self.spaces[op.space().index()];
            match op {
                Op::Put { key, value, .. } => {
                    map.insert(key.clone(), value.clone());
                }
                Op::Delete { key, .. } => {
                    map.remove(key);
                }
            }
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
impl MemoryRegistry {
    /// A registry holding what applying `rows` (dek, full id, epoch) in
    /// order leaves: a test fixture for the guards and the start sequence.
    pub(crate) fn with_registrations(rows: &[(u32, u64, u16)]) -> MemoryRegistry {
        let mut store = MemoryRegistry::new();
        for &(dek, full_node_id, local_epoch) in rows {
            crate::Applier::new(&mut store)
                .apply(&crate::wire::Registration {
                    dek,
                    full_node_id,
                    local_epoch,
                })
                .expect("fixture registrations apply");
        }
        store
    }
}
