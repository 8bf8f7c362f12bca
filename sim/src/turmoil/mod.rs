//! The turmoil runtime: the same node core, schedule and checkers as the
//! native engine, on turmoil's hosts, clock, network and file system.
//!
//! - Each node is a turmoil host running [`host::node`]: Raft ticks from
//!   turmoil's virtual clock, Raft messages in raft-rs's protobuf codec
//!   over turmoil's UDP, and its Raft log, epoch file and registry on
//!   turmoil's simulated file system ([`files`]). A client host carries
//!   the workload's commands to the nodes.
//! - The driver ([`run`]) steps turmoil's `Sim` and, between steps, plays
//!   the schedule: a crash is turmoil's `bounce` (the process dies, its
//!   pending writes stay in the page cache), a power loss is turmoil's
//!   `crash` (turmoil drops every write not synced; the checkers are told
//!   power was lost, and judge whatever turmoil kept), partitions are
//!   turmoil's `partition`/`partition_oneway`/`repair`.
//! - turmoil's own latency and loss draws come from its one world RNG,
//!   seeded from the run's seed through its own stream; the harness's
//!   draws (workload, faults, tick jitter, election timeouts) stay keyed
//!   per subsystem as on the native engine.
//!
//! What the native engine models and turmoil does not: the extra reorder
//! delay (turmoil reorders only by its latency spread) and sync latency (a
//! sync here completes at once). Duplicates turmoil lacks are made by the
//! sender, at the scenario's rate, from the harness's own network stream. What turmoil
//! models and the native engine does not: its own durability rules
//! (directory entries, whole-file loss of never-synced files) and, where a
//! scenario sets `turmoil_block_size`, torn writes at that block size.

pub mod files;
mod host;
mod world;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::oracle::checkers::Observation;
use crate::rng::{Streams, Subsystem};
use crate::scenario::Scenario;
use crate::schedule::{Action, Schedule};
use crate::sim::{DownReason, Ending, RunOutput, SimOptions};
use world::{name, State, Timer, Work, World};

/// turmoil's step: the resolution of its clock and network.
const STEP: Duration = Duration::from_millis(1);

/// Runs a schedule on turmoil and returns what happened.
pub fn run(sc: &Scenario, schedule: &Schedule, opts: SimOptions) -> RunOutput {
    let _ = writer_registry::marks::take();
    let world = Rc::new(RefCell::new(World::new(sc, schedule.seed, opts)));
    let net = &sc.network;
    let turmoil_seed = Streams::new(schedule.seed)
        .keyed(Subsystem::Network, 1 << 40)
        .draw(0)
        .range(0, 0, u64::MAX >> 1);
    let mut builder = turmoil::Builder::new();
    builder
        .rng_seed(turmoil_seed)
        .tick_duration(STEP)
        .simulation_duration(Duration::from_secs(1 << 40))
        .min_message_latency(Duration::from_micros(net.delay_us[0]))
        .max_message_latency(Duration::from_micros(net.delay_us[1].max(net.delay_us[0])))
        .fail_rate(net.drop_rate)
        .udp_capacity(1 << 16);
    if let Some(block) = sc.turmoil_block_size {
        builder.fs().block_size(block);
    }
    let mut sim = builder.build();
    for i in 0..sc.nodes {
        let w = world.clone();
        sim.host(name(i), move || host::node(w.clone(), i));
    }
    let w = world.clone();
    sim.host("client", move || host::client(w.clone()));
    for s in world.borrow_mut().slots.iter_mut() {
        s.start_requested = true;
    }
    let ending = drive(&mut sim, &world, sc, schedule);
    drop(sim);
    let world = Rc::try_unwrap(world)
        .ok()
        .expect("the hosts are gone with the sim")
        .into_inner();
    finish(world, ending)
}

