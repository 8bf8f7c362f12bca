//! The driver's side of a hosted run: between the runtime's steps it
//! plays the schedule's due events and the timers (client retries,
//! registration retries, restarts after armed crashes), finishes the armed
//! crashes the hosts reported, and decides when the run is over.
//!
//! A restart here is asynchronous: the driver asks, the node's host runs
//! the start sequence when next scheduled. A fault aimed at a node being
//! started is aimed at its process, as on the native engine, whose
//! restart is synchronous: the same schedule means the same run.

use std::cell::RefCell;
use std::rc::Rc;

use super::world::{Timer, Work, World};
use super::{Fabric, NodeFiles};
use crate::oracle::checkers::{Checkers, Observation};
use crate::scenario::Scenario;
use crate::schedule::{Action, Schedule};
use crate::trace::{kinds, Trace};
use crate::world::target::{self, Books, Injection, Life, Target};
use crate::world::{DownReason, Ending, RunOutput};
use regsim_engine::process;

/// Where a run is: the next event, the liveness deadline, the passes.
pub(crate) struct Driver<'a> {
    sc: &'a Scenario,
    schedule: &'a Schedule,
    next_event: usize,
    deadline: Option<u64>,
    passes: u64,
}

impl<'a> Driver<'a> {
    pub fn new<F: NodeFiles>(
        sc: &'a Scenario,
        schedule: &'a Schedule,
        world: &Rc<RefCell<World<F>>>,
    ) -> Self {
        for s in world.borrow_mut().slots.iter_mut() {
            s.start_requested = true;
        }
        Driver {
            sc,
            schedule,
            next_event: 0,
            deadline: None,
            passes: 0,
        }
    }

    /// One pass at virtual time `now` (µs), between two of the runtime's
    /// steps: the run's ending once it is over.
    pub fn pass<F: NodeFiles>(
        &mut self,
        now: u64,
        fabric: &mut dyn Fabric,
        world: &Rc<RefCell<World<F>>>,
    ) -> Option<Ending> {
        world.borrow_mut().c.now = now;
        // What the hosts did in the last step happened before this pass.
        settle(fabric, world);
        let events = &self.schedule.events;
        while self.next_event < events.len() && events[self.next_event].at_us <= now {
            let action = events[self.next_event].action.clone();
            let starting = |n: &u8| world.borrow().slots[usize::from(*n)].start_requested;
            if action.nodes().iter().any(starting) {
                // Its node's start runs first, as it would have natively.
                break;
            }
            self.next_event += 1;
            if action.ends_faults() {
                self.deadline = Some(now + self.sc.liveness_bound_ms * 1000);
            }
            act(fabric, world, action);
        }
        loop {
            let due = world.borrow_mut().timers.pop_due(now);
            let Some(t) = due else { break };
            timer(fabric, world, t);
        }
        let mut w = world.borrow_mut();
        let records = w.c.sys.injector.take_records();
        for r in records {
            w.c.sys.obs.checkers.injected(now, r);
        }
        if w.c.sys.obs.harness_error.is_some() {
            return Some(Ending::Converged);
        }
        if let Some(deadline) = self.deadline {
            let states = w.c.states();
            if process::converged(states.clone()) {
                return Some(Ending::Converged);
            }
            if now > deadline {
                return Some(Ending::not_converged("", states));
            }
        }
        w.c.sys.obs.stats.events += 1;
        if let Some(e) = w.c.sys.opts.cancel.check_at(w.c.sys.obs.stats.events) {
            w.c.sys.obs.harness_error.get_or_insert(e);
            return Some(Ending::Converged);
        }
        self.passes += 1;
        let max = self.sc.limits.max_events;
        (self.passes > max).then(|| Ending::Livelock(format!("more than {max} steps in one run")))
    }
}

/// Finishes what the hosts started during the last step: an armed crash
/// that fired (with power loss, the runtime drops the unsynced writes now).
fn settle<F: NodeFiles>(fabric: &mut dyn Fabric, world: &Rc<RefCell<World<F>>>) {
    let n = world.borrow().slots.len() as u8;
    for node in 0..n {
        let dying = world.borrow_mut().slots[usize::from(node)].dying.take();
        if let Some(power) = dying {
            fabric.kill(node);
            if power {
                power_loss(fabric, world, node);
            }
            rollback_after_crash(world, node);
        }
    }
}

fn rollback_after_crash<F: NodeFiles>(world: &Rc<RefCell<World<F>>>, node: u8) {
    let mut w = world.borrow_mut();
    if w.c.sys.injector.take_rollback(node) {
        w.roll_back_epoch(node);
    }
}

