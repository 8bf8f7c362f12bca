//! The turmoil runtime: the same node core, schedule and checkers as the
//! native engine, on turmoil's hosts, clock, network and file system.
//!
//! - Each node is a turmoil host running `host::node`: Raft ticks from
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

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::hosted::drive::{finish, Driver};
use crate::hosted::world::World;
use crate::hosted::Fabric;
use crate::rng::{Streams, Subsystem};
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::world::cluster::name;
use crate::world::{RunOutput, SimOptions};
use files::TurmoilFiles;

/// turmoil's step: the resolution of its clock and network.
const STEP: Duration = Duration::from_millis(1);

/// Runs a schedule on turmoil and returns what happened.
pub fn run(sc: &Scenario, schedule: &Schedule, opts: SimOptions) -> RunOutput {
    let _ = writer_registry::marks::take();
    let world = Rc::new(RefCell::new(World::new(sc, schedule.seed, opts, |_| {
        TurmoilFiles
    })));
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
    let mut driver = Driver::new(sc, schedule, &world);
    let mut dead = vec![false; usize::from(sc.nodes)];
    let ending = loop {
        let now = sim.elapsed().as_micros() as u64;
        let mut fabric = TurmoilFabric {
            sim: &mut sim,
            dead: &mut dead,
        };
        if let Some(ending) = driver.pass(now, &mut fabric, &world) {
            break ending;
        }
        if let Err(e) = sim.step() {
            // A host's task panicked (tokio caught it) or failed: the
            // panic hook kept the first panic's location for the verdict.
            std::panic::resume_unwind(Box::new(format!("turmoil host failed: {e}")));
        }
    };
    drop(sim);
    finish(&world, ending)
}

/// The driver's hands on turmoil: a process crash is `bounce` (the
/// software restarts and idles; pending writes stay in the page cache), a
/// power loss is `crash` (pending writes dropped, torn at the block size;
/// the software is dead until `power_on` bounces it), partitions are
/// turmoil's own.
struct TurmoilFabric<'a, 'b> {
    sim: &'a mut turmoil::Sim<'b>,
    /// Whose software a power loss killed.
    dead: &'a mut Vec<bool>,
}

impl Fabric for TurmoilFabric<'_, '_> {
    fn kill(&mut self, node: u8) {
        if !self.dead[usize::from(node)] {
            self.sim.bounce(name(node));
        }
    }
    fn power_off(&mut self, node: u8) -> bool {
        self.sim.crash(name(node));
        self.dead[usize::from(node)] = true;
        true
    }
    fn power_on(&mut self, node: u8) {
        if std::mem::take(&mut self.dead[usize::from(node)]) {
            self.sim.bounce(name(node));
        }
    }
    fn partition(&mut self, a: u8, b: u8) {
        self.sim.partition(name(a), name(b));
    }
    fn partition_oneway(&mut self, from: u8, to: u8) {
        self.sim.partition_oneway(name(from), name(to));
    }
    fn repair(&mut self, a: u8, b: u8) {
        self.sim.repair(name(a), name(b));
    }
}