fn drive(
    sim: &mut turmoil::Sim,
    world: &Rc<RefCell<World>>,
    sc: &Scenario,
    schedule: &Schedule,
) -> Ending {
    let mut next_event = 0;
    let mut deadline: Option<u64> = None;
    let max_steps = sc.limits.max_events;
    let mut steps = 0u64;
    loop {
        let now = sim.elapsed().as_micros() as u64;
        {
            let mut w = world.borrow_mut();
            w.now = now;
        }
        while next_event < schedule.events.len() && schedule.events[next_event].at_us <= now {
            let action = schedule.events[next_event].action.clone();
            next_event += 1;
            if matches!(action, Action::EndOfFaults) {
                deadline = Some(now + sc.liveness_bound_ms * 1000);
            }
            act(sim, world, action);
        }
        loop {
            let due = {
                let mut w = world.borrow_mut();
                match w.timers.first_key_value() {
                    Some((&(at, _), _)) if at <= now => w.timers.pop_first().map(|(_, t)| t),
                    _ => None,
                }
            };
            let Some(t) = due else { break };
            timer(sim, world, t);
        }
        settle(sim, world);
        {
            let mut w = world.borrow_mut();
            let records = w.injector.take_records();
            for r in records {
                w.checkers.injected(now, r);
            }
            if w.harness_error.is_some() {
                return Ending::Converged;
            }
            if let Some(deadline) = deadline {
                if w.converged() {
                    return Ending::Converged;
                }
                if now > deadline {
                    return Ending::NotConverged {
                        report: w.convergence_report(),
                        quorum_live: w.live_count() > w.slots.len() / 2,
                    };
                }
            }
            w.stats.events += 1;
        }
        steps += 1;
        if steps > max_steps {
            return Ending::Livelock(format!("more than {max_steps} turmoil steps in one run"));
        }
        if let Err(e) = sim.step() {
            // A host's task panicked (tokio caught it) or failed: the
            // panic hook kept the first panic's location for the verdict.
            std::panic::resume_unwind(Box::new(format!("turmoil host failed: {e}")));
        }
    }
}

/// Finishes what the hosts started during the last step: an armed crash
/// that fired (with power loss, turmoil drops the unsynced writes now).
fn settle(sim: &mut turmoil::Sim, world: &Rc<RefCell<World>>) {
    let n = world.borrow().slots.len() as u8;
    for node in 0..n {
        let dying = world.borrow_mut().slots[usize::from(node)].dying.take();
        if let Some(power) = dying {
            if power {
                power_loss(sim, world, node);
            }
            rollback_after_crash(world, node);
        }
    }
}

fn rollback_after_crash(world: &Rc<RefCell<World>>, node: u8) {
    let mut w = world.borrow_mut();
    if w.injector.take_rollback(node) {
        w.roll_back_epoch(node);
    }
}

/// turmoil's crash: every write not synced is gone (torn at the block
/// size, if one is set); the host's software with it.
fn power_loss(sim: &mut turmoil::Sim, world: &Rc<RefCell<World>>, node: u8) {
    sim.crash(name(node));
    let mut w = world.borrow_mut();
    w.stats.power_losses += 1;
    let now = w.now;
    let s = &mut w.slots[usize::from(node)];
    s.software_dead = true;
    s.power_lost = true;
    s.epoch.power_loss();
    w.record(Some(node), "power-loss", 0, 0);
    w.checkers.observe(now, Observation::PowerLost { node });
}

/// A process crash: turmoil's bounce restarts the software, which waits
/// for the driver's restart; pending writes stay.
fn crash(sim: &mut turmoil::Sim, world: &Rc<RefCell<World>>, node: u8) {
    // A start the host has not run yet dies before it begins.
    world.borrow_mut().slots[usize::from(node)].start_requested = false;
    let up = world.borrow().is_up(node);
    if up {
        let mut w = world.borrow_mut();
        w.stats.crashes += 1;
        w.stop(node, DownReason::Crashed);
    }
    if !world.borrow().slots[usize::from(node)].software_dead {
        sim.bounce(name(node));
    }
}

fn restart(sim: &mut turmoil::Sim, world: &Rc<RefCell<World>>, node: u8) {
    let mut w = world.borrow_mut();
    let s = &mut w.slots[usize::from(node)];
    if !matches!(
        s.state,
        State::Down(DownReason::Crashed | DownReason::Halted)
    ) || s.start_requested
    {
        return;
    }
    s.start_requested = true;
    if std::mem::take(&mut s.software_dead) {
        drop(w);
        sim.bounce(name(node));
    } else {
        s.notify.notify_one();
    }
}

fn timer(sim: &mut turmoil::Sim, world: &Rc<RefCell<World>>, t: Timer) {
    match t {
        Timer::ClientRetry { cmd } => world.borrow_mut().client_retry(cmd),
        Timer::RegRetry { node, inc } => {
            let mut w = world.borrow_mut();
            if w.slots[usize::from(node)].incarnation == inc {
                w.hand(node, Work::Registrations);
            }
        }
        Timer::ArmedRestart { node } => restart(sim, world, node),
    }
}

