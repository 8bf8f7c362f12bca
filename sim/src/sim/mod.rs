//! The native world: the cluster on the engine's virtual clock, with its
//! own transport (the network model and the in-flight rule,
//! `transport`), disks (`disks`) and work held for paused processes
//! (`held`), driving the node cores through a schedule and feeding the
//! oracles. Each of those owns its state; this module is the event loop
//! and the glue between them: what an event does, what a node core's
//! outputs become, and the primitives the schedule's events act through
//! (its `Target`).
//!
//! Single-threaded and discrete-event: the clock jumps to the next event;
//! ties break by insertion order. Nothing else can reorder work.

mod disks;
mod held;
#[cfg(test)]
mod tests;
mod transport;

use crate::marks::SimMark;
use raft::eraftpb::Message;

use crate::disk::DiskStorage;
use crate::error::HarnessError;
use crate::node::{self, NodeParams};
use crate::oracle::checkers::Observation;
use crate::registry::{RegistryCluster, WriterRegistry};
use crate::rng::Streams;
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::store::{Journal, SimStore, TrackedStore};
use crate::trace::kinds;
use crate::world::call::{self, Core, FollowUp, Outputs, Runtime};
use crate::world::lifecycle::{self, Files};
use crate::world::system::Started;
use crate::world::target::{self, Books, Injection, Life, Target};
use crate::world::DownReason;
pub use crate::world::{Ending, RunOutput, SimOptions, Stats};
use disks::Disks;
use held::{Held, Holds};
use regsim_engine::clock::Clock;
use regsim_engine::in_flight::{Arrival, Envelope};
use regsim_engine::oracle::observation::RaftObservation;
use regsim_engine::process::{self, Process};
use regsim_engine::world::cluster::RunBooks;
use transport::{is_snapshot, Leaving, Transport};

/// Most events a run may hold pending at once (about 300 MB): a bound on
/// memory, reached only by a scenario whose load cannot fit.
pub const MAX_PENDING_EVENTS: usize = 1_000_000;

enum Ev {
    Tick { node: u8, inc: u32 },
    Deliver { sent: Envelope, msg: Box<Message> },
    SyncDone { node: u8, inc: u32, ready: u64 },
    Scheduled(usize),
    ClientRetry { cmd: usize },
    OwedRetry { node: u8, inc: u32 },
    ArmedRestart { node: u8 },
}

pub struct Sim<'a> {
    schedule: &'a Schedule,
    /// The members, their processes and the run's books.
    c: RegistryCluster<DiskStorage>,
    /// Virtual time (`clock.now()`: the current event's, which the
    /// cluster is told) and the events waiting for it.
    clock: Clock<Ev>,
    /// Per member: its Raft log, epoch file and closed store.
    disks: Disks,
    /// Per member: what waits for its paused process.
    held: Holds,
    /// Message fates, on the way out and on arrival.
    transport: Transport,
    liveness_deadline: Option<u64>,
    out: Outputs<WriterRegistry>,
    same_instant: u64,
}

impl<'a> Sim<'a> {
    pub fn new(sc: &'a Scenario, schedule: &'a Schedule, opts: SimOptions) -> Self {
        let streams = Streams::new(schedule.seed);
        Sim {
            schedule,
            clock: Clock::new(),
            disks: Disks::new(sc.nodes, &opts, &streams),
            held: Holds::new(sc.nodes),
            transport: Transport::new(sc.network.links(), sc.nodes, &streams),
            liveness_deadline: None,
            out: Vec::new(),
            same_instant: 0,
            c: crate::registry::cluster(sc, &streams, opts),
        }
    }

    fn push(&mut self, at: u64, ev: Ev) {
        if self.clock.pending() >= MAX_PENDING_EVENTS && self.c.sys.obs.harness_error.is_none() {
            // Memory, not the system: what the scenario keeps in flight
            // (messages under long delays and duplication, timers) has
            // outgrown one run's bound.
            self.c.sys.obs.harness_error = Some(HarnessError::BadInput(format!(
                "scenario {:?}: more than {MAX_PENDING_EVENTS} events pending at t={}us (messages in flight, syncs, timers): its load outgrows what one run may hold; lower its delays, duplicate rate, KV rate or tick rate",
                self.c.sys.sc.name, self.clock.now()
            )));
        }
        self.clock.push(at, ev);
    }

