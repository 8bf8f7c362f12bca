//! One run, start to verdict: schedule -> simulation (inside
//! `catch_unwind`) -> oracle results -> a classified [`RunResult`], or a
//! [`HarnessError`] when the run says nothing about the system.

use std::path::PathBuf;

use crate::error::HarnessError;
use crate::oracle::Violation;
use crate::panics::{blame, guarded, Blame};
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::sim::Sim;
use crate::store::RegistryKind;
use crate::tempdirs::session_dir as temp_root;
use crate::world::{Ending, SimOptions, Stats};

/// Which runtime drives the node cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// The native discrete-event engine (sim/src/sim/).
    #[default]
    Native,
    /// turmoil's hosts, clock, network and file system (sim/src/turmoil_runtime/).
    Turmoil,
    /// madsim's nodes, clock and network (`madsim_runtime`, built only
    /// under `RUSTFLAGS="--cfg madsim"`, run from `#[madsim::test]`s).
    Madsim,
}

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Native => "native",
            Runtime::Turmoil => "turmoil",
            Runtime::Madsim => "madsim",
        }
    }
}

/// Options for one run beyond the scenario and schedule.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub runtime: Runtime,
    /// The registry on the native runtime (turmoil's is always its file
    /// store).
    pub registry: RegistryKind,
    pub oracles: bool,
    pub keep_trace_lines: bool,
    /// Keep the trace's events as data (`RunResult::events`, for reports).
    pub keep_events: bool,
    /// When the run gives up early (its wall-clock limit, an interrupt).
    pub cancel: crate::cancel::Cancel,
    /// Keep the fjall directories of a failing run.
    pub keep_failed_data: bool,
    /// The mutant to run (the `mutants` feature), `()` otherwise.
    pub mutant: writer_registry::MutantSlot,
}

impl RunOptions {
    pub fn for_scenario(sc: &Scenario) -> Self {
        RunOptions {
            runtime: Runtime::Native,
            registry: sc.registry,
            oracles: true,
            keep_trace_lines: false,
            keep_events: false,
            cancel: Default::default(),
            keep_failed_data: false,
            mutant: Default::default(),
        }
    }
}

/// A purpose failure while every node passed conformance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub signature: String,
    pub node: Option<u8>,
    pub at_us: u64,
    pub detail: String,
}

/// The verdict of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub seed: u64,
    /// The runtime that ran it.
    pub runtime: Runtime,
    pub trace_hash: u64,
    pub stats: Stats,
    pub violations: Vec<Violation>,
    /// Findings the scenario allows (the run still passes).
    pub findings: Vec<Finding>,
    pub justified_halts: u64,
    pub justified_refusals: u64,
    /// Each justified halt and refusal with the injected cause behind it.
    pub justifications: Vec<String>,
    pub ending: String,
    pub trace_lines: Vec<String>,
    /// The trace's events as data, when [`RunOptions::keep_events`] asked.
    pub events: Vec<crate::trace::Event>,
    pub kept_data: Option<PathBuf>,
    /// Coverage marks hit, by name (marks never hit are absent).
    pub marks: std::collections::BTreeMap<String, u64>,
}

impl RunResult {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Distinct oracles that failed.
    pub fn failed_oracles(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> =
            self.violations.iter().map(|v| v.oracle.as_str()).collect();
        set.into_iter().map(String::from).collect()
    }
}

/// Installs the panic hook that keeps a run's panics for its report
/// (see [`crate::panics`]); every other panic still prints.
pub fn quiet_panics() {
    crate::panics::install_hook();
}

/// Runs one schedule under a scenario (in swarm mode, under the knobs its
/// seed draws) and classifies the outcome: a verdict about the system, or
/// a harness error when the schedule does not fit the scenario, the
/// harness panicked or the machine could not host the run.
pub fn run_schedule(
    sc: &Scenario,
    schedule: &Schedule,
    opts: &RunOptions,
) -> Result<RunResult, HarnessError> {
    validate(sc, schedule)?;
    run_validated(sc, schedule, opts)
}

