//! The hosted runtimes' shared state: every node's process (its core,
//! owned here so the driver can stop it), its files and the harness's
//! records of them, and the run's checkers, trace and clients.
//!
//! Two kinds of callers: the node hosts call in from inside the runtime's
//! scheduling of that node (where its file system is the current one:
//! every call that reaches the node core or its files); the driver
//! ([`super::drive`]) calls between them for the schedule's actions and
//! timers, and never touches a node's files.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use crate::marks::SimMark;
use protobuf::Message as _;
use raft::eraftpb::{Message, MessageType};

use super::NodeFiles;
use crate::disk::{EpochFile, LogImage};
use crate::node::storage::EpochStore;
use crate::node::{self, CrashPoints, NodeParams};
use crate::registry::{RegistryCluster, WriterRegistry};
use crate::rng::{KeyedRng, Streams, Subsystem};
use crate::scenario::Scenario;
use crate::store::{Journal, SimStore, TrackedStore};
use crate::trace::kinds;
use crate::world::call::{self, Core, FollowUp, Outputs, Runtime};
use crate::world::clients::Attempt;
use crate::world::lifecycle::{self, Files};
use crate::world::system::Started;
use crate::world::target::{self, Books, Injection};
use crate::world::{DownReason, SimOptions};
use regsim_engine::clock::Clock;
use regsim_engine::in_flight::{Arrival, Envelope};
use regsim_engine::oracle::observation::RaftObservation;
use regsim_engine::world::cluster::RunBooks;

/// Work the driver hands a node's host, done inside it.
pub(crate) enum Work {
    /// Propose what the node still owes (the registry: its registrations).
    Owed,
    Snapshot,
    /// A faulty client's entry, with what to record if raft takes it.
    Inject(Box<Injection>),
}

/// What the hosted runtimes keep of one member beside the cluster's
/// books: its files and the harness's records of them, and the work
/// passed between the driver and its host.
pub(crate) struct Slot<F: NodeFiles> {
    /// Where its files live.
    pub files: F,
    /// The harness's record of the epoch file (written, synced, history).
    pub epoch: EpochFile,
    /// A preset or rollback waits to be written into the file at the next
    /// start (the file is the host's; only the host can write it).
    pub epoch_injected: bool,
    /// The harness's record of the registry's writes (in the store while up).
    pub journal: Option<Journal>,
    /// Registry records the last sync covered, as the harness last
    /// counted them (at a stop, at the row damage's sync).
    pub synced_records: u64,
    /// Power was lost since the store was last opened.
    pub power_lost: bool,
    /// The driver asked the host to start an incarnation.
    pub start_requested: bool,
    /// An armed crash fired inside the host: the driver finishes it
    /// (`true`: with power loss).
    pub dying: Option<bool>,
    /// The log record's sync count when the checkers last saw its synced
    /// image (a log opened anew starts its count again).
    pub seen_syncs: Option<u64>,
    pub inbox: VecDeque<Work>,
    /// Datagrams that reached the paused process, judged as they arrived.
    held: Vec<Datagram>,
    /// Encoded datagrams for other nodes: (to, bytes).
    pub outbox: Vec<(u8, Vec<u8>)>,
    pub notify: Rc<tokio::sync::Notify>,
}

/// Timers the driver keeps (not the nodes' own ticks).
pub(crate) enum Timer {
    ClientRetry { cmd: usize },
    OwedRetry { node: u8, inc: u32 },
    ArmedRestart { node: u8 },
}

/// Datagram tags on turmoil's network.
pub(crate) const TAG_RAFT: u8 = 0;
pub(crate) const TAG_CLIENT: u8 = 1;

pub(crate) struct World<F: NodeFiles> {
    /// The members, their processes and the run's books.
    pub c: RegistryCluster<F::Log>,
    /// Per member: its files and the work for its host.
    pub slots: Vec<Slot<F>>,
    /// The log a start began from, while its outputs are routed (its
    /// replay restores the snapshot it holds).
    start_disk: Option<LogImage>,
    /// The world's timers, due by the runtime's clock.
    pub timers: Clock<Timer>,
    /// Per link: the duplicate draws (turmoil never duplicates a
    /// datagram, so the sender does, at the scenario's rate) and their
    /// sequence numbers.
    duplicates: Vec<(KeyedRng, u64)>,
    /// Client attempts in flight to a node, by token.
    attempts: BTreeMap<u64, (usize, Attempt)>,
    next_token: u64,
    /// Datagrams the client host sends: (node, token).
    pub client_out: Vec<(u8, u64)>,
    pub client_notify: Rc<tokio::sync::Notify>,
}