    /// Runs the schedule to its end and returns what happened.
    pub fn run(mut self) -> RunOutput {
        // Library marks are per thread: clear what an earlier run left.
        let _ = writer_registry::marks::take();
        for i in 0..self.c.sys.sc.nodes {
            self.restart(i);
        }
        for (i, e) in self.schedule.events.iter().enumerate() {
            self.clock.push(e.at_us, Ev::Scheduled(i));
        }
        let limits = self.c.sys.sc.limits.clone();
        let ending = loop {
            if self.c.sys.obs.harness_error.is_some() {
                break Ending::Converged;
            }
            if let Some(deadline) = self.liveness_deadline {
                if process::converged(self.c.states()) {
                    break Ending::Converged;
                }
                if self.clock.now() > deadline {
                    break Ending::not_converged("", self.c.states());
                }
            }
            let before = self.clock.now();
            let Some(ev) = self.next_event() else {
                break if self.liveness_deadline.is_some() && process::converged(self.c.states()) {
                    Ending::Converged
                } else {
                    Ending::not_converged("event queue ran dry: ", self.c.states())
                };
            };
            if self.clock.now() == before {
                self.same_instant += 1;
                if self.same_instant > limits.max_events_per_instant {
                    break Ending::Livelock(format!(
                        "more than {} events at t={}us",
                        limits.max_events_per_instant,
                        self.clock.now()
                    ));
                }
            } else {
                self.same_instant = 0;
            }
            self.c.sys.obs.stats.events += 1;
            if let Some(e) = self.c.sys.opts.cancel.check_at(self.c.sys.obs.stats.events) {
                self.c.sys.obs.harness_error.get_or_insert(e);
                continue;
            }
            if self.c.sys.obs.stats.events > limits.max_events {
                break Ending::Livelock(format!(
                    "more than {} events in one run",
                    limits.max_events
                ));
            }
            self.handle(ev);
            // What the injector did reaches the checkers before anything
            // it caused can be judged (a halt needs a commit first, a
            // refusal a restart: both later events).
            for record in self.c.sys.injector.take_records() {
                self.c.sys.obs.checkers.injected(self.clock.now(), record);
            }
        };
        self.finish(ending)
    }

    /// The next event, with the clock moved to it and the cluster told
    /// the time: the one place virtual time advances.
    fn next_event(&mut self) -> Option<Ev> {
        let ev = self.clock.pop()?;
        self.c.now = self.clock.now();
        Some(ev)
    }

    fn finish(mut self, ending: Ending) -> RunOutput {
        match &ending {
            Ending::Livelock(msg) => self.c.violation("livelock", None, msg.clone()),
            Ending::NotConverged { .. } => {}
            Ending::Converged => self.c.sys.converged_end = self.c.sys.obs.harness_error.is_none(),
        }
        self.c.sys.finishing = true;
        for i in 0..self.c.sys.sc.nodes {
            self.shutdown(i);
        }
        self.c.sys.obs.stats.committed = self.c.sys.obs.checkers.committed();
        self.c.sys.obs.stats.virtual_us = self.clock.now();
        for (mark, hits) in writer_registry::marks::take() {
            if hits > 0 {
                *self.c.sys.obs.marks.entry(mark.name()).or_default() += hits;
            }
        }
        let (violations, purpose) = self.c.sys.obs.checkers.finish();
        RunOutput {
            stats: self.c.sys.obs.stats,
            violations,
            purpose,
            ending,
            trace: self.c.sys.obs.trace,
            marks: self.c.sys.obs.marks,
            harness_error: self.c.sys.obs.harness_error,
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Tick { node, inc } => {
                let slot = &self.c.nodes[usize::from(node)];
                if slot.member.incarnation != inc || !matches!(slot.state, Process::Up(_)) {
                    return;
                }
                self.c.record(Some(node), &kinds::TICK, 0, 0);
                self.with_core(node, |core, out, crash| {
                    core.tick(out, crash).map(|_| false)
                });
                self.schedule_tick(node);
            }
            Ev::Deliver { sent, msg } => self.deliver(sent, *msg),
            Ev::SyncDone { node, inc, ready } => {
                if self.c.nodes[usize::from(node)].member.incarnation != inc {
                    return;
                }
                self.c.record(Some(node), &kinds::SYNC, ready, 0);
                if let Process::Paused(_) = self.c.nodes[usize::from(node)].state {
                    // The disk finished; the stopped process notices on resume.
                    self.held.hold(node, Held::SyncDone(ready));
                } else {
                    self.with_core(node, |core, out, crash| core.sync_done(ready, out, crash));
                }
            }
            Ev::Scheduled(i) => {
                let action = self.schedule.events[i].action.clone();
                action.apply(self);
            }
            Ev::ClientRetry { cmd } => self.client_retry(cmd),
            Ev::OwedRetry { node, inc } => {
                if self.c.nodes[usize::from(node)].member.incarnation == inc {
                    lifecycle::propose_owed(self, node);
                }
            }
            Ev::ArmedRestart { node } => self.restart(node),
        }
    }

