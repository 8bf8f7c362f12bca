//! What the node core persists, behind traits: the Raft log and hard
//! state, the local epoch file, and the registry store. The core names no
//! implementation; the native engine implements them over its simulated
//! disk and journalled store, and a turmoil or madsim runtime or a user's
//! node implements them over real files.

pub use regsim_engine::storage::{LogOp, RaftLog};
use writer_registry::WriterRegistryStore;

/// The local epoch file (`docs/spec.md` ID-3): a u16, written then synced.
pub trait EpochStore {
    fn read(&self) -> u16;
    fn write(&mut self, epoch: u16);
    fn sync(&mut self);
}

/// The registry store as the node core uses it: the library's seam, plus
/// two things a store can tell about itself.
pub trait NodeStore: WriterRegistryStore {
    /// The process died inside the last call (a crash a simulator injected
    /// between a write and its sync); a real store never reports it.
    fn process_died(&self) -> bool {
        false
    }
    /// Writes made so far that no sync covers yet: an apply that returns
    /// with more than it found broke "durable before apply returns".
    fn unsynced_writes(&self) -> usize;
}