impl<F: NodeFiles> World<F> {
    /// `files(i)`: node `i`'s files.
    pub fn new(sc: &Scenario, seed: u64, opts: SimOptions, files: impl Fn(u8) -> F) -> World<F> {
        let n = sc.nodes;
        let nn = usize::from(n);
        let streams = Streams::new(seed);
        World {
            slots: (0..n)
                .map(|i| Slot {
                    files: files(i),
                    epoch: EpochFile::default(),
                    epoch_injected: false,
                    journal: Some(Journal::default()),
                    synced_records: 0,
                    power_lost: false,
                    start_requested: false,
                    dying: None,
                    seen_syncs: None,
                    inbox: VecDeque::new(),
                    held: Vec::new(),
                    outbox: Vec::new(),
                    notify: Rc::new(tokio::sync::Notify::new()),
                })
                .collect(),
            start_disk: None,
            timers: Clock::new(),
            duplicates: (0..nn * nn)
                .map(|l| (streams.keyed(Subsystem::Network, 5_000 + l as u64), 0))
                .collect(),
            attempts: BTreeMap::new(),
            next_token: 1,
            client_out: Vec::new(),
            client_notify: Rc::new(tokio::sync::Notify::new()),
            c: crate::registry::cluster(sc, &streams, opts),
        }
    }

    pub fn timer(&mut self, at: u64, t: Timer) {
        self.timers.push(at, t);
    }

    pub fn is_up(&self, node: u8) -> bool {
        self.c.nodes[usize::from(node)].state.exists()
    }

    // ------------------------------------------------ inside the node host

    /// Starts an incarnation of `node` (inside its host): the injected
    /// file changes first, then the files reopened as turmoil kept them,
    /// then the spec's start sequence (see [`lifecycle::start`]). True
    /// when it joined.
    pub fn start(&mut self, node: u8) -> bool {
        self.slots[usize::from(node)].start_requested = false;
        lifecycle::start(self, node)
    }

    /// Before a start: writes an injected epoch (preset or rollback) into
    /// the node's file, then checks the file against the harness's record.
    fn check_epoch_file(&mut self, node: u8) {
        let i = usize::from(node);
        if std::mem::take(&mut self.slots[i].epoch_injected) {
            let s = &mut self.slots[i];
            if let Err(e) = s.files.inject_epoch(&s.epoch) {
                self.c.sys.obs.store_failure(
                    self.c.now,
                    "store-open",
                    node,
                    format!("injecting the epoch file: {e}"),
                );
            }
        }
        let s = &self.slots[i];
        match s.files.read_epoch(&s.epoch) {
            Ok(actual) if actual != self.slots[i].epoch.read() => {
                let e = &self.slots[i].epoch;
                let detail = format!(
                    "turmoil's file system holds epoch {actual}, the harness's record {} (synced {}): the runtimes' durability models disagree",
                    e.read(),
                    e.synced()
                );
                self.c.violation("runtime-agreement", Some(node), detail);
            }
            Ok(_) => {}
            Err(e) => self.c.sys.obs.store_failure(
                self.c.now,
                "store-open",
                node,
                format!("epoch file: {e}"),
            ),
        }
    }