fn act(sim: &mut turmoil::Sim, world: &Rc<RefCell<World>>, action: Action) {
    // A process exists, or is being started by its host this step (a
    // restart here is asynchronous): faults can be armed in it.
    let has_process =
        |w: &World, node: u8| w.is_up(node) || w.slots[usize::from(node)].start_requested;
    // Down and not being started: its files are the harness's to change.
    let down_restartable = |w: &World, node: u8| {
        let s = &w.slots[usize::from(node)];
        !s.start_requested
            && matches!(
                s.state,
                State::Down(DownReason::Crashed | DownReason::Halted)
            )
    };
    match action {
        Action::Crash { node } => {
            if has_process(&world.borrow(), node) {
                crash(sim, world, node);
                rollback_after_crash(world, node);
            }
        }
        Action::PowerLoss { node } => {
            crash(sim, world, node);
            power_loss(sim, world, node);
            rollback_after_crash(world, node);
        }
        Action::Restart { node } => restart(sim, world, node),
        Action::Pause { node } => {
            let mut w = world.borrow_mut();
            if has_process(&w, node) && !w.slots[usize::from(node)].paused {
                w.slots[usize::from(node)].paused = true;
                w.record(Some(node), "pause", 0, 0);
            }
        }
        Action::Resume { node } => resume(world, node),
        Action::ArmReadyCrash {
            node,
            step,
            power_loss,
        } => {
            let mut w = world.borrow_mut();
            if has_process(&w, node) {
                w.injector.arm_ready_crash(node, step, power_loss);
                w.record(Some(node), "arm-ready-crash", 0, u64::from(power_loss));
            }
        }
        Action::ArmRegistryCrash { node, power_loss } => {
            let mut w = world.borrow_mut();
            if has_process(&w, node) {
                w.injector.arm_registry_crash(node, power_loss);
                w.record(Some(node), "arm-registry-crash", u64::from(power_loss), 0);
            }
        }
        Action::ArmStoreError { node, op, errno } => {
            let mut w = world.borrow_mut();
            if has_process(&w, node) {
                w.injector.arm_store_error(node, op, errno);
                w.record(Some(node), "arm-store-error", 0, 0);
            }
        }
        Action::ArmBetweenDeksCrash { node } => {
            let mut w = world.borrow_mut();
            if has_process(&w, node) {
                w.injector.arm_between_registrations_crash(node);
                w.record(Some(node), "arm-between-deks-crash", 0, 0);
            }
        }
        Action::ArmRegistrationCrash { node } => {
            let mut w = world.borrow_mut();
            if has_process(&w, node) {
                w.injector.arm_registration_crash(node);
                w.record(Some(node), "arm-registration-crash", 0, 0);
            }
        }
        Action::EpochRollback { node } => {
            let mut w = world.borrow_mut();
            if down_restartable(&w, node) {
                w.roll_back_epoch(node);
            } else if has_process(&w, node) {
                w.injector.roll_back_at_next_crash(node);
            }
        }
        Action::EpochPreset { node, epoch } => {
            let mut w = world.borrow_mut();
            if down_restartable(&w, node) {
                let s = &mut w.slots[usize::from(node)];
                let high = s.epoch.history().iter().copied().max().unwrap_or(0);
                s.epoch.preset(epoch);
                s.epoch_injected = true;
                let full = s.full;
                w.injector
                    .record(crate::oracle::checkers::Injected::EpochPreset {
                        node,
                        full,
                        epoch,
                        high,
                    });
                w.record(Some(node), "epoch-preset", u64::from(epoch), 0);
                w.mark(if epoch == 0xFFFF {
                    "epoch-preset-exhausted"
                } else {
                    "epoch-preset-near-exhaustion"
                });
            }
        }
        Action::CorruptRow {
            node,
            target,
            dek,
            mode,
        } => {
            let mut w = world.borrow_mut();
            if down_restartable(&w, node) {
                w.slots[usize::from(node)]
                    .corruptions
                    .push((target, dek, mode));
            }
        }
        Action::Partition { side } => {
            let n = world.borrow().slots.len() as u8;
            for &a in &side {
                for b in (0..n).filter(|b| !side.contains(b)) {
                    sim.partition(name(a), name(b));
                }
            }
            let mask = side.iter().fold(0, |m, &x| m | 1 << x);
            world.borrow_mut().record(None, "partition", mask, 0);
        }
        Action::OneWay { from, to } => {
            sim.partition_oneway(name(from), name(to));
            world
                .borrow_mut()
                .record(None, "one-way", u64::from(from), u64::from(to));
        }
        Action::Heal => heal(sim, world),
        Action::Kv { node, dek } => {
            let mut w = world.borrow_mut();
            let cmd = w.clients.command(node, dek);
            w.client_attempt(cmd);
        }
        Action::Snapshot { node } => world.borrow_mut().hand(node, Work::Snapshot),
        Action::Collision {
            via,
            victim,
            dek,
            high_bits,
        } => {
            let mut w = world.borrow_mut();
            let fake =
                crate::sim::faults::collision_writer(w.slots[usize::from(victim)].full, high_bits);
            let pid = w.clients.next_pid();
            let data = crate::sim::faults::collision_entry(pid, dek, fake);
            let record = crate::oracle::checkers::Injected::Collision { full: fake };
            w.hand(via, Work::Inject(data, record, "inject-collision", fake));
        }
        Action::Malformed { via, variant } => {
            let mut w = world.borrow_mut();
            let pid = w.clients.next_pid();
            let full = w.slots[usize::from(via)].full;
            let data = crate::sim::faults::malformed_entry(pid, w.sc.deks[0], full, variant);
            let data_hash = writer_registry::ids::fnv1a64(&data);
            let record = crate::oracle::checkers::Injected::Malformed { data_hash };
            w.hand(
                via,
                Work::Inject(data, record, "inject-malformed", u64::from(variant)),
            );
        }
        Action::Exotic { via, opcode } => {
            let mut w = world.borrow_mut();
            let pid = w.clients.next_pid();
            let fulls: Vec<u64> = w.slots.iter().map(|s| s.full).collect();
            let payload = crate::sim::faults::exotic_payload(
                w.sc.deks[0],
                &fulls,
                fulls[usize::from(via)],
                opcode,
            );
            let data = writer_registry::wire::encode_entry(pid, &payload);
            let data_hash = writer_registry::ids::fnv1a64(&data);
            let record = crate::oracle::checkers::Injected::Exotic { data_hash, opcode };
            w.hand(
                via,
                Work::Inject(data, record, "inject-exotic", u64::from(opcode)),
            );
        }
        Action::EndOfFaults => {
            world.borrow_mut().record(None, "end-of-faults", 0, 0);
            heal(sim, world);
            let n = world.borrow().slots.len() as u8;
            for i in 0..n {
                world.borrow_mut().injector.disarm(i);
                resume(world, i);
                restart(sim, world, i);
            }
        }
    }
}

