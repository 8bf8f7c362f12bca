//! The simulator's coverage marks, typed: a call site names a [`SimMark`],
//! never a string, so an undeclared mark cannot compile. Each is declared
//! once here, with the name results, scenarios (`marks.required`) and
//! reports use; the library declares its own (`writer_registry::marks`).

macro_rules! sim_marks {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// A situation the simulator saw happen.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum SimMark {
            $($(#[doc = $doc])* $variant,)*
        }

        impl SimMark {
            /// Every mark, in declaration order.
            pub const ALL: &'static [SimMark] = &[$(SimMark::$variant,)*];

            /// The stable name (results, scenario files, reports).
            pub fn name(self) -> &'static str {
                match self {
                    $(SimMark::$variant => $name,)*
                }
            }
        }
    };
}

sim_marks! {
    /// A replayed entry the node had applied before its last restart.
    ReplayAlreadyApplied => "replay-already-applied",
    /// A replayed registration over a row a later one advanced.
    ReplayOverLaterRow => "replay-over-later-row",
    /// An armed crash struck between a registry write and its sync.
    CrashBeforeRegistrySync => "crash-before-registry-sync",
    /// A power loss took unsynced registry rows.
    PowerLossUnsyncedRegistry => "power-loss-unsynced-registry",
    /// A node that has restarted installed a snapshot from the leader.
    SnapshotInstallRestarted => "snapshot-install-restarted",
    /// A leader changed while a registration was in flight.
    LeaderChangeRegistrationInFlight => "leader-change-registration-in-flight",
    /// The same registration committed twice.
    DuplicateRegistrationCommit => "duplicate-registration-commit",
    /// A halting entry halted again after a restart.
    HaltRehitAfterRestart => "halt-rehit-after-restart",
    /// An epoch file preset at 0xFFFF.
    EpochPresetExhausted => "epoch-preset-exhausted",
    /// An epoch file preset just below exhaustion.
    EpochPresetNearExhaustion => "epoch-preset-near-exhaustion",
    /// A bootstrap, rotation or unknown-opcode entry halted a node.
    ExoticEntryHalted => "exotic-entry-halted",
    /// A node crashed with some, not all, of its deks registered.
    CrashBetweenDekRegistrations => "crash-between-dek-registrations",
    /// An injected store error halted a node.
    StoreErrorHalted => "store-error-halted",
    /// An injected corruption broke a row's shape.
    RowCorruptedShape => "row-corrupted-shape",
    /// An injected corruption kept a row's shape, changed its bits.
    RowCorruptedBits => "row-corrupted-bits",
    /// An older incarnation's registration applied after its successor
    /// joined.
    OldRegistrationAfterJoin => "old-registration-after-join",
    /// A node's registrations committed out of proposal order.
    RegistrationOutOfOrder => "registration-out-of-order",
    /// The turmoil runtime only: a power loss tore a write that recovery
    /// cut.
    PowerLossTornWrite => "power-loss-torn-write",
}

/// Every coverage mark's name: the library's, then the simulator's.
pub fn all_marks() -> Vec<&'static str> {
    writer_registry::marks::Mark::ALL
        .iter()
        .map(|m| m.name())
        .chain(SimMark::ALL.iter().map(|m| m.name()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        let names: std::collections::BTreeSet<_> = SimMark::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), SimMark::ALL.len());
        for n in names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{n}");
        }
    }
}
