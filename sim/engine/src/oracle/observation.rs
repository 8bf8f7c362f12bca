//! What the engine's Raft checkers are shown: the Raft layer's part of
//! any system's observations ([`RaftObservation`]), which a system's own
//! observation type hands over through [`RaftView`]. The node core and
//! its disks are the engine's, so these facts are the same whatever state
//! machine runs on them.

use raft::eraftpb::{Message, SnapshotMetadata};

use crate::disk::LogImage;

/// What happened at the Raft layer, as the engine's Raft checkers need it
/// (nodes are 0-based positions; logs are the harness's disk images).
#[derive(Debug, Clone, Copy)]
pub enum RaftObservation<'a> {
    /// `node` began a new incarnation (it leads nothing yet).
    Started {
        /// The node.
        node: u8,
    },
    /// `node`'s state machine applied entry `index` of `term`, whose bytes
    /// are `data`; `replay`: during its start's replay.
    Applied {
        /// The node.
        node: u8,
        /// The entry's index.
        index: u64,
        /// The entry's term.
        term: u64,
        /// The entry's bytes.
        data: &'a [u8],
        /// Applied by the start's replay.
        replay: bool,
    },
    /// `node` took a snapshot described by `meta`.
    SnapshotTaken {
        /// The node.
        node: u8,
        /// The snapshot's metadata, as its disk holds it.
        meta: &'a SnapshotMetadata,
    },
    /// `node`'s log as its disk synced it changed to `log`.
    Synced {
        /// The node.
        node: u8,
        /// Its synced log.
        log: &'a LogImage,
    },
    /// `from` handed `msg` to the network.
    Sent {
        /// The sender.
        from: u8,
        /// The message.
        msg: &'a Message,
        /// The sender's log as synced at that moment.
        synced: &'a LogImage,
        /// The sender's log as written at that moment.
        written: &'a LogImage,
    },
    /// The transport handed `msg` from `from` to `to`, which steps it now.
    Delivered {
        /// The sender.
        from: u8,
        /// The receiver.
        to: u8,
        /// The message.
        msg: &'a Message,
        /// The sender's synced log.
        from_synced: &'a LogImage,
        /// The last index of the receiver's written log.
        to_written_last: u64,
    },
    /// The transport told `from` its snapshot message of `term` to `to`
    /// did not arrive.
    SnapshotFailed {
        /// The sender (the leader).
        from: u8,
        /// The receiver.
        to: u8,
        /// The message's term.
        term: u64,
    },
    /// `node` became leader of `term`, with its log as written.
    Leader {
        /// The node.
        node: u8,
        /// Its term.
        term: u64,
        /// Its written log.
        log: &'a LogImage,
    },
}

/// A system's observation as the engine's Raft checkers see it: its Raft
/// part, if it has one. Implementing it is all a system does to put the
/// Raft checkers ([`super::raft::RaftOracle`],
/// [`super::persisted::PersistedBeforeSend`],
/// [`super::snapshot_status::SnapshotStatus`]) in its list of checkers:
/// each is a [`super::checker::Checker`] over any `RaftView`.
pub trait RaftView {
    /// The Raft layer's part of this observation; `None` when it has none
    /// (a checker over it then does nothing).
    fn raft(&self) -> Option<RaftObservation<'_>>;
}

impl RaftView for RaftObservation<'_> {
    fn raft(&self) -> Option<RaftObservation<'_>> {
        Some(*self)
    }
}
