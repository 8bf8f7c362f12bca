//! The writer registry's side of the world every runtime shares: the
//! harness's books on each member (`observe`), the fault injector
//! (`injector`), the clients (`clients`), the seam the schedule's actions
//! act through and what ending a process means (`target`), and the facts
//! of a run that do not depend on how it is driven (how a run ended, its
//! counters, a node's parameters).
//!
//! The world itself (the cluster, a node's life, a call into its core,
//! the seam to the system under test) is the engine's
//! ([`regsim_engine::world`]), generic over the system: it is re-exported
//! here as `call`, `cluster`, `lifecycle` and `system`, and the writer
//! registry plugs into it from `crate::registry`, whose `RegistryBooks`
//! (the world's `RunBooks`) hold the books above.
//!
//! A world supplies only what its runtime does its own way, through the
//! engine's `call::Runtime` and `lifecycle::Files`. The native engine
//! ([`crate::sim`]) and the hosted runtimes (`crate::hosted`) implement
//! both; this module depends on neither.

pub(crate) use regsim_engine::world::{call, cluster, lifecycle, system};
pub(crate) mod clients;
pub(crate) mod injector;
pub(crate) mod observe;
pub(crate) mod target;
#[cfg(test)]
pub(crate) mod testing;

use std::collections::BTreeMap;
use std::path::PathBuf;

use writer_registry::{Applied, Halt, Outcome};

use crate::error::HarnessError;
use crate::node::NodeParams;
use crate::oracle::purpose::PurposeOracle;
use crate::oracle::Violations;
use crate::scenario::Scenario;
use crate::store::RegistryKind;
use crate::trace::Trace;
use regsim_engine::node::{Application, NodeCore};
use regsim_engine::process::{self, Process};
use regsim_engine::storage::RaftLog;

/// Per-run counters printed with every result.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
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

pub(crate) use regsim_engine::process::DownReason;

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

impl Ending {
    /// The run owed convergence and did not reach it (`why`: what ended
    /// it early, if anything did), with where each member stands.
    pub(crate) fn not_converged<'a, L, A>(
        why: &str,
        members: impl Iterator<Item = &'a Process<NodeCore<L, A>>> + Clone,
    ) -> Ending
    where
        L: RaftLog + 'a,
        A: Application + 'a,
    {
        let size = members.clone().count();
        Ending::NotConverged {
            report: format!("{why}{}", process::report(members.clone())),
            quorum_live: process::live_count(members) > size / 2,
        }
    }
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
    /// The machine failed the run: the rest says nothing about the system.
    pub harness_error: Option<HarnessError>,
}

/// Options that are not part of the scenario.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub registry: RegistryKind,
    pub oracles: bool,
    pub keep_trace_lines: bool,
    /// Keep the trace's events as data (for `regsim report`).
    pub keep_events: bool,
    /// When the run gives up early (its wall-clock limit, an interrupt).
    pub cancel: crate::cancel::Cancel,
    /// Where fjall directories go (one per node).
    pub data_dir: PathBuf,
    /// The run's mutant (the `mutants` feature), `()` otherwise.
    pub mutant: writer_registry::MutantSlot,
}

pub(crate) fn outcome_name(r: &Result<Outcome, Halt>) -> &'static str {
    match r {
        Ok(Outcome::Empty) => "empty",
        Ok(Outcome::Kv { .. }) => "kv",
        Ok(Outcome::Registration(Applied::Inserted(_))) => "insert",
        Ok(Outcome::Registration(Applied::Advanced { .. })) => "advance",
        Ok(Outcome::Registration(Applied::Unchanged)) => "no-op",
        Err(h) => h.kind().name(),
    }
}

/// The fixed facts of member `node` (full id `full`) under a scenario,
/// for one incarnation (its election timeout, in ticks).
pub(crate) fn node_params(
    sc: &Scenario,
    node: u8,
    full: u64,
    election_tick: usize,
    mutant: writer_registry::MutantSlot,
) -> NodeParams {
    NodeParams {
        index: node,
        full_node_id: full,
        deks: sc.deks.clone(),
        policy: sc.policy.persist(),
        election_tick,
        heartbeat_tick: sc.heartbeat_ticks as usize,
        mutant,
    }
}
