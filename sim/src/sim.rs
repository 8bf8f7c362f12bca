//! The engine: virtual clock, event queue, network, disks and the cluster,
//! driving the node cores through a schedule and feeding the oracles.
//!
//! Single-threaded and discrete-event: the clock jumps to the next event;
//! ties break by insertion order. Nothing else can reorder work.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use raft::eraftpb::Message;
use writer_registry::ids::{fnv1a64, full_node_id, node16};
use writer_registry::startup::{GuardStage, Refusal};
use writer_registry::wire::{self, Registration};
use writer_registry::{Applied, Halt, Outcome, WriterRegistryStore};

use crate::disk::{EpochFile, RaftDisk};
use crate::node::{self, NodeCore, NodeParams, Output, ReadyStep, StartFailure};
use crate::oracle::agreement::{self, AgreementOracle};
use crate::oracle::model::NodeModel;
use crate::oracle::purpose::{HaltEvent, PurposeOracle};
use crate::oracle::raft::RaftOracle;
use crate::oracle::Violations;
use crate::rng::{KeyedRng, Streams, Subsystem};
use crate::scenario::Scenario;
use crate::schedule::{Action, Schedule};
use crate::store::{scan_image, ClosedStore, Journal, RegistryKind, TrackedStore};
use crate::trace::Trace;

/// The coverage marks the simulator fires (the library adds its own, see
/// `writer_registry::marks`). Each fires where its situation happens.
pub const SIM_MARKS: [&str; 8] = [
    "replay-already-applied",
    "replay-over-later-row",
    "crash-before-registry-sync",
    "power-loss-unsynced-registry",
    "snapshot-install-restarted",
    "leader-change-registration-in-flight",
    "duplicate-registration-commit",
    "halt-rehit-after-restart",
];

/// Every coverage mark's name: the library's, then the simulator's.
pub fn all_marks() -> Vec<&'static str> {
    writer_registry::marks::Mark::ALL
        .iter()
        .map(|m| m.name())
        .chain(SIM_MARKS)
        .collect()
}

/// Per-run counters printed with every result.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub committed: u64,
    pub crashes: u64,
    pub power_losses: u64,
    pub restarts: u64,
    pub snapshots_taken: u64,
    pub snapshot_installs: u64,
    pub elections: u64,
    pub halts: u64,
    pub refusals: u64,
    pub kv_proposed: u64,
    pub kv_applied: u64,
    pub messages: u64,
    pub virtual_us: u64,
    pub events: u64,
}

/// Why a node is down.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DownReason {
    Crashed,
    Halted,
    Refused,
    /// Its store or Raft state could not be opened: a violation, stays down.
    Broken,
}

enum State {
    Up(Box<NodeCore>),
    Paused(Box<NodeCore>),
    Down(DownReason),
}

/// One cluster member across its incarnations.
struct Slot {
    index: u8,
    full: u64,
    state: State,
    disk: Rc<RefCell<RaftDisk>>,
    epoch_file: EpochFile,
    /// The store while the node is down (None while up: the FSM has it).
    closed: Option<(ClosedStore, Journal)>,
    /// Power was lost while down: undo unsynced registry writes at reopen.
    lost_power: bool,
    incarnation: u32,
    crash_flag: Rc<Cell<bool>>,
    armed_power_loss: bool,
    armed_crashes: u64,
    /// An epoch rollback injected while the node ran: applied at its next crash.
    rollback_at_next_crash: bool,
    tick_seq: u64,
    sync_seq: u64,
    sync_free_at: u64,
    /// Work that reached a paused process, handled in order on resume.
    held: Vec<Held>,
    /// Highest index applied before the last restart (replay window edge).
    high_water: u64,
    applied_max: u64,
    model: NodeModel,
    /// Synced registry row changes, shared with the store (oracles on).
    row_changes: Rc<RefCell<Vec<crate::store::SyncedRowChange>>>,
    /// Index of the last halt, to see it hit again after a restart.
    halted_at: Option<u64>,
    /// Nonce counters of this incarnation, per dek.
    counters: std::collections::BTreeMap<u32, u64>,
}

/// What waits for a paused process.
enum Held {
    Message(Message),
    SyncDone(u64),
}

enum Ev {
    Tick {
        node: u8,
        inc: u32,
    },
    Deliver {
        from: u8,
        from_inc: u32,
        to: u8,
        to_inc: u32,
        msg: Box<Message>,
    },
    SyncDone {
        node: u8,
        inc: u32,
        ready: u64,
    },
    Scheduled(usize),
    ClientRetry {
        cmd: usize,
    },
    RegRetry {
        node: u8,
        inc: u32,
    },
    ArmedRestart {
        node: u8,
    },
}

struct Queued {
    at: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// A client KV command and its retries.
struct ClientCmd {
    proposal_id: u64,
    dek: u32,
    data: Option<Vec<u8>>,
    node: u8,
    attempts: u32,
    done: bool,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Converged,
    /// The liveness bound passed without convergence. `quorum_live`: the
    /// nodes neither halted nor refused still form a majority, so
    /// convergence was owed.
    NotConverged {
        report: String,
        quorum_live: bool,
    },
    Livelock(String),
}

/// Everything a run produced, before classification.
pub struct RunOutput {
    pub stats: Stats,
    pub violations: Violations,
    pub purpose: PurposeOracle,
    pub ending: Ending,
    pub trace: Trace,
    /// Coverage marks hit (library and simulator), by name.
    pub marks: BTreeMap<&'static str, u64>,
}

/// Options that are not part of the scenario.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub registry: RegistryKind,
    pub oracles: bool,
    pub keep_trace_lines: bool,
    /// Where fjall directories go (one per node).
    pub data_dir: PathBuf,
    /// The run's mutant (the `mutants` feature), `()` otherwise.
    pub mutant: writer_registry::MutantSlot,
}

