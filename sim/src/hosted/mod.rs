//! What the runtimes whose nodes are async hosts (turmoil, madsim) share:
//! the world their hosts call into ([`world`]) and the driver's side of a
//! run ([`drive`]: the schedule's actions, the timers, the end).
//!
//! A runtime brings three things: its socket and clock for the node
//! software every runtime shares ([`host`]: a loop that feeds the world
//! datagrams, ticks and work), its [`NodeFiles`] (where a node's
//! Raft log, epoch file and registry live, and what a crash keeps of
//! them) and its [`Fabric`] (how the driver kills, restarts and partitions
//! nodes). Everything the checkers see comes from the world, the same way
//! on every runtime.

pub(crate) mod drive;
pub(crate) mod host;
#[cfg(any(madsim, test))]
pub(crate) mod memory;
pub(crate) mod world;

use writer_registry::registry::StoreError;

use crate::disk::{EpochFile, LogImage};
use crate::node::storage::{EpochStore, RaftLog};
use crate::store::SimStore;

/// Where one node's files live on a runtime. Called from inside the
/// node's host (a file system may be per host).
pub(crate) trait NodeFiles {
    type Log: RaftLog;
    /// The epoch file as the start sequence uses it: every write and
    /// sync also kept in the harness's `record`.
    type Epoch<'a>: EpochStore
    where
        Self: 'a;
    /// What the epoch file holds now, as START-1 will read it (`record`:
    /// the harness's record of what it should hold).
    fn read_epoch(&self, record: &EpochFile) -> Result<u16, String>;
    /// Writes the harness's record into the file (an injected preset or
    /// rollback, done while the node was down).
    fn inject_epoch(&mut self, record: &EpochFile) -> Result<(), String>;
    fn epoch_file<'a>(&'a mut self, record: &'a mut EpochFile) -> Self::Epoch<'a>;
    /// Opens the registry store as the files hold it; the bytes of a torn
    /// or lost tail recovery cut.
    fn open_store(&mut self) -> Result<(SimStore, u64), StoreError>;
    /// A stopped process's store (a store that lives in memory stays
    /// here until the next start; one on files is simply closed).
    fn keep_store(&mut self, store: SimStore);
    /// Opens the Raft log; the bytes of a torn or lost tail cut.
    fn open_log(&mut self, voters: &[u64]) -> Result<(Self::Log, u64), String>;
    /// The log as written.
    fn with_image<R>(log: &Self::Log, f: impl FnOnce(&LogImage) -> R) -> R;
    /// The harness's record of the log: written and synced images and
    /// the count of syncs that moved it.
    fn with_record<R>(log: &Self::Log, f: impl FnOnce(&crate::disk::RaftDisk) -> R) -> R;
}

/// How the driver acts on a runtime's nodes and network.
pub(crate) trait Fabric {
    /// The node's process dies; its software comes back idle, waiting for
    /// the driver's restart. Writes not synced stay (the page cache).
    fn kill(&mut self, node: u8);
    /// The node loses power: writes not synced are gone, as the runtime's
    /// file system decides. False when the runtime has no durability model
    /// (the loss is then a process crash, which keeps every write).
    fn power_off(&mut self, node: u8) -> bool;
    /// The node's software runs again after a power loss.
    fn power_on(&mut self, node: u8);
    fn partition(&mut self, a: u8, b: u8);
    fn partition_oneway(&mut self, from: u8, to: u8);
    fn repair(&mut self, a: u8, b: u8);
}
