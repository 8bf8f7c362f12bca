//! The system under test, as the world drives it: the seam between a
//! node's life and a call into its core (`lifecycle`, `call`), which are
//! the same for any state machine, and what only the system knows (its
//! store across a process's death, what its start sequence reads, the
//! proposals a started node owes, what its checkers are shown).
//!
//! The world calls a [`System`]'s hooks at fixed points; each hook does
//! its bookkeeping in the cluster's books and returns what the world
//! hands on to the runtime (a store to keep, a core's parameters). What
//! every system shares the world decides itself: how a failed start
//! classifies (refused, halted, crashed, broken), what ending a process
//! does (stopped, its incarnation over, its armed faults disarmed,
//! traced), that a paused node proposes nothing. The writer registry is
//! the first system (`writer-registry-sim`'s `registry` module); a
//! second one implements this trait and touches no engine file, though
//! today it also brings its own runtime: the native and hosted ones are
//! the writer registry's (their start files are its epoch file).
//!
//! # The order of the hooks
//!
//! A start: [`System::reopened`], [`System::begin_start`] (the runtime
//! then runs the core's start), [`System::start_ran`]; if it joined, its
//! outputs routed (to the output hooks below); if not,
//! [`System::start_failed`], [`System::into_tracked`] and the store
//! closed ([`System::close`], [`System::closed`]), its outputs routed,
//! [`System::stopped`]; then [`System::start_ended`]; if it joined, what
//! it owes proposed ([`System::owed`], [`System::proposal`] and a call
//! each); last [`System::settled`].
//!
//! A call: [`System::call_begins`], then per round of outputs
//! [`System::call_round`] and the outputs routed ([`System::applied`],
//! [`System::halted`], [`System::note`], [`System::restored`]), then
//! [`System::call_ends`] (a halt or an armed crash then stops the node),
//! last [`System::settled`]. A start's outputs are routed without rounds.
//!
//! A stop: [`System::process_ending`], the world ends the process,
//! [`System::leave`], the store closed ([`System::close`],
//! [`System::closed`]), [`System::stopped`].

use super::cluster::{Cluster, MemberBooks, RunBooks};
use crate::node::{Application, NodeCore, NotStarted, Output, StartFailure};
use crate::process::DownReason;
use crate::storage::RaftLog;

/// The cluster of system `S`'s nodes over Raft log `L`.
pub type SystemCluster<L, S> =
    Cluster<L, <S as System>::App, <S as System>::Member, <S as System>::Books>;

/// What one apply of system `S` reports.
pub type Applied<S> = <<S as System>::App as Application>::Applied;
/// Why system `S`'s application stopped its node.
pub type Halt<S> = <<S as System>::App as Application>::Halt;
/// What system `S`'s application reports besides its applies.
pub type Note<S> = <<S as System>::App as Application>::Note;

/// What a system's node core reports in one call.
pub type SystemOutput<S> = Output<<S as System>::App>;

/// What a runtime's core start returns for system `S` over log `L`.
pub type Started<L, S> =
    Result<NodeCore<L, <S as System>::App>, Box<NotStarted<<S as System>::App>>>;

/// A start's beginning as its system arranged it: what the runtime's core
/// start takes, and what the start notes until it ran.
pub struct Begun<S: System> {
    /// The core's parameters for this incarnation.
    pub params: S::Params,
    /// The store as the application holds it.
    pub tracked: S::Tracked,
    /// What the start notes until [`System::start_ran`].
    pub call: S::Call,
}

/// The system under test. Its contract: each hook is called by the world
/// at the point its doc names, in the order the module doc lists; a hook
/// records in the books what it decides (the trace, the checkers'
/// observations) and never calls back into a core or a runtime. Hooks
/// take the cluster, not `self`: the system's books live in it.
pub trait System: Sized {
    /// The application a node core runs.
    type App: Application;
    /// The system's books on one member across its incarnations.
    type Member: MemberBooks;
    /// The system's books on the run (its trace, checkers, clients and
    /// the faults it arms).
    type Books: RunBooks;
    /// A node's store while no process runs it, as a runtime keeps it
    /// (what a crash or power loss left).
    type Store;
    /// A store as the running application holds it (tracked for faults).
    type Tracked;
    /// What the checkers are shown of a store's contents.
    type Image;
    /// What a stopped process's store is closing with (see
    /// [`System::close`]).
    type Closing;
    /// The system's own digest of a running application's state, taken
    /// as its process stops.
    type Digest;
    /// The core's parameters for one incarnation.
    type Params;
    /// What the runtime's files tell a start besides the Raft log (the
    /// writer registry's epoch file: as read and as synced).
    type StartFacts: Copy;
    /// What a call notes from its beginning to its end.
    type Call;
    /// One proposal a started node owes until it applies.
    type Owed;

