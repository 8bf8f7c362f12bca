//! `regsim`, the simulator's command line: argument parsing, the exit
//! codes (0 pass, 1 a verdict that fails, 2 a harness error or bad input)
//! and one submodule per command.

mod bench;
mod case;
mod ctrl_c;
mod finish;
mod html;
#[cfg(feature = "mutants")]
mod hunt;
mod inspect;
#[cfg(feature = "mutants")]
mod mutants;
mod nightly;
mod record;
mod replay;
mod report;
mod run;
mod schedule;
mod shrink;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{Parser, Subcommand};

use writer_registry_sim::error::HarnessError;
use writer_registry_sim::run::Runtime;
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::store::RegistryKind;

#[derive(Parser)]
#[command(
    name = "regsim",
    version,
    about = "Deterministic simulation harness for the writer registry"
)]
struct Cli {
    /// The workspace root: the directory whose scenarios/, seeds/ and
    /// target/regsim/ the commands use (default: the current directory if
    /// it holds scenarios/, else the nearest parent directory that does).
    #[arg(long, global = true, value_name = "DIR", value_parser = parse_root)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Sweep seeds of a scenario (default: scenarios/default.toml).
    Run(run::RunArgs),
    /// Re-run one case and print its outcome (and trace with --trace).
    #[command(
        override_usage = "regsim replay --seed <SEED> [--scenario <FILE|NAME>] [OPTIONS]\n       regsim replay --schedule <FILE> [OPTIONS]"
    )]
    Replay(replay::ReplayArgs),
    /// Run one case and write a self-contained HTML page of it (timeline,
    /// verdicts, registry rows).
    #[command(
        override_usage = "regsim report --seed <SEED> [--scenario <FILE|NAME>] [OPTIONS]\n       regsim report --schedule <FILE> [OPTIONS]"
    )]
    Report(html::ReportArgs),
    /// Write a seed (or schedule) into the regression corpus.
    #[command(
        override_usage = "regsim record --seed <SEED> [--scenario <FILE|NAME>] [OPTIONS]\n       regsim record --schedule <FILE> [OPTIONS]"
    )]
    Record(record::RecordArgs),
    /// Shrink a failing run's schedule and write it into seeds/.
    #[command(
        override_usage = "regsim shrink --seed <SEED> [--scenario <FILE|NAME>] [OPTIONS]\n       regsim shrink --schedule <FILE> [OPTIONS]"
    )]
    Shrink(shrink::ShrinkArgs),
    /// Measure speed on a scenario (default: the shipped default), one
    /// core, memory and fjall registries, oracles on and off.
    Bench {
        /// Scenario: a file, or a shipped scenario's name (default:
        /// scenarios/default.toml).
        #[arg(long, value_name = "FILE|NAME")]
        scenario: Option<PathBuf>,
        /// Seeds per configuration, 0 to N-1 (1 to 100000).
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        count: u64,
        /// The old name of --count (accepted with a warning for one
        /// release: `--seeds` is a range A..B everywhere else).
        #[arg(long = "seeds", hide = true, conflicts_with = "count", value_parser = clap::value_parser!(u64).range(1..=100_000))]
        old_seeds: Option<u64>,
        /// `turmoil`: also run the same seeds on the turmoil runtime and
        /// print native / turmoil speed.
        #[arg(long, value_parser = runtime_arg(), default_value = "native")]
        runtime: Runtime,
    },
    /// Run every mutant of the catalogue over the shipped scenarios and the
    /// swarm mode and print how fast each is caught (needs the `mutants`
    /// feature: `cargo run --release -p regsim --features mutants
    /// --target-dir target/mutants`).
    Mutants {
        /// Seeds per mutant (its runs cycle through the scenarios), 1 to
        /// 100000.
        #[arg(long, default_value_t = 130, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        count: u64,
        /// The old name of --count (accepted with a warning for one
        /// release).
        #[arg(long = "budget-seeds", hide = true, conflicts_with = "count", value_parser = clap::value_parser!(u64).range(1..=100_000))]
        old_budget_seeds: Option<u64>,
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
        #[arg(long, value_parser = runtime_arg(), default_value = "native")]
        runtime: Runtime,
    },
    /// The nightly job in one command: every scenario for a share of a
    /// wall-time budget, then failures grouped by signature (new ones
    /// shrunk into corpus entries, with HTML reports), required marks
    /// enforced, results.jsonl, junit.xml and summary.md written.
    Nightly(nightly::NightlyArgs),
    /// Merge the results of nightly shards: one results.jsonl, junit.xml
    /// and summary.md; fails on a new signature or a required mark no
    /// shard hit.
    Merge(nightly::MergeArgs),
    /// Print the schedule a seed expands into.
    Schedule {
        /// Scenario: a file, or a shipped scenario's name (default:
        /// scenarios/default.toml).
        #[arg(long, value_name = "FILE|NAME")]
        scenario: Option<PathBuf>,
        /// The seed to expand.
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
    /// fjall, with real crash copies and power-loss cuts.
    Fjall,
    /// In memory (faster; no fjall recovery).
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

/// `--runtime`'s values and the help each shows. The library's [`Runtime`]
/// knows no command line (clap is the binary's alone), so the values a
/// user may name are declared here; madsim runs only from
/// `#[madsim::test]`s and is not offered.
#[derive(Clone, Copy, clap::ValueEnum)]
enum RuntimeArg {
    /// The native discrete-event engine (sim/src/sim/).
    Native,
    /// turmoil's hosts, clock, network and file system (sim/src/turmoil_runtime/).
    Turmoil,
}

/// `--runtime`'s parser: a [`RuntimeArg`] value, handed on as the
/// library's [`Runtime`].
fn runtime_arg() -> impl clap::builder::TypedValueParser<Value = Runtime> {
    use clap::builder::TypedValueParser;
    clap::builder::EnumValueParser::<RuntimeArg>::new().map(|r| match r {
        RuntimeArg::Native => Runtime::Native,
        RuntimeArg::Turmoil => Runtime::Turmoil,
    })
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
    Ok((a, b))
}

fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n @ 1..=256) => Ok(n),
        Ok(n) => Err(format!("expected 1 to 256 parallel runs, found {n}")),
        Err(e) => Err(format!("{s:?}: {e}")),
    }
}