    /// Reopens the registry file as turmoil's file system kept it and
    /// brings the harness's journal in line with what a power loss kept,
    /// checking the file's records against the harness's.
    fn reopen_file(&mut self, node: u8) -> Option<(SimStore, Journal)> {
        let i = usize::from(node);
        let journal = self.slots[i].journal.take().unwrap_or_default();
        let (store, cut) = match self.slots[i].files.open_store() {
            Ok(opened) => opened,
            Err(e) => {
                self.slots[i].journal = Some(journal);
                self.c
                    .sys
                    .obs
                    .store_failure(self.c.now, "store-open", node, e.to_string());
                return None;
            }
        };
        let records = match &store {
            SimStore::File(f) => f.records(),
            // A store in memory keeps every batch: nothing to count.
            _ => self.slots[i].synced_records + journal.unsynced_batches() as u64,
        };
        let synced = self.slots[i].synced_records;
        let unsynced = journal.unsynced_batches() as u64;
        if records < synced {
            let detail = format!(
                "the registry file holds {records} records, {synced} of them synced before: a synced write was lost"
            );
            self.c.violation("durability", Some(node), detail);
        }
        let mut journal = journal;
        if std::mem::take(&mut self.slots[i].power_lost) {
            // What turmoil's crash kept of the unsynced batches: whole
            // records only (a torn one was cut).
            let keep = records.saturating_sub(synced);
            self.c
                .record(Some(node), &kinds::POWER_LOSS_KEPT, keep, unsynced);
            if cut > 0 {
                self.c.record(Some(node), &kinds::POWER_LOSS_CUT, cut, 0);
                self.c.sys.obs.mark(SimMark::PowerLossTornWrite);
            }
            if journal.forget_unsynced_after(keep as usize) > 0 {
                self.c.sys.obs.mark(SimMark::PowerLossUnsyncedRegistry);
            }
        } else if records != synced + unsynced {
            let detail = format!(
                "after a process crash turmoil's file system holds {records} registry records; the harness wrote {} and synced {synced}: the runtimes' durability models disagree",
                synced + unsynced
            );
            self.c.violation("runtime-agreement", Some(node), detail);
        }
        Some((store, journal))
    }

    fn cut_at(&mut self, node: u8, index: u64, disk: &LogImage) {
        let member = &mut self.c.nodes[usize::from(node)].member;
        self.c
            .sys
            .obs
            .write_cut(self.c.now, node, member, index, disk);
    }

    /// Stops a running node (a crash, a halt, or the run's end): its store
    /// is shown to the checkers and its journal kept for the next start.
    pub fn stop(&mut self, node: u8, reason: DownReason) {
        lifecycle::stop(self, node, reason);
    }

    /// Calls into a running core (inside its host) and handles what
    /// follows (see [`call`]): syncs are done at once (turmoil's file
    /// system has no latency here).
    pub fn call(
        &mut self,
        node: u8,
        f: impl FnOnce(
            &mut Core<F::Log, WriterRegistry>,
            &mut Outputs<WriterRegistry>,
            &mut dyn CrashPoints,
        ) -> Result<bool, node::Crashed>,
    ) {
        call::call(self, node, f);
    }

    /// START-6: proposes this incarnation's registrations (see
    /// [`lifecycle::propose_owed`]); the driver retries.
    pub fn propose_owed(&mut self, node: u8) {
        lifecycle::propose_owed(self, node);
    }

    /// A Raft tick (inside the host). A process paused while its host
    /// waited takes none, as on the native engine.
    pub fn tick(&mut self, node: u8) {
        if self.c.nodes[usize::from(node)].state.running().is_none() {
            return;
        }
        self.c.record(Some(node), &kinds::TICK, 0, 0);
        self.call(node, |core, out, crash| {
            core.tick(out, crash).map(|_| false)
        });
    }

    /// A datagram reached running `node` (inside its host): judged by the
    /// in-flight rule, then handed to the core (held, if the process was
    /// paused while its host waited for the datagram).
    pub fn receive(&mut self, node: u8, bytes: &[u8]) {
        if self.c.nodes[usize::from(node)].state.is_paused() {
            self.hold(node, bytes);
        } else if let Some(datagram) = self.arrival(node, bytes) {
            self.hand_over(node, datagram);
        }
    }

    /// A datagram reached `node` while its process is paused: judged by the
    /// in-flight rule as it arrives, as on the native engine, and handed
    /// over at resume.
    pub fn hold(&mut self, node: u8, bytes: &[u8]) {
        if let Some(datagram) = self.arrival(node, bytes) {
            self.slots[usize::from(node)].held.push(datagram);
        }
    }

    /// A datagram reached `node` while it has no process: dropped, with
    /// the drop of one sent to a gone incarnation recorded, as on the
    /// native engine.
    pub fn arrive_down(&mut self, node: u8, bytes: &[u8]) {
        let _ = self.arrival(node, bytes);
    }