    /// Calls into a running (not paused) core and handles what follows
    /// (see [`call`]).
    fn with_core(
        &mut self,
        node: u8,
        f: impl FnOnce(
            &mut Core<DiskStorage, WriterRegistry>,
            &mut Outputs<WriterRegistry>,
            &mut dyn node::CrashPoints,
        ) -> Result<bool, node::Crashed>,
    ) {
        call::call(self, node, f);
    }

    fn schedule_tick(&mut self, node: u8) {
        let delay = self.c.tick_delay_us(node);
        let inc = self.c.incarnation(node);
        self.push(self.clock.now() + delay, Ev::Tick { node, inc });
    }

    /// Stops a running node: the process is gone, its disk and store stay.
    fn stop(&mut self, node: u8, reason: DownReason) {
        lifecycle::stop(self, node, reason);
    }

    fn write_cut(&mut self, node: u8, index: u64) {
        let disk = self.disks.read(node);
        let (member, log) = (&mut self.c.nodes[usize::from(node)].member, disk.written());
        self.c
            .sys
            .obs
            .write_cut(self.c.now, node, member, index, log);
    }

    /// Starts a down node (crashed or halted; refused and broken stay down).
    fn restart(&mut self, node: u8) {
        lifecycle::start(self, node);
    }

    fn shutdown(&mut self, node: u8) {
        if self.c.nodes[usize::from(node)].state.exists() {
            self.stop(node, DownReason::Crashed);
        }
    }
}