/// Power is lost: what was not synced is gone, as the runtime decides; the
/// checkers are told (a runtime with no durability model runs it as the
/// process crash it already was, and tells nobody).
fn power_loss<F: NodeFiles>(fabric: &mut dyn Fabric, world: &Rc<RefCell<World<F>>>, node: u8) {
    if !fabric.power_off(node) {
        world
            .borrow_mut()
            .c
            .record(Some(node), &kinds::POWER_LOSS_AS_CRASH, 0, 0);
        return;
    }
    if world.borrow().slots[usize::from(node)].start_requested {
        // A start asked for and not run yet runs on the new software.
        fabric.power_on(node);
    }
    let mut w = world.borrow_mut();
    w.c.sys.obs.stats.power_losses += 1;
    let now = w.c.now;
    let s = &mut w.slots[usize::from(node)];
    s.power_lost = true;
    s.epoch.power_loss();
    w.c.record(Some(node), &kinds::POWER_LOSS, 0, 0);
    w.c.sys
        .obs
        .checkers
        .observe(now, Observation::PowerLost { node });
}

/// A process crash: the node's process stops; its software comes back
/// idle, waiting for the restart; pending writes stay.
fn crash<F: NodeFiles>(fabric: &mut dyn Fabric, world: &Rc<RefCell<World<F>>>, node: u8) {
    // A start the host has not run yet dies before it begins.
    world.borrow_mut().slots[usize::from(node)].start_requested = false;
    let up = world.borrow().is_up(node);
    if up {
        let mut w = world.borrow_mut();
        w.c.sys.obs.stats.crashes += 1;
        w.stop(node, DownReason::Crashed);
    }
    fabric.kill(node);
}

fn restart<F: NodeFiles>(fabric: &mut dyn Fabric, world: &Rc<RefCell<World<F>>>, node: u8) {
    {
        let mut w = world.borrow_mut();
        let w = &mut *w;
        let s = &mut w.slots[usize::from(node)];
        if !w.c.nodes[usize::from(node)].state.may_start() || s.start_requested {
            return;
        }
        s.start_requested = true;
        s.notify.notify_one();
    }
    fabric.power_on(node);
}

fn timer<F: NodeFiles>(fabric: &mut dyn Fabric, world: &Rc<RefCell<World<F>>>, t: Timer) {
    match t {
        Timer::ClientRetry { cmd } => world.borrow_mut().client_retry(cmd),
        Timer::OwedRetry { node, inc } => {
            let mut w = world.borrow_mut();
            if w.c.nodes[usize::from(node)].member.incarnation == inc {
                w.hand(node, Work::Owed);
            }
        }
        Timer::ArmedRestart { node } => restart(fabric, world, node),
    }
}

fn act<F: NodeFiles>(fabric: &mut dyn Fabric, world: &Rc<RefCell<World<F>>>, action: Action) {
    action.apply(&mut Hosted { fabric, world });
}

/// A hosted world and its runtime's fabric, as the schedule's actions see
/// them (each event kind decides when it applies).
struct Hosted<'a, F: NodeFiles> {
    fabric: &'a mut dyn Fabric,
    world: &'a Rc<RefCell<World<F>>>,
}

