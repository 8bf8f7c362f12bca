//! The mutant catalogue: deliberately broken variants of the library (and
//! of the node start sequence the simulator drives), each re-creating a
//! real class of bug, so that the harness's power to find bugs can be
//! measured. Compiled only with the `mutants` cargo feature; a component
//! runs a mutant only when its constructor is handed one (the run's
//! context), never through globals, so sweeps on many threads can run
//! different mutants side by side.

/// One deliberately broken variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mutant {
    /// Applier: `<=` instead of `<` in step 6 (the original's first bug):
    /// an equal epoch halts as a rollback.
    EqualEpochHalts,
    /// Applier: a strictly lower epoch is accepted as a no-op.
    RollbackNotHalted,
    /// Applier: step 4 skipped; a new full id overwrites the slot.
    CollisionNotChecked,
    /// Applier: the owner check comes after the epoch comparison.
    CollisionAfterEpoch,
    /// Applier: an advance overwrites first_seen.
    FirstSeenOverwritten,
    /// Applier: an advance leaves last_seen where it was.
    LastSeenNotAdvanced,
    /// Applier: node16 taken from the high 16 bits of the full id.
    Node16HighBits,
    /// FSM: the write/sync seam skips the sync.
    RegistryWriteNotSynced,
    /// FSM: a failing entry is skipped and the applied index advances.
    HaltIgnored,
    /// FSM (atomic policy): the applied index is written and synced in its
    /// own batch before the registry change, not with it.
    AtomicTwoWrites,
    /// FSM: snapshots carry no registry rows.
    SnapshotOmitsRows,
    /// FSM: a reopened FSM resumes one entry past its durable applied
    /// index, so the restart replay starts one entry too far.
    ReplayOneTooFar,
    /// FSM (faithful policy): the applied index is written with every
    /// registration that changes a row, as the atomic policy does.
    FaithfulIndexWithRegistrations,
    /// FSM: a restore writes only the snapshot's keys the store lacks;
    /// keys it already holds keep their old bytes.
    RestoreKeepsOldValues,
    /// FSM: a halting entry writes the applied index as if it applied, so
    /// the next start's replay skips it.
    HaltPersistsIndex,
    /// FSM: the incremental digest leaves KV writes out.
    DigestSkipsKv,
    /// FSM: a failed sync is ignored and the apply succeeds, the spec's
    /// "a store error propagates" broken.
    StoreErrorSwallowed,
    /// Store (fjall): journal writes stay in fjall's user-space buffer and
    /// `sync` returns without persisting them.
    FjallSyncSkipped,
    /// Store: fjall's sync hands the journal to the OS
    /// (`PersistMode::Buffer`) and never fsyncs it: a kill keeps every
    /// batch, a power loss takes what no fsync covered.
    FjallSyncBufferOnly,
    /// Start sequence: neither startup guard runs.
    GuardSkipped,
    /// Start sequence: START-2 checks the rows against the bumped epoch,
    /// as if START-3 ran first.
    BumpBeforeGuard,
    /// Start sequence: the guard after replay allows equality.
    GuardAfterReplayNotStrict,
    /// Start sequence: the bumped epoch is written but not synced.
    EpochBumpNotSynced,
    /// Start sequence: the node encrypts before its own registration has
    /// applied locally.
    EncryptBeforeRegistration,
    /// Start sequence: any applied registration of the node's full id
    /// opens encryption under its dek, not only the one at the current
    /// epoch (an old incarnation's registration counts as this one's).
    OldRegistrationOpensEncryption,
    /// Start sequence: the guards stop at the first dek without a row at
    /// the node's slot, so later deks are never checked.
    GuardStopsAtMissingRow,
    /// Node core: the Ready's persisted messages (append acks, vote
    /// grants) leave with the ordinary ones, before the write and sync.
    PersistedSentEarly,
    /// Node core: the start-up replay stops one entry short of the
    /// persisted commit index; the last entry applies after the join.
    ReplayStopsShort,
    /// Node core: a snapshot's metadata carries the node's current term,
    /// not the term of the entry at its index.
    SnapshotTermCurrent,
    /// Node core: raft-rs is told a Ready persisted when it is written,
    /// before its sync, so a leader counts its own unsynced entries.
    PersistReportedAtWrite,
    /// Node core: the Raft log is not synced when a start opens it, so the
    /// replay trusts a crashed predecessor's unsynced writes.
    LogNotSyncedOnOpen,
    /// Node core: a snapshot the transport failed is reported to raft-rs
    /// only as an unreachable peer, never as `SnapshotStatus::Failure`, so
    /// the leader's progress for that follower stays in Snapshot.
    LostSnapshotUnreachableOnly,
}

