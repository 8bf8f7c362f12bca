//! `regsim`, the simulator's command line: argument parsing, the exit
//! codes (0 pass, 1 a verdict that fails, 2 a harness error or bad input)
//! and one submodule per command.

mod bench;
mod case;
mod html;
mod inspect;
#[cfg(feature = "mutants")]
mod mutants;
mod record;
mod replay;
mod report;
mod run;
mod schedule;
mod shrink;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::HarnessError;
use crate::scenario::Scenario;
use crate::store::RegistryKind;

#[derive(Parser)]
#[command(
    name = "regsim",
    version,
    about = "Deterministic simulation harness for the writer registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Sweep seeds of a scenario (default: scenarios/default.toml).
    Run(run::RunArgs),
    /// Re-run one case and print its outcome (and trace with --trace).
    Replay(replay::ReplayArgs),
    /// Run one case and write a self-contained HTML page of it (timeline,
    /// verdicts, registry rows).
    Report(html::ReportArgs),
    /// Write a seed (or schedule) into the regression corpus.
    Record(record::RecordArgs),
    /// Shrink a failing run's schedule and write it into seeds/.
    Shrink(shrink::ShrinkArgs),
    /// Measure speed on a scenario (default: the shipped default), one
    /// core, memory and fjall registries, oracles on and off.
    Bench {
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Seeds per configuration (1 to 100000).
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        seeds: u64,
        /// `turmoil`: also run the same seeds on the turmoil runtime and
        /// print native / turmoil speed.
        #[arg(long, value_enum, default_value_t = crate::run::Runtime::Native)]
        runtime: crate::run::Runtime,
    },
    /// Run every mutant of the catalogue over the shipped scenarios and the
    /// swarm mode and print how fast each is caught (needs the `mutants`
    /// feature: `cargo run --release -p writer-registry-sim --features mutants`).
    Mutants {
        /// Runs per mutant (cycling through the scenarios), 1 to 100000.
        #[arg(long, default_value_t = 130, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        budget_seeds: u64,
        /// Parallel runs (default: the number of cores), 1 to 256.
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Only these mutants (kebab-case names; repeatable).
        #[arg(long)]
        only: Vec<String>,
        /// Directory of scenarios (default: the shipped scenarios/).
        #[arg(long)]
        scenarios: Option<PathBuf>,
        /// The runtime to run the table on (mutants of code a runtime does
        /// not use are left out, with a note).
        #[arg(long, value_enum, default_value_t = crate::run::Runtime::Native)]
        runtime: crate::run::Runtime,
    },
    /// Print the schedule a seed expands into.
    Schedule {
        #[arg(long)]
        scenario: Option<PathBuf>,
        #[arg(long)]
        seed: u64,
    },
    /// Decode bytes from a trace.
    #[command(subcommand)]
    Inspect(inspect::InspectCmd),
    /// Print the FNV-1a full node id and node16 of a Raft id string.
    NodeId {
        /// The node's Raft id string, e.g. n1.
        raft_id: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Registry {
    Fjall,
    Memory,
}

impl From<Registry> for RegistryKind {
    fn from(r: Registry) -> Self {
        match r {
            Registry::Fjall => RegistryKind::Fjall,
            Registry::Memory => RegistryKind::Memory,
        }
    }
}

fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("expected A..B, found {s:?}"))?;
    let a: u64 = a
        .parse()
        .map_err(|e| format!("seed range start {a:?}: {e}"))?;
    let b: u64 = b
        .parse()
        .map_err(|e| format!("seed range end {b:?}: {e}"))?;
    if b <= a {
        return Err(format!("empty seed range {a}..{b}"));
    }
    if b - a > MAX_SWEEP_SEEDS {
        return Err(format!(
            "seed range {a}..{b} holds {} seeds, more than the {MAX_SWEEP_SEEDS} one sweep runs",
            b - a
        ));
    }
    Ok((a, b))
}

/// Most seeds one sweep runs (its results are kept until the summary).
const MAX_SWEEP_SEEDS: u64 = 10_000_000;

fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n @ 1..=256) => Ok(n),
        Ok(n) => Err(format!("expected 1 to 256 parallel runs, found {n}")),
        Err(e) => Err(format!("{s:?}: {e}")),
    }
}

/// A failure: the message is printed as one line and the exit code is 2.
struct CliError(String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

fn default_scenario() -> PathBuf {
    let local = Path::new("scenarios/default.toml");
    if local.exists() {
        return local.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/default.toml")
}

fn load(path: Option<PathBuf>) -> Result<(PathBuf, Scenario), CliError> {
    let path = path.unwrap_or_else(default_scenario);
    let (sc, _) = Scenario::load(&path)?;
    Ok((path, sc))
}

fn workspace_root() -> PathBuf {
    if Path::new("scenarios").is_dir() {
        return PathBuf::from(".");
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The mutant slot for `--mutant NAME`.
fn mutant_slot(name: Option<&str>) -> Result<writer_registry::MutantSlot, CliError> {
    #[cfg(feature = "mutants")]
    {
        name.map(|n| {
            writer_registry::mutants::Mutant::from_name(n).ok_or_else(|| {
                let all: Vec<&str> = writer_registry::mutants::Mutant::ALL
                    .iter()
                    .map(|m| m.name())
                    .collect();
                CliError(format!(
                    "--mutant: unknown mutant {n:?}; known: {}",
                    all.join(", ")
                ))
            })
        })
        .transpose()
    }
    #[cfg(not(feature = "mutants"))]
    match name {
        None => Ok(()),
        Some(_) => Err(CliError(NO_MUTANTS.into())),
    }
}

#[cfg(not(feature = "mutants"))]
const NO_MUTANTS: &str = "this regsim was built without mutants: rerun with `cargo run --release -p writer-registry-sim --features mutants --bin regsim -- ...`";

/// Runs `regsim` on the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A panic out here is the harness's own: one line, exit 2, like any
    // other harness error (a run's panics are judged inside the run).
    let result = crate::panics::guarded(|| dispatch(cli)).unwrap_or_else(|caught| {
        let e = if caught.message.starts_with("failed printing to stdout") {
            // `regsim run | head`: the reader left; nothing to blame.
            HarnessError::Environment(format!("standard output closed: {}", caught.message))
        } else {
            HarnessError::Panic {
                location: caught.location(),
                message: caught.message,
            }
        };
        Err(CliError(e.to_string()))
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(CliError(e)) => {
            eprintln!("regsim: error: {}", e.trim_end().replace('\n', " "));
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<bool, CliError> {
    match cli.command {
        Cmd::Run(args) => run::cmd_run(args),
        Cmd::Replay(args) => replay::cmd_replay(args),
        Cmd::Report(args) => html::cmd_report(args),
        Cmd::Record(args) => record::cmd_record(args),
        Cmd::Shrink(args) => shrink::cmd_shrink(args),
        #[cfg(feature = "mutants")]
        Cmd::Mutants {
            budget_seeds,
            jobs,
            only,
            scenarios,
            runtime,
        } => mutants::cmd_mutants(budget_seeds, jobs, only, scenarios, runtime),
        #[cfg(not(feature = "mutants"))]
        Cmd::Mutants { .. } => Err(CliError(NO_MUTANTS.into())),
        Cmd::Bench {
            scenario,
            seeds,
            runtime,
        } => bench::cmd_bench(scenario, seeds, runtime),
        Cmd::Schedule { scenario, seed } => schedule::cmd_schedule(scenario, seed),
        Cmd::Inspect(cmd) => inspect::cmd_inspect(cmd),
        Cmd::NodeId { raft_id } => inspect::cmd_node_id(&raft_id),
    }
}