/// Messages: out through the transport, in through the in-flight rule,
/// and a snapshot's fate back to its sender.
impl Sim<'_> {
    fn send(&mut self, from: u8, msg: Message) {
        match self.transport.send(&mut self.c, from, &msg) {
            Leaving::Nowhere => {}
            Leaving::Dropped { to } => {
                if is_snapshot(&msg) {
                    let from_inc = self.c.incarnation(from);
                    self.snapshot_failed(from, from_inc, to, msg.term);
                }
            }
            Leaving::InFlight { sent, delay, again } => {
                let now = self.clock.now();
                if let Some(again) = again {
                    let msg = Box::new(msg.clone());
                    self.push(now + again, Ev::Deliver { sent, msg });
                }
                let msg = Box::new(msg);
                self.push(now + delay, Ev::Deliver { sent, msg });
            }
        }
    }

    fn deliver(&mut self, sent: Envelope, msg: Message) {
        let Envelope {
            from, from_inc, to, ..
        } = sent;
        match self.transport.arrive(&mut self.c, sent) {
            Arrival::SenderGone => return,
            Arrival::Dropped => {
                if is_snapshot(&msg) {
                    self.snapshot_failed(from, from_inc, to, msg.term);
                }
                return;
            }
            Arrival::Arrives => {}
        }
        match &self.c.nodes[usize::from(to)].state {
            Process::Up(_) => self.hand_over(sent, msg),
            // Handed over at resume, as if it arrived then.
            Process::Paused(_) => self.held.hold(to, Held::Message { sent, msg }),
            Process::Down(_) => {
                if is_snapshot(&msg) {
                    self.snapshot_failed(from, from_inc, to, msg.term);
                }
            }
        }
    }

    /// Steps a message into a running node: a snapshot is observed as
    /// delivered (the checkers' ground truth of what a restore may hold)
    /// and its sender, if still the same incarnation, told it arrived.
    /// Messages held while the node was paused come here at resume.
    fn hand_over(&mut self, sent: Envelope, msg: Message) {
        let Envelope {
            from, from_inc, to, ..
        } = sent;
        let snapshot = is_snapshot(&msg);
        self.c.sys.obs.delivered(self.clock.now(), to, from, &msg);
        if self.c.sys.raft_checked() {
            let sender = self.disks.read(from);
            let to_written_last = self.disks.read(to).written().last_index();
            let delivered = RaftObservation::Delivered {
                from,
                to,
                msg: &msg,
                from_synced: sender.synced(),
                to_written_last,
            };
            self.c.sys.raft(self.clock.now(), delivered);
        }
        self.with_core(to, |core, out, crash| {
            core.step(msg, out, crash).map(|_| false)
        });
        if snapshot {
            self.tell_snapshot_fate(from, from_inc, to, true, 0);
        }
    }

    /// The transport tells a snapshot's sender (its message of `term`) it
    /// did not arrive.
    fn snapshot_failed(&mut self, from: u8, from_inc: u32, to: u8, term: u64) {
        self.tell_snapshot_fate(from, from_inc, to, false, term);
    }

    /// The transport tells a snapshot's sender, if still incarnation
    /// `from_inc`, how its snapshot (of `term`) to `to` fared. A paused
    /// sender learns it at resume, as a process learns of a stream that
    /// ended while it was frozen.
    fn tell_snapshot_fate(&mut self, from: u8, from_inc: u32, to: u8, delivered: bool, term: u64) {
        if self.c.incarnation(from) != from_inc {
            return;
        }
        let kind = if delivered {
            &kinds::SNAPSHOT_DELIVERED
        } else {
            &kinds::SNAPSHOT_FAILED
        };
        let paused = matches!(self.c.nodes[usize::from(from)].state, Process::Paused(_));
        if paused {
            let fate = Held::SnapshotFate {
                to,
                delivered,
                term,
            };
            self.held.hold(from, fate);
        }
        self.c.record(Some(from), kind, u64::from(to), 0);
        if !paused {
            self.report_snapshot_fate(from, to, delivered, term);
        }
    }

    /// A snapshot's fate reaches its sender's node core (if it runs).
    fn report_snapshot_fate(&mut self, from: u8, to: u8, delivered: bool, term: u64) {
        if !matches!(self.c.nodes[usize::from(from)].state, Process::Up(_)) {
            return;
        }
        if !delivered {
            let failed = RaftObservation::SnapshotFailed { from, to, term };
            self.c.sys.raft(self.clock.now(), failed);
        }
        self.with_core(from, |core, out, crash| {
            core.report_snapshot(u64::from(to) + 1, delivered, out, crash)
                .map(|_| false)
        });
    }
}

