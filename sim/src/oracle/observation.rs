//! What the checkers are shown: the world's observations of what
//! happened, and the fault injector's records of what it did. The world
//! builds them from its own ground truth (its disks, its clock, what it
//! injected and delivered); a checker never reads the world itself.

use regsim_engine::oracle::observation::{RaftObservation, RaftView};
use writer_registry::startup::Refusal;
use writer_registry::StateDigest;

use crate::node::ApplyRecord;
use crate::store::{Image, SyncedRowChange};

/// A writer incarnation: (node position, incarnation number). Injected
/// non-member writers never encrypt, so only members appear.
pub type Incarnation = (u8, u32);

/// How a start ended, as the engine saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOutcome {
    Joined,
    Refused(&'static str),
    Halted,
    /// An armed crash struck during the start.
    Crashed,
    /// The store or the disk could not be read (its own violation).
    Broken,
}

/// A registry row the harness damaged: node `node`'s row `key` (slot
/// `dek`, `node16`), now `value` (`how`).
#[derive(Debug, Clone)]
pub struct RowCorruption {
    pub node: u8,
    pub dek: u32,
    pub node16: u16,
    pub key: Vec<u8>,
    /// The row as the reopened store held it before the damage.
    pub old: Vec<u8>,
    pub value: Vec<u8>,
    pub how: &'static str,
}

/// What the engine saw happen, as the checkers need it.
pub enum Observation<'a> {
    /// A node's store reopened for a new incarnation, holding `store`
    /// (`None`: it could not be read back, already a violation); `epoch`
    /// is what its epoch file holds (the harness's disk) as START-1 reads
    /// it.
    Started {
        node: u8,
        inc: u32,
        full: u64,
        deks: &'a [u32],
        store: Option<&'a Image>,
        epoch: u16,
        /// The commit index of the hard state on the harness's disk, as
        /// the start reads it: START-4 replays up to it before the join.
        disk_commit: u64,
    },
    /// The start that began with the last `Started` ended; `epoch_file`
    /// is the file's (written, synced) value after it.
    StartEnded {
        node: u8,
        outcome: StartOutcome,
        epoch_file: (u16, u16),
    },
    /// A node's process stopped (crash, halt, refusal or the run's end)
    /// leaving `store`. `library_digest`: the FSM's own digest, when a
    /// running FSM stopped. `converged_end`: the run ended converged with
    /// this node up (the client-visible check runs).
    Stopped {
        node: u8,
        store: &'a Image,
        library_digest: Option<StateDigest>,
        converged_end: bool,
    },
    /// An apply. `outcome` is its outcome's name; `window_edge` is the
    /// highest index the node had applied before its last restart (at or
    /// below it, the node is in its replay window).
    Applied {
        node: u8,
        who: Incarnation,
        full: u64,
        rec: &'a ApplyRecord,
        outcome: &'static str,
        window_edge: u64,
    },
    /// A node took a snapshot at `index` whose bytes are `data` and whose
    /// metadata is `meta` (as its disk holds them).
    SnapshotTaken {
        node: u8,
        index: u64,
        data: &'a [u8],
        meta: &'a raft::eraftpb::SnapshotMetadata,
    },
    /// A fact of the Raft layer only (a synced log, a message sent or
    /// delivered, a snapshot's failure, a new leader): the engine's, as
    /// any system's runtime shows it (`RunBooks::raft`).
    Raft(RaftObservation<'a>),
    /// The transport delivered a snapshot message for `index` to `to`.
    SnapshotDelivered { to: u8, index: u64, data_hash: u64 },
    /// A snapshot at `index` was restored into a node's FSM: during its
    /// start (`disk_hash`: the snapshot its disk holds) or installed from
    /// a leader (the last one delivered for that index).
    Restored {
        node: u8,
        index: u64,
        replay: bool,
        disk_hash: Option<u64>,
        window_edge: u64,
    },
    /// A crash cut a write between the write and its sync while the node
    /// applied, snapshotted or restored `index`. `entry`: the entry at
    /// `index` on the harness's disk; `disk_hash`: the snapshot the disk
    /// holds at that index.
    WriteCut {
        node: u8,
        index: u64,
        entry: Option<&'a [u8]>,
        disk_hash: Option<u64>,
    },
    /// A node lost power: what it wrote and never synced is gone.
    PowerLost { node: u8 },
    /// The harness damaged a registry row and synced it, while the node
    /// was down.
    RowCorrupted(RowCorruption),
    /// An injected I/O error failed the node's registry write or the sync
    /// after it, in the call whose outputs come next.
    StoreFault { node: u8, op: crate::store::StoreOp },
    /// A start-sequence guard decision of incarnation `who`, as the node
    /// reports it.
    Guard {
        who: Incarnation,
        full: u64,
        result: &'a Result<(), Refusal>,
    },
    /// Incarnation `who` proposed the registration entry `data` under
    /// `proposal_id`.
    RegistrationProposed {
        who: Incarnation,
        proposal_id: u64,
        data: &'a [u8],
    },
    /// Registry rows a node's store changed and synced, in order.
    RowsSynced {
        node: u8,
        changes: &'a [SyncedRowChange],
    },
    /// After a registration applied on its node, incarnation `who`
    /// answered whether it may encrypt under `dek` at `epoch` (`open`):
    /// START-7's gate, asked as a client would ask it.
    EncryptionGate {
        who: Incarnation,
        dek: u32,
        epoch: u16,
        open: bool,
    },
    /// An incarnation encrypted under (dek, node16, epoch).
    Nonce {
        who: Incarnation,
        dek: u32,
        node16: u16,
        epoch: u16,
    },
}