/// The scenario within its bounds and the schedule fitting it, or the bad
/// input that says which does not (every runtime's entry point checks it).
pub(crate) fn validate(sc: &Scenario, schedule: &Schedule) -> Result<(), HarnessError> {
    sc.validate(&format!("scenario {:?}", sc.name))
        .map_err(|e| HarnessError::BadInput(e.to_string()))?;
    schedule
        .validate(sc, &format!("schedule of seed {}", schedule.seed))
        .map_err(HarnessError::BadInput)
}

/// [`run_schedule`] without checking that the schedule fits the scenario:
/// the caller vouches for it. A schedule that does not fit makes the
/// engine panic, which is reported as the harness bug it is.
pub fn run_validated(
    sc: &Scenario,
    schedule: &Schedule,
    opts: &RunOptions,
) -> Result<RunResult, HarnessError> {
    let sc = &schedule.scenario_of(sc);
    let root = temp_root();
    let dir = tempfile::Builder::new()
        .prefix("regsim-")
        .tempdir_in(&root)
        .map_err(|e| {
            HarnessError::Environment(format!(
                "cannot create a run directory under {}: {e}",
                root.display()
            ))
        })?;
    let sim_opts = SimOptions {
        registry: opts.registry,
        oracles: opts.oracles,
        keep_trace_lines: opts.keep_trace_lines,
        keep_events: opts.keep_events,
        cancel: opts.cancel.clone(),
        data_dir: dir.path().to_path_buf(),
        mutant: opts.mutant,
    };
    let runtime = opts.runtime;
    if opts.registry == RegistryKind::Fjall && runtime == Runtime::Native {
        // A power loss cuts a fjall journal back to what the fsync witness
        // saw: it must see this build's fsyncs.
        crate::fsync_witness::self_test().map_err(|m| {
            HarnessError::Environment(match crate::error::environment_cause(&m) {
                Some(cause) => format!("{cause}: {m}"),
                None => m,
            })
        })?;
    }
    if runtime == Runtime::Madsim {
        return Err(HarnessError::BadInput(
            "the madsim runtime runs inside madsim's own executor: use its #[madsim::test]s (`.ci/madsim-test`, see the README), not regsim".into(),
        ));
    }
    let mut result = match guarded(|| match runtime {
        Runtime::Native => Sim::new(sc, schedule, sim_opts).run(),
        Runtime::Turmoil => crate::turmoil_runtime::run(sc, schedule, sim_opts),
        Runtime::Madsim => unreachable!("refused above"),
    }) {
        Ok(out) => match out.harness_error {
            Some(e) => return Err(e),
            None => classify(sc, schedule.seed, runtime, out),
        },
        Err(caught) => match blame(&caught) {
            Blame::Harness => {
                return Err(HarnessError::Panic {
                    location: caught.location(),
                    message: caught.message,
                })
            }
            Blame::System => RunResult {
                seed: schedule.seed,
                runtime,
                trace_hash: 0,
                stats: Stats::default(),
                violations: vec![Violation {
                    oracle: "panic".into(),
                    node: None,
                    at_us: 0,
                    detail: format!("{} at {}", caught.message, caught.location()),
                }],
                findings: vec![],
                justified_halts: 0,
                justified_refusals: 0,
                justifications: Vec::new(),
                ending: "panicked".into(),
                trace_lines: vec![],
                events: vec![],
                kept_data: None,
                marks: Default::default(),
            },
        },
    };
    if !result.passed()
        && opts.keep_failed_data
        && opts.registry == RegistryKind::Fjall
        && runtime == Runtime::Native
    {
        result.kept_data = Some(dir.keep());
    }
    Ok(result)
}

/// The schedule `seed` expands into under a scenario, or the harness
/// error that stopped the expansion.
pub fn schedule_for(sc: &Scenario, seed: u64) -> Result<Schedule, HarnessError> {
    sc.validate(&format!("scenario {:?}", sc.name))
        .map_err(|e| HarnessError::BadInput(e.to_string()))?;
    guarded(|| Schedule::generate(sc, seed)).map_err(|caught| HarnessError::Panic {
        location: caught.location(),
        message: caught.message,
    })
}

/// Runs `seed` of a scenario.
pub fn run_seed(sc: &Scenario, seed: u64, opts: &RunOptions) -> Result<RunResult, HarnessError> {
    run_validated(sc, &schedule_for(sc, seed)?, opts)
}

