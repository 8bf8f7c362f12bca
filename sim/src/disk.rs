//! The simulated disk of one node: its Raft log (the engine's model,
//! re-exported) and its local epoch file.

pub use regsim_engine::disk::*;

use crate::node::storage::EpochStore;

impl EpochStore for EpochFile {
    fn read(&self) -> u16 {
        self.written
    }
    fn write(&mut self, epoch: u16) {
        self.written = epoch;
    }
    fn sync(&mut self) {
        self.synced = self.written;
        self.history.push(self.synced);
    }
}

/// The durable local epoch file (u16), written then synced.
#[derive(Debug, Clone)]
pub struct EpochFile {
    written: u16,
    synced: u16,
    /// Every value that ever reached a sync, oldest first, starting with
    /// the new node's 0: the "older copies" an epoch-rollback fault
    /// restores.
    history: Vec<u16>,
}

impl Default for EpochFile {
    fn default() -> Self {
        EpochFile {
            written: 0,
            synced: 0,
            history: vec![0],
        }
    }
}

impl EpochFile {
    /// The value that last reached a sync (what a power loss keeps).
    pub fn synced(&self) -> u16 {
        self.synced
    }

    /// The file as a start reads it and as its last sync left it.
    pub fn read_and_synced(&self) -> (u16, u16) {
        (self.written, self.synced)
    }

    pub fn power_loss(&mut self) {
        self.written = self.synced;
    }

    pub fn history(&self) -> &[u16] {
        &self.history
    }

    /// Sets the file to `epoch`, written and synced (an injected preset;
    /// it joins the history a rollback may restore); returns the highest
    /// value the file had held before.
    pub fn preset(&mut self, epoch: u16) -> u16 {
        let high = self.history.iter().copied().max().unwrap_or(0);
        self.written = epoch;
        self.synced = epoch;
        self.history.push(epoch);
        high
    }

    /// Replaces the file with its previous synced copy (written and
    /// synced); the copy restored and the highest value the file ever
    /// held, or `None` when it has no older copy.
    pub fn roll_back(&mut self) -> Option<(u16, u16)> {
        let older = *self.history.iter().rev().nth(1)?;
        let high = self.history.iter().copied().max().unwrap_or(older);
        self.written = older;
        self.synced = older;
        Some((older, high))
    }
}
