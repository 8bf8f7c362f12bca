//! The madsim runtime: the same node core, schedules and checkers on
//! madsim's nodes, clock and network. Built only under
//! `RUSTFLAGS="--cfg madsim"` (its own target directory: madsim replaces
//! the clock, randomness and thread spawning of everything it links) and
//! run from `#[madsim::test]`s (`sim/tests/madsim.rs`; `.ci/madsim-test`).
//!
//! - Each node is a madsim node (`Handle::create_node`) whose task feeds
//!   the shared world ([`crate::hosted`]) datagrams from a madsim
//!   `Endpoint`, Raft ticks from madsim's clock and the driver's work. A
//!   client node carries the workload's commands.
//! - The driver is the test's own task: it plays the schedule between
//!   1 ms sleeps. A crash is `Handle::kill` then `restart` (the node's
//!   tasks die, its software comes back idle until the driver's restart);
//!   partitions are
//!   `NetSim::clog_link`/`unclog_link`; latency and loss are madsim's
//!   `NetSim` config set from the scenario's network, drawn from madsim's
//!   RNG, seeded by `MADSIM_TEST_SEED`, which is also the run's seed.
//! - madsim 0.2.34 has no durability model (`sync_all` does nothing, power
//!   failure is a TODO), so the nodes' files live in the harness's memory
//!   ([`crate::hosted::memory`]) and the registry is the memory store:
//!   madsim cross-checks the clock and the network only. A power loss in a
//!   schedule runs as a process crash (recorded as `power-loss-as-crash`,
//!   the checkers told nothing), and the `power-loss` scenario, whose point
//!   it is, is not run here. fjall would start system threads, which madsim
//!   refuses without `MADSIM_ALLOW_SYSTEM_THREAD`; the memory store needs
//!   none.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use madsim::net::{Endpoint, NetSim};
use madsim::runtime::Handle;
use madsim::task::NodeId;
use madsim::time::Instant;

use crate::error::HarnessError;
use crate::hosted::drive::{finish, Driver};
use crate::hosted::host::HostIo;
use crate::hosted::memory::MemoryFiles;
use crate::hosted::Fabric;
use crate::run::{classify, RunOptions, RunResult, Runtime};
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::world::cluster::name;
use crate::world::{RunOutput, SimOptions};

type World = crate::hosted::world::World<MemoryFiles>;

/// The driver's pass interval: the resolution of the schedule's clock.
const STEP: Duration = Duration::from_millis(1);
const PORT: u16 = 7000;

thread_local! {
    /// The run in progress: madsim's node factories must be `Send + Sync`,
    /// the world is not, and madsim runs every node on this one thread.
    static WORLD: RefCell<Option<Rc<RefCell<World>>>> = const { RefCell::new(None) };
}

thread_local! {
    /// Runs so far in this madsim runtime: each run's nodes get their own
    /// addresses (madsim keeps a finished run's nodes, killed).
    static RUNS: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
}

fn world() -> Rc<RefCell<World>> {
    WORLD.with(|w| w.borrow().clone().expect("a madsim run is in progress"))
}

/// Node `node`'s address in the current run (`0xFF`: the client's).
fn addr(node: u8) -> SocketAddr {
    let run = RUNS.with(std::cell::Cell::get);
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(10, run, 0, node.wrapping_add(1))),
        PORT,
    )
}

fn client_addr() -> SocketAddr {
    addr(0xFF)
}

/// Runs `seed` of a scenario on madsim, inside a `#[madsim::test]`: the
/// verdict, or the harness error that stopped it.
pub async fn run_seed(
    sc: &Scenario,
    seed: u64,
    opts: &RunOptions,
) -> Result<RunResult, HarnessError> {
    let schedule = crate::run::schedule_for(sc, seed)?;
    run_schedule(sc, &schedule, opts).await
}

/// Runs an explicit schedule on madsim (see [`run_seed`]).
pub async fn run_schedule(
    sc: &Scenario,
    schedule: &Schedule,
    opts: &RunOptions,
) -> Result<RunResult, HarnessError> {
    crate::run::validate(sc, schedule)?;
    let sc = &schedule.scenario_of(sc);
    let sim_opts = SimOptions {
        registry: crate::store::RegistryKind::Memory,
        oracles: opts.oracles,
        keep_trace_lines: opts.keep_trace_lines,
        keep_events: opts.keep_events,
        cancel: opts.cancel.clone(),
        data_dir: std::path::PathBuf::new(),
        mutant: opts.mutant,
    };
    let out = run(sc, schedule, sim_opts).await;
    match out.harness_error {
        Some(e) => Err(e),
        None => Ok(classify(sc, schedule.seed, Runtime::Madsim, out)),
    }
}