impl<F: NodeFiles> Target for Hosted<'_, F> {
    fn life(&self, node: u8) -> Life {
        let w = self.world.borrow();
        let s = &w.slots[usize::from(node)];
        match Life::of(&w.c.nodes[usize::from(node)].state) {
            // An event never meets a node whose start is pending (`pass`
            // holds it back until the start has run); its files are the
            // host's from the request on.
            Life::Down(_) if s.start_requested => Life::Starting,
            life => life,
        }
    }

    fn books<R>(&mut self, f: impl FnOnce(Books<'_>) -> R) -> R {
        let mut w = self.world.borrow_mut();
        let w = &mut *w;
        f(Books::at(&mut w.c.sys.obs, &mut w.c.sys.injector, w.c.now))
    }

    fn fulls(&self) -> Vec<u64> {
        let w = self.world.borrow();
        crate::registry::fulls(&w.c)
    }

    fn first_dek(&self) -> u32 {
        self.world.borrow().c.sys.sc.deks[0]
    }

    fn next_pid(&mut self) -> u64 {
        self.world.borrow_mut().c.sys.clients.next_pid()
    }

    fn crash(&mut self, node: u8, power_loss: bool) {
        crash(self.fabric, self.world, node);
        if power_loss {
            self::power_loss(self.fabric, self.world, node);
        }
        rollback_after_crash(self.world, node);
    }

    fn restart(&mut self, node: u8) {
        restart(self.fabric, self.world, node);
    }

    fn pause(&mut self, node: u8) -> bool {
        let mut w = self.world.borrow_mut();
        let w = &mut *w;
        let s = &mut w.slots[usize::from(node)];
        if !w.c.nodes[usize::from(node)].state.set_paused(true) {
            return false;
        }
        // Wake the host (its notify branch comes first) so it stops
        // before it handles anything more.
        s.notify.notify_one();
        true
    }

    fn resume(&mut self, node: u8) {
        resume(self.world, node);
    }

    fn roll_back_epoch(&mut self, node: u8) {
        self.world.borrow_mut().roll_back_epoch(node);
    }

    fn preset_epoch(&mut self, node: u8, epoch: u16) {
        let mut w = self.world.borrow_mut();
        let w = &mut *w;
        let s = &mut w.slots[usize::from(node)];
        s.epoch_injected = true;
        let who = (node, w.c.nodes[usize::from(node)].member.full);
        let books = Books::at(&mut w.c.sys.obs, &mut w.c.sys.injector, w.c.now);
        target::preset_epoch_file(books, &mut s.epoch, who, epoch);
    }

    fn queue_corruption(&mut self, node: u8, corruption: (u8, u32, crate::store::Corruption)) {
        let mut w = self.world.borrow_mut();
        w.c.nodes[usize::from(node)]
            .member
            .corruptions
            .push(corruption);
    }

    fn partition(&mut self, side: &[u8]) {
        let n = self.world.borrow().slots.len() as u8;
        for &a in side {
            for b in (0..n).filter(|b| !side.contains(b)) {
                self.fabric.partition(a, b);
            }
        }
    }

    fn one_way(&mut self, from: u8, to: u8) {
        self.fabric.partition_oneway(from, to);
    }

    fn heal(&mut self) {
        let n = self.world.borrow().slots.len() as u8;
        for a in 0..n {
            for b in (a + 1)..n {
                self.fabric.repair(a, b);
            }
        }
    }

    fn client_command(&mut self, node: u8, dek: u32) {
        let mut w = self.world.borrow_mut();
        let cmd = w.c.sys.clients.command(node, dek);
        w.client_attempt(cmd);
    }

    fn snapshot(&mut self, node: u8) {
        self.world.borrow_mut().hand(node, Work::Snapshot);
    }

    fn inject(&mut self, via: u8, injection: Injection) {
        self.world
            .borrow_mut()
            .hand(via, Work::Inject(Box::new(injection)));
    }

    fn owe_liveness(&mut self) {
        // `pass` set the deadline as it took the action.
    }
}

fn resume<F: NodeFiles>(world: &Rc<RefCell<World<F>>>, node: u8) {
    let mut w = world.borrow_mut();
    if w.c.nodes[usize::from(node)].state.set_paused(false) {
        w.slots[usize::from(node)].notify.notify_one();
        w.c.record(Some(node), &kinds::RESUME_HOSTED, 0, 0);
    }
}

/// The run is over: stops the nodes still up (showing the checkers their
/// stores) and hands over what the run produced. The world stays behind
/// for hosts a runtime has not dropped yet; nothing reads it again.
pub(crate) fn finish<F: NodeFiles>(world: &Rc<RefCell<World<F>>>, ending: Ending) -> RunOutput {
    let mut w = world.borrow_mut();
    match &ending {
        Ending::Livelock(msg) => w.c.violation("livelock", None, msg.clone()),
        Ending::NotConverged { .. } => {}
        Ending::Converged => w.c.sys.converged_end = w.c.sys.obs.harness_error.is_none(),
    }
    w.c.sys.finishing = true;
    for i in 0..w.c.sys.sc.nodes {
        if w.is_up(i) {
            w.stop(i, DownReason::Crashed);
        }
    }
    w.c.sys.obs.stats.committed = w.c.sys.obs.checkers.committed();
    w.c.sys.obs.stats.virtual_us = w.c.now;
    for (mark, hits) in writer_registry::marks::take() {
        if hits > 0 {
            *w.c.sys.obs.marks.entry(mark.name()).or_default() += hits;
        }
    }
    let spent = Checkers::new(0, w.c.sys.sc.policy.persist(), false);
    let (violations, purpose) = std::mem::replace(&mut w.c.sys.obs.checkers, spent).finish();
    RunOutput {
        stats: std::mem::take(&mut w.c.sys.obs.stats),
        violations,
        purpose,
        ending,
        trace: std::mem::replace(&mut w.c.sys.obs.trace, Trace::new(false)),
        marks: std::mem::take(&mut w.c.sys.obs.marks),
        harness_error: w.c.sys.obs.harness_error.take(),
    }
}