    /// Decodes a datagram that reached `node` and judges a raft message by
    /// the in-flight rule; `None` when it dies.
    fn arrival(&mut self, node: u8, bytes: &[u8]) -> Option<Datagram> {
        match bytes.split_first() {
            Some((&TAG_RAFT, body)) => {
                let decoded = body.split_first_chunk::<8>().and_then(|(incs, body)| {
                    let msg = Message::parse_from_bytes(body).ok()?;
                    let (from, to) = incs.split_at(4);
                    let inc = |b: &[u8]| u32::from_be_bytes(b.try_into().expect("4 bytes"));
                    Some((inc(from), inc(to), msg))
                });
                let Some((from_inc, to_inc, msg)) = decoded else {
                    return Some(Datagram::Garbage(
                        "a datagram that does not decode as a raft message",
                    ));
                };
                let from = msg.from.saturating_sub(1);
                self.reachable(from, from_inc, node, to_inc)
                    .then(|| Datagram::Raft(Box::new(msg)))
            }
            Some((&TAG_CLIENT, body)) if body.len() == 8 => {
                let token = u64::from_be_bytes(body.try_into().expect("8 bytes"));
                Some(Datagram::Client(token))
            }
            _ => Some(Datagram::Garbage("a datagram with an unknown tag")),
        }
    }

    /// Hands a datagram that survived its arrival to `node`'s core.
    fn hand_over(&mut self, node: u8, datagram: Datagram) {
        match datagram {
            Datagram::Raft(msg) => {
                let from = msg.from.saturating_sub(1) as u8;
                self.c.sys.obs.delivered(self.c.now, node, from, &msg);
                self.call(node, |core, out, crash| {
                    core.step(*msg, out, crash).map(|_| false)
                });
            }
            Datagram::Client(token) => {
                if let Some((cmd, attempt)) = self.attempts.remove(&token) {
                    self.client_arrived(node, cmd, attempt);
                }
            }
            Datagram::Garbage(what) => {
                self.c
                    .violation("runtime-agreement", Some(node), what.into())
            }
        }
    }

    /// Judges a raft message by the engine's in-flight rule (a paused or
    /// down host reads its socket too, so it is judged at arrival whatever
    /// the process does); true when it reaches the process. A link cut
    /// under a message is the runtime network's to judge (see
    /// `regsim_engine::in_flight`): none is reported here.
    fn reachable(&mut self, from: u64, from_inc: u32, to: u8, to_inc: u32) -> bool {
        let Some(from) = u8::try_from(from).ok().filter(|&f| f < self.c.sys.sc.nodes) else {
            let detail = format!("a raft message from n{}, outside the cluster", from + 1);
            self.c.violation("runtime-agreement", Some(to), detail);
            return false;
        };
        let sent = Envelope {
            from,
            from_inc,
            to,
            to_inc,
        };
        let nodes = &self.c.nodes;
        let incarnation = |n: u8| nodes[usize::from(n)].member.incarnation;
        self.c.sys.obs.arrival(self.c.now, sent, incarnation, false) == Arrival::Arrives
    }

    /// A client's attempt reached its node: encrypt at the first node able
    /// to (a retry resends the same bytes), then propose.
    fn client_arrived(&mut self, node: u8, cmd: usize, attempt: Attempt) {
        let s = &self.c.nodes[usize::from(node)];
        let at = (node, &s.member, s.state.running().map(|core| core.app()));
        let (obs, clients) = (&mut self.c.sys.obs, &mut self.c.sys.clients);
        let data = obs.client_proposal(self.c.now, clients, at, cmd, attempt);
        if let Some(data) = data {
            self.call(node, |core, out, crash| {
                core.propose(data, out, crash).map(|_| false)
            });
        }
    }

    /// Does what the driver queued for `node` (inside its host).
    pub fn work(&mut self, node: u8) {
        // What arrived while paused came first.
        for datagram in std::mem::take(&mut self.slots[usize::from(node)].held) {
            if !self.is_up(node) {
                return;
            }
            self.hand_over(node, datagram);
        }
        while let Some(w) = self.slots[usize::from(node)].inbox.pop_front() {
            if !self.is_up(node) {
                return;
            }
            match w {
                Work::Owed => self.propose_owed(node),
                Work::Snapshot => self.snapshot(node),
                Work::Inject(injection) => {
                    let Injection {
                        data,
                        injected,
                        kind,
                        a,
                        b,
                    } = *injection;
                    let mut accepted = false;
                    self.call(node, |core, out, crash| {
                        accepted = core.propose(data, out, crash)?;
                        Ok(false)
                    });
                    if accepted {
                        self.c.sys.injector.record(injected);
                        self.c.record(Some(node), kind, a, b);
                    }
                }
            }
        }
    }

