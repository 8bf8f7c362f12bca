//! What waits for a paused process: work that reached it while it was
//! frozen, handed over in order at resume (as if it arrived then), and
//! lost with the process if it ends first.

use raft::eraftpb::Message;

use regsim_engine::in_flight::Envelope;

/// One piece of work that reached a paused process.
pub(super) enum Held {
    /// A message that arrived (judged by the in-flight rule as it did).
    Message { sent: Envelope, msg: Message },
    /// The disk finished a sync.
    SyncDone(u64),
    /// The transport's word on a snapshot the paused node sent to `to`.
    SnapshotFate { to: u8, delivered: bool, term: u64 },
}

/// Per member, what waits for its paused process.
pub(super) struct Holds(Vec<Vec<Held>>);

impl Holds {
    pub fn new(n: u8) -> Holds {
        Holds((0..n).map(|_| Vec::new()).collect())
    }

    pub fn hold(&mut self, node: u8, work: Held) {
        self.0[usize::from(node)].push(work);
    }

    /// What waited, for the resumed process.
    pub fn take(&mut self, node: u8) -> Vec<Held> {
        std::mem::take(&mut self.0[usize::from(node)])
    }

    /// The process ended: what waited for it is gone with it.
    pub fn clear(&mut self, node: u8) {
        self.0[usize::from(node)].clear();
    }

    #[cfg(test)]
    pub fn len(&self, node: u8) -> usize {
        self.0[usize::from(node)].len()
    }
}
