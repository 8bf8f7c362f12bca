//! The native world: the cluster on the engine's virtual clock, network
//! model and in-flight rule (`regsim_engine::{clock, network,
//! in_flight}`), with its simulated disks, driving the node cores through
//! a schedule and feeding the oracles.
//!
//! Single-threaded and discrete-event: the clock jumps to the next event;
//! ties break by insertion order. Nothing else can reorder work.

mod outputs;
mod target;
#[cfg(test)]
mod tests;
mod transport;
mod workload;

use std::cell::RefCell;
use std::rc::Rc;

use crate::marks::SimMark;
use raft::eraftpb::Message;
use writer_registry::wire;

use crate::disk::DiskStorage;
use crate::disk::{EpochFile, RaftDisk};
use crate::error::HarnessError;
use crate::node::storage::EpochStore;
use crate::node::{self, NodeCore, Output};
use crate::oracle::checkers::{Observation, StartOutcome};
use crate::panics::in_system;
use crate::rng::{KeyedRng, Streams, Subsystem};
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::store::image_digest;
use crate::store::{scan_image, ClosedStore, Image, Journal, SimStore, TrackedStore};
use crate::trace::kinds;
use crate::world::cluster::{name, Cluster};
use crate::world::start;
use crate::world::target::Books;
use crate::world::DownReason;
pub use crate::world::{Ending, RunOutput, SimOptions, Stats};
use regsim_engine::clock::Clock;
use regsim_engine::network::Network;
use regsim_engine::process::{self, Process};

/// Most events a run may hold pending at once (about 300 MB): a bound on
/// memory, reached only by a scenario whose load cannot fit.
pub const MAX_PENDING_EVENTS: usize = 1_000_000;

/// The node core as this engine runs it: over its simulated disk and its
/// journalled store.
pub(crate) type SimNode = NodeCore<DiskStorage, TrackedStore>;

/// What the native engine keeps of one member beside the cluster's books:
/// its simulated disk and files, and its work in flight.
struct Slot {
    disk: Rc<RefCell<RaftDisk>>,
    epoch_file: EpochFile,
    /// The store while the node is down (None while up: the FSM has it).
    closed: Option<(ClosedStore, Journal)>,
    /// Power losses so far: keys the draw of what each one keeps.
    power_seq: u64,
    sync_seq: u64,
    sync_free_at: u64,
    /// Work that reached a paused process, handled in order on resume.
    held: Vec<Held>,
    /// The disk's sync count when the checkers last saw its synced log.
    seen_syncs: u64,
}

/// What waits for a paused process.
enum Held {
    /// A message that reached the paused node, from sender `from` in its
    /// incarnation `from_inc` (told how a snapshot fared at resume).
    Message {
        from: u8,
        from_inc: u32,
        msg: Message,
    },
    SyncDone(u64),
    /// The transport's word on a snapshot the paused node sent to `to`.
    SnapshotFate {
        to: u8,
        delivered: bool,
        term: u64,
    },
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

pub struct Sim<'a> {
    schedule: &'a Schedule,
    /// The members, their processes and the run's books.
    c: Cluster<DiskStorage>,
    /// Virtual time (`clock.now()`: the current event's, which the
    /// cluster is told) and the events waiting for it.
    clock: Clock<Ev>,
    /// Per member: its disk, files and held work.
    slots: Vec<Slot>,
    /// The network model: cut links and message fates.
    network: Network,
    storage: Vec<KeyedRng>,
    /// What each power loss keeps of a node's unsynced writes.
    power: Vec<KeyedRng>,
    liveness_deadline: Option<u64>,
    out: Vec<Output<TrackedStore>>,
    same_instant: u64,
}

impl<'a> Sim<'a> {
    pub fn new(sc: &'a Scenario, schedule: &'a Schedule, opts: SimOptions) -> Self {
        let n = sc.nodes;
        let streams = Streams::new(schedule.seed);
        let voters: Vec<u64> = (1..=u64::from(n)).collect();
        let slots = (0..n)
            .map(|i| Slot {
                disk: Rc::new(RefCell::new(RaftDisk::new(voters.clone()))),
                epoch_file: EpochFile::default(),
                closed: Some((
                    ClosedStore::new(opts.registry, &opts.data_dir.join(name(i))),
                    Journal::default(),
                )),
                power_seq: 0,
                sync_seq: 0,
                sync_free_at: 0,
                held: Vec::new(),
                seen_syncs: 0,
            })
            .collect();
        let nn = usize::from(n);
        Sim {
            schedule,
            clock: Clock::new(),
            slots,
            network: Network::new(sc.network.links(), n, &streams),
            storage: streams.family(Subsystem::Storage, 0, nn),
            power: streams.family(Subsystem::Storage, 2_000, nn),
            liveness_deadline: None,
            out: Vec::new(),
            same_instant: 0,
            c: Cluster::new(sc, &streams, opts),
        }
    }