    /// A call into `node`'s core begins.
    fn call_begins<L: RaftLog>(c: &mut SystemCluster<L, Self>, node: u8) -> Self::Call;

    /// One round of a call's outputs is about to be routed: what the call
    /// did to the store since the last round, and what the outputs say.
    fn call_round<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        out: &[SystemOutput<Self>],
        call: &mut Self::Call,
    );

    /// A call returned, its outputs routed (not called for a start:
    /// [`System::start_ran`] is its end).
    fn call_ends<L: RaftLog>(c: &mut SystemCluster<L, Self>, node: u8, call: Self::Call);

    /// After everything a call or a start caused: what the store synced
    /// reaches the checkers.
    fn settled<L: RaftLog>(c: &mut SystemCluster<L, Self>, node: u8);

    /// An entry the core applied (or replayed).
    fn applied<L: RaftLog>(c: &mut SystemCluster<L, Self>, node: u8, applied: Applied<Self>);

    /// The application halted its node.
    fn halted<L: RaftLog>(c: &mut SystemCluster<L, Self>, node: u8, halt: &Halt<Self>);

    /// The application's own report.
    fn note<L: RaftLog>(c: &mut SystemCluster<L, Self>, node: u8, note: Note<Self>);

    /// The core restored the snapshot at `index` (`replay`: in a start);
    /// `disk_hash` is the harness's hash of the snapshot the node's disk
    /// holds there.
    fn restored<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        at: (u64, bool),
        disk_hash: Option<u64>,
    );

    /// The proposals a running (not paused) `node` owes, in the order they
    /// go; called only while its application has own proposals pending
    /// (`Application::own_proposals_pending`).
    fn owed<L: RaftLog>(c: &mut SystemCluster<L, Self>, node: u8) -> Vec<Self::Owed>;

    /// The entry for one owed proposal, noted as proposed; `None` when the
    /// process is gone.
    fn proposal<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        owed: &Self::Owed,
    ) -> Option<Vec<u8>>;

    /// How long a node waits before proposing what it still owes again.
    fn retry_us<L: RaftLog>(c: &SystemCluster<L, Self>) -> u64;

    /// A down node's store reopened for a start: the damage queued while
    /// it was down done (`synced` sees the store after each sync it
    /// causes), what it holds recorded. Returns what it holds (`None`:
    /// unreadable, already reported).
    fn reopened<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        store: &mut Self::Store,
        synced: &mut dyn FnMut(&Self::Store),
    ) -> Option<Self::Image>;

    /// A start of `node` begins from its reopened store (with what it
    /// holds), the runtime's start facts and the Raft log's commit index.
    fn begin_start<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        opened: (Self::Store, Option<Self::Image>),
        facts: (Self::StartFacts, u64),
    ) -> Begun<Self>;

    /// The core's start ran (before its outputs are routed).
    fn start_ran<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        call: Self::Call,
        result: &Started<L, Self>,
    );

    /// A start produced no running node for `failure` (the world has
    /// classified it): what only the system knows of it (the writer
    /// registry: a store that would not open fails `store-open`).
    fn start_failed<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        failure: &StartFailure<Self::App>,
    );

    /// A failed start's application, its store as the application held
    /// it.
    fn into_tracked(app: Self::App) -> Self::Tracked;

    /// A start's outcome is known (`failure`: `None` when it joined):
    /// shown to the checkers with the runtime's start facts after it.
    fn start_ended<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        failure: Option<&StartFailure<Self::App>>,
        facts: Self::StartFacts,
    );

    /// `node`'s process is about to end for `reason` (it may have none):
    /// what the system notes of it first (a coverage mark).
    fn process_ending<L: RaftLog>(c: &mut SystemCluster<L, Self>, node: u8, reason: &DownReason);

    /// What a stopped application leaves: its store, and the system's
    /// own digest of its state when it can still be read (not when the
    /// process died inside a write).
    fn leave(app: Self::App) -> (Self::Tracked, Option<Self::Digest>);

    /// A stopped application's store, taken apart for the runtime to keep
    /// (what it is closing with is read before the runtime keeps it).
    fn close(tracked: Self::Tracked) -> (Self::Store, Self::Closing);

    /// The store is kept: what it holds and what of it reached a sync
    /// recorded. Returns what it holds (`None`: unreadable).
    fn closed<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        closing: Self::Closing,
    ) -> Option<Self::Image>;

    /// The checkers are shown the store a stopped process left (`digest`:
    /// the system's own, when a running application stopped).
    fn stopped<L: RaftLog>(
        c: &mut SystemCluster<L, Self>,
        node: u8,
        image: Option<&Self::Image>,
        digest: Option<Self::Digest>,
    );
}

#[cfg(test)]
mod tests;
