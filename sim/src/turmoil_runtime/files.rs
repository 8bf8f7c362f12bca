//! A turmoil node's files as the hosted world uses them: the Raft log,
//! epoch file and registry of [`crate::turmoil_fs`], each also kept in the
//! harness's record.

use writer_registry::registry::StoreError;

use crate::disk::{EpochFile, LogImage, RaftDisk};
use crate::node::storage::EpochStore;
use crate::turmoil_fs::{FileEpoch, FileLog, FileRegistry, EPOCH};

/// A turmoil node's files: all on its host's file system, so turmoil's
/// durability model decides what a power loss keeps of each.
pub struct TurmoilFiles;

impl crate::hosted::NodeFiles for TurmoilFiles {
    type Log = FileLog;
    type Epoch<'a> = RecordedEpoch<'a>;

    fn read_epoch(&self, _record: &EpochFile) -> Result<u16, String> {
        FileEpoch::value().map_err(|e| format!("{EPOCH}: {e}"))
    }
    fn inject_epoch(&mut self, record: &EpochFile) -> Result<(), String> {
        FileEpoch::set(record.read()).map_err(|e| format!("{EPOCH}: {e}"))
    }
    fn epoch_file<'a>(&'a mut self, record: &'a mut EpochFile) -> RecordedEpoch<'a> {
        RecordedEpoch(record)
    }
    fn open_store(&mut self) -> Result<(crate::store::SimStore, u64), StoreError> {
        FileRegistry::open().map(|(store, cut)| (crate::store::SimStore::File(store), cut))
    }
    fn keep_store(&mut self, _store: crate::store::SimStore) {
        // Its file is where the next start finds it.
    }
    fn open_log(&mut self, voters: &[u64]) -> Result<(FileLog, u64), String> {
        FileLog::open(voters)
    }
    fn with_image<R>(log: &FileLog, f: impl FnOnce(&LogImage) -> R) -> R {
        f(log.written())
    }
    fn with_record<R>(log: &FileLog, f: impl FnOnce(&RaftDisk) -> R) -> R {
        f(log.record())
    }
}

/// The epoch file as the start sequence uses it: turmoil's file, with
/// every write and sync also kept in the harness's record.
pub struct RecordedEpoch<'a>(&'a mut EpochFile);

impl EpochStore for RecordedEpoch<'_> {
    fn read(&self) -> u16 {
        FileEpoch.read()
    }
    fn write(&mut self, epoch: u16) {
        FileEpoch.write(epoch);
        self.0.write(epoch);
    }
    fn sync(&mut self) {
        FileEpoch.sync();
        self.0.sync();
    }
}