/// The knobs line of a swarm run (with the schedule's own cluster size,
/// for a shrunk one), for failure reports; `None` otherwise.
pub fn swarm_knobs(sc: &Scenario, schedule: &Schedule) -> Option<String> {
    sc.swarm.then(|| schedule.scenario_of(sc).knobs())
}

pub(crate) fn classify(
    sc: &Scenario,
    seed: u64,
    runtime: Runtime,
    mut out: crate::world::RunOutput,
) -> RunResult {
    let conformance_failed = !out.violations.is_empty();
    let mut violations = std::mem::take(&mut out.violations.list);
    let mut findings = Vec::new();
    for f in out.purpose.failures() {
        if conformance_failed {
            // A finding signature never excuses a violation.
            violations.push(Violation::judged(
                format!("purpose:{}", f.signature),
                f.node,
                f.at_us,
                f.detail.clone(),
            ));
        } else if sc.findings.allowed.iter().any(|a| a == &f.signature) {
            findings.push(Finding {
                signature: f.signature.clone(),
                node: f.node,
                at_us: f.at_us,
                detail: f.detail.clone(),
            });
        } else {
            violations.push(Violation::judged(
                format!("finding-not-allowed:{}", f.signature),
                f.node,
                f.at_us,
                f.detail.clone(),
            ));
        }
    }
    let ending = match &out.ending {
        Ending::Converged => "converged".to_string(),
        Ending::Livelock(m) => format!("livelock: {m}"),
        Ending::NotConverged {
            report,
            quorum_live,
        } => {
            // Liveness is owed while the members that are neither halted
            // nor refused still form a majority, findings or not: a halted
            // node is already outside that count, so a finding cannot
            // explain why the others stopped making progress.
            if *quorum_live {
                violations.push(Violation::judged(
                    "liveness".into(),
                    None,
                    out.stats.virtual_us,
                    format!(
                        "not converged within {} ms of the fault phase: {report}",
                        sc.liveness_bound_ms
                    ),
                ));
            }
            format!("not converged: {report}")
        }
    };
    let (justified_halts, justified_refusals) = out.purpose.justified();
    RunResult {
        runtime,
        seed,
        trace_hash: out.trace.hash(),
        stats: out.stats,
        violations,
        findings,
        justified_halts,
        justified_refusals,
        justifications: out.purpose.justifications().to_vec(),
        ending,
        trace_lines: out.trace.take_lines(),
        events: out.trace.take_events(),
        kept_data: None,
        marks: out.marks.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::purpose::{HaltEvent, PurposeOracle};
    use crate::oracle::Violations;
    use crate::trace::Trace;
    use crate::world::RunOutput;

    fn restart_storm() -> Scenario {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/restart-storm.toml"
        );
        Scenario::load(std::path::Path::new(path)).unwrap().0
    }

    /// A run that showed the allowed replay-window finding and then did
    /// not converge although its live members formed a quorum.
    fn stalled_with_a_finding(quorum_live: bool) -> RunOutput {
        let mut purpose = PurposeOracle::default();
        purpose.on_halt(HaltEvent {
            node: 1,
            at_us: 5,
            index: 9,
            kind: "rollback",
            ids: vec![7],
            data_hash: 0,
            slot: None,
            rollback: None,
            in_replay_window: true,
            message: "epoch rollback".into(),
        });
        RunOutput {
            stats: Stats::default(),
            violations: Violations::default(),
            purpose,
            ending: Ending::NotConverged {
                report: "n1: up applied 3 commit 9".into(),
                quorum_live,
            },
            trace: Trace::new(false),
            marks: Default::default(),
            harness_error: None,
        }
    }

    #[test]
    fn a_finding_never_excuses_a_live_quorum_that_stalled() {
        let sc = restart_storm();
        let r = classify(&sc, 0, Runtime::Native, stalled_with_a_finding(true));
        assert_eq!(r.findings.len(), 1, "the finding is allowed here");
        assert!(
            r.violations.iter().any(|v| v.oracle == "liveness"),
            "{:?}",
            r.violations
        );
        // Without a live quorum nothing is owed.
        let r = classify(&sc, 0, Runtime::Native, stalled_with_a_finding(false));
        assert!(r.violations.is_empty(), "{:?}", r.violations);
    }
}
