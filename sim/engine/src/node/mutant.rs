//! The node core's own mutants: realistic bugs in the glue between
//! raft-rs and a state machine, compiled in only with the `mutants`
//! feature (the default build carries none, and every check is a
//! constant `false`).

/// A bug the node core can be built with.
#[cfg(feature = "mutants")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreMutant {
    /// A start does not sync the log it opens before replaying from it.
    LogNotSyncedOnOpen,
    /// A start's replay stops one entry short of the persisted commit.
    ReplayStopsShort,
    /// Persisted messages (acks, votes) go out before the Ready's sync.
    PersistedSentEarly,
    /// raft-rs is told a Ready is persisted when it is written.
    PersistReportedAtWrite,
    /// A lost snapshot is reported only as an unreachable peer.
    LostSnapshotUnreachableOnly,
    /// A snapshot's metadata carries the current term.
    SnapshotTermCurrent,
}

/// The mutant a node core was built with: `Option<CoreMutant>` with the
/// `mutants` feature.
#[cfg(feature = "mutants")]
pub type CoreMutantSlot = Option<CoreMutant>;
/// The mutant a node core was built with: nothing, in the default build.
#[cfg(not(feature = "mutants"))]
pub type CoreMutantSlot = ();

/// Whether the slot holds mutant `m` (always false without the feature).
#[cfg(feature = "mutants")]
macro_rules! core_mutated {
    ($slot:expr, $m:ident) => {
        $slot == Some($crate::node::CoreMutant::$m)
    };
}

/// Whether the slot holds mutant `m` (always false without the feature).
#[cfg(not(feature = "mutants"))]
macro_rules! core_mutated {
    ($slot:expr, $m:ident) => {{
        let () = $slot;
        false
    }};
}

pub(crate) use core_mutated;