fn resume(world: &Rc<RefCell<World>>, node: u8) {
    let mut w = world.borrow_mut();
    let s = &mut w.slots[usize::from(node)];
    if s.paused {
        s.paused = false;
        s.notify.notify_one();
        w.record(Some(node), "resume", 0, 0);
    }
}

fn heal(sim: &mut turmoil::Sim, world: &Rc<RefCell<World>>) {
    let n = world.borrow().slots.len() as u8;
    for a in 0..n {
        for b in (a + 1)..n {
            sim.repair(name(a), name(b));
        }
    }
    world.borrow_mut().record(None, "heal", 0, 0);
}

fn finish(mut w: World, ending: Ending) -> RunOutput {
    match &ending {
        Ending::Livelock(msg) => w.violation("livelock", None, msg.clone()),
        Ending::NotConverged { .. } => {}
        Ending::Converged => w.converged_end = w.harness_error.is_none(),
    }
    w.finishing = true;
    for i in 0..w.sc.nodes {
        if w.is_up(i) {
            w.stop(i, DownReason::Crashed);
        }
    }
    w.stats.committed = w.checkers.committed();
    w.stats.virtual_us = w.now;
    for (mark, hits) in writer_registry::marks::take() {
        if hits > 0 {
            *w.marks.entry(mark.name()).or_default() += hits;
        }
    }
    let (violations, purpose) = w.checkers.finish();
    RunOutput {
        stats: w.stats,
        violations,
        purpose,
        ending,
        trace: w.trace,
        marks: w.marks,
        harness_error: w.harness_error,
    }
}
