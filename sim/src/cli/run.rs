//! `regsim run`: sweep seeds of a scenario on parallel jobs, print a line
//! per seed and a summary, optionally run every seed twice to check
//! determinism, and record each failing seed as a seeds/ entry under
//! target/regsim/failures.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::case::entry_for;
use super::report::{first_difference, print_result, replay_command};
use super::{
    load, mutant_slot, parse_jobs, parse_range, workspace_root, CliError, Registry, MAX_SWEEP_SEEDS,
};
use crate::corpus::Expect;
use crate::error::HarnessError;
use crate::run::{self, RunOptions, RunResult};
use crate::scenario::Scenario;
use crate::sweep::{sweep, Summary, SweepOutput};

#[derive(Args)]
pub(super) struct RunArgs {
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
    /// Override the scenario's registry (native runtime).
    #[arg(long, value_enum, conflicts_with = "runtime")]
    registry: Option<Registry>,
    /// The runtime that drives the nodes: the native engine, or turmoil's
    /// hosts, network and file system (its registry is a file store).
    #[arg(long, value_enum, default_value_t = run::Runtime::Native)]
    runtime: run::Runtime,
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
    /// Fail if a coverage mark the scenario requires was never hit, even in
    /// a sweep smaller than the scenario's `marks.min_seeds` (a sweep that
    /// size or larger enforces them anyway).
    #[arg(long, conflicts_with = "no_require_marks")]
    require_marks: bool,
    /// Do not enforce the scenario's required marks.
    #[arg(long)]
    no_require_marks: bool,
    /// Run a mutant of the catalogue (needs the `mutants` feature).
    #[arg(long)]
    mutant: Option<String>,
}

pub(super) fn cmd_run(mut args: RunArgs) -> Result<bool, CliError> {
    let (path, sc) = load(args.scenario.take())?;
    let seeds = seeds(&args);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let opts = options(&args, &sc)?;
    run::quiet_panics();
    println!(
        "scenario {} ({}), policy {:?}, {}, {} seeds on {jobs} jobs",
        sc.name,
        path.display(),
        sc.policy,
        match opts.runtime {
            run::Runtime::Native => format!("registry {}", opts.registry.name()),
            runtime => format!("runtime {}", runtime.name()),
        },
        seeds.len()
    );
    let SweepOutput {
        results,
        mut harness_errors,
        wall,
    } = sweep_with_progress(&sc, &seeds, jobs, &opts);
    let mut ok = true;
    if args.check_determinism {
        ok = recheck_determinism(&sc, &seeds, jobs, &opts, &results, &mut harness_errors);
    }
    if !args.quiet {
        for r in results.iter().filter(|r| r.passed()) {
            print_result(r);
        }
    }
    let failed_dir = workspace_root().join("target/regsim/failures");
    for r in results.iter().filter(|r| !r.passed()) {
        report_failure(&path, &sc, r, &opts, args.mutant.as_deref(), &failed_dir)?;
    }
    let summary = Summary::from_results(&sc, &results, wall);
    println!("{summary}");
    let enforce = !args.no_require_marks
        && (args.require_marks || results.len() as u64 >= sc.marks.min_seeds);
    let marks_ok = !enforce || summary.missing_marks.is_empty();
    harness_error_exit(&harness_errors)?;
    Ok(ok && summary.ok() && marks_ok)
}

/// The seeds to sweep: --seeds A..B, else --count N from 0, else 0..256.
fn seeds(args: &RunArgs) -> Vec<u64> {
    match (args.seeds, args.count) {
        (Some((a, b)), _) => (a..b).collect(),
        (None, Some(n)) => (0..n).collect(),
        (None, None) => (0..256).collect(),
    }
}

/// The scenario's run options with the command line's overrides.
fn options(args: &RunArgs, sc: &Scenario) -> Result<RunOptions, CliError> {
    let mut opts = RunOptions::for_scenario(sc);
    opts.runtime = args.runtime;
    if let Some(r) = args.registry {
        opts.registry = r.into();
    }
    opts.oracles = !args.no_oracles;
    opts.keep_failed_data = args.keep_failures;
    opts.keep_trace_lines = args.check_determinism;
    opts.mutant = mutant_slot(args.mutant.as_deref())?;
    Ok(opts)
}

/// Sweeps `seeds` behind a progress bar that counts the failing ones.
fn sweep_with_progress(
    sc: &Scenario,
    seeds: &[u64],
    jobs: usize,
    opts: &RunOptions,
) -> SweepOutput {
    let bar = ProgressBar::new(seeds.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {elapsed} eta {eta} {msg}")
            .expect("valid template"),
    );
    let failures = AtomicU64::new(0);
    let on_done = |r: &Result<RunResult, HarnessError>| {
        if !r.as_ref().is_ok_and(RunResult::passed) {
            let n = failures.fetch_add(1, Ordering::Relaxed) + 1;
            bar.set_message(format!("{n} failing"));
        }
        bar.inc(1);
    };
    let out = sweep(sc, seeds, jobs, opts, &on_done);
    bar.finish_and_clear();
    out
}

/// Sweeps `seeds` again and prints every seed whose trace differs from
/// the first sweep's; false if any does.
fn recheck_determinism(
    sc: &Scenario,
    seeds: &[u64],
    jobs: usize,
    opts: &RunOptions,
    results: &[RunResult],
    harness_errors: &mut Vec<(u64, HarnessError)>,
) -> bool {
    let mut ok = true;
    let again = sweep(sc, seeds, jobs, opts, &|_| {});
    // A seed that failed to run the second time is no proof of
    // determinism: its error is reported with the others.
    for (seed, e) in again.harness_errors {
        if !harness_errors.iter().any(|(s, _)| *s == seed) {
            harness_errors.push((seed, e));
        }
    }
    for a in results {
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
    ok
}

/// Prints a failing run with the command that replays it, and records it
/// as a seeds/ entry in `failed_dir`.
fn report_failure(
    path: &Path,
    sc: &Scenario,
    r: &RunResult,
    opts: &RunOptions,
    mutant: Option<&str>,
    failed_dir: &Path,
) -> Result<(), CliError> {
    print_result(r);
    println!("  replay: {}", replay_command(path, sc, r, opts, mutant));
    if let Some(knobs) = run::schedule_for(sc, r.seed)
        .ok()
        .and_then(|s| run::swarm_knobs(sc, &s))
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
        path,
        run::schedule_for(sc, r.seed)?,
        Expect::StillFailing,
        signature,
        String::new(),
        mutant.map(str::to_owned),
        opts.runtime,
    )?;
    if std::fs::create_dir_all(failed_dir)
        .and_then(|_| std::fs::write(&file, entry.to_toml()))
        .is_ok()
    {
        println!("  recorded as a seeds/ entry: {}", file.display());
    }
    if let Some(dir) = &r.kept_data {
        println!("  fjall data kept in {}", dir.display());
    }
    Ok(())
}

/// A harness error is no verdict: it is reported after the verdicts
/// (nothing already found is lost) and the command exits 2.
fn harness_error_exit(harness_errors: &[(u64, HarnessError)]) -> Result<(), CliError> {
    let Some((seed, first)) = harness_errors.first() else {
        return Ok(());
    };
    for (seed, e) in harness_errors {
        println!("seed {seed}: HARNESS ERROR ({}): {e}", e.kind());
    }
    let more = match harness_errors.len() {
        1 => String::new(),
        n => format!(" (and {} more seeds)", n - 1),
    };
    Err(CliError(format!("seed {seed}{more}: {first}")))
}