/// The Raft layer's part, for the engine's Raft checkers.
impl RaftView for Observation<'_> {
    fn raft(&self) -> Option<RaftObservation<'_>> {
        Some(match *self {
            Observation::Started { node, .. } => RaftObservation::Started { node },
            Observation::Applied { node, rec, .. } => RaftObservation::Applied {
                node,
                index: rec.index,
                term: rec.term,
                data: &rec.data,
                replay: rec.replay,
            },
            Observation::SnapshotTaken { node, meta, .. } => {
                RaftObservation::SnapshotTaken { node, meta }
            }
            Observation::Raft(raft) => raft,
            // The state machine's own: listed, so that a new observation
            // must say whether it has a Raft part.
            Observation::StartEnded { .. }
            | Observation::Stopped { .. }
            | Observation::SnapshotDelivered { .. }
            | Observation::Restored { .. }
            | Observation::WriteCut { .. }
            | Observation::PowerLost { .. }
            | Observation::RowCorrupted(_)
            | Observation::StoreFault { .. }
            | Observation::Guard { .. }
            | Observation::RegistrationProposed { .. }
            | Observation::RowsSynced { .. }
            | Observation::EncryptionGate { .. }
            | Observation::Nonce { .. } => return None,
        })
    }
}

/// What the fault injector did, recorded for the purpose oracle.
pub enum Injected {
    /// A registration for the non-member writer `full`.
    Collision { full: u64 },
    /// A corrupted entry whose data hashes to `data_hash`.
    Malformed { data_hash: u64 },
    /// A bootstrap, rotation or reserved-opcode entry.
    Exotic { data_hash: u64, opcode: u8 },
    /// Node `node`'s (full id `full`) epoch file, which had held up to
    /// `high`, set to `epoch`.
    EpochPreset {
        node: u8,
        full: u64,
        epoch: u16,
        high: u16,
    },
    /// Node `node` (full id `full`)'s epoch file, which had held up to
    /// `high`, was replaced by the older copy `to`.
    Rollback {
        node: u8,
        full: u64,
        to: u16,
        high: u16,
    },
}