/// What the native engine does its own way around a call into a core:
/// messages go to the transport, syncs to the disk model's latency, and
/// what is observed is read off its disks.
impl Runtime for Sim<'_> {
    type Log = DiskStorage;
    type System = WriterRegistry;

    fn cluster(&mut self) -> &mut RegistryCluster<DiskStorage> {
        &mut self.c
    }

    fn take_outputs(&mut self) -> Outputs<WriterRegistry> {
        std::mem::take(&mut self.out)
    }

    fn keep_outputs(&mut self, out: Outputs<WriterRegistry>) {
        self.out = out;
    }

    fn observe_synced(&mut self, node: u8) {
        if !self.c.sys.raft_checked() || !self.disks.take_unseen_sync(node) {
            return;
        }
        let disk = self.disks.read(node);
        let synced = RaftObservation::Synced {
            node,
            log: disk.synced(),
        };
        self.c.sys.raft(self.clock.now(), synced);
    }

    fn observe_send(&mut self, from: u8, msg: &Message) {
        if !self.c.sys.raft_checked() {
            return;
        }
        let disk = self.disks.read(from);
        let sent = RaftObservation::Sent {
            from,
            msg,
            synced: disk.synced(),
            written: disk.written(),
        };
        self.c.sys.raft(self.clock.now(), sent);
    }

    fn send(&mut self, from: u8, msg: Message) -> Option<FollowUp> {
        Sim::send(self, from, msg);
        None
    }

    /// The sync completes after the disk's latency, in order behind the
    /// node's earlier syncs.
    fn sync(&mut self, node: u8, ready: u64) -> Option<FollowUp> {
        let at = self
            .disks
            .sync_done_at(node, self.clock.now(), self.c.sys.sc.storage.sync_us);
        let inc = self.c.incarnation(node);
        self.push(at, Ev::SyncDone { node, inc, ready });
        None
    }

    /// The snapshot a start restores is the one its disk holds.
    fn snapshot_hash(&self, node: u8, index: u64) -> Option<u64> {
        self.disks.read(node).written().snapshot_hash_at(index)
    }

    fn leader(&mut self, node: u8, term: u64, in_flight: bool) {
        let disk = self.disks.read(node);
        let now = self.clock.now();
        self.c
            .sys
            .obs
            .leader(now, node, term, Some(disk.written()), in_flight);
    }

    fn write_cut(&mut self, node: u8, index: u64) {
        Sim::write_cut(self, node, index);
    }

    fn stop(&mut self, node: u8, reason: DownReason) {
        Sim::stop(self, node, reason);
    }

    fn armed_crash(&mut self, node: u8, power_loss: bool) {
        self.crash(node, power_loss);
        self.restart_after_armed_crash(node);
    }
}

/// Where the native engine keeps a node's files: its disks, in memory;
/// a store closes by being killed (a crash copy), or released at the run's
/// end.
impl Files for Sim<'_> {
    fn forget_work(&mut self, node: u8) {
        self.held.clear(node);
    }

    fn keep_store(&mut self, node: u8, (store, journal): (SimStore, Journal)) {
        let closed = if self.c.sys.finishing {
            store.release()
        } else {
            match store.kill() {
                Ok(closed) => closed,
                Err(e) => {
                    // The harness's premise (a quiescent fjall whose files
                    // change by appends only) failed, not the system.
                    self.c
                        .sys
                        .obs
                        .harness_error
                        .get_or_insert(HarnessError::Environment(format!(
                            "n{} at {}us: no crash copy: {e}",
                            node + 1,
                            self.clock.now()
                        )));
                    disks::untracked_store(&self.c.sys.opts, node)
                }
            }
        };
        self.disks.keep_closed(node, closed, journal);
    }

    /// Fjall recovers what a crash or power loss left.
    fn open_store(&mut self, node: u8) -> Option<(SimStore, Journal)> {
        let (closed, journal) = self.disks.take_closed(node);
        match closed.open(self.c.sys.opts.mutant) {
            Ok(store) => Some((store, journal)),
            Err(e) => {
                self.c
                    .sys
                    .obs
                    .store_failure(self.c.now, "store-open", node, e.to_string());
                None
            }
        }
    }

    fn open_log(&mut self, node: u8) -> Option<DiskStorage> {
        Some(DiskStorage(self.disks.log(node).clone()))
    }

    fn start_facts(&self, node: u8) -> (u16, u16) {
        self.disks.epoch(node)
    }

    fn start_from(&mut self, _node: u8, log: &DiskStorage) -> u64 {
        log.0.borrow().written().hard_state.commit
    }

    fn run_start(
        &mut self,
        node: u8,
        params: NodeParams,
        log: DiskStorage,
        tracked: TrackedStore,
        out: &mut Outputs<WriterRegistry>,
    ) -> Started<DiskStorage, WriterRegistry> {
        let (epoch_file, logger) = (self.disks.epoch_file(node), &self.c.logger);
        node::start(params, log, epoch_file, tracked, logger, out)
    }

    fn observe_start(&mut self, node: u8) {
        Runtime::observe_synced(self, node);
    }

    fn joined(&mut self, node: u8) {
        self.schedule_tick(node);
    }

    fn retry_owed(&mut self, node: u8, inc: u32, at: u64) {
        self.push(at, Ev::OwedRetry { node, inc });
    }
}