    fn snapshot(&mut self, node: u8) {
        let min_new = self.c.sys.sc.snapshots.keep_entries;
        let mut taken = None;
        self.call(node, |core, _, _| {
            taken = core.take_snapshot(min_new)?;
            Ok(false)
        });
        if let (Some(index), Some(core)) = (taken, self.c.nodes[usize::from(node)].state.core()) {
            let snapshot = F::with_image(core.log(), |d| d.snapshot.clone());
            self.c
                .sys
                .obs
                .snapshot_taken(self.c.now, node, index, &snapshot);
        }
    }

    // ------------------------------------------------------ for the driver

    /// A client command's next attempt, sent by the client host.
    pub fn client_attempt(&mut self, cmd: usize) {
        let Some(attempt) = self.c.sys.clients.attempt(cmd, self.c.sys.sc.nodes) else {
            return;
        };
        let token = self.next_token;
        self.next_token += 1;
        self.client_out.push((attempt.node, token));
        self.attempts.insert(token, (cmd, attempt));
        self.client_notify.notify_one();
        let timeout = self.c.sys.sc.workload.client_timeout_ms * 1000;
        self.timer(self.c.now + timeout, Timer::ClientRetry { cmd });
    }

    pub fn client_retry(&mut self, cmd: usize) {
        if !self.c.sys.clients.is_done(cmd) {
            self.client_attempt(cmd);
        }
    }

    /// Queues work for a node's host and wakes it. A paused process does
    /// no work, as on the native engine: a snapshot or an injected entry
    /// aimed at it is dropped, and its registration retry only keeps its
    /// timer going (proposing nothing touches its files).
    pub fn hand(&mut self, node: u8, work: Work) {
        let state = &self.c.nodes[usize::from(node)].state;
        if !state.exists() {
            return;
        }
        if state.is_paused() {
            if matches!(work, Work::Owed) {
                self.propose_owed(node);
            }
            return;
        }
        let s = &mut self.slots[usize::from(node)];
        s.inbox.push_back(work);
        s.notify.notify_one();
    }

    /// Replaces a down node's epoch file with its previous synced copy
    /// (written into the file by the host at the next start).
    pub fn roll_back_epoch(&mut self, node: u8) {
        let slot = &mut self.slots[usize::from(node)];
        let who = (node, self.c.nodes[usize::from(node)].member.full);
        let books = Books::at(&mut self.c.sys.obs, &mut self.c.sys.injector, self.c.now);
        if target::roll_back_epoch_file(books, &mut slot.epoch, who) {
            slot.epoch_injected = true;
        }
    }
}

/// What the hosted runtimes do their own way around a call into a core:
/// messages become datagrams for the host to send (duplicated at the
/// scenario's rate: turmoil never duplicates), syncs are done at once,
/// and what is observed is read off the running core's log.
impl<F: NodeFiles> Runtime for World<F> {
    type Log = F::Log;
    type System = WriterRegistry;

    fn cluster(&mut self) -> &mut RegistryCluster<F::Log> {
        &mut self.c
    }

    fn observe_synced(&mut self, node: u8) {
        let i = usize::from(node);
        if !self.c.sys.raft_checked() {
            return;
        }
        let slot = &mut self.slots[i];
        let Some(core) = self.c.nodes[i].state.core() else {
            return;
        };
        let (books, now, seen) = (&mut self.c.sys, self.c.now, &mut slot.seen_syncs);
        F::with_record(core.log(), |record| {
            if *seen != Some(record.syncs()) {
                *seen = Some(record.syncs());
                let log = record.synced();
                books.raft(now, RaftObservation::Synced { node, log });
            }
        });
    }