/// Warns that option `old` was renamed `new` (one vocabulary: `--seeds`
/// is a range, `--count` a number of seeds, `--out` where files go). The
/// old spelling keeps working for one release, for users' scripts.
fn renamed(old: &str, new: &str) {
    eprintln!(
        "regsim: warning: {old} is now {new}; {old} is accepted until the next release (see CHANGELOG.md)"
    );
}

/// A count given under its old option name, warned about.
fn old_count(given: Option<u64>, old: &str) -> Option<u64> {
    given.inspect(|_| renamed(old, "--count"))
}

/// A failure: the message is printed as one line and the exit code is 2.
struct CliError(String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

/// `--root` as given, set once by [`main`] before a command runs. Every
/// command reaches its paths through [`find_root`]; a process-wide value
/// spares threading the flag through each command's signature.
static ROOT_ARG: OnceLock<Option<PathBuf>> = OnceLock::new();

fn parse_root(s: &str) -> Result<PathBuf, String> {
    let dir = PathBuf::from(s);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("{s:?} is not a directory"))
    }
}

/// The scenario a command runs when it names none: the root's
/// scenarios/default.toml.
fn default_scenario() -> Result<PathBuf, CliError> {
    Ok(find_root()?.join("scenarios/default.toml"))
}

/// The scenario `--scenario` names (else the default one) and the
/// scenario in it: a file path, or the name of a shipped scenario
/// (`partitions`, `partitions.toml`: the root's scenarios/partitions.toml),
/// as `nightly --only` and `REGSIM_SCENARIO` take them.
fn load(path: Option<PathBuf>) -> Result<(PathBuf, Scenario), CliError> {
    let path = match path {
        Some(p) => scenario_path(p)?,
        None => default_scenario()?,
    };
    let (sc, _) = Scenario::load(&path)?;
    Ok((path, sc))
}