/// What clients and nodes ask of the cluster: encrypted KV commands with
/// their retries, and each incarnation's registrations until they apply.
impl Sim<'_> {
    /// Proposes through `node` if it is up; true if raft accepted it.
    fn propose(&mut self, node: u8, data: Vec<u8>) -> bool {
        let mut accepted = false;
        self.with_core(node, |core, out, crash| {
            accepted = core.propose(data, out, crash)?;
            Ok(false)
        });
        accepted
    }

    fn client_attempt(&mut self, cmd: usize) {
        let Some(attempt) = self.c.sys.clients.attempt(cmd, self.c.sys.sc.nodes) else {
            return;
        };
        let node = attempt.node;
        let s = &self.c.nodes[usize::from(node)];
        let at = (node, &s.member, s.state.running().map(|core| core.app()));
        let (obs, clients) = (&mut self.c.sys.obs, &mut self.c.sys.clients);
        let data = obs.client_proposal(self.c.now, clients, at, cmd, attempt);
        if let Some(data) = data {
            self.propose(node, data);
        }
        let timeout = self.c.sys.sc.workload.client_timeout_ms * 1000;
        self.push(self.clock.now() + timeout, Ev::ClientRetry { cmd });
    }

    fn client_retry(&mut self, cmd: usize) {
        if !self.c.sys.clients.is_done(cmd) {
            self.client_attempt(cmd);
        }
    }
}

/// Crashes, power loss and resuming a paused node, on this engine's
/// disks and stores.
impl Sim<'_> {
    fn resume(&mut self, node: u8) {
        if !self.c.nodes[usize::from(node)].state.set_paused(false) {
            return;
        }
        let held = self.held.take(node);
        self.c
            .record(Some(node), &kinds::RESUME, held.len() as u64, 0);
        self.schedule_tick(node);
        for work in held {
            match work {
                Held::Message { sent, msg } => self.hand_over(sent, msg),
                Held::SyncDone(ready) => {
                    self.with_core(node, |core, out, crash| core.sync_done(ready, out, crash))
                }
                Held::SnapshotFate {
                    to,
                    delivered,
                    term,
                } => self.report_snapshot_fate(node, to, delivered, term),
            }
        }
    }

    /// Replaces a down node's epoch file with its previous synced copy.
    fn roll_back_epoch(&mut self, node: u8) {
        let who = (node, self.c.nodes[usize::from(node)].member.full);
        let books = Books::at(&mut self.c.sys.obs, &mut self.c.sys.injector, self.c.now);
        target::roll_back_epoch_file(books, self.disks.epoch_file(node), who);
    }

    fn crash(&mut self, node: u8, power_loss: bool) {
        if self.c.nodes[usize::from(node)].state.exists() {
            self.c.sys.obs.stats.crashes += 1;
            self.stop(node, DownReason::Crashed);
        }
        if power_loss {
            self.lose_power(node);
        }
        if self.c.sys.injector.take_rollback(node) {
            self.roll_back_epoch(node);
        }
    }

    /// Power goes out on a down node: its disks keep what synced (the
    /// store a seeded part of the rest), as the trace and checkers learn.
    fn lose_power(&mut self, node: u8) {
        self.c.sys.obs.stats.power_losses += 1;
        let kept = self.disks.power_loss(node);
        self.c.record(Some(node), &kinds::POWER_LOSS, 0, 0);
        match kept {
            None => {}
            Some(Ok(kept)) => {
                self.c.record(
                    Some(node),
                    &kinds::POWER_LOSS_KEPT,
                    kept.batches,
                    kept.unsynced,
                );
                if kept.rows > 0 {
                    self.c.sys.obs.mark(SimMark::PowerLossUnsyncedRegistry);
                }
            }
            Some(Err(e)) => self.c.sys.obs.store_failure(
                self.c.now,
                "store-open",
                node,
                format!("power loss: {e}"),
            ),
        }
        self.c
            .sys
            .obs
            .checkers
            .observe(self.clock.now(), Observation::PowerLost { node });
    }

    /// An armed crash is not in the schedule, so neither is its restart:
    /// the down time comes from the node's fault stream, keyed by how many
    /// armed crashes it has had.
    fn restart_after_armed_crash(&mut self, node: u8) {
        let down_us = self.c.sys.injector.down_after_armed_crash(node);
        self.push(self.clock.now() + down_us, Ev::ArmedRestart { node });
    }
}