    fn observe_send(&mut self, from: u8, msg: &Message) {
        let Some(core) = self.c.nodes[usize::from(from)].state.core() else {
            return;
        };
        if !self.c.sys.raft_checked() {
            return;
        }
        let (books, now) = (&mut self.c.sys, self.c.now);
        F::with_record(core.log(), |record| {
            let sent = RaftObservation::Sent {
                from,
                msg,
                synced: record.synced(),
                written: record.written(),
            };
            books.raft(now, sent);
        });
    }

    /// Queues a Raft message for the host to send. A snapshot handed to
    /// the network asks for its report at once.
    fn send(&mut self, from: u8, m: Message) -> Option<FollowUp> {
        let to =
            m.to.checked_sub(1)
                .and_then(|t| u8::try_from(t).ok())
                .filter(|&t| t < self.c.sys.sc.nodes)?;
        self.c.sys.obs.stats.messages += 1;
        let kind = m.get_msg_type() as u64;
        self.c.record(
            Some(from),
            &kinds::SEND,
            u64::from(to),
            kind << 32 | m.index,
        );
        // Each end's incarnation travels with the message: the receiver
        // drops what a dead incarnation sent or what was sent to one.
        let (from_inc, to_inc) = (self.c.incarnation(from), self.c.incarnation(to));
        let mut bytes = vec![TAG_RAFT];
        bytes.extend(from_inc.to_be_bytes());
        bytes.extend(to_inc.to_be_bytes());
        bytes.extend(m.write_to_bytes().expect("raft messages encode"));
        let link = usize::from(from) * usize::from(self.c.sys.sc.nodes) + usize::from(to);
        let (rng, seq) = &mut self.duplicates[link];
        let again = rng.draw(*seq).unit(0) < self.c.sys.sc.network.duplicate_rate;
        *seq += 1;
        let outbox = &mut self.slots[usize::from(from)].outbox;
        if again {
            outbox.push((to, bytes.clone()));
        }
        outbox.push((to, bytes));
        (m.get_msg_type() == MessageType::MsgSnapshot).then_some(FollowUp::SnapshotSent(to))
    }

    fn sync(&mut self, _node: u8, ready: u64) -> Option<FollowUp> {
        Some(FollowUp::Sync(ready))
    }

    /// The snapshot a start restores is the one the log it opened holds;
    /// one installed later, the running log's.
    fn snapshot_hash(&self, node: u8, index: u64) -> Option<u64> {
        let core = self.c.nodes[usize::from(node)].state.core();
        let started = self.start_disk.as_ref();
        started
            .and_then(|d| d.snapshot_hash_at(index))
            .or_else(|| core.and_then(|c| F::with_image(c.log(), |d| d.snapshot_hash_at(index))))
    }

    fn leader(&mut self, node: u8, term: u64, in_flight: bool) {
        let (obs, now) = (&mut self.c.sys.obs, self.c.now);
        match self.c.nodes[usize::from(node)].state.core() {
            Some(core) => F::with_image(core.log(), |log| {
                obs.leader(now, node, term, Some(log), in_flight)
            }),
            None => obs.leader(now, node, term, None, in_flight),
        }
    }

    /// In a start, the log it began from (its core is gone when the start
    /// failed); else the running log.
    fn write_cut(&mut self, node: u8, index: u64) {
        let core = self.c.nodes[usize::from(node)].state.core();
        let disk = match (&self.start_disk, core) {
            (Some(disk), _) => disk.clone(),
            (None, Some(core)) => F::with_image(core.log(), LogImage::clone),
            (None, None) => return,
        };
        self.cut_at(node, index, &disk);
    }

    fn stop(&mut self, node: u8, reason: DownReason) {
        lifecycle::stop(self, node, reason);
    }

    /// The process is gone; the driver finishes the crash (with power
    /// loss, on turmoil's file system) and restarts it after the down time.
    fn armed_crash(&mut self, node: u8, power_loss: bool) {
        if self.c.nodes[usize::from(node)].state.exists() {
            self.c.sys.obs.stats.crashes += 1;
            self.stop(node, DownReason::Crashed);
        }
        self.slots[usize::from(node)].dying = Some(power_loss);
        let down_us = self.c.sys.injector.down_after_armed_crash(node);
        self.timer(self.c.now + down_us, Timer::ArmedRestart { node });
    }
}

