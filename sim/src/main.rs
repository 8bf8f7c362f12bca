//! `regsim`: the writer-registry simulator's command line.

// Without the `mutants` feature a mutant slot is `()` by design (nothing
// to select), and it is still handed along so both builds share one path.
#![cfg_attr(
    not(feature = "mutants"),
    allow(clippy::unit_arg, clippy::let_unit_value)
)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use writer_registry_sim::corpus::{hash_hex, Expect, SeedEntry, Verdict};
use writer_registry_sim::error::HarnessError;
use writer_registry_sim::inspect;
use writer_registry_sim::run::{self, RunOptions, RunResult};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::schedule::Schedule;
use writer_registry_sim::shrink;
use writer_registry_sim::store::RegistryKind;
use writer_registry_sim::sweep::{sweep, Summary, SweepOutput};

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
    Run(RunArgs),
    /// Re-run one case and print its outcome (and trace with --trace).
    Replay(ReplayArgs),
    /// Write a seed (or schedule) into the regression corpus.
    Record(RecordArgs),
    /// Shrink a failing run's schedule and write it into seeds/.
    Shrink(ShrinkArgs),
    /// Measure speed on a scenario (default: the shipped default), one
    /// core, memory and fjall registries, oracles on and off.
    Bench {
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Seeds per configuration (1 to 100000).
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        seeds: u64,
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
    Inspect(InspectCmd),
    /// Print the FNV-1a full node id and node16 of a Raft id string.
    NodeId {
        /// The node's Raft id string, e.g. n1.
        raft_id: String,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Scenario file.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Seed range A..B (B exclusive), at most 10000000 seeds.
    #[arg(long, value_parser = parse_range, conflicts_with = "count")]
    seeds: Option<(u64, u64)>,
    /// Number of seeds, starting at 0 (1 to 10000000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_SWEEP_SEEDS))]
    count: Option<u64>,
    /// Parallel runs (default: the number of cores), 1 to 256.
    #[arg(long, value_parser = parse_jobs)]
    jobs: Option<usize>,
    /// Override the scenario's registry.
    #[arg(long, value_enum)]
    registry: Option<Registry>,
    /// Run without oracles (for measuring their cost).
    #[arg(long)]
    no_oracles: bool,
    /// Keep the fjall directories of failing runs.
    #[arg(long)]
    keep_failures: bool,
    /// Run every seed twice and compare traces.
    #[arg(long)]
    check_determinism: bool,
    /// Print only failing seeds and the summary (not a line per seed).
    #[arg(long)]
    quiet: bool,
    /// Fail if a coverage mark the scenario requires was never hit.
    #[arg(long)]
    require_marks: bool,
    /// Run a mutant of the catalogue (needs the `mutants` feature).
    #[arg(long)]
    mutant: Option<String>,
}

/// Which run: a seed of a scenario, or a schedule file (a bare schedule
/// or a seeds/ entry, which names its scenario and mutant).
#[derive(Args)]
struct CaseArgs {
    /// Scenario file (default: scenarios/default.toml, or the entry's).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// The seed to expand into a schedule.
    #[arg(long, required_unless_present = "schedule")]
    seed: Option<u64>,
    /// A schedule file (a bare schedule or a seeds/ entry).
    #[arg(long, conflicts_with = "seed")]
    schedule: Option<PathBuf>,
    /// Run a mutant of the catalogue (needs the `mutants` feature).
    #[arg(long)]
    mutant: Option<String>,
}

#[derive(Args)]
struct ReplayArgs {
    #[command(flatten)]
    case: CaseArgs,
    #[arg(long, value_enum)]
    registry: Option<Registry>,
    /// Print the trace.
    #[arg(long)]
    trace: bool,
    /// Run twice and compare the traces event by event.
    #[arg(long)]
    check_determinism: bool,
}

#[derive(Args)]
struct RecordArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// What the entry must keep showing.
    #[arg(long, value_enum)]
    expect: ExpectArg,
    /// Oracle or finding signature (default: the run's first).
    #[arg(long)]
    signature: Option<String>,
    #[arg(long, default_value = "")]
    note: String,
    /// Output file (default: seeds/<scenario>-<seed>.toml).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct ShrinkArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// Output file (default: seeds/<scenario>-<seed>[-<mutant>]-shrunk.toml).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value = "")]
    note: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExpectArg {
    StillFailing,
    Fixed,
    ExpectedFinding,
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

#[derive(Subcommand)]
enum InspectCmd {
    /// Decode a Raft entry's data (envelope, opcode, body).
    Entry {
        /// The entry bytes in hex; spaces, `_` and `:` are ignored.
        hex: String,
    },
    /// Decode a registry row.
    Row {
        /// The 27-byte key in hex.
        key: String,
        /// The 12-byte value in hex.
        value: String,
    },
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

fn replay_command(
    path: &Path,
    sc: &Scenario,
    r: &RunResult,
    registry: RegistryKind,
    mutant: Option<&str>,
) -> String {
    let (features, mutant) = match mutant {
        Some(m) => (" --features mutants", format!(" --mutant {m}")),
        None => ("", String::new()),
    };
    format!(
        "cargo run --release -p writer-registry-sim{features} --bin regsim -- replay --scenario {} --seed {} --registry {}{mutant}   # policy {:?}, commit {}",
        path.display(),
        r.seed,
        registry.name(),
        sc.policy,
        env!("REGSIM_COMMIT")
    )
}

fn print_result(r: &RunResult) {
    let s = &r.stats;
    println!(
        "seed {}: {} trace {:016x} | committed {} crashes {} power-losses {} snapshot-installs {} elections {} halts {} refusals {} virtual {:.1}s events {} | {}",
        r.seed,
        if r.passed() { "pass" } else { "FAIL" },
        r.trace_hash,
        s.committed,
        s.crashes,
        s.power_losses,
        s.snapshot_installs,
        s.elections,
        s.halts,
        s.refusals,
        s.virtual_us as f64 / 1e6,
        s.events,
        r.ending
    );
    for v in &r.violations {
        println!("  violation {v}");
    }
    let mut shown: Vec<(&str, &str, usize)> = Vec::new();
    for f in &r.findings {
        match shown
            .iter_mut()
            .find(|(s, d, _)| *s == f.signature && *d == f.detail)
        {
            Some(entry) => entry.2 += 1,
            None => shown.push((&f.signature, &f.detail, 1)),
        }
    }
    for (sig, detail, n) in shown {
        let times = if n > 1 {
            format!(" (x{n}: it recurs at every restart)")
        } else {
            String::new()
        };
        println!("  finding {sig}{times}: {detail}");
    }
}

fn first_difference(a: &[String], b: &[String]) -> Option<(usize, String, String)> {
    let n = a.len().max(b.len());
    (0..n).find_map(|i| {
        let (x, y) = (a.get(i), b.get(i));
        (x != y).then(|| {
            (
                i,
                x.cloned().unwrap_or_else(|| "<end>".into()),
                y.cloned().unwrap_or_else(|| "<end>".into()),
            )
        })
    })
}

fn cmd_run(args: RunArgs) -> Result<bool, CliError> {
    let (path, sc) = load(args.scenario)?;
    let seeds: Vec<u64> = match (args.seeds, args.count) {
        (Some((a, b)), _) => (a..b).collect(),
        (None, Some(n)) => (0..n).collect(),
        (None, None) => (0..256).collect(),
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut opts = RunOptions::for_scenario(&sc);
    if let Some(r) = args.registry {
        opts.registry = r.into();
    }
    opts.oracles = !args.no_oracles;
    opts.keep_failed_data = args.keep_failures;
    opts.keep_trace_lines = args.check_determinism;
    opts.mutant = mutant_slot(args.mutant.as_deref())?;
    run::quiet_panics();
    println!(
        "scenario {} ({}), policy {:?}, registry {}, {} seeds on {jobs} jobs",
        sc.name,
        path.display(),
        sc.policy,
        opts.registry.name(),
        seeds.len()
    );
    let bar = ProgressBar::new(seeds.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {elapsed} eta {eta} {msg}")
            .expect("valid template"),
    );
    let failures = std::sync::atomic::AtomicU64::new(0);
    let on_done = |r: &Result<RunResult, HarnessError>| {
        if !r.as_ref().is_ok_and(RunResult::passed) {
            let n = failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            bar.set_message(format!("{n} failing"));
        }
        bar.inc(1);
    };
    let SweepOutput {
        results,
        mut harness_errors,
        wall,
    } = sweep(&sc, &seeds, jobs, &opts, &on_done);
    bar.finish_and_clear();
    let mut ok = true;
    if args.check_determinism {
        let again = sweep(&sc, &seeds, jobs, &opts, &|_| {});
        // A seed that failed to run the second time is no proof of
        // determinism: its error is reported with the others.
        for (seed, e) in again.harness_errors {
            if !harness_errors.iter().any(|(s, _)| *s == seed) {
                harness_errors.push((seed, e));
            }
        }
        for a in &results {
            let Some(b) = again.results.iter().find(|b| b.seed == a.seed) else {
                continue;
            };
            if a.trace_hash != b.trace_hash {
                ok = false;
                println!(
                    "seed {}: NONDETERMINISTIC trace {:016x} vs {:016x}",
                    a.seed, a.trace_hash, b.trace_hash
                );
                if let Some((i, x, y)) = first_difference(&a.trace_lines, &b.trace_lines) {
                    println!("  first difference at event {i}:\n    {x}\n    {y}");
                }
            }
        }
    }
    if !args.quiet {
        for r in results.iter().filter(|r| r.passed()) {
            print_result(r);
        }
    }
    let failed_dir = workspace_root().join("target/regsim/failures");
    for r in results.iter().filter(|r| !r.passed()) {
        print_result(r);
        println!(
            "  replay: {}",
            replay_command(&path, &sc, r, opts.registry, args.mutant.as_deref())
        );
        if let Some(knobs) = run::schedule_for(&sc, r.seed)
            .ok()
            .and_then(|s| run::swarm_knobs(&sc, &s))
        {
            println!("  swarm knobs: {knobs}");
        }
        let file = failed_dir.join(format!("{}-{}.toml", sc.name, r.seed));
        let signature = r
            .violations
            .first()
            .map(|v| v.oracle.clone())
            .unwrap_or_default();
        let entry = entry_for(
            &path,
            run::schedule_for(&sc, r.seed)?,
            Expect::StillFailing,
            signature,
            String::new(),
            args.mutant.clone(),
        )?;
        if std::fs::create_dir_all(&failed_dir)
            .and_then(|_| std::fs::write(&file, entry.to_toml()))
            .is_ok()
        {
            println!("  recorded as a seeds/ entry: {}", file.display());
        }
        if let Some(dir) = &r.kept_data {
            println!("  fjall data kept in {}", dir.display());
        }
    }
    let summary = Summary::from_results(&sc, &results, wall);
    println!("{summary}");
    let marks_ok = !args.require_marks || summary.missing_marks.is_empty();
    // A harness error is no verdict: it is reported after the verdicts
    // (nothing already found is lost) and the command exits 2.
    if let Some((seed, first)) = harness_errors.first() {
        for (seed, e) in &harness_errors {
            println!("seed {seed}: HARNESS ERROR ({}): {e}", e.kind());
        }
        let more = match harness_errors.len() {
            1 => String::new(),
            n => format!(" (and {} more seeds)", n - 1),
        };
        return Err(CliError(format!("seed {seed}{more}: {first}")));
    }
    Ok(ok && summary.ok() && marks_ok)
}

/// The scenario and schedule a replay or record names: a seed under a
/// scenario, a bare schedule file, or a seeds/ entry (which names its own
/// scenario unless --scenario overrides it).
/// A run to replay, record or shrink: where its scenario lives, the
/// scenario, the schedule, the mutant (from the command line, else from a
/// seeds/ entry) and the options it runs with.
struct Case {
    path: PathBuf,
    sc: Scenario,
    schedule: Schedule,
    mutant: Option<String>,
    opts: RunOptions,
}

type Resolved = (PathBuf, Scenario, Schedule, Option<String>);

fn case(args: CaseArgs) -> Result<Case, CliError> {
    let from_entry = args
        .mutant
        .is_none()
        .then(|| args.schedule.clone())
        .flatten();
    let (path, sc, schedule, entry_mutant) =
        resolve(args.scenario, args.seed, args.schedule.as_deref())?;
    let mutant = args.mutant.or(entry_mutant);
    let mut opts = RunOptions::for_scenario(&sc);
    opts.mutant = mutant_slot(mutant.as_deref()).map_err(|CliError(e)| match &from_entry {
        // The name came from the entry's file, not the command line.
        Some(file) if mutant.is_some() => CliError(format!(
            "{}: `mutant`: {}",
            file.display(),
            e.trim_start_matches("--mutant: ")
        )),
        _ => CliError(e),
    })?;
    Ok(Case {
        path,
        sc,
        schedule,
        mutant,
        opts,
    })
}

fn resolve(
    scenario: Option<PathBuf>,
    seed: Option<u64>,
    schedule: Option<&Path>,
) -> Result<Resolved, CliError> {
    match (schedule, seed) {
        (Some(file), _) => {
            let shown = file.display().to_string();
            let text = writer_registry_sim::schedule::read_file(file)?;
            if SeedEntry::is_entry(&text) {
                let entry = SeedEntry::parse(&text, &shown)?;
                let scenario = scenario.unwrap_or_else(|| workspace_root().join(&entry.scenario));
                let (path, sc) = load(Some(scenario))?;
                let now = std::fs::read_to_string(&path)
                    .map(|t| hash_hex(&t))
                    .unwrap_or_default();
                if now != entry.scenario_hash {
                    println!(
                        "note: {shown} was recorded against {} with hash {}, now {now}: the entry is stale and may no longer mean the same run",
                        path.display(),
                        entry.scenario_hash
                    );
                }
                entry.schedule.validate_in(&sc, &shown, "schedule.")?;
                Ok((path, sc, entry.schedule, entry.mutant))
            } else {
                let schedule = Schedule::from_toml(&text, &shown)?;
                let (path, sc) = load(scenario)?;
                schedule.validate(&sc, &shown)?;
                Ok((path, sc, schedule, None))
            }
        }
        (None, Some(seed)) => {
            let (path, sc) = load(scenario)?;
            let schedule = run::schedule_for(&sc, seed)?;
            Ok((path, sc, schedule, None))
        }
        (None, None) => Err(CliError("give --seed or --schedule".into())),
    }
}

fn workspace_root() -> PathBuf {
    if Path::new("scenarios").is_dir() {
        return PathBuf::from(".");
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The scenario path as an entry records it: relative to the workspace root.
fn relative_scenario(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("scenarios/{name}")
}

fn entry_for(
    path: &Path,
    schedule: Schedule,
    expect: Expect,
    signature: String,
    note: String,
    mutant: Option<String>,
) -> Result<SeedEntry, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    Ok(SeedEntry {
        scenario: relative_scenario(path),
        scenario_hash: hash_hex(&text),
        expect,
        signature,
        note,
        mutant,
        schedule,
    })
}

fn cmd_record(args: RecordArgs) -> Result<bool, CliError> {
    let Case {
        path,
        sc,
        schedule,
        mutant,
        opts,
    } = case(args.case)?;
    run::quiet_panics();
    let r = run::run_schedule(&sc, &schedule, &opts)?;
    print_result(&r);
    let expect = match args.expect {
        ExpectArg::StillFailing => Expect::StillFailing,
        ExpectArg::Fixed => Expect::Fixed,
        ExpectArg::ExpectedFinding => Expect::ExpectedFinding,
    };
    let signature = args.signature.unwrap_or_else(|| match expect {
        Expect::ExpectedFinding => r
            .findings
            .first()
            .map(|f| f.signature.clone())
            .unwrap_or_default(),
        _ => r
            .violations
            .first()
            .map(|v| v.oracle.clone())
            .unwrap_or_default(),
    });
    let seed = schedule.seed;
    let entry = entry_for(&path, schedule, expect, signature, args.note, mutant)?;
    let out = args.out.unwrap_or_else(|| {
        workspace_root()
            .join("seeds")
            .join(format!("{}-{seed}.toml", sc.name))
    });
    std::fs::write(&out, entry.to_toml())
        .map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
    match entry.check(&workspace_root()) {
        Verdict::Holds(_) => {
            println!(
                "recorded {} ({} events): it holds",
                out.display(),
                entry.schedule.events.len()
            );
            Ok(true)
        }
        Verdict::Harness(e) => Err(CliError(format!(
            "recorded {}, but it cannot be run: {e}",
            out.display()
        ))),
        Verdict::Stale(why) | Verdict::Broken(why) => {
            println!("recorded {}, but it does not hold: {why}", out.display());
            Ok(false)
        }
        Verdict::NeedsMutants => {
            println!(
                "recorded {}; it runs a mutant, so only a mutants build can check it",
                out.display()
            );
            Ok(true)
        }
    }
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

#[cfg(feature = "mutants")]
fn cmd_mutants(
    budget: u64,
    jobs: Option<usize>,
    only: Vec<String>,
    dir: Option<PathBuf>,
) -> Result<bool, CliError> {
    use writer_registry::mutants::Mutant;
    use writer_registry_sim::mutants::{render, table, targets};
    let dir = dir.unwrap_or_else(|| workspace_root().join("scenarios"));
    let targets = targets(&dir)?;
    let mut mutants: Vec<Option<Mutant>> = vec![None];
    for m in Mutant::ALL {
        if only.is_empty() || only.iter().any(|o| o == m.name()) {
            mutants.push(Some(m));
        }
    }
    if mutants.len() == 1 && !only.is_empty() {
        return Err(CliError(format!("--only: no mutant named {only:?}")));
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!("mutants: {} mutants + the unmutated build, {budget} runs each over {} scenarios, {jobs} jobs", mutants.len() - 1, targets.len());
    run::quiet_panics();
    let bar = ProgressBar::new(budget * mutants.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs {elapsed} eta {eta}")
            .expect("valid template"),
    );
    let rows = table(&targets, &mutants, budget, jobs, &|| bar.inc(1));
    bar.finish_and_clear();
    print!("{}", render(&rows));
    // A harness error catches no mutant and clears no baseline: exit 2.
    let broken: Vec<&writer_registry_sim::mutants::Row> =
        rows.iter().filter(|r| r.harness_errors > 0).collect();
    if let Some((path, seed, e)) = broken.iter().find_map(|r| r.first_harness_error.as_ref()) {
        let runs: u64 = broken.iter().map(|r| r.harness_errors).sum();
        return Err(CliError(format!(
            "{runs} runs ended in a harness error, first {} seed {seed}: {e}",
            path.display()
        )));
    }
    let survivors: Vec<&str> = rows.iter().filter(|r| !r.ok()).map(|r| r.name()).collect();
    if survivors.is_empty() {
        println!("every mutant caught; the unmutated build is clean");
        Ok(true)
    } else {
        println!("NOT OK: {}", survivors.join(", "));
        Ok(false)
    }
}

fn cmd_shrink(args: ShrinkArgs) -> Result<bool, CliError> {
    let Case {
        path,
        sc,
        schedule,
        mutant,
        opts,
    } = case(args.case)?;
    run::quiet_panics();
    let log = |line: &str| println!("  {line}");
    let Some(shrunk) = shrink::shrink(&sc, &schedule, &opts, &log)? else {
        println!(
            "seed {} neither fails nor shows a finding: nothing to shrink",
            schedule.seed
        );
        return Ok(false);
    };
    let seed = schedule.seed;
    let result = run::run_schedule(&sc, &shrunk.schedule, &opts)?;
    let expect = if result.passed() {
        Expect::ExpectedFinding
    } else {
        Expect::StillFailing
    };
    let suffix = mutant.as_ref().map(|m| format!("-{m}")).unwrap_or_default();
    let out = args.out.unwrap_or_else(|| {
        workspace_root()
            .join("seeds")
            .join(format!("{}-{seed}{suffix}-shrunk.toml", sc.name))
    });
    let note = if args.note.is_empty() {
        format!(
            "Shrunk from {} to {} events ({} runs) from seed {seed}.",
            shrunk.before,
            shrunk.schedule.events.len(),
            shrunk.runs
        )
    } else {
        args.note
    };
    let events = shrunk.schedule.events.len();
    let entry = entry_for(
        &path,
        shrunk.schedule,
        expect,
        shrunk.signature.clone(),
        note,
        mutant,
    )?;
    std::fs::write(&out, entry.to_toml())
        .map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
    print_result(&result);
    println!(
        "shrunk {} -> {events} events in {} runs, signature {}: wrote {}",
        shrunk.before,
        shrunk.runs,
        shrunk.signature,
        out.display()
    );
    println!(
        "replay: regsim replay --schedule {}{}",
        out.display(),
        entry
            .mutant
            .as_ref()
            .map(|m| format!(" --mutant {m}"))
            .unwrap_or_default()
    );
    Ok(true)
}

fn cmd_replay(args: ReplayArgs) -> Result<bool, CliError> {
    let schedule_file = args.case.schedule.clone();
    let Case {
        path,
        sc,
        schedule,
        mutant,
        mut opts,
    } = case(args.case)?;
    if let Some(r) = args.registry {
        opts.registry = r.into();
    }
    opts.keep_trace_lines = args.check_determinism;
    if args.trace {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "regsim=debug".into());
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .without_time()
            .init();
    } else if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_target(false)
            .without_time()
            .init();
    }
    run::quiet_panics();
    let r = run::run_schedule(&sc, &schedule, &opts)?;
    print_result(&r);
    if let Some(knobs) = run::swarm_knobs(&sc, &schedule) {
        println!("swarm knobs: {knobs}");
    }
    if !r.passed() {
        match &schedule_file {
            Some(file) => println!(
                "replay: regsim replay --schedule {}{}",
                file.display(),
                mutant
                    .as_ref()
                    .map(|m| format!(" --mutant {m}"))
                    .unwrap_or_default()
            ),
            None => println!(
                "replay: {}",
                replay_command(&path, &sc, &r, opts.registry, mutant.as_deref())
            ),
        }
    }
    let mut ok = r.passed();
    if args.check_determinism {
        let again = run::run_schedule(&sc, &schedule, &opts)?;
        if again.trace_hash == r.trace_hash {
            println!(
                "deterministic: trace {:016x} twice ({} events)",
                r.trace_hash,
                r.trace_lines.len()
            );
        } else {
            ok = false;
            println!(
                "NONDETERMINISTIC: {:016x} vs {:016x}",
                r.trace_hash, again.trace_hash
            );
            if let Some((i, x, y)) = first_difference(&r.trace_lines, &again.trace_lines) {
                println!("first difference at event {i}:\n  {x}\n  {y}");
            }
        }
    }
    Ok(ok)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Cmd::Run(args) => cmd_run(args),
        Cmd::Replay(args) => cmd_replay(args),
        Cmd::Record(args) => cmd_record(args),
        Cmd::Shrink(args) => cmd_shrink(args),
        #[cfg(feature = "mutants")]
        Cmd::Mutants {
            budget_seeds,
            jobs,
            only,
            scenarios,
        } => cmd_mutants(budget_seeds, jobs, only, scenarios),
        #[cfg(not(feature = "mutants"))]
        Cmd::Mutants { .. } => Err(CliError(NO_MUTANTS.into())),
        Cmd::Bench { scenario, seeds } => load(scenario).and_then(|(path, sc)| {
            run::quiet_panics();
            println!(
                "bench: scenario {} ({}), {seeds} seeds per configuration, one thread",
                sc.name,
                path.display()
            );
            println!("{}", writer_registry_sim::bench::Report::run(&sc, seeds)?);
            Ok(true)
        }),
        Cmd::Schedule { scenario, seed } => load(scenario).and_then(|(_, sc)| {
            print!("{}", run::schedule_for(&sc, seed)?.to_toml());
            Ok(true)
        }),
        Cmd::Inspect(InspectCmd::Entry { hex }) => inspect::entry(&hex)
            .map(|t| print!("{t}"))
            .map(|_| true)
            .map_err(CliError::from),
        Cmd::Inspect(InspectCmd::Row { key, value }) => inspect::row(&key, &value)
            .map(|t| print!("{t}"))
            .map(|_| true)
            .map_err(CliError::from),
        Cmd::NodeId { raft_id } => {
            print!("{}", inspect::node_id(&raft_id));
            Ok(true)
        }
    }
}