/// The native engine's primitives, for the schedule's events (each kind
/// in [`crate::faults`] decides when it applies).
impl Target for Sim<'_> {
    fn life(&self, node: u8) -> Life {
        Life::of(&self.c.nodes[usize::from(node)].state)
    }

    fn books<R>(&mut self, f: impl FnOnce(Books<'_>) -> R) -> R {
        f(Books::at(
            &mut self.c.sys.obs,
            &mut self.c.sys.injector,
            self.clock.now(),
        ))
    }

    fn fulls(&self) -> Vec<u64> {
        crate::registry::fulls(&self.c)
    }

    fn first_dek(&self) -> u32 {
        self.c.sys.sc.deks[0]
    }

    fn next_pid(&mut self) -> u64 {
        self.c.sys.clients.next_pid()
    }

    fn crash(&mut self, node: u8, power_loss: bool) {
        Sim::crash(self, node, power_loss);
    }

    fn restart(&mut self, node: u8) {
        Sim::restart(self, node);
    }

    fn pause(&mut self, node: u8) -> bool {
        self.c.nodes[usize::from(node)].state.set_paused(true)
    }

    fn resume(&mut self, node: u8) {
        Sim::resume(self, node);
    }

    fn roll_back_epoch(&mut self, node: u8) {
        Sim::roll_back_epoch(self, node);
    }

    fn preset_epoch(&mut self, node: u8, epoch: u16) {
        let who = (node, self.c.nodes[usize::from(node)].member.full);
        let books = Books::at(&mut self.c.sys.obs, &mut self.c.sys.injector, self.c.now);
        target::preset_epoch_file(books, self.disks.epoch_file(node), who, epoch);
    }

    fn queue_corruption(&mut self, node: u8, corruption: (u8, u32, crate::store::Corruption)) {
        self.c.nodes[usize::from(node)]
            .member
            .corruptions
            .push(corruption);
    }

    fn partition(&mut self, side: &[u8]) {
        self.transport.partition(side);
    }

    fn one_way(&mut self, from: u8, to: u8) {
        self.transport.cut(from, to);
    }

    fn heal(&mut self) {
        self.transport.heal();
    }

    fn client_command(&mut self, node: u8, dek: u32) {
        let cmd = self.c.sys.clients.command(node, dek);
        self.client_attempt(cmd);
    }

    fn snapshot(&mut self, node: u8) {
        let min_new = self.c.sys.sc.snapshots.keep_entries;
        let mut taken = None;
        self.with_core(node, |core, _, _| {
            taken = core.take_snapshot(min_new)?;
            Ok(false)
        });
        if let Some(index) = taken {
            let disk = self.disks.read(node);
            let snapshot = &disk.written().snapshot;
            self.c
                .sys
                .obs
                .snapshot_taken(self.clock.now(), node, index, snapshot);
        }
    }

    fn inject(&mut self, via: u8, injection: Injection) {
        let Injection {
            data,
            injected,
            kind,
            a,
            b,
        } = injection;
        if self.propose(via, data) {
            self.c.sys.injector.record(injected);
            self.c.record(Some(via), kind, a, b);
        }
    }

    fn owe_liveness(&mut self) {
        self.liveness_deadline = Some(self.clock.now() + self.c.sys.sc.liveness_bound_ms * 1000);
    }
}