/// Where the hosted runtimes keep a node's files: on the runtime's file
/// system (or in memory), checked against the harness's records at each
/// start; the host's clock ticks a started core.
impl<F: NodeFiles> Files for World<F> {
    fn forget_work(&mut self, node: u8) {
        let s = &mut self.slots[usize::from(node)];
        s.inbox.clear();
        s.held.clear();
        s.outbox.clear();
    }

    fn keep_store(&mut self, node: u8, (store, journal): (SimStore, Journal)) {
        let s = &mut self.slots[usize::from(node)];
        if let SimStore::File(f) = &store {
            // Saturating: a file holding fewer records than the journal's
            // unsynced batches was already reported at its reopen.
            let unsynced = journal.unsynced_batches() as u64;
            s.synced_records = f.records().saturating_sub(unsynced);
        }
        s.journal = Some(journal);
        s.files.keep_store(store);
    }

    fn before_start(&mut self, node: u8) {
        self.check_epoch_file(node);
    }

    fn open_store(&mut self, node: u8) -> Option<(SimStore, Journal)> {
        self.reopen_file(node)
    }

    /// A file's records, counted at the injection's own sync.
    fn synced_count((store, _): &(SimStore, Journal)) -> Option<u64> {
        match store {
            SimStore::File(f) => Some(f.records()),
            _ => None,
        }
    }

    /// The injection's own sync covered every record the file held then.
    fn damage_synced(&mut self, node: u8, count: u64) {
        self.slots[usize::from(node)].synced_records = count;
    }

    fn open_log(&mut self, node: u8) -> Option<F::Log> {
        let voters: Vec<u64> = (1..=u64::from(self.c.sys.sc.nodes)).collect();
        let i = usize::from(node);
        match self.slots[i].files.open_log(&voters) {
            Ok((log, cut)) => {
                if cut > 0 {
                    self.c.record(Some(node), &kinds::RAFT_LOG_CUT, cut, 0);
                    self.c.sys.obs.mark(SimMark::PowerLossTornWrite);
                }
                self.slots[i].seen_syncs = None;
                Some(log)
            }
            Err(e) => {
                self.c.sys.obs.store_failure(
                    self.c.now,
                    "store-open",
                    node,
                    format!("raft log: {e}"),
                );
                None
            }
        }
    }

    fn start_facts(&self, node: u8) -> (u16, u16) {
        self.slots[usize::from(node)].epoch.read_and_synced()
    }

    /// Keeps the log the start began from until it ends: its replay
    /// restores the snapshot it holds, and a start that fails has no
    /// core to read it from.
    fn start_from(&mut self, _node: u8, log: &F::Log) -> u64 {
        debug_assert!(self.start_disk.is_none(), "a start began inside another");
        let disk = F::with_image(log, LogImage::clone);
        let commit = disk.hard_state.commit;
        self.start_disk = Some(disk);
        commit
    }

    fn run_start(
        &mut self,
        node: u8,
        params: NodeParams,
        log: F::Log,
        tracked: TrackedStore,
        out: &mut Outputs<WriterRegistry>,
    ) -> Started<F::Log, WriterRegistry> {
        let s = &mut self.slots[usize::from(node)];
        let mut epoch_file = s.files.epoch_file(&mut s.epoch);
        let logger = &self.c.logger;
        node::start(params, log, &mut epoch_file, tracked, logger, out)
    }

    /// A start syncs the log it opened before its replay (turmoil's open
    /// already did): the checkers see it synced as read. (The hosted
    /// runtimes cannot show `log-not-synced-on-open`.)
    fn observe_start(&mut self, node: u8) {
        if let (true, Some(disk)) = (self.c.sys.raft_checked(), &self.start_disk) {
            let synced = RaftObservation::Synced { node, log: disk };
            self.c.sys.raft(self.c.now, synced);
        }
    }

    fn start_done(&mut self, _node: u8) {
        self.start_disk = None;
    }

    /// The host ticks its core.
    fn joined(&mut self, _node: u8) {}

    fn retry_owed(&mut self, node: u8, inc: u32, at: u64) {
        self.timer(at, Timer::OwedRetry { node, inc });
    }
}

