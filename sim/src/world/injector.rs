//! The fault injector: the crashes the schedule armed inside running
//! nodes, and its own random stream for what the schedule leaves open.
//! It owns that state; the world asks it at each point where a fault can
//! strike (a Ready step, a registry sync, a node's own registration, a
//! crash that should roll the epoch file back) and carries out its answer.

use std::cell::Cell;
use std::rc::Rc;

use crate::node::{CrashPoints, ReadyStep};
use crate::oracle::checkers::Injected;
use crate::rng::KeyedRng;

/// Crashes armed inside one running core: the injector's answers at the
/// core's crash points. They die with the process.
#[derive(Debug, Default)]
pub(crate) struct ArmedCrashes {
    /// Crash at this step of the next Ready that reaches it.
    ready: Option<ReadyStep>,
    /// Crash at the sync of the Ready that commits this incarnation's own
    /// registration, before applying it.
    before_registration: bool,
    /// Crash right after one of this incarnation's own registrations
    /// applies while another DEK's is still to come.
    between_registrations: bool,
    /// Crash when the first ack of this incarnation's own uncommitted
    /// registration reaches it.
    own_registration_acked: bool,
}

impl CrashPoints for ArmedCrashes {
    fn at_ready_step(&mut self, step: ReadyStep) -> bool {
        if self.ready == Some(step) {
            self.ready = None;
            return true;
        }
        false
    }
    fn before_own_proposal_applies(&mut self) -> bool {
        std::mem::take(&mut self.before_registration)
    }
    fn between_own_proposals(&mut self) -> bool {
        std::mem::take(&mut self.between_registrations)
    }
    fn own_proposal_acked(&mut self) -> bool {
        std::mem::take(&mut self.own_registration_acked)
    }
}

/// One node's armed faults.
#[derive(Debug, Default)]
struct NodeFaults {
    crash_points: ArmedCrashes,
    /// The next registry sync fails as if the process died between the
    /// write and its fsync (the node's store holds a clone).
    registry_crash: Rc<Cell<bool>>,
    /// Whether the armed crash that fires next also loses power.
    power_loss: bool,
    /// The next registry write or sync fails (the node's store holds a
    /// clone).
    store_fault: crate::store::StoreFault,
    /// Armed crashes fired so far: keys the draw of each one's down time.
    fired: u64,
    /// An epoch rollback injected while the node ran: done at its next crash.
    rollback_at_next_crash: bool,
}

/// Every node's armed faults, the per-node fault streams, and the records
/// of what was injected that the checkers have not taken yet.
pub(crate) struct Injector {
    nodes: Vec<NodeFaults>,
    records: Vec<Injected>,
    streams: Vec<KeyedRng>,
    down_ms: [u64; 2],
}

impl Injector {
    pub(crate) fn new(streams: Vec<KeyedRng>, down_ms: [u64; 2]) -> Self {
        Injector {
            nodes: streams.iter().map(|_| NodeFaults::default()).collect(),
            records: Vec::new(),
            streams,
            down_ms,
        }
    }

    fn node(&mut self, node: u8) -> &mut NodeFaults {
        &mut self.nodes[usize::from(node)]
    }

    /// Crash `node` at `step` of its next Ready (it must be running).
    pub(crate) fn arm_ready_crash(&mut self, node: u8, step: ReadyStep, power_loss: bool) {
        let n = self.node(node);
        n.crash_points.ready = Some(step);
        n.power_loss = power_loss;
    }

    /// Crash `node` between its next registry write and its sync.
    pub(crate) fn arm_registry_crash(&mut self, node: u8, power_loss: bool) {
        let n = self.node(node);
        n.registry_crash.set(true);
        n.power_loss = power_loss;
    }

    /// Fail `node`'s next registry write or sync with an I/O error.
    pub(crate) fn arm_store_error(
        &mut self,
        node: u8,
        op: crate::store::StoreOp,
        errno: crate::store::Errno,
    ) {
        self.node(node).store_fault.set(Some((op, errno)));
    }

