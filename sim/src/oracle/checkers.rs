//! Every checker of one run, as a list: each observation goes to the
//! reference (each node's model and the snapshots' sources, which several
//! checkers read), then to every checker in one fixed order. The checkers
//! hold their own state and never read the world's; the engine hands the
//! list an [`Observation`] and goes on.

use regsim_engine::oracle::checker::Checker;
use regsim_engine::oracle::persisted::PersistedBeforeSend;
use regsim_engine::oracle::snapshot_status::SnapshotStatus;
use writer_registry::PersistPolicy;

use super::agreement::AgreementOracle;
use super::client_visible::ClientVisible;
use super::conformance::Conformance;
use super::invariants::Invariants;
use super::library_digest::LibraryDigest;
pub use super::observation::{Injected, Observation, RowCorruption, StartOutcome};
use super::purpose::PurposeOracle;
use super::raft::RaftOracle;
use super::reference::{Reference, Shown};
use super::snapshot_source::SnapshotSource;
use super::start_judge::StartJudges;
use super::sync_before_ack::SyncBeforeAck;
use super::Violations;

/// Every checker of one run.
pub struct Checkers {
    /// The checkers of `list` run; the purpose oracle always does (its
    /// findings are the run's verdict even with oracles off).
    on: bool,
    v: Violations,
    reference: Reference,
    purpose: PurposeOracle,
    list: List,
}

/// The checkers shown every observation with the oracles on.
struct List {
    sync_before_ack: SyncBeforeAck,
    persisted: PersistedBeforeSend,
    snapshot_status: SnapshotStatus,
    raft: RaftOracle,
    conformance: Conformance,
    snapshot_source: SnapshotSource,
    start_judge: StartJudges,
    agreement: AgreementOracle,
    invariants: Invariants,
    library_digest: LibraryDigest,
    client_visible: ClientVisible,
}

impl List {
    /// The checkers in the order each observation is shown to them, which
    /// is the order their violations of one observation are pushed in (a
    /// run's report, and so its trace-hash line, records it): an apply's
    /// `sync-before-ack`, then Raft's, then `conformance`, then
    /// `replica-agreement`; a send's `raft-persisted-before-send`, then
    /// `raft-snapshot-status`, then `raft-snapshot-meta`; a snapshot's
    /// `raft-snapshot-meta`, then `snapshot-content`; a restore's
    /// `snapshot-source`, then `replica-agreement`; a stop's
    /// `conformance-state`, then `library-digest`, then `client-visible`.
    fn in_order<'a>(&mut self) -> [&mut dyn Checker<Shown<'a>>; 11] {
        [
            &mut self.sync_before_ack,
            &mut self.persisted,
            &mut self.snapshot_status,
            &mut self.raft,
            &mut self.conformance,
            &mut self.snapshot_source,
            &mut self.start_judge,
            &mut self.agreement,
            &mut self.invariants,
            &mut self.library_digest,
            &mut self.client_visible,
        ]
    }
}

impl Checkers {
    pub fn new(nodes: u8, policy: PersistPolicy, on: bool) -> Self {
        Checkers {
            on,
            v: Violations::default(),
            reference: Reference::new(nodes, policy),
            purpose: PurposeOracle::default(),
            list: List {
                sync_before_ack: SyncBeforeAck,
                persisted: PersistedBeforeSend,
                snapshot_status: SnapshotStatus::default(),
                raft: RaftOracle::new(nodes),
                conformance: Conformance,
                snapshot_source: SnapshotSource,
                start_judge: StartJudges::new(nodes),
                agreement: AgreementOracle::default(),
                invariants: Invariants::default(),
                library_digest: LibraryDigest,
                client_visible: ClientVisible::default(),
            },
        }
    }

    /// The cluster's size.
    #[cfg(test)]
    pub fn nodes(&self) -> u8 {
        self.reference.nodes()
    }

    /// The snapshot-status oracle, to drive by hand.
    #[cfg(test)]
    pub(super) fn snapshot_status(&mut self) -> &mut SnapshotStatus {
        &mut self.list.snapshot_status
    }

    /// Whether the per-apply and state oracles run.
    pub fn on(&self) -> bool {
        self.on
    }

    /// A broken rule the engine itself saw (livelock, a store that would
    /// not open).
    pub fn violation(&mut self, oracle: &str, node: Option<u8>, at_us: u64, detail: String) {
        self.v.push(oracle, node, at_us, detail);
    }

    /// What the fault injector did: only the purpose oracle needs it.
    pub fn injected(&mut self, at_us: u64, what: Injected) {
        self.purpose.injected(at_us, what);
    }

    /// Shows `obs` to the reference, then to the purpose oracle, then
    /// (with the oracles on) to every checker of the list in its order.
    pub fn observe(&mut self, at_us: u64, obs: Observation) {
        let found = self.reference.observe(self.on, &obs);
        let shown = Shown {
            what: &obs,
            found: &found,
            reference: &self.reference,
        };
        self.purpose.observe(at_us, &shown, &mut self.v);
        if self.on {
            for checker in self.list.in_order() {
                checker.observe(at_us, &shown, &mut self.v);
            }
        }
    }

    /// Entries committed in the run (the Raft oracle's count).
    pub fn committed(&self) -> u64 {
        self.list.raft.committed()
    }

    /// The verdict material: every violation (each checker told the run
    /// is over first), and the purpose oracle.
    pub fn finish(mut self) -> (Violations, PurposeOracle) {
        self.purpose.finish(&mut self.v);
        if self.on {
            for checker in self.list.in_order() {
                checker.finish(&mut self.v);
            }
        }
        (self.v, self.purpose)
    }
}