impl Mutant {
    /// Every mutant, in catalogue order.
    pub const ALL: [Mutant; 32] = [
        Mutant::EqualEpochHalts,
        Mutant::RollbackNotHalted,
        Mutant::CollisionNotChecked,
        Mutant::CollisionAfterEpoch,
        Mutant::FirstSeenOverwritten,
        Mutant::LastSeenNotAdvanced,
        Mutant::Node16HighBits,
        Mutant::RegistryWriteNotSynced,
        Mutant::HaltIgnored,
        Mutant::AtomicTwoWrites,
        Mutant::SnapshotOmitsRows,
        Mutant::ReplayOneTooFar,
        Mutant::FaithfulIndexWithRegistrations,
        Mutant::RestoreKeepsOldValues,
        Mutant::HaltPersistsIndex,
        Mutant::DigestSkipsKv,
        Mutant::StoreErrorSwallowed,
        Mutant::FjallSyncSkipped,
        Mutant::FjallSyncBufferOnly,
        Mutant::GuardSkipped,
        Mutant::BumpBeforeGuard,
        Mutant::GuardAfterReplayNotStrict,
        Mutant::EpochBumpNotSynced,
        Mutant::EncryptBeforeRegistration,
        Mutant::OldRegistrationOpensEncryption,
        Mutant::GuardStopsAtMissingRow,
        Mutant::PersistedSentEarly,
        Mutant::ReplayStopsShort,
        Mutant::SnapshotTermCurrent,
        Mutant::PersistReportedAtWrite,
        Mutant::LogNotSyncedOnOpen,
        Mutant::LostSnapshotUnreachableOnly,
    ];

    /// Stable kebab-case name (used on the command line and in tables).
    pub fn name(self) -> &'static str {
        match self {
            Mutant::EqualEpochHalts => "equal-epoch-halts",
            Mutant::RollbackNotHalted => "rollback-not-halted",
            Mutant::CollisionNotChecked => "collision-not-checked",
            Mutant::CollisionAfterEpoch => "collision-after-epoch",
            Mutant::FirstSeenOverwritten => "first-seen-overwritten",
            Mutant::LastSeenNotAdvanced => "last-seen-not-advanced",
            Mutant::Node16HighBits => "node16-high-bits",
            Mutant::RegistryWriteNotSynced => "registry-write-not-synced",
            Mutant::HaltIgnored => "halt-ignored",
            Mutant::AtomicTwoWrites => "atomic-two-writes",
            Mutant::SnapshotOmitsRows => "snapshot-omits-rows",
            Mutant::ReplayOneTooFar => "replay-one-too-far",
            Mutant::FaithfulIndexWithRegistrations => "faithful-index-with-registrations",
            Mutant::RestoreKeepsOldValues => "restore-keeps-old-values",
            Mutant::HaltPersistsIndex => "halt-persists-index",
            Mutant::DigestSkipsKv => "digest-skips-kv",
            Mutant::StoreErrorSwallowed => "store-error-swallowed",
            Mutant::FjallSyncSkipped => "fjall-sync-skipped",
            Mutant::FjallSyncBufferOnly => "fjall-sync-buffer-only",
            Mutant::GuardSkipped => "guard-skipped",
            Mutant::BumpBeforeGuard => "bump-before-guard",
            Mutant::GuardAfterReplayNotStrict => "guard-after-replay-not-strict",
            Mutant::EpochBumpNotSynced => "epoch-bump-not-synced",
            Mutant::EncryptBeforeRegistration => "encrypt-before-registration",
            Mutant::OldRegistrationOpensEncryption => "old-registration-opens-encryption",
            Mutant::GuardStopsAtMissingRow => "guard-stops-at-missing-row",
            Mutant::PersistedSentEarly => "persisted-sent-early",
            Mutant::ReplayStopsShort => "replay-stops-short",
            Mutant::SnapshotTermCurrent => "snapshot-term-current",
            Mutant::PersistReportedAtWrite => "persist-reported-at-write",
            Mutant::LogNotSyncedOnOpen => "log-not-synced-on-open",
            Mutant::LostSnapshotUnreachableOnly => "lost-snapshot-unreachable-only",
        }
    }

    /// Whether it breaks the start sequence (the simulator's table shows
    /// these apart from the applier's and the FSM's).
    pub fn in_start_sequence(self) -> bool {
        matches!(
            self,
            Mutant::GuardSkipped
                | Mutant::BumpBeforeGuard
                | Mutant::GuardAfterReplayNotStrict
                | Mutant::EpochBumpNotSynced
                | Mutant::EncryptBeforeRegistration
                | Mutant::OldRegistrationOpensEncryption
                | Mutant::GuardStopsAtMissingRow
        )
    }

    /// Whether it breaks the node core that drives raft-rs (the
    /// simulator's, not the library's).
    pub fn in_node_core(self) -> bool {
        matches!(
            self,
            Mutant::PersistedSentEarly
                | Mutant::ReplayStopsShort
                | Mutant::SnapshotTermCurrent
                | Mutant::PersistReportedAtWrite
                | Mutant::LogNotSyncedOnOpen
                | Mutant::LostSnapshotUnreachableOnly
        )
    }

    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.into_iter().find(|m| m.name() == name)
    }
}