pub struct Sim<'a> {
    sc: &'a Scenario,
    schedule: &'a Schedule,
    opts: SimOptions,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    slots: Vec<Slot>,
    blocked: BTreeSet<(u8, u8)>,
    link_seq: Vec<u64>,
    link_rng: Vec<KeyedRng>,
    timing: Vec<KeyedRng>,
    /// Election timeouts, keyed by node, drawn once per incarnation.
    election: Vec<KeyedRng>,
    storage: Vec<KeyedRng>,
    faults: Vec<KeyedRng>,
    clients: Vec<ClientCmd>,
    next_pid: u64,
    liveness_deadline: Option<u64>,
    stats: Stats,
    v: Violations,
    raft: RaftOracle,
    agreement: AgreementOracle,
    purpose: PurposeOracle,
    trace: Trace,
    logger: slog::Logger,
    out: Vec<Output>,
    same_instant: u64,
    marks: BTreeMap<&'static str, u64>,
    /// First index at which each registration (dek, full, epoch) committed.
    committed_registrations: BTreeMap<(u32, u64, u16), u64>,
}

fn name(node: u8) -> String {
    format!("n{}", node + 1)
}

impl<'a> Sim<'a> {
    pub fn new(sc: &'a Scenario, schedule: &'a Schedule, opts: SimOptions) -> Self {
        let n = sc.nodes;
        let streams = Streams::new(schedule.seed);
        let voters: Vec<u64> = (1..=u64::from(n)).collect();
        let slots = (0..n)
            .map(|i| Slot {
                index: i,
                full: full_node_id(&name(i)),
                state: State::Down(DownReason::Crashed),
                disk: Rc::new(RefCell::new(RaftDisk::new(voters.clone()))),
                epoch_file: EpochFile::default(),
                closed: Some((
                    ClosedStore::new(opts.registry, &opts.data_dir.join(name(i))),
                    Journal::default(),
                )),
                lost_power: false,
                incarnation: 0,
                crash_flag: Rc::new(Cell::new(false)),
                armed_power_loss: false,
                armed_crashes: 0,
                rollback_at_next_crash: false,
                tick_seq: 0,
                sync_seq: 0,
                sync_free_at: 0,
                held: Vec::new(),
                high_water: 0,
                applied_max: 0,
                model: NodeModel::default(),
                row_changes: Default::default(),
                halted_at: None,
                counters: Default::default(),
            })
            .collect();
        let nn = usize::from(n);
        let keep_lines = opts.keep_trace_lines;
        Sim {
            sc,
            schedule,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            slots,
            blocked: BTreeSet::new(),
            link_seq: vec![0; nn * nn],
            link_rng: (0..nn * nn)
                .map(|l| streams.keyed(Subsystem::Network, l as u64))
                .collect(),
            timing: (0..nn)
                .map(|i| streams.keyed(Subsystem::Timing, i as u64))
                .collect(),
            election: (0..nn)
                .map(|i| streams.keyed(Subsystem::Timing, 1_000 + i as u64))
                .collect(),
            storage: (0..nn)
                .map(|i| streams.keyed(Subsystem::Storage, i as u64))
                .collect(),
            faults: (0..nn)
                .map(|i| streams.keyed(Subsystem::Faults, i as u64))
                .collect(),
            clients: Vec::new(),
            next_pid: 1,
            liveness_deadline: None,
            stats: Stats::default(),
            v: Violations::default(),
            raft: RaftOracle::default(),
            agreement: AgreementOracle::default(),
            purpose: PurposeOracle::default(),
            trace: Trace::new(keep_lines),
            logger: slog::Logger::root(slog::Discard, slog::o!()),
            out: Vec::new(),
            same_instant: 0,
            marks: BTreeMap::new(),
            committed_registrations: BTreeMap::new(),
            opts,
        }
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            ev,
        }));
    }

    /// Fires a coverage mark (see [`SIM_MARKS`]).
    fn mark(&mut self, name: &'static str) {
        debug_assert!(SIM_MARKS.contains(&name), "undeclared mark {name}");
        *self.marks.entry(name).or_default() += 1;
    }

    fn record(&mut self, node: Option<u8>, kind: &'static str, a: u64, b: u64) {
        self.trace.record(self.now, node, kind, a, b);
    }

    fn violation(&mut self, oracle: &str, node: Option<u8>, detail: String) {
        self.v.push(oracle, node, self.now, detail);
    }

    /// Runs the schedule to its end and returns what happened.
    pub fn run(mut self) -> RunOutput {
        // Library marks are per thread: clear what an earlier run left.
        let _ = writer_registry::marks::take();
        for i in 0..self.sc.nodes {
            self.restart(i);
        }
        for (i, e) in self.schedule.events.iter().enumerate() {
            self.seq += 1;
            self.queue.push(Reverse(Queued {
                at: e.at_us,
                seq: self.seq,
                ev: Ev::Scheduled(i),
            }));
        }
        let limits = &self.sc.limits;
        let ending = loop {
            if let Some(deadline) = self.liveness_deadline {
                if self.converged() {
                    break Ending::Converged;
                }
                if self.now > deadline {
                    break self.not_converged(String::new());
                }
            }
            let Some(Reverse(q)) = self.queue.pop() else {
                break if self.liveness_deadline.is_some() && self.converged() {
                    Ending::Converged
                } else {
                    self.not_converged("event queue ran dry: ".into())
                };
            };
            if q.at == self.now {
                self.same_instant += 1;
                if self.same_instant > limits.max_events_per_instant {
                    break Ending::Livelock(format!(
                        "more than {} events at t={}us",
                        limits.max_events_per_instant, self.now
                    ));
                }
            } else {
                self.same_instant = 0;
            }
            self.now = q.at;
            self.stats.events += 1;
            if self.stats.events > limits.max_events {
                break Ending::Livelock(format!(
                    "more than {} events in one run",
                    limits.max_events
                ));
            }
            self.handle(q.ev);
        };
        self.finish(ending)
    }

    fn finish(mut self, ending: Ending) -> RunOutput {
        match &ending {
            Ending::Livelock(msg) => self.violation("livelock", None, msg.clone()),
            Ending::NotConverged { .. } | Ending::Converged => {}
        }
        for i in 0..self.sc.nodes {
            self.shutdown(i);
        }
        self.stats.committed = self.raft.committed();
        self.stats.virtual_us = self.now;
        for (mark, hits) in writer_registry::marks::take() {
            if hits > 0 {
                *self.marks.entry(mark.name()).or_default() += hits;
            }
        }
        RunOutput {
            stats: self.stats,
            violations: self.v,
            purpose: self.purpose,
            ending,
            trace: self.trace,
            marks: self.marks,
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Tick { node, inc } => {
                let slot = &self.slots[usize::from(node)];
                if slot.incarnation != inc || !matches!(slot.state, State::Up(_)) {
                    return;
                }
                self.record(Some(node), "tick", 0, 0);
                self.with_core(node, |core, out| core.tick(out).map(|_| false));
                self.schedule_tick(node);
            }
            Ev::Deliver {
                from,
                from_inc,
                to,
                to_inc,
                msg,
            } => self.deliver(from, from_inc, to, to_inc, *msg),
            Ev::SyncDone { node, inc, ready } => {
                if self.slots[usize::from(node)].incarnation != inc {
                    return;
                }
                self.record(Some(node), "sync", ready, 0);
                let slot = &mut self.slots[usize::from(node)];
                if let State::Paused(_) = slot.state {
                    // The disk finished; the stopped process notices on resume.
                    slot.held.push(Held::SyncDone(ready));
                } else {
                    self.with_core(node, |core, out| core.sync_done(ready, out));
                }
            }
            Ev::Scheduled(i) => {
                let action = self.schedule.events[i].action.clone();
                self.act(action);
            }
            Ev::ClientRetry { cmd } => self.client_retry(cmd),
            Ev::RegRetry { node, inc } => {
                if self.slots[usize::from(node)].incarnation == inc {
                    self.propose_registrations(node);
                }
            }
            Ev::ArmedRestart { node } => self.restart(node),
        }
    }

    /// Calls into a running (not paused) core; handles its outputs, an
    /// armed crash (`Err`) and a halt (`Ok(true)`).
    fn with_core(
        &mut self,
        node: u8,
        f: impl FnOnce(&mut NodeCore, &mut Vec<Output>) -> Result<bool, node::Crashed>,
    ) {
        let i = usize::from(node);
        let registry_crash_armed = self.slots[i].crash_flag.get();
        let State::Up(core) = &mut self.slots[i].state else {
            return;
        };
        let mut out = std::mem::take(&mut self.out);
        let result = f(core, &mut out);
        self.process_outputs(node, &mut out);
        self.out = out;
        if registry_crash_armed && !self.slots[i].crash_flag.get() {
            self.mark("crash-before-registry-sync");
        }
        match result {
            Ok(false) => {}
            Ok(true) => self.stop(node, DownReason::Halted),
            Err(node::Crashed { partial }) => {
                let power = self.slots[i].armed_power_loss;
                if let Some(index) = partial {
                    self.slots[i].applied_max = self.slots[i].applied_max.max(index);
                }
                self.record(Some(node), "armed-crash-fired", u64::from(power), 0);
                self.crash(node, power);
                self.restart_after_armed_crash(node);
            }
        }
        self.drain_row_changes(node);
    }

    /// An armed crash is not in the schedule, so neither is its restart:
    /// the down time comes from the node's fault stream, keyed by how many
    /// armed crashes it has had.
    fn restart_after_armed_crash(&mut self, node: u8) {
        let i = usize::from(node);
        let seq = self.slots[i].armed_crashes;
        self.slots[i].armed_crashes += 1;
        let f = &self.sc.faults;
        let down_us = self.faults[i]
            .draw(seq)
            .range(0, f.down_ms[0], f.down_ms[1])
            * 1000;
        self.push(self.now + down_us, Ev::ArmedRestart { node });
    }

    fn drain_row_changes(&mut self, node: u8) {
        if !self.opts.oracles {
            return;
        }
        let changes = std::mem::take(&mut *self.slots[usize::from(node)].row_changes.borrow_mut());
        for c in &changes {
            agreement::check_row_change(&mut self.v, self.now, node, c);
        }
    }

    fn process_outputs(&mut self, node: u8, out: &mut Vec<Output>) {
        for o in out.drain(..) {
            match o {
                Output::Send(m) => self.send(node, m),
                Output::Sync { ready } => {
                    let i = usize::from(node);
                    let s = &mut self.slots[i];
                    let seq = s.sync_seq;
                    s.sync_seq += 1;
                    let st = &self.sc.storage;
                    let lat = self.storage[i]
                        .draw(seq)
                        .range(0, st.sync_us[0], st.sync_us[1]);
                    let at = (self.now + lat).max(s.sync_free_at);
                    s.sync_free_at = at;
                    let inc = s.incarnation;
                    self.push(at, Ev::SyncDone { node, inc, ready });
                }
                Output::Applied(rec) => self.on_applied(node, rec),
                Output::Halted(h) => {
                    self.stats.halts += 1;
                    self.record(Some(node), "halt", h.index, 0);
                    let slot = &mut self.slots[usize::from(node)];
                    if slot.halted_at.replace(h.index) == Some(h.index) {
                        self.mark("halt-rehit-after-restart");
                    }
                }
                Output::Guard {
                    stage,
                    epoch,
                    result,
                } => self.on_guard(node, stage, epoch, result),
                Output::EpochBumped { from, to } => {
                    self.record(Some(node), "epoch-bump", u64::from(from), u64::from(to))
                }
                Output::SnapshotRestored { index, replay } => self.on_restored(node, index, replay),
                Output::BecameLeader { term } => {
                    self.stats.elections += 1;
                    let in_flight = self.slots.iter().any(|s| matches!(&s.state, State::Up(c) | State::Paused(c) if !c.unregistered_deks().is_empty()));
                    if self.stats.elections > 1 && in_flight {
                        self.mark("leader-change-registration-in-flight");
                    }
                    self.record(Some(node), "leader", term, 0);
                    if self.opts.oracles {
                        let disk = self.slots[usize::from(node)].disk.clone();
                        let disk = disk.borrow();
                        self.raft
                            .on_leader(&mut self.v, self.now, node, term, disk.written());
                    }
                }
            }
        }
    }

    fn on_applied(&mut self, node: u8, rec: node::ApplyRecord) {
        let i = usize::from(node);
        self.record(
            Some(node),
            if rec.replay { "replay" } else { "apply" },
            rec.index,
            rec.term,
        );
        let actual = outcome_name(&rec.result);
        if rec.replay && rec.index <= self.slots[i].high_water {
            self.mark("replay-already-applied");
        }
        if let Ok(wire::Entry::Proposal {
            command: wire::Command::Registration(r),
            ..
        }) = wire::decode_entry(&rec.data)
        {
            let row_last = rec
                .row
                .as_ref()
                .and_then(|(_, v)| v.as_deref())
                .filter(|v| v.len() == 12 && v[..8] == r.full_node_id.to_be_bytes())
                .map(|v| u16::from_be_bytes([v[10], v[11]]));
            // The registrant's own row, after the apply: only a later entry
            // of the same writer can have taken it past this epoch (a
            // rollback halt leaves it untouched; an apply cannot pass it).
            if rec.replay && row_last.is_some_and(|last| last > r.local_epoch) {
                self.mark("replay-over-later-row");
            }
            let first = *self
                .committed_registrations
                .entry((r.dek, r.full_node_id, r.local_epoch))
                .or_insert(rec.index);
            if first != rec.index && !rec.replay {
                self.mark("duplicate-registration-commit");
            }
        }
        if self.opts.oracles {
            if rec.unsynced {
                let detail = format!(
                    "entry {} returned with registry writes not yet synced",
                    rec.index
                );
                self.violation("sync-before-ack", Some(node), detail);
            }
            self.raft
                .on_apply(&mut self.v, self.now, node, rec.index, rec.term, &rec.data);
            let expected = self.slots[i].model.apply(rec.index, &rec.data);
            if !expected.admits(actual) {
                let detail = format!(
                    "entry {} ({}): node did {actual}{}, model expects {}",
                    rec.index,
                    wire_summary(&rec.data),
                    halt_suffix(&rec.result),
                    expected.name()
                );
                self.violation("conformance", Some(node), detail);
            } else if let Some((key, model_row)) = self.slots[i].model.row_for(&rec.data) {
                let actual_row = rec
                    .row
                    .as_ref()
                    .filter(|(k, _)| *k == key)
                    .and_then(|(_, v)| v.clone());
                if actual_row != model_row {
                    let detail = format!(
                        "entry {}: row bytes {:?} but model holds {:?}",
                        rec.index,
                        actual_row.as_deref().map(writer_registry::hex::encode),
                        model_row.as_deref().map(writer_registry::hex::encode)
                    );
                    self.violation("conformance", Some(node), detail);
                }
            }
        }
        match &rec.result {
            Ok(outcome) => {
                let s = &mut self.slots[i];
                s.applied_max = s.applied_max.max(rec.index);
                if let Outcome::Registration(_) = outcome {
                    if let Ok(wire::Entry::Proposal {
                        command: wire::Command::Registration(r),
                        ..
                    }) = wire::decode_entry(&rec.data)
                    {
                        if r.full_node_id == s.full {
                            let who = (node, s.incarnation);
                            self.purpose.on_own_registration(who, r.dek, r.local_epoch);
                        }
                    }
                }
                if let Outcome::Kv { proposal_id } = outcome {
                    self.stats.kv_applied += 1;
                    if let Some(c) = self
                        .clients
                        .iter_mut()
                        .find(|c| c.proposal_id == *proposal_id)
                    {
                        c.done = true;
                    }
                }
                if self.opts.oracles && rec.index >= self.slots[i].high_water {
                    self.agreement
                        .on_state(&mut self.v, self.now, node, rec.index, rec.digest);
                }
            }
            Err(halt) => {
                let data_hash = fnv1a64(&rec.data);
                let in_window = rec.index <= self.slots[i].high_water;
                self.purpose.on_halt(HaltEvent {
                    node,
                    at_us: self.now,
                    index: rec.index,
                    kind: halt.kind().name(),
                    ids: halt_ids(halt),
                    data_hash,
                    in_replay_window: in_window,
                    message: halt.to_string(),
                });
            }
        }
    }

    fn on_restored(&mut self, node: u8, index: u64, replay: bool) {
        let i = usize::from(node);
        if !replay {
            self.stats.snapshot_installs += 1;
            if self.slots[i].incarnation > 0 {
                self.mark("snapshot-install-restarted");
            }
        }
        self.record(Some(node), "snapshot-restored", index, u64::from(replay));
        if let State::Up(core) | State::Paused(core) = &self.slots[i].state {
            let rows = core
                .fsm()
                .store()
                .scan(writer_registry::Space::Registry)
                .unwrap_or_default();
            let d = core.fsm().digest();
            self.slots[i].model.reset(rows, index);
            if self.opts.oracles && index >= self.slots[i].high_water {
                self.agreement
                    .on_state(&mut self.v, self.now, node, index, d);
            }
        }
        let s = &mut self.slots[i];
        s.applied_max = s.applied_max.max(index);
    }

    fn on_guard(&mut self, node: u8, stage: GuardStage, epoch: u16, result: Result<(), Refusal>) {
        let i = usize::from(node);
        let strict = stage == GuardStage::AfterReplay;
        let actual = result.as_ref().err().map(Refusal::name);
        self.record(
            Some(node),
            "guard",
            u64::from(strict),
            u64::from(actual.is_some()),
        );
        if self.opts.oracles {
            let expected =
                self.slots[i]
                    .model
                    .guard(self.slots[i].full, &self.sc.deks, epoch, strict);
            if expected != actual {
                self.violation(
                    "conformance",
                    Some(node),
                    format!(
                        "guard {stage:?} at epoch {epoch}: node {actual:?}, model {expected:?}"
                    ),
                );
            }
        }
        if let Err(r) = result {
            self.stats.refusals += 1;
            let owner = match &r {
                Refusal::ForeignOwner { owner, .. } => Some(*owner),
                _ => None,
            };
            let full = self.slots[i].full;
            self.purpose
                .on_refusal(node, full, self.now, r.name(), owner, r.to_string());
        }
    }

    fn schedule_tick(&mut self, node: u8) {
        let i = usize::from(node);
        let seq = self.slots[i].tick_seq;
        self.slots[i].tick_seq += 1;
        let tick = self.sc.tick_ms * 1000;
        // Up to 10% jitter so that nodes with equal timeouts drift apart.
        let jitter = self.timing[i].draw(seq).range(0, 0, tick / 10);
        let inc = self.slots[i].incarnation;
        self.push(self.now + tick + jitter, Ev::Tick { node, inc });
    }

    fn send(&mut self, from: u8, msg: Message) {
        let n = usize::from(self.sc.nodes);
        let Some(to) = msg
            .to
            .checked_sub(1)
            .and_then(|t| u8::try_from(t).ok())
            .filter(|&t| usize::from(t) < n)
        else {
            return;
        };
        self.stats.messages += 1;
        let link = usize::from(from) * n + usize::from(to);
        let seq = self.link_seq[link];
        self.link_seq[link] += 1;
        let kind = msg.get_msg_type() as u64;
        let is_snapshot = msg.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot;
        if self.blocked.contains(&(from, to)) {
            self.record(Some(from), "drop-partition", u64::from(to), kind);
            if is_snapshot {
                self.snapshot_failed(from, self.slots[usize::from(from)].incarnation, to);
            }
            return;
        }
        let net = &self.sc.network;
        let d = self.link_rng[link].draw(seq);
        if d.unit(0) < net.drop_rate {
            self.record(Some(from), "drop", u64::from(to), kind);
            if is_snapshot {
                self.snapshot_failed(from, self.slots[usize::from(from)].incarnation, to);
            }
            return;
        }
        let mut delay = d.range(1, net.delay_us[0], net.delay_us[1]);
        if d.unit(2) < net.reorder_rate {
            delay += net.reorder_us;
        }
        let from_inc = self.slots[usize::from(from)].incarnation;
        let to_inc = self.slots[usize::from(to)].incarnation;
        self.record(Some(from), "send", u64::from(to), kind << 32 | msg.index);
        if d.unit(3) < net.duplicate_rate {
            let again = delay + d.range(2, net.delay_us[0], net.delay_us[1]);
            self.push(
                self.now + again,
                Ev::Deliver {
                    from,
                    from_inc,
                    to,
                    to_inc,
                    msg: Box::new(msg.clone()),
                },
            );
        }
        self.push(
            self.now + delay,
            Ev::Deliver {
                from,
                from_inc,
                to,
                to_inc,
                msg: Box::new(msg),
            },
        );
    }

    fn deliver(&mut self, from: u8, from_inc: u32, to: u8, to_inc: u32, msg: Message) {
        let is_snapshot = msg.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot;
        // A crashed sender's connections reset: its in-flight messages die,
        // and so do messages to an incarnation that is gone.
        let reachable = self.slots[usize::from(to)].incarnation == to_inc
            && !self.blocked.contains(&(from, to));
        if self.slots[usize::from(from)].incarnation != from_inc {
            return;
        }
        if !reachable {
            self.record(Some(to), "drop-partition", u64::from(from), 0);
            if is_snapshot {
                self.snapshot_failed(from, from_inc, to);
            }
            return;
        }
        match &self.slots[usize::from(to)].state {
            State::Up(_) => {
                self.record(
                    Some(to),
                    "deliver",
                    u64::from(from),
                    msg.get_msg_type() as u64,
                );
                self.with_core(to, |core, out| core.step(msg, out).map(|_| false));
                if is_snapshot {
                    self.record(Some(from), "snapshot-delivered", u64::from(to), 0);
                    self.with_core(from, |core, out| {
                        core.report_snapshot(u64::from(to) + 1, true, out)
                            .map(|_| false)
                    });
                }
            }
            State::Paused(_) => self.slots[usize::from(to)].held.push(Held::Message(msg)),
            State::Down(_) => {
                if is_snapshot {
                    self.snapshot_failed(from, from_inc, to);
                }
            }
        }
    }

    /// The transport tells a snapshot's sender it did not arrive.
    fn snapshot_failed(&mut self, from: u8, from_inc: u32, to: u8) {
        if self.slots[usize::from(from)].incarnation == from_inc {
            self.record(Some(from), "snapshot-failed", u64::from(to), 0);
            self.with_core(from, |core, out| {
                core.report_snapshot(u64::from(to) + 1, false, out)
                    .map(|_| false)
            });
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Crash { node } => {
                if matches!(
                    self.slots[usize::from(node)].state,
                    State::Up(_) | State::Paused(_)
                ) {
                    self.crash(node, false);
                }
            }
            Action::PowerLoss { node } => self.crash(node, true),
            Action::Restart { node } => self.restart(node),
            Action::Pause { node } => {
                let s = &mut self.slots[usize::from(node)];
                if let State::Up(_) = s.state {
                    let State::Up(core) =
                        std::mem::replace(&mut s.state, State::Down(DownReason::Crashed))
                    else {
                        unreachable!()
                    };
                    s.state = State::Paused(core);
                    self.record(Some(node), "pause", 0, 0);
                }
            }
            Action::Resume { node } => self.resume(node),
            Action::ArmReadyCrash {
                node,
                step,
                power_loss,
            } => {
                let s = &mut self.slots[usize::from(node)];
                if let State::Up(core) | State::Paused(core) = &mut s.state {
                    core.arm_ready_crash(step);
                    s.armed_power_loss = power_loss;
                    let code = ReadyStep::ALL.iter().position(|&x| x == step).unwrap_or(0) as u64;
                    self.record(Some(node), "arm-ready-crash", code, u64::from(power_loss));
                }
            }
            Action::ArmRegistryCrash { node, power_loss } => {
                let s = &mut self.slots[usize::from(node)];
                if let State::Up(_) | State::Paused(_) = s.state {
                    s.crash_flag.set(true);
                    s.armed_power_loss = power_loss;
                    self.record(Some(node), "arm-registry-crash", u64::from(power_loss), 0);
                }
            }
            Action::EpochRollback { node } => {
                let s = &mut self.slots[usize::from(node)];
                match s.state {
                    State::Down(DownReason::Crashed | DownReason::Halted) => {
                        self.roll_back_epoch(node)
                    }
                    // A running node's file is replaced when it next goes down.
                    State::Up(_) | State::Paused(_) => s.rollback_at_next_crash = true,
                    State::Down(_) => {}
                }
            }
            Action::ArmRegistrationCrash { node } => {
                if let State::Up(core) | State::Paused(core) =
                    &mut self.slots[usize::from(node)].state
                {
                    core.arm_crash_before_own_registration();
                    self.record(Some(node), "arm-registration-crash", 0, 0);
                }
            }
            Action::Partition { side } => {
                let n = self.sc.nodes;
                for a in 0..n {
                    for b in 0..n {
                        if side.contains(&a) != side.contains(&b) {
                            self.blocked.insert((a, b));
                        }
                    }
                }
                self.record(
                    None,
                    "partition",
                    side.iter().fold(0, |m, &x| m | 1 << x),
                    0,
                );
            }
            Action::OneWay { from, to } => {
                self.blocked.insert((from, to));
                self.record(None, "one-way", u64::from(from), u64::from(to));
            }
            Action::Heal => {
                self.blocked.clear();
                self.record(None, "heal", 0, 0);
            }
            Action::Kv { node, dek } => {
                let cmd = self.clients.len();
                let proposal_id = self.next_pid();
                self.clients.push(ClientCmd {
                    proposal_id,
                    dek,
                    data: None,
                    node,
                    attempts: 0,
                    done: false,
                });
                self.client_attempt(cmd);
            }
            Action::Snapshot { node } => {
                let min_new = self.sc.snapshots.keep_entries;
                let mut taken = None;
                self.with_core(node, |core, _| {
                    taken = core.take_snapshot(min_new)?;
                    Ok(false)
                });
                if let Some(index) = taken {
                    self.stats.snapshots_taken += 1;
                    self.record(Some(node), "snapshot", index, 0);
                }
            }
            Action::Collision {
                via,
                victim,
                dek,
                high_bits,
            } => {
                let fake =
                    high_bits << 16 | u64::from(node16(self.slots[usize::from(victim)].full));
                let pid = self.next_pid();
                let data = wire::encode_entry(
                    pid,
                    &Registration {
                        dek,
                        full_node_id: fake,
                        local_epoch: 1,
                    }
                    .encode_payload(),
                );
                if self.propose(via, data) {
                    self.purpose.on_collision_injected(fake);
                    self.record(Some(via), "inject-collision", fake, u64::from(dek));
                }
            }
            Action::Malformed { via, variant } => {
                let pid = self.next_pid();
                let mut payload = Registration {
                    dek: self.sc.deks[0],
                    full_node_id: self.slots[usize::from(via)].full,
                    local_epoch: 1,
                }
                .encode_payload();
                match variant {
                    0 => payload[1] = 0x02,
                    1 => {
                        payload.pop();
                    }
                    _ => payload.push(0),
                }
                let data = wire::encode_entry(pid, &payload);
                let hash = fnv1a64(&data);
                if self.propose(via, data) {
                    self.purpose.on_malformed_injected(hash);
                    self.record(Some(via), "inject-malformed", u64::from(variant), 0);
                }
            }
            Action::EndOfFaults => {
                self.record(None, "end-of-faults", 0, 0);
                self.blocked.clear();
                for i in 0..self.sc.nodes {
                    let s = &mut self.slots[usize::from(i)];
                    s.crash_flag.set(false);
                    if let State::Up(core) | State::Paused(core) = &mut s.state {
                        core.disarm();
                    }
                    self.resume(i);
                    self.restart(i);
                }
                self.liveness_deadline = Some(self.now + self.sc.liveness_bound_ms * 1000);
            }
        }
    }

    fn next_pid(&mut self) -> u64 {
        let pid = self.next_pid;
        self.next_pid += 1;
        pid
    }

    /// Proposes through `node` if it is up; true if raft accepted it.
    fn propose(&mut self, node: u8, data: Vec<u8>) -> bool {
        let mut accepted = false;
        self.with_core(node, |core, out| {
            accepted = core.propose(data, out)?;
            Ok(false)
        });
        accepted
    }

    fn client_attempt(&mut self, cmd: usize) {
        let n = self.sc.nodes;
        let c = &mut self.clients[cmd];
        if c.done || c.attempts >= self.sc.workload.client_attempts {
            return;
        }
        c.attempts += 1;
        let node = (c.node + (c.attempts as u8 - 1)) % n;
        let dek = c.dek;
        // Encrypt once, at the first node able to: a retry resends the same bytes.
        if c.data.is_none() {
            let s = &mut self.slots[usize::from(node)];
            if let State::Up(core) = &s.state {
                if core.can_encrypt(dek) {
                    let epoch = core.epoch();
                    let counter = s.counters.entry(dek).or_insert(0);
                    *counter += 1;
                    let mut payload = vec![0x10];
                    payload.extend(dek.to_be_bytes());
                    payload.extend(node16(s.full).to_be_bytes());
                    payload.extend(epoch.to_be_bytes());
                    payload.extend(counter.to_be_bytes());
                    let n16 = node16(s.full);
                    let who = (node, s.incarnation);
                    let c = &mut self.clients[cmd];
                    c.data = Some(wire::encode_entry(c.proposal_id, &payload));
                    self.purpose.on_nonce(self.now, who, dek, n16, epoch);
                }
            }
        }
        if let Some(data) = self.clients[cmd].data.clone() {
            self.stats.kv_proposed += 1;
            self.record(Some(node), "kv-propose", self.clients[cmd].proposal_id, 0);
            self.propose(node, data);
        }
        let timeout = self.sc.workload.client_timeout_ms * 1000;
        self.push(self.now + timeout, Ev::ClientRetry { cmd });
    }

    fn client_retry(&mut self, cmd: usize) {
        if !self.clients[cmd].done {
            self.client_attempt(cmd);
        }
    }

    /// Step 6: proposes this incarnation's registration for every dek not
    /// yet applied locally, and retries until all have (a paused node
    /// retries after it resumes).
    fn propose_registrations(&mut self, node: u8) {
        let i = usize::from(node);
        let deks = match &self.slots[i].state {
            State::Up(core) | State::Paused(core) => core.unregistered_deks(),
            State::Down(_) => return,
        };
        if deks.is_empty() {
            return;
        }
        if matches!(self.slots[i].state, State::Up(_)) {
            for dek in deks {
                let pid = self.next_pid();
                let data = match &self.slots[i].state {
                    State::Up(core) => core.registration_entry(dek, pid),
                    _ => break,
                };
                self.record(Some(node), "register", u64::from(dek), pid);
                self.propose(node, data);
            }
        }
        let inc = self.slots[i].incarnation;
        let retry = self.sc.workload.registration_retry_ms * 1000;
        self.push(self.now + retry, Ev::RegRetry { node, inc });
    }

    fn resume(&mut self, node: u8) {
        let s = &mut self.slots[usize::from(node)];
        if let State::Paused(_) = s.state {
            let State::Paused(core) =
                std::mem::replace(&mut s.state, State::Down(DownReason::Crashed))
            else {
                unreachable!()
            };
            s.state = State::Up(core);
            let held = std::mem::take(&mut s.held);
            self.record(Some(node), "resume", held.len() as u64, 0);
            self.schedule_tick(node);
            for work in held {
                match work {
                    Held::Message(msg) => {
                        self.with_core(node, |core, out| core.step(msg, out).map(|_| false))
                    }
                    Held::SyncDone(ready) => {
                        self.with_core(node, |core, out| core.sync_done(ready, out))
                    }
                }
            }
        }
    }

    /// Stops a running node: the process is gone, its disk and store stay.
    fn stop(&mut self, node: u8, reason: DownReason) {
        let i = usize::from(node);
        let s = &mut self.slots[i];
        let state = std::mem::replace(&mut s.state, State::Down(reason.clone()));
        s.incarnation += 1;
        s.held.clear();
        s.high_water = s.high_water.max(s.applied_max);
        if let State::Up(core) | State::Paused(core) = state {
            let tracked = core.into_store();
            let TrackedStore { inner, journal, .. } = tracked;
            s.closed = Some((inner.close(), journal));
        }
        self.record(Some(node), "stop", reason_code(&reason), 0);
    }

    /// Replaces a down node's epoch file with its previous synced copy.
    fn roll_back_epoch(&mut self, node: u8) {
        let s = &mut self.slots[usize::from(node)];
        s.rollback_at_next_crash = false;
        let history = s.epoch_file.history();
        if history.len() < 2 {
            return;
        }
        let older = history[history.len() - 2];
        s.epoch_file.roll_back_to(older);
        let full = s.full;
        self.purpose.on_rollback_injected(full);
        self.record(Some(node), "epoch-rollback", u64::from(older), 0);
    }

    fn crash(&mut self, node: u8, power_loss: bool) {
        let i = usize::from(node);
        if matches!(self.slots[i].state, State::Up(_) | State::Paused(_)) {
            self.stats.crashes += 1;
            self.stop(node, DownReason::Crashed);
        }
        if power_loss {
            self.stats.power_losses += 1;
            let s = &mut self.slots[i];
            s.disk.borrow_mut().power_loss();
            s.epoch_file.power_loss();
            s.lost_power = true;
            self.record(Some(node), "power-loss", 0, 0);
        }
        if self.slots[i].rollback_at_next_crash {
            self.roll_back_epoch(node);
        }
    }

    /// Starts a down node (crashed or halted; refused and broken stay down).
    fn restart(&mut self, node: u8) {
        let i = usize::from(node);
        if !matches!(
            self.slots[i].state,
            State::Down(DownReason::Crashed | DownReason::Halted)
        ) {
            return;
        }
        self.stats.restarts += 1;
        let s = &mut self.slots[i];
        let (closed, mut journal) = s.closed.take().expect("a down node holds its closed store");
        let mut store = match closed.open() {
            Ok(store) => store,
            Err(e) => {
                s.state = State::Down(DownReason::Broken);
                self.violation("store-open", Some(node), e.to_string());
                return;
            }
        };
        let expected = if std::mem::take(&mut s.lost_power) {
            let undone = journal.power_loss(&mut store);
            if undone.as_ref().is_ok_and(|&rows| rows > 0) {
                self.mark("power-loss-unsynced-registry");
            }
            if let Err(e) = undone {
                self.violation("store-open", Some(node), format!("power-loss undo: {e}"));
            }
            journal.synced_image().clone()
        } else {
            journal.written_image()
        };
        if self.opts.oracles {
            match scan_image(&store) {
                Ok(actual) if actual == expected => {}
                Ok(actual) => {
                    let lost = expected
                        .iter()
                        .filter(|(k, v)| actual.get(*k) != Some(*v))
                        .count();
                    let extra = actual.keys().filter(|k| !expected.contains_key(*k)).count();
                    self.v.push("durability", Some(node), self.now, format!("reopened store differs from what was synced/written: {lost} pairs lost or changed, {extra} unexpected"));
                }
                Err(e) => self.v.push(
                    "durability",
                    Some(node),
                    self.now,
                    format!("scan after reopen: {e}"),
                ),
            }
        }
        let s = &mut self.slots[i];
        let rows = store
            .scan(writer_registry::Space::Registry)
            .unwrap_or_default();
        let applied = store.applied_index().ok().flatten().unwrap_or(0);
        s.model.reset(rows, applied);
        s.counters.clear();
        s.applied_max = applied;
        let inc = s.incarnation;
        let e = self.sc.election_ticks;
        let election_tick = self.election[i].draw(u64::from(inc)).range(0, e[0], e[1]) as usize;
        let s = &mut self.slots[i];
        let tracked = TrackedStore {
            inner: store,
            journal,
            crash_before_sync: s.crash_flag.clone(),
            crashed: false,
            row_changes: self.opts.oracles.then(|| s.row_changes.clone()),
        };
        let params = NodeParams {
            index: node,
            full_node_id: s.full,
            deks: self.sc.deks.clone(),
            policy: self.sc.policy.persist(),
            election_tick,
            heartbeat_tick: self.sc.heartbeat_ticks as usize,
            mutant: self.opts.mutant,
        };
        let disk = s.disk.clone();
        self.record(Some(node), "start", u64::from(inc), election_tick as u64);
        let commit = disk.borrow().written().hard_state.commit;
        self.record(Some(node), "durable", applied, commit);
        let mut out = std::mem::take(&mut self.out);
        let s = &mut self.slots[i];
        let registry_crash_armed = s.crash_flag.get();
        let result = node::start(
            params,
            disk,
            &mut s.epoch_file,
            tracked,
            &self.logger,
            &mut out,
        );
        if registry_crash_armed && !self.slots[i].crash_flag.get() {
            self.mark("crash-before-registry-sync");
        }
        match result {
            Ok(core) => {
                self.slots[i].state = State::Up(Box::new(core));
                self.process_outputs(node, &mut out);
                self.out = out;
                self.schedule_tick(node);
                self.propose_registrations(node);
            }
            Err(not_started) => {
                let node::NotStarted { failure, store } = *not_started;
                let reason = match &failure {
                    StartFailure::Refused(_) => DownReason::Refused,
                    StartFailure::Halted(_) => DownReason::Halted,
                    StartFailure::Crashed { partial } => {
                        if let Some(index) = partial {
                            self.slots[i].applied_max = self.slots[i].applied_max.max(*index);
                        }
                        DownReason::Crashed
                    }
                    StartFailure::Store(_) => DownReason::Broken,
                };
                if let StartFailure::Store(msg) = &failure {
                    self.violation("store-open", Some(node), msg.clone());
                }
                let s = &mut self.slots[i];
                s.state = State::Down(reason.clone());
                s.incarnation += 1;
                if let Some(TrackedStore { inner, journal, .. }) = store {
                    s.closed = Some((inner.close(), journal));
                }
                self.process_outputs(node, &mut out);
                self.out = out;
                if reason == DownReason::Crashed {
                    self.restart_after_armed_crash(node);
                }
                self.record(Some(node), "start-failed", reason_code(&reason), 0);
            }
        }
        self.drain_row_changes(node);
    }

    fn shutdown(&mut self, node: u8) {
        if matches!(
            self.slots[usize::from(node)].state,
            State::Up(_) | State::Paused(_)
        ) {
            self.stop(node, DownReason::Crashed);
        }
    }

    /// Every live node (not halted, refused or broken) is up, a leader
    /// exists among them, and all have applied everything it holds.
    fn converged(&self) -> bool {
        let live: Vec<&NodeCore> = self
            .slots
            .iter()
            .filter_map(|s| match &s.state {
                State::Up(core) => Some(Some(core.as_ref())),
                State::Paused(_) | State::Down(DownReason::Crashed) => Some(None),
                State::Down(_) => None,
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        let live_count = self.live_count();
        if live_count == 0 {
            return true;
        }
        if live.len() != live_count {
            return false;
        }
        let Some(leader) = live.iter().find(|c| c.is_leader()) else {
            return false;
        };
        let target = leader.last_index();
        leader.commit_index() == target
            && live
                .iter()
                .all(|c| c.fsm().applied_index() == target && c.unregistered_deks().is_empty())
    }

    fn not_converged(&self, why: String) -> Ending {
        Ending::NotConverged {
            report: why + &self.convergence_report(),
            quorum_live: self.live_count() > self.slots.len() / 2,
        }
    }

    /// Members owed liveness: neither halted, refused nor broken.
    fn live_count(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| {
                !matches!(
                    s.state,
                    State::Down(DownReason::Halted | DownReason::Refused | DownReason::Broken)
                )
            })
            .count()
    }

    fn convergence_report(&self) -> String {
        self.slots
            .iter()
            .map(|s| match &s.state {
                State::Up(c) => format!(
                    "{}: up applied {} commit {} last {}{}",
                    name(s.index),
                    c.fsm().applied_index(),
                    c.commit_index(),
                    c.last_index(),
                    if c.is_leader() { " leader" } else { "" }
                ),
                State::Paused(_) => format!("{}: paused", name(s.index)),
                State::Down(r) => format!("{}: down ({r:?})", name(s.index)),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn reason_code(r: &DownReason) -> u64 {
    match r {
        DownReason::Crashed => 0,
        DownReason::Halted => 1,
        DownReason::Refused => 2,
        DownReason::Broken => 3,
    }
}

fn outcome_name(r: &Result<Outcome, Halt>) -> &'static str {
    match r {
        Ok(Outcome::Empty) => "empty",
        Ok(Outcome::Kv { .. }) => "kv",
        Ok(Outcome::Registration(Applied::Inserted(_))) => "insert",
        Ok(Outcome::Registration(Applied::Advanced { .. })) => "advance",
        Ok(Outcome::Registration(Applied::Unchanged)) => "no-op",
        Err(h) => h.kind().name(),
    }
}

fn halt_suffix(r: &Result<Outcome, Halt>) -> String {
    match r {
        Err(h) => format!(" ({h})"),
        Ok(_) => String::new(),
    }
}

fn halt_ids(h: &Halt) -> Vec<u64> {
    match h {
        Halt::Rollback { full_node_id, .. } => vec![*full_node_id],
        Halt::Collision {
            existing, incoming, ..
        } => vec![*existing, *incoming],
        _ => Vec::new(),
    }
}

fn wire_summary(data: &[u8]) -> String {
    match wire::decode_entry(data) {
        Ok(wire::Entry::Empty) => "empty".into(),
        Ok(wire::Entry::Proposal {
            command: wire::Command::Registration(r),
            ..
        }) => {
            format!(
                "registration dek {} full {:#018x} epoch {}",
                r.dek, r.full_node_id, r.local_epoch
            )
        }
        Ok(wire::Entry::Proposal { .. }) => "proposal".into(),
        Err(e) => format!("undecodable: {e}"),
    }
}

/// Where a run keeps its fjall directories.
pub fn temp_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}