async fn run(sc: &Scenario, schedule: &Schedule, opts: SimOptions) -> RunOutput {
    let _ = writer_registry::marks::take();
    let voters: Vec<u64> = (1..=u64::from(sc.nodes)).collect();
    let world = Rc::new(RefCell::new(World::new(sc, schedule.seed, opts, |_| {
        MemoryFiles::new(&voters)
    })));
    WORLD.with(|w| *w.borrow_mut() = Some(world.clone()));
    RUNS.with(|r| r.set(r.get().wrapping_add(1)));
    let handle = Handle::current();
    let net = NetSim::current();
    let (lo, hi) = (sc.network.delay_us[0], sc.network.delay_us[1]);
    net.update_config(|c| {
        c.packet_loss_rate = sc.network.drop_rate;
        c.send_latency = Duration::from_micros(lo)..Duration::from_micros(hi.max(lo + 1));
    });
    let ids: Vec<NodeId> = (0..sc.nodes)
        .map(|i| {
            handle
                .create_node()
                .name(name(i))
                .ip(addr(i).ip())
                .init(move || node(i))
                .build()
                .id()
        })
        .collect();
    let client = handle
        .create_node()
        .name("client")
        .ip(client_addr().ip())
        .init(client)
        .build()
        .id();
    let mut driver = Driver::new(sc, schedule, &world);
    let start = Instant::now();
    let ending = loop {
        let now = start.elapsed().as_micros() as u64;
        let mut fabric = MadsimFabric {
            handle: &handle,
            net: &net,
            ids: &ids,
        };
        if let Some(ending) = driver.pass(now, &mut fabric, &world) {
            break ending;
        }
        madsim::time::sleep(STEP).await;
    };
    for id in ids.iter().chain([&client]) {
        handle.kill(*id);
    }
    let out = finish(&world, ending);
    WORLD.with(|w| w.borrow_mut().take());
    out
}

/// A node's software: the hosted runtimes' node loop
/// ([`crate::hosted::host`]) over a madsim endpoint and madsim's clock.
async fn node(node: u8) {
    let world = world();
    let ep = Rc::new(
        Endpoint::bind(addr(node))
            .await
            .expect("bind a node's endpoint"),
    );
    crate::hosted::host::run(&world, node, &Io(ep))
        .await
        .expect("a node's endpoint");
}

/// A madsim node's endpoint and clock.
struct Io(Rc<Endpoint>);

impl HostIo for Io {
    type Instant = Instant;

    fn now(&self) -> Instant {
        Instant::now()
    }

    async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.recv_from(0, buf).await.map(|(n, _)| n)
    }

    async fn sleep_until(&self, at: Instant) {
        madsim::time::sleep_until(at).await;
    }

    /// Each madsim send sleeps at least 1 ms before the packet leaves;
    /// sent one after the other, a leader's replies would queue behind
    /// each other and its host would read its socket seconds late. So each
    /// send is a task of its own: the node goes on at once, as with a
    /// kernel's socket buffer.
    async fn send_all(&self, out: Vec<(u8, Vec<u8>)>) -> std::io::Result<()> {
        for (to, bytes) in out {
            let ep = self.0.clone();
            madsim::task::spawn_local(async move {
                // A clogged link or a lost packet is the network's business.
                let _ = ep.send_to(addr(to), 0, &bytes).await;
            });
        }
        Ok(())
    }
}

/// The client node: sends each command attempt the driver hands it.
async fn client() {
    let world = world();
    let ep = Endpoint::bind(client_addr())
        .await
        .expect("bind the client");
    let ep = &ep;
    let sent = crate::hosted::host::run_client(&world, |node, bytes| async move {
        // A clogged link or a lost packet is the network's business.
        let _ = ep.send_to(addr(node), 0, &bytes).await;
        Ok(())
    });
    sent.await.expect("the client never fails a send");
}

/// The driver's hands on madsim: a crash restarts the node's tasks (its
/// software comes back idle); no power loss (no durability model);
/// partitions clog links.
struct MadsimFabric<'a> {
    handle: &'a Handle,
    net: &'a NetSim,
    ids: &'a [NodeId],
}

impl Fabric for MadsimFabric<'_> {
    fn kill(&mut self, node: u8) {
        // `kill` resets the node in madsim's simulators (its endpoint is
        // released); `restart` then spawns its software again.
        let id = self.ids[usize::from(node)];
        self.handle.kill(id);
        self.handle.restart(id);
    }
    fn power_off(&mut self, _node: u8) -> bool {
        false
    }
    fn power_on(&mut self, _node: u8) {}
    fn partition(&mut self, a: u8, b: u8) {
        let (a, b) = (self.ids[usize::from(a)], self.ids[usize::from(b)]);
        self.net.clog_link(a, b);
        self.net.clog_link(b, a);
    }
    fn partition_oneway(&mut self, from: u8, to: u8) {
        self.net
            .clog_link(self.ids[usize::from(from)], self.ids[usize::from(to)]);
    }
    fn repair(&mut self, a: u8, b: u8) {
        let (a, b) = (self.ids[usize::from(a)], self.ids[usize::from(b)]);
        self.net.unclog_link(a, b);
        self.net.unclog_link(b, a);
    }
}