    /// The flag `node`'s store checks at each registry write and sync.
    pub(crate) fn store_fault_flag(&mut self, node: u8) -> crate::store::StoreFault {
        self.node(node).store_fault.clone()
    }

    /// Crash `node` with its own registration committed but not applied.
    pub(crate) fn arm_registration_crash(&mut self, node: u8) {
        self.node(node).crash_points.before_registration = true;
    }

    /// Crash `node` between its own registrations under two DEKs.
    pub(crate) fn arm_between_registrations_crash(&mut self, node: u8) {
        self.node(node).crash_points.between_registrations = true;
    }

    /// Crash `node` at the first ack of its own uncommitted registration.
    pub(crate) fn arm_ack_crash(&mut self, node: u8) {
        self.node(node).crash_points.own_registration_acked = true;
    }

    /// Roll `node`'s epoch file back when it next crashes.
    pub(crate) fn roll_back_at_next_crash(&mut self, node: u8) {
        self.node(node).rollback_at_next_crash = true;
    }

    /// Whether a rollback waits for `node`'s crash; clears it.
    pub(crate) fn take_rollback(&mut self, node: u8) -> bool {
        std::mem::take(&mut self.node(node).rollback_at_next_crash)
    }

    /// The answers at `node`'s crash points, for a call into its core.
    pub(crate) fn crash_points(&mut self, node: u8) -> &mut ArmedCrashes {
        &mut self.node(node).crash_points
    }

    /// `node`'s store for its FSM: the open registry and its journal, wired
    /// to the crash and I/O faults armed for `node`; synced row changes go
    /// to `sink` (the invariant oracle's, when oracles are on).
    pub(crate) fn tracked_store(
        &mut self,
        node: u8,
        inner: crate::store::SimStore,
        journal: crate::store::Journal,
        sink: Option<Rc<std::cell::RefCell<Vec<crate::store::SyncedRowChange>>>>,
    ) -> crate::store::TrackedStore {
        crate::store::TrackedStore {
            inner,
            journal,
            crash_before_sync: self.registry_crash_flag(node),
            crashed: false,
            store_fault: self.store_fault_flag(node),
            fault_fired: Default::default(),
            row_changes: sink,
        }
    }

    /// The flag `node`'s store checks at each sync.
    pub(crate) fn registry_crash_flag(&mut self, node: u8) -> Rc<Cell<bool>> {
        self.node(node).registry_crash.clone()
    }

    /// Whether a registry crash is armed for `node` now.
    pub(crate) fn registry_crash_armed(&self, node: u8) -> bool {
        self.nodes[usize::from(node)].registry_crash.get()
    }

    /// Whether the armed crash that fired also loses power.
    pub(crate) fn armed_power_loss(&self, node: u8) -> bool {
        self.nodes[usize::from(node)].power_loss
    }

    /// `node`'s process died: what was armed inside it dies too.
    pub(crate) fn process_died(&mut self, node: u8) {
        let n = self.node(node);
        n.crash_points = ArmedCrashes::default();
        n.store_fault.set(None);
    }

    /// The end of the fault phase: nothing armed stays armed.
    pub(crate) fn disarm(&mut self, node: u8) {
        let n = self.node(node);
        n.registry_crash.set(false);
        n.store_fault.set(None);
        n.crash_points = ArmedCrashes::default();
    }

    /// Keeps a record of a fault the world carried out for the injector
    /// (a conflict proposed, a corrupt entry, an epoch file rolled back).
    pub(crate) fn record(&mut self, what: Injected) {
        self.records.push(what);
    }

    /// The records not taken yet, oldest first.
    pub(crate) fn take_records(&mut self) -> Vec<Injected> {
        std::mem::take(&mut self.records)
    }

    /// How long `node` stays down after an armed crash (not in the
    /// schedule, so drawn here, keyed by how many have fired).
    pub(crate) fn down_after_armed_crash(&mut self, node: u8) -> u64 {
        let i = usize::from(node);
        let seq = self.nodes[i].fired;
        self.nodes[i].fired += 1;
        self.streams[i]
            .draw(seq)
            .range(0, self.down_ms[0], self.down_ms[1])
            * 1000
    }
}