    fn push(&mut self, at: u64, ev: Ev) {
        if self.clock.pending() >= MAX_PENDING_EVENTS && self.c.obs.harness_error.is_none() {
            // Memory, not the system: what the scenario keeps in flight
            // (messages under long delays and duplication, timers) has
            // outgrown one run's bound.
            self.c.obs.harness_error = Some(HarnessError::BadInput(format!(
                "scenario {:?}: more than {MAX_PENDING_EVENTS} events pending at t={}us (messages in flight, syncs, timers): its load outgrows what one run may hold; lower its delays, duplicate rate, KV rate or tick rate",
                self.c.sc.name, self.clock.now()
            )));
        }
        self.clock.push(at, ev);
    }

    /// Runs the schedule to its end and returns what happened.
    pub fn run(mut self) -> RunOutput {
        // Library marks are per thread: clear what an earlier run left.
        let _ = writer_registry::marks::take();
        for i in 0..self.c.sc.nodes {
            self.restart(i);
        }
        for (i, e) in self.schedule.events.iter().enumerate() {
            self.clock.push(e.at_us, Ev::Scheduled(i));
        }
        let limits = self.c.sc.limits.clone();
        let ending = loop {
            if self.c.obs.harness_error.is_some() {
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
            self.c.obs.stats.events += 1;
            if let Some(e) = self.c.opts.cancel.check_at(self.c.obs.stats.events) {
                self.c.obs.harness_error.get_or_insert(e);
                continue;
            }
            if self.c.obs.stats.events > limits.max_events {
                break Ending::Livelock(format!(
                    "more than {} events in one run",
                    limits.max_events
                ));
            }
            self.handle(ev);
            // What the injector did reaches the checkers before anything
            // it caused can be judged (a halt needs a commit first, a
            // refusal a restart: both later events).
            for record in self.c.injector.take_records() {
                self.c.obs.checkers.injected(self.clock.now(), record);
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
            Ending::Converged => self.c.converged_end = self.c.obs.harness_error.is_none(),
        }
        self.c.finishing = true;
        for i in 0..self.c.sc.nodes {
            self.shutdown(i);
        }
        self.c.obs.stats.committed = self.c.obs.checkers.committed();
        self.c.obs.stats.virtual_us = self.clock.now();
        for (mark, hits) in writer_registry::marks::take() {
            if hits > 0 {
                *self.c.obs.marks.entry(mark.name()).or_default() += hits;
            }
        }
        let (violations, purpose) = self.c.obs.checkers.finish();
        RunOutput {
            stats: self.c.obs.stats,
            violations,
            purpose,
            ending,
            trace: self.c.obs.trace,
            marks: self.c.obs.marks,
            harness_error: self.c.obs.harness_error,
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
            Ev::Deliver {
                from,
                from_inc,
                to,
                to_inc,
                msg,
            } => self.deliver(from, from_inc, to, to_inc, *msg),
            Ev::SyncDone { node, inc, ready } => {
                if self.c.nodes[usize::from(node)].member.incarnation != inc {
                    return;
                }
                self.c.record(Some(node), &kinds::SYNC, ready, 0);
                if let Process::Paused(_) = self.c.nodes[usize::from(node)].state {
                    // The disk finished; the stopped process notices on resume.
                    self.slots[usize::from(node)]
                        .held
                        .push(Held::SyncDone(ready));
                } else {
                    self.with_core(node, |core, out, crash| core.sync_done(ready, out, crash));
                }
            }
            Ev::Scheduled(i) => {
                let action = self.schedule.events[i].action.clone();
                action.apply(self);
            }
            Ev::ClientRetry { cmd } => self.client_retry(cmd),
            Ev::RegRetry { node, inc } => {
                if self.c.nodes[usize::from(node)].member.incarnation == inc {
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
        f: impl FnOnce(
            &mut SimNode,
            &mut Vec<Output<TrackedStore>>,
            &mut dyn node::CrashPoints,
        ) -> Result<bool, node::Crashed>,
    ) {
        let i = usize::from(node);
        let registry_crash_armed = self.c.injector.registry_crash_armed(node);
        let Process::Up(core) = &mut self.c.nodes[i].state else {
            return;
        };
        let crash = self.c.injector.crash_points(node);
        let mut out = std::mem::take(&mut self.out);
        let result = in_system(|| f(core, &mut out, crash));
        let fired = core.app().fsm().store().fault_fired.take();
        self.c.store_fault_fired(node, fired);
        self.observe_synced(node);
        let registered = out.iter().any(|o| matches!(o, Output::Applied(r) if !r.replay && wire::registration_of(&r.data).is_some()));
        self.process_outputs(node, &mut out);
        if registered {
            self.c.probe_encryption(node);
        }
        self.out = out;
        let mut books = Books::at(&mut self.c.obs, &mut self.c.injector, self.clock.now());
        books.registry_crash_fired(node, registry_crash_armed);
        match result {
            Ok(false) => {}
            Ok(true) => self.stop(node, DownReason::Halted),
            Err(node::Crashed { partial }) => {
                let power = self.c.injector.armed_power_loss(node);
                if let Some(index) = partial {
                    self.write_cut(node, index);
                }
                self.c
                    .record(Some(node), &kinds::ARMED_CRASH_FIRED, u64::from(power), 0);
                self.crash(node, power);
                self.restart_after_armed_crash(node);
            }
        }
        self.c.drain_row_changes(node);
    }

    fn schedule_tick(&mut self, node: u8) {
        let delay = self.c.tick_delay_us(node);
        let inc = self.c.incarnation(node);
        self.push(self.clock.now() + delay, Ev::Tick { node, inc });
    }

    /// Stops a running node: the process is gone, its disk and store stay.
    fn stop(&mut self, node: u8, reason: DownReason) {
        let ended = self.c.process_ended(node, reason);
        self.slots[usize::from(node)].held.clear();
        if let Some((store, digest)) = ended {
            let image = self.close_store(node, store);
            self.c.stopped(node, image.as_ref(), digest);
        }
    }

    fn write_cut(&mut self, node: u8, index: u64) {
        let disk = self.slots[usize::from(node)].disk.borrow();
        let (member, log) = (&mut self.c.nodes[usize::from(node)].member, disk.written());
        self.c.obs.write_cut(self.c.now, node, member, index, log);
    }

    /// Closes a node's store for its time down, recording what it holds
    /// and what of it reached a sync (as the harness's journal saw it: a
    /// run that skips a sync leaves a different durable image). Returns
    /// what it holds, for the checkers (`None`: unreadable, a violation).
    fn close_store(&mut self, node: u8, tracked: TrackedStore) -> Option<Image> {
        let TrackedStore { inner, journal, .. } = tracked;
        let scanned = scan_image(&inner);
        let (synced, pairs) = journal.synced_digest();
        let closed = if self.c.finishing {
            inner.release()
        } else {
            match inner.kill() {
                Ok(closed) => closed,
                Err(e) => {
                    // The harness's premise (a quiescent fjall whose files
                    // change by appends only) failed, not the system.
                    self.c
                        .obs
                        .harness_error
                        .get_or_insert(HarnessError::Environment(format!(
                            "n{} at {}us: no crash copy: {e}",
                            node + 1,
                            self.clock.now()
                        )));
                    ClosedStore::new(self.c.opts.registry, &self.c.opts.data_dir.join(name(node)))
                }
            }
        };
        self.slots[usize::from(node)].closed = Some((closed, journal));
        self.c.record_state(
            node,
            scanned.as_ref().map(image_digest).map_err(Clone::clone),
        );
        self.c.note_rows(node, scanned.as_ref().ok());
        self.c
            .record(Some(node), &kinds::SYNCED_STATE, synced, pairs);
        scanned.ok()
    }

    /// Starts a down node (crashed or halted; refused and broken stay down).
    fn restart(&mut self, node: u8) {
        let i = usize::from(node);
        if !self.c.nodes[i].state.may_start() {
            return;
        }
        self.c.obs.stats.restarts += 1;
        let Some(opened) = self.reopen(node) else {
            return;
        };
        let s = &mut self.slots[i];
        let epoch = (s.epoch_file.read(), s.epoch_file.synced());
        let disk = s.disk.clone();
        let commit = disk.borrow().written().hard_state.commit;
        let (params, tracked) = self.c.begin_start(node, opened, (epoch, commit));
        let mut out = std::mem::take(&mut self.out);
        let registry_crash_armed = self.c.injector.registry_crash_armed(node);
        let result = in_system(|| {
            node::start(
                params,
                DiskStorage(disk),
                &mut s.epoch_file,
                tracked,
                &self.c.logger,
                &mut out,
            )
        });
        let books = Books::at(&mut self.c.obs, &mut self.c.injector, self.clock.now());
        start::ran(books, node, registry_crash_armed, &result);
        // Before the replay's applies are judged: what the start synced.
        self.observe_synced(node);
        let outcome = match result {
            Ok(core) => {
                self.c.nodes[i].state = Process::Up(Box::new(core));
                self.process_outputs(node, &mut out);
                self.out = out;
                StartOutcome::Joined
            }
            Err(not_started) => self.start_failed(node, *not_started, out),
        };
        let file = &self.slots[i].epoch_file;
        let epoch_file = (file.read(), file.synced());
        self.c
            .obs
            .start_ended(self.clock.now(), node, outcome, epoch_file);
        if outcome == StartOutcome::Crashed {
            // An armed crash struck during the start: as for a running
            // process, with the power loss it was armed with (the unsynced
            // writes of the replay go) and a rollback waiting for a crash.
            let power = self.c.injector.armed_power_loss(node);
            self.c
                .record(Some(node), &kinds::ARMED_CRASH_FIRED, u64::from(power), 0);
            self.crash(node, power);
            self.restart_after_armed_crash(node);
        }
        if outcome == StartOutcome::Joined {
            self.schedule_tick(node);
            self.propose_registrations(node);
        }
        self.c.drain_row_changes(node);
    }

    /// Reopens a down node's store (fjall recovers what a crash or power
    /// loss left) and records its state. Returns the store, its
    /// journal and what it holds (`None` when it could not be read back),
    /// or `None` when it cannot be opened (the node is broken). Judging
    /// what it holds is the checkers' job, against their own model.
    fn reopen(&mut self, node: u8) -> Option<(SimStore, Journal, Option<Image>)> {
        let i = usize::from(node);
        let s = &mut self.slots[i];
        let (closed, mut journal) = s.closed.take().expect("a down node holds its closed store");
        let mut store = match closed.open(self.c.opts.mutant) {
            Ok(store) => store,
            Err(e) => {
                self.c.nodes[i].state = Process::Down(DownReason::Broken);
                self.c.store_failure("store-open", node, e.to_string());
                return None;
            }
        };
        self.corrupt_rows(node, &mut store, &mut journal);
        // One scan serves the checkers and the trace's digest.
        let scanned = scan_image(&store);
        if let Err(e) = &scanned {
            self.c
                .store_failure("durability", node, format!("scan after reopen: {e}"));
        }
        self.c.record_state(
            node,
            scanned.as_ref().map(image_digest).map_err(Clone::clone),
        );
        self.c.note_rows(node, scanned.as_ref().ok());
        Some((store, journal, scanned.ok()))
    }

    /// Damages the rows the schedule corrupted while the node was down.
    fn corrupt_rows(&mut self, node: u8, store: &mut SimStore, journal: &mut Journal) {
        let corruptions = std::mem::take(&mut self.c.nodes[usize::from(node)].corruptions);
        let fulls = self.c.fulls();
        let at = (&mut self.c.obs, self.c.now);
        crate::world::target::corrupt_rows(
            at,
            node,
            corruptions,
            &fulls,
            (store, journal),
            &mut |_| {},
        );
    }

    /// A start that produced no running node: refused, halted in its
    /// replay, crashed by an armed fault, or broken.
    fn start_failed(
        &mut self,
        node: u8,
        not_started: node::NotStarted<TrackedStore>,
        mut out: Vec<Output<TrackedStore>>,
    ) -> StartOutcome {
        let failed = start::start_failed(&mut self.c.obs, self.clock.now(), node, not_started);
        let (reason, outcome) = (failed.reason, failed.outcome);
        let image = failed
            .store
            .and_then(|tracked| self.close_store(node, tracked));
        // What the start reported (its replay) reaches the checkers before
        // the store it left behind, as the incarnation that started.
        self.process_outputs(node, &mut out);
        self.out = out;
        self.c.start_failed(node, reason.clone());
        if let Some(index) = failed.cut {
            self.write_cut(node, index);
        }
        self.c.stopped(node, image.as_ref(), None);
        self.c
            .record(Some(node), &kinds::START_FAILED, reason.code(), 0);
        outcome
    }

    fn shutdown(&mut self, node: u8) {
        if self.c.nodes[usize::from(node)].state.exists() {
            self.stop(node, DownReason::Crashed);
        }
    }
}
