//! The seams between the node core and the state machine it runs: what
//! the application does (apply, snapshot, restore, recognise its own
//! proposals), how it takes part in the start (a [`StartHook`]), and what
//! the core reports to its driver ([`Output`]).

use raft::eraftpb::{Entry, Message};

/// The state machine under test, as the node core drives it.
///
/// Contract:
/// - On a running node, [`apply`](Self::apply) is called once per
///   committed entry, in index order, never for an index at or below
///   [`applied_index`](Self::applied_index); on return the entry's effects
///   are durable (the core tells raft-rs the entry is applied right
///   after). During a start it is called with `replay` for exactly the
///   range the [`StartHook`] asked to replay.
/// - A process death inside a call (a simulator's injected crash) is
///   [`Died`]: the core then stops, and what survives is whatever the
///   application had made durable. A running node also stops (as a crash
///   cutting that index) when restoring a leader's snapshot fails for any
///   reason, and when a snapshot cannot be taken; a start that cannot
///   restore reports the store failure instead.
/// - [`snapshot`](Self::snapshot) captures the state at the applied index;
///   [`restore`](Self::restore) replaces the state with a snapshot's and
///   returns the applied index it carried (a leader's snapshot is
///   reported at raft's metadata index, which the engine's snapshots keep
///   equal to it).
/// - "Own proposals" are entries this incarnation proposed during its
///   start (a writer registry's registrations): the core offers crash
///   points around them, the places where a start's bookkeeping breaks.
pub trait Application: Sized {
    /// What one apply reports to the checkers ([`Output::Applied`]).
    type Applied;
    /// Why the application stopped its node ([`Output::Halted`]).
    type Halt: Clone;
    /// What the application reports besides its applies
    /// ([`Output::Note`]), e.g. its start hook's decisions.
    type Note;
    /// Why a start hook refused to let the node join.
    type Refusal;

    /// The index of the last entry applied (0 when none).
    fn applied_index(&self) -> u64;
    /// Applies one committed entry (see the trait's contract).
    fn apply(&mut self, entry: &Entry, replay: bool) -> Result<Apply<Self>, Died>;
    /// The encoded state at the applied index.
    fn snapshot(&mut self) -> Result<Vec<u8>, Died>;
    /// Replaces the state with an encoded snapshot's; returns the applied
    /// index the snapshot carried.
    fn restore(&mut self, data: &[u8]) -> Result<u64, RestoreError>;
    /// Whether the entry `data` is one of this incarnation's own start-up
    /// proposals.
    fn is_own_proposal(&self, data: &[u8]) -> bool;
    /// Whether some of this incarnation's own proposals have not applied
    /// here yet.
    fn own_proposals_pending(&self) -> bool;
}

/// One apply's result.
pub struct Apply<A: Application> {
    /// The report passed on as [`Output::Applied`].
    pub report: A::Applied,
    /// The entry halted the state machine: the node stops after reporting it.
    pub halt: Option<A::Halt>,
    /// The entry was one of this incarnation's own proposals.
    pub own: bool,
}

/// The process died inside the call (an injected crash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Died;

/// Why a snapshot could not be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreError {
    /// The snapshot's bytes do not decode.
    Undecodable(String),
    /// The process died inside the restore; `index` is the snapshot's.
    Died {
        /// The applied index the snapshot carried.
        index: u64,
    },
    /// The store failed.
    Failed(String),
}

/// The application's part in a start: the core drives the steps every
/// raft node has (it always syncs the log it opens first; then restores
/// the held snapshot, replays held entries, joins as the hook asks); the
/// hook decides which come, in what order, and does its own bookkeeping
/// between them (a writer registry's epoch file). Called with
/// [`StartEvent::Begin`] once the application is open, then with the
/// outcome of each step it asked for, until it answers
/// [`StartStep::Join`] or [`StartStep::Refuse`]. A step that fails (a
/// restore or replay that dies, halts or misses an entry) ends the start
/// without asking the hook again.
pub trait StartHook<A: Application> {
    /// The next step, given what the last one did.
    fn next(
        &mut self,
        event: StartEvent,
        app: &mut A,
        disk: DiskFacts,
        out: &mut Vec<Output<A>>,
    ) -> StartStep<A::Refusal>;
}

/// What the last start step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartEvent {
    /// The application is open; nothing else happened yet.
    Begin,
    /// The held snapshot was restored; the application's applied index.
    SnapshotRestored {
        /// The applied index after the restore.
        index: u64,
    },
    /// The requested replay applied every entry.
    Replayed,
}

/// What the start does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartStep<R> {
    /// Restore the snapshot the log holds.
    RestoreSnapshot,
    /// Apply the held entries `from..=to`.
    Replay {
        /// The first index to apply.
        from: u64,
        /// The last index to apply.
        to: u64,
    },
    /// Do not join: the node stays down.
    Refuse(R),
    /// Join the cluster with the application's applied index.
    Join,
}

/// What the opened log holds, as a start hook may need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskFacts {
    /// The index of the held snapshot (0 when none).
    pub snapshot_index: u64,
    /// The commit index of the persisted hard state.
    pub commit_index: u64,
}

/// What the core asks of its driver or reports to the checkers.
pub enum Output<A: Application> {
    /// Send this message.
    Send(Message),
    /// Schedule the sync of Ready `ready`; call
    /// [`NodeCore::sync_done`](super::NodeCore::sync_done) for it later,
    /// in Ready order.
    Sync {
        /// The Ready's number.
        ready: u64,
    },
    /// An entry applied.
    Applied(A::Applied),
    /// The application halted: the node stops.
    Halted(A::Halt),
    /// The application's own report.
    Note(A::Note),
    /// A snapshot was restored (`replay`: by a start, from the disk).
    SnapshotRestored {
        /// The applied index it carried.
        index: u64,
        /// Restored by a start rather than received from a leader.
        replay: bool,
    },
    /// This node became leader.
    BecameLeader {
        /// Its term.
        term: u64,
    },
}

impl<A: Application> std::fmt::Debug for Output<A>
where
    A::Applied: std::fmt::Debug,
    A::Halt: std::fmt::Debug,
    A::Note: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Send(m) => f.debug_tuple("Send").field(m).finish(),
            Output::Sync { ready } => f.debug_struct("Sync").field("ready", ready).finish(),
            Output::Applied(a) => f.debug_tuple("Applied").field(a).finish(),
            Output::Halted(h) => f.debug_tuple("Halted").field(h).finish(),
            Output::Note(n) => f.debug_tuple("Note").field(n).finish(),
            Output::SnapshotRestored { index, replay } => f
                .debug_struct("SnapshotRestored")
                .field("index", index)
                .field("replay", replay)
                .finish(),
            Output::BecameLeader { term } => {
                f.debug_struct("BecameLeader").field("term", term).finish()
            }
        }
    }
}