/// A datagram that survived its arrival at a node.
enum Datagram {
    Raft(Box<Message>),
    /// A client's attempt, by token.
    Client(u64),
    /// What the runtime should never carry: a violation when handed over.
    Garbage(&'static str),
}

#[cfg(test)]
mod tests {
    //! The hosted world at its own level, over files in memory: the
    //! in-flight rule as the runtimes' datagrams carry it.

    use raft::eraftpb::{Message, MessageType};

    use super::World;
    use crate::hosted::memory::MemoryFiles;
    use crate::world::call::Runtime;
    use crate::world::cluster::MemberBooks;
    use crate::world::testing;

    fn world() -> World<MemoryFiles> {
        let sc = testing::default_scenario();
        let voters: Vec<u64> = (1..=u64::from(sc.nodes)).collect();
        World::new(&sc, 1, testing::options(), |_| MemoryFiles::new(&voters))
    }

    /// The datagram `from` sends `to` now (its last copy, if duplicated).
    fn datagram(w: &mut World<MemoryFiles>, from: u8, to: u8) -> Vec<u8> {
        let mut m = Message::default();
        m.set_msg_type(MessageType::MsgHeartbeat);
        (m.from, m.to) = (u64::from(from) + 1, u64::from(to) + 1);
        Runtime::send(w, from, m);
        let out = std::mem::take(&mut w.slots[usize::from(from)].outbox);
        out.into_iter().last().unwrap().1
    }

    /// The trace's kinds since the last call, less the send lines.
    fn arrivals(w: &mut World<MemoryFiles>) -> Vec<String> {
        let kinds = testing::lines(&mut w.c.sys.obs.trace, 2..3);
        kinds.into_iter().filter(|k| k != "send").collect()
    }

    #[test]
    fn a_dead_incarnation_s_datagrams_die_and_those_for_one_are_dropped_as_they_arrive() {
        let mut w = world();
        let old = datagram(&mut w, 0, 1);
        w.c.nodes[0].member.ended();
        w.receive(1, &old);
        assert!(
            arrivals(&mut w).is_empty(),
            "a dead sender's datagram arrived"
        );
        let new = datagram(&mut w, 0, 1);
        w.receive(1, &new);
        assert_eq!(arrivals(&mut w), ["deliver"]);
        let for_gone = datagram(&mut w, 0, 1);
        w.c.nodes[1].member.ended();
        w.receive(1, &for_gone);
        assert_eq!(arrivals(&mut w), ["drop-partition"]);
    }

    #[test]
    fn what_reached_a_paused_process_is_judged_as_it_arrived_and_handed_over_at_resume() {
        let mut w = world();
        assert!(w.start(1), "n2 joins");
        arrivals(&mut w);
        assert!(w.c.nodes[1].state.set_paused(true));
        let before = datagram(&mut w, 0, 1);
        w.hold(1, &before);
        // The sender crashes after its message arrived: it still counts.
        w.c.nodes[0].member.ended();
        assert!(arrivals(&mut w).is_empty(), "handed over while paused");
        assert!(w.c.nodes[1].state.set_paused(false));
        w.work(1);
        assert_eq!(arrivals(&mut w), ["deliver"]);
        // Sent to n2 while down, by a sender gone since: dropped silently;
        // sent to n2's incarnation before a crash: dropped, recorded.
        let for_old = datagram(&mut w, 0, 1);
        w.stop(1, crate::world::DownReason::Crashed);
        arrivals(&mut w);
        w.arrive_down(1, &for_old);
        assert_eq!(arrivals(&mut w), ["drop-partition"]);
    }

    #[test]
    fn a_process_paused_while_its_host_waited_takes_no_tick_and_its_datagram_is_held() {
        let mut w = world();
        assert!(w.start(1), "n2 joins");
        arrivals(&mut w);
        // The host was waiting in its select when the driver paused it.
        assert!(w.c.nodes[1].state.set_paused(true));
        w.tick(1);
        let bytes = datagram(&mut w, 0, 1);
        w.receive(1, &bytes);
        let lines = testing::lines(&mut w.c.sys.obs.trace, 2..3);
        assert!(!lines.contains(&"tick".to_string()), "{lines:?}");
        assert!(!lines.contains(&"deliver".to_string()), "{lines:?}");
        assert!(w.c.nodes[1].state.set_paused(false));
        w.work(1);
        assert_eq!(arrivals(&mut w), ["deliver"], "held for the resume");
    }
}
