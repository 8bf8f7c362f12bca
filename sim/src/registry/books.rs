//! The writer registry's books on a run, as the world holds them
//! (`Cluster::sys`): its scenario and options, the observer (trace,
//! marks, counters, checkers), the clients, the fault injector and the
//! order registrations are proposed in; and the cluster built over them.

use super::RegistryCluster;
use crate::oracle::checkers::{Checkers, Observation};
use crate::proposal_order::ProposalOrder;
use crate::rng::{Streams, Subsystem};
use crate::scenario::Scenario;
use crate::trace::kinds::Kind;
use crate::trace::Trace;
use crate::world::clients::Clients;
use crate::world::cluster::{name, Cluster, RunBooks, Timing};
use crate::world::injector::Injector;
use crate::world::observe::{Member, Observer};
use crate::world::SimOptions;
use regsim_engine::node::CrashPoints;
use regsim_engine::oracle::observation::RaftObservation;
use regsim_engine::storage::RaftLog;

/// The writer registry's books on one run.
pub struct RegistryBooks {
    pub(crate) sc: Scenario,
    pub(crate) opts: SimOptions,
    /// The trace, marks, counters and checkers.
    pub(crate) obs: Observer,
    /// The clients' commands and the nodes' nonce counters.
    pub(crate) clients: Clients,
    /// The fault injector: what is armed inside the nodes.
    pub(crate) injector: Injector,
    pub(crate) proposal_order: ProposalOrder,
    /// The run ended converged and the nodes still up are being stopped.
    pub(crate) converged_end: bool,
    /// The run is over: stops release their stores instead of killing.
    pub(crate) finishing: bool,
}

impl RunBooks for RegistryBooks {
    fn record(&mut self, now: u64, node: Option<u8>, kind: &'static Kind, a: u64, b: u64) {
        self.obs.record(now, node, kind, a, b);
    }

    fn violation(&mut self, now: u64, oracle: &str, node: Option<u8>, detail: String) {
        self.obs.violation(now, oracle, node, detail);
    }

    fn raft_checked(&self) -> bool {
        self.obs.checkers.on()
    }

    fn raft(&mut self, now: u64, fact: RaftObservation<'_>) {
        self.obs.checkers.observe(now, Observation::Raft(fact));
    }

    fn start_attempted(&mut self) {
        self.obs.stats.restarts += 1;
    }

    fn process_died(&mut self, node: u8) {
        self.injector.process_died(node);
    }

    fn crash_points(&mut self, node: u8) -> &mut dyn CrashPoints {
        self.injector.crash_points(node)
    }

    fn armed_power_loss(&self, node: u8) -> bool {
        self.injector.armed_power_loss(node)
    }
}

/// The cluster of `sc` before anything starts: every member down.
pub(crate) fn cluster<L: RaftLog>(
    sc: &Scenario,
    streams: &Streams,
    opts: SimOptions,
) -> RegistryCluster<L> {
    let n = sc.nodes;
    let nn = usize::from(n);
    let members = (0..n)
        .map(|i| Member::new(writer_registry::ids::full_node_id(&name(i))))
        .collect();
    let books = RegistryBooks {
        obs: Observer::new(
            Checkers::new(n, sc.policy.persist(), opts.oracles),
            Trace::new(opts.keep_trace_lines).keeping_events(opts.keep_events),
            sc.deks.clone(),
        ),
        clients: Clients::new(n, sc.workload.client_attempts),
        injector: Injector::new(streams.family(Subsystem::Faults, 0, nn), sc.faults.down_ms),
        proposal_order: ProposalOrder::new(sc.workload.registration_order, n, streams),
        sc: sc.clone(),
        opts,
        converged_end: false,
        finishing: false,
    };
    let timing = Timing {
        tick_us: sc.tick_ms * 1000,
        max_follow_ups: sc.limits.max_events_per_instant,
    };
    Cluster::new(members, books, streams, timing)
}

/// Every member's full node id, in node order.
pub(crate) fn fulls<L: RaftLog>(c: &RegistryCluster<L>) -> Vec<u64> {
    c.nodes.iter().map(|s| s.member.full).collect()
}