/// `--scenario`'s value as a file: a file that exists is itself (a
/// warning says so when it shadows a shipped scenario of the same name);
/// a bare name that is no file here is the shipped scenario of that name;
/// anything else is an error listing the shipped names.
fn scenario_path(given: PathBuf) -> Result<PathBuf, CliError> {
    let bare = given.components().count() == 1;
    let name = given.to_string_lossy().into_owned();
    let name = name.strip_suffix(".toml").unwrap_or(&name);
    let shipped_as = |root: PathBuf| root.join("scenarios").join(format!("{name}.toml"));
    if given.is_file() {
        // A file needs no workspace; a bare name may shadow a shipped one.
        let shipped = find_root().ok().filter(|_| bare).map(shipped_as);
        if let Some(shipped) = shipped.filter(|s| s.is_file() && !same_file(&given, s)) {
            eprintln!(
                "regsim: warning: --scenario {}: the file here, not the shipped {}",
                given.display(),
                shipped.display()
            );
        }
        return Ok(given);
    }
    let dir = find_root()?.join("scenarios");
    let shipped = dir.join(format!("{name}.toml"));
    if bare && shipped.is_file() {
        return Ok(shipped);
    }
    let known: Vec<String> = writer_registry_sim::nightly::scenario_files(&dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .collect();
    let what = if given.exists() {
        "not a file"
    } else {
        "no such file"
    };
    let shipped = if bare {
        format!(", and no shipped scenario {name:?} in {}", dir.display())
    } else {
        String::new()
    };
    Err(CliError(format!(
        "--scenario {}: {what}{shipped} (shipped scenarios, by name: {})",
        given.display(),
        known.join(", ")
    )))
}

/// Both paths name one file (the root may be `.`).
fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// The workspace root: `--root`, else the current directory if it holds
/// a `scenarios/` directory, else the nearest parent directory that does
/// (as git looks for `.git`). Never a path fixed when regsim was built: a
/// binary copied or run from another checkout uses the files in front of
/// it. An error when none is found, saying what was looked for and where.
fn find_root() -> Result<PathBuf, CliError> {
    if let Some(Some(root)) = ROOT_ARG.get() {
        return Ok(root.clone());
    }
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    if cwd.join("scenarios").is_dir() {
        // Relative, so printed paths stay as short as the user's own.
        return Ok(PathBuf::from("."));
    }
    cwd.ancestors()
        .find(|dir| dir.join("scenarios").is_dir())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            CliError(format!(
                "no workspace root: neither {} nor any parent directory holds a scenarios/ directory; run regsim inside the workspace or give --root DIR",
                cwd.display()
            ))
        })
}

/// The workspace root where one is found, else the current directory: for
/// what a command writes beside its work (`run`'s
/// target/regsim/failures/) when it was given every input by path.
fn workspace_root() -> PathBuf {
    find_root().unwrap_or_else(|_| PathBuf::from("."))
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
        Some(_) => Err(no_mutants()),
    }
}

/// The error of a mutant asked of a build without them, naming the build
/// that has them.
#[cfg(not(feature = "mutants"))]
fn no_mutants() -> CliError {
    CliError(format!(
        "this regsim was built without mutants: rerun with `{} ...`",
        writer_registry_sim::command::cargo_run(true)
    ))
}

