//! Node files kept in the harness's memory, for a runtime without a file
//! system model of its own (madsim: its `sync_all` does nothing and its
//! power failure is not written yet). The Raft log and epoch file are the
//! native engine's simulated disk (written vs synced images), the
//! registry the memory store: a process crash keeps every write, as on
//! the native engine; power loss is not offered (see [`super::Fabric`]).

use std::cell::RefCell;
use std::rc::Rc;

use writer_registry::registry::StoreError;
use writer_registry::MemoryRegistry;

use super::NodeFiles;
use crate::disk::{DiskStorage, EpochFile, LogImage, RaftDisk};
use crate::node::storage::EpochStore;
use crate::store::SimStore;

pub(crate) struct MemoryFiles {
    disk: Rc<RefCell<RaftDisk>>,
    /// The registry while the node is down (the FSM holds it while up).
    store: Option<SimStore>,
}

impl MemoryFiles {
    /// A fresh node's files: an empty log whose members are `voters`.
    pub fn new(voters: &[u64]) -> Self {
        MemoryFiles {
            disk: Rc::new(RefCell::new(RaftDisk::new(voters.to_vec()))),
            store: Some(SimStore::Memory(MemoryRegistry::new())),
        }
    }
}

/// The harness's record is the epoch file itself here.
pub(crate) struct RecordOnly<'a>(&'a mut EpochFile);

impl EpochStore for RecordOnly<'_> {
    fn read(&self) -> u16 {
        self.0.read()
    }
    fn write(&mut self, epoch: u16) {
        self.0.write(epoch);
    }
    fn sync(&mut self) {
        self.0.sync();
    }
}

impl NodeFiles for MemoryFiles {
    type Log = DiskStorage;
    type Epoch<'a> = RecordOnly<'a>;

    fn read_epoch(&self, record: &EpochFile) -> Result<u16, String> {
        Ok(record.read())
    }
    fn inject_epoch(&mut self, _record: &EpochFile) -> Result<(), String> {
        Ok(())
    }
    fn epoch_file<'a>(&'a mut self, record: &'a mut EpochFile) -> RecordOnly<'a> {
        RecordOnly(record)
    }
    fn open_store(&mut self) -> Result<(SimStore, u64), StoreError> {
        let store = self
            .store
            .take()
            .unwrap_or_else(|| SimStore::Memory(MemoryRegistry::new()));
        Ok((store, 0))
    }
    fn keep_store(&mut self, store: SimStore) {
        self.store = Some(store);
    }
    fn open_log(&mut self, _voters: &[u64]) -> Result<(DiskStorage, u64), String> {
        Ok((DiskStorage(self.disk.clone()), 0))
    }
    fn with_image<R>(log: &DiskStorage, f: impl FnOnce(&LogImage) -> R) -> R {
        f(log.0.borrow().written())
    }
    fn with_record<R>(log: &DiskStorage, f: impl FnOnce(&RaftDisk) -> R) -> R {
        f(&log.0.borrow())
    }
}