/// Runs `regsim` on the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    ROOT_ARG.get_or_init(|| cli.root.clone());
    // A panic out here is the harness's own: one line, exit 2, like any
    // other harness error (a run's panics are judged inside the run).
    let result = writer_registry_sim::panics::guarded(|| dispatch(cli)).unwrap_or_else(|caught| {
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
    // Every exit path that gets here (also after Ctrl-C or a caught
    // panic) removes this process's run directories.
    writer_registry_sim::tempdirs::remove_session();
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
        Cmd::Nightly(args) => nightly::cmd_nightly(args),
        Cmd::Merge(args) => nightly::cmd_merge(args),
        Cmd::Replay(args) => replay::cmd_replay(args),
        Cmd::Report(args) => html::cmd_report(args),
        Cmd::Record(args) => record::cmd_record(args),
        Cmd::Shrink(args) => shrink::cmd_shrink(args),
        #[cfg(feature = "mutants")]
        Cmd::Mutants {
            count,
            old_budget_seeds,
            jobs,
            only,
            scenarios,
            runtime,
        } => {
            let count = old_count(old_budget_seeds, "--budget-seeds").unwrap_or(count);
            mutants::cmd_mutants(count, jobs, only, scenarios, runtime)
        }
        #[cfg(not(feature = "mutants"))]
        Cmd::Mutants { .. } => Err(no_mutants()),
        Cmd::Bench {
            scenario,
            count,
            old_seeds,
            runtime,
        } => {
            let count = old_count(old_seeds, "--seeds").unwrap_or(count);
            bench::cmd_bench(scenario, count, runtime)
        }
        Cmd::Schedule { scenario, seed } => schedule::cmd_schedule(scenario, seed),
        Cmd::Inspect(cmd) => inspect::cmd_inspect(cmd),
        Cmd::NodeId { raft_id } => inspect::cmd_node_id(&raft_id),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every (sub)command's arguments and possible values, with the
    /// command's path and the help text each carries.
    fn helps() -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        let mut todo = vec![(String::from("regsim"), Cli::command())];
        while let Some((path, cmd)) = todo.pop() {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if ["help", "version"].contains(&id) {
                    continue;
                }
                let help = arg.get_help().or(arg.get_long_help());
                out.push((format!("{path} --{id}"), help.map(|h| h.to_string())));
                // A flag's true/false are clap's, not ours to describe.
                let values = arg
                    .get_action()
                    .takes_values()
                    .then(|| arg.get_possible_values());
                for value in values.into_iter().flatten() {
                    let help = value.get_help().map(|h| h.to_string());
                    out.push((format!("{path} --{id} {}", value.get_name()), help));
                }
            }
            for sub in cmd.get_subcommands() {
                let about = sub.get_about().map(|h| h.to_string());
                out.push((format!("{path} {}", sub.get_name()), about));
                todo.push((format!("{path} {}", sub.get_name()), sub.clone()));
            }
        }
        out
    }

    #[test]
    fn every_command_argument_and_value_says_what_it_is_in_plain_text() {
        let helps = helps();
        assert!(helps.len() > 100, "walked only {} places", helps.len());
        let bad: Vec<String> = helps
            .into_iter()
            .filter_map(|(place, help)| match help {
                None => Some(format!("{place}: no help text")),
                Some(h) if h.trim().is_empty() => Some(format!("{place}: empty help text")),
                // Rustdoc links read as noise in a terminal.
                Some(h) if h.contains("[`") => Some(format!("{place}: a rustdoc link: {h}")),
                Some(_) => None,
            })
            .collect();
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn the_usage_of_a_case_command_shows_both_ways_to_name_the_run() {
        for name in ["replay", "report", "record", "shrink"] {
            let mut cmd = Cli::command();
            let usage = cmd
                .find_subcommand_mut(name)
                .expect("the command exists")
                .render_usage()
                .to_string();
            assert!(usage.contains("--seed <SEED>"), "{name}: {usage}");
            assert!(usage.contains("--schedule <FILE>"), "{name}: {usage}");
        }
    }
}
