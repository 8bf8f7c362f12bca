//! `regsim run`: sweep seeds of a scenario on parallel jobs. Each finished
//! run is printed and appended to `results.jsonl` the moment it ends; at
//! the end (also after Ctrl-C) come the summary, `junit.xml` and
//! `summary.md`. A failing seed is re-run from its schedule (a different
//! trace is a nondeterminism bug of the harness) and recorded as a seeds/
//! entry under target/regsim/failures.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::case::{entry_for, numbered_names, write_new, MAX_NEW_NAMES};
use super::finish::{own_binary_replays, verdict};
use super::report::{bare_replay_command, print_result, printed_replay, seed_replay};
use super::{
    load, mutant_slot, parse_jobs, parse_range, runtime_arg, workspace_root, CliError, Registry,
};
use writer_registry_sim::corpus::Expect;
use writer_registry_sim::error::HarnessError;
use writer_registry_sim::results::{Header, Origin, Outcome, Record, Writer};
use writer_registry_sim::run::{self, RunOptions, RunResult};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::sweep::{self, Again, Control, Done, Limit, Plan, Shard, Stuck, Summary};

#[derive(Args)]
pub(super) struct RunArgs {
    /// Scenario: a file, or a shipped scenario's name such as
    /// `partitions` (default: scenarios/default.toml).
    #[arg(long, value_name = "FILE|NAME")]
    scenario: Option<PathBuf>,
    #[command(flatten)]
    seeds: SeedArgs,
    /// Parallel runs (default: the number of cores), 1 to 256.
    #[arg(long, value_parser = parse_jobs)]
    jobs: Option<usize>,
    /// Override the scenario's registry (native runtime).
    #[arg(long, value_enum, conflicts_with = "runtime")]
    registry: Option<Registry>,
    /// The runtime that drives the nodes: the native engine, or turmoil's
    /// hosts, network and file system (its registry is a file store).
    #[arg(long, value_parser = runtime_arg(), default_value = "native")]
    runtime: run::Runtime,
    /// Run without oracles (for measuring their cost).
    #[arg(long)]
    no_oracles: bool,
    /// Keep the fjall directories of failing runs.
    #[arg(long)]
    keep_failures: bool,
    /// Run every seed twice and compare traces (failing seeds are always
    /// run twice).
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
    /// Do not shrink the first failure of each new signature into a
    /// corpus entry (in the --out directory's corpus/).
    #[arg(long)]
    no_shrink: bool,
    /// Where results go: results.jsonl (one line per run, written as each
    /// ends), junit.xml, summary.md, and reports/ and corpus/ for failures
    /// (default: a directory of its own under target/regsim/runs/, linked
    /// as target/regsim/last-run).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The old name of --out (accepted with a warning for one release).
    #[arg(
        long = "report",
        value_name = "DIR",
        hide = true,
        conflicts_with = "out"
    )]
    old_report: Option<PathBuf>,
}

/// Which seeds: shared by `run` and `nightly`.
#[derive(Args, Clone)]
pub(super) struct SeedArgs {
    /// Seed range A..B (B exclusive; any size: seeds are drawn one at a
    /// time).
    #[arg(long, value_parser = parse_range, conflicts_with_all = ["count", "budget", "seed_base"])]
    seeds: Option<(u64, u64)>,
    /// Number of seeds (per shard), from --seed-base (default 0). With
    /// none of --seeds, --count and --budget, `run` sweeps 256 seeds.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "budget")]
    count: Option<u64>,
    /// Run fresh seeds until this much wall time has passed (e.g. 90s,
    /// 10m, 1h); running runs finish.
    #[arg(long, value_parser = parse_duration)]
    budget: Option<Duration>,
    /// The first seed (e.g. the date, 20261127000000, so that each
    /// night's seeds are new and reproducible).
    #[arg(long)]
    seed_base: Option<u64>,
    /// Run shard I of N (0-based): seeds B + k*N + I for k = 0, 1, ...
    #[arg(long, default_value = "0/1")]
    shard: Shard,
    /// Each run's wall-clock limit: a run that takes longer ends as a
    /// harness timeout, not a verdict.
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    timeout: Duration,
}

impl SeedArgs {
    /// The seeds to sweep: --seeds A..B, else --count N, else --budget,
    /// else 256 seeds; each from --seed-base, in --shard.
    pub(super) fn plan(&self, default_count: u64) -> Plan {
        let base = self.seed_base.unwrap_or(0);
        let (base, limit) = match (self.seeds, self.count, self.budget) {
            (Some((a, b)), _, _) => (a, Limit::Below(b)),
            (None, Some(n), _) => (base, Limit::Count(n)),
            (None, None, Some(d)) => (base, Limit::Budget(d)),
            (None, None, None) => (base, Limit::Count(default_count)),
        };
        Plan {
            base,
            shard: self.shard,
            limit,
        }
    }
}

pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e} (e.g. 90s, 10m, 1h)"))?;
    if d.is_zero() {
        return Err(format!("{s:?}: must be more than zero"));
    }
    Ok(d)
}

pub(super) fn cmd_run(mut args: RunArgs) -> Result<bool, CliError> {
    let (path, sc) = load(args.scenario.take())?;
    let plan = args.seeds.plan(256);
    if plan.known_len() == Some(0) {
        return Err(CliError(format!(
            "{}: no seed of the range falls in this shard",
            describe(&plan)
        )));
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let opts = options(&args, &sc)?;
    let dir = out_dir(&mut args, &sc.name);
    run::quiet_panics();
    super::ctrl_c::install();
    let notes = writer_registry_sim::tempdirs::prepare(jobs);
    for note in &notes {
        println!("note: {note}");
    }
    println!(
        "scenario {} ({}), policy {:?}, {}, {} on {jobs} jobs",
        sc.name,
        path.display(),
        sc.policy,
        engine_of(&opts),
        describe(&plan)
    );
    let writer = Writer::create(&dir.join("results.jsonl"), &Header::new(command_line()))?;
    let control = Control {
        jobs,
        timeout: Some(args.seeds.timeout),
        check_determinism: args.check_determinism,
        stop: Default::default(),
    };
    let sweep = Sweep {
        path: &path,
        sc: &sc,
        opts: &opts,
        mutant: args.mutant.as_deref(),
        quiet: args.quiet,
        writer: &writer,
        failed_dir: workspace_root().join("target/regsim/failures"),
        kept_dir: workspace_root().join("target/regsim/kept"),
        show_failures: u64::MAX,
    };
    let (summary, ended, write_error) = sweep.run(&plan, &control);
    println!("{summary}");
    if ended.interrupted {
        println!(
            "interrupted: {} seeds recorded in {}",
            summary.runs + summary.without_verdict.values().sum::<u64>(),
            writer.path().display()
        );
    }
    if let Some(e) = write_error {
        return Err(CliError(e));
    }
    let enforce =
        !args.no_require_marks && (args.require_marks || summary.runs >= sc.marks.min_seeds);
    let marks_ok = !enforce || summary.missing_marks.is_empty();
    let scenarios = [(sc.name.clone(), sc.clone())].into_iter().collect();
    let reports = super::finish::Finish {
        out: &dir,
        title: &format!("run of {}", sc.name),
        files: &[writer.path().to_path_buf()],
        scenarios: &scenarios,
        shrink: !args.no_shrink,
        shout: false,
        extra_md: "",
    }
    .run(&notes);
    // A harness error is no verdict: reported after the verdicts (nothing
    // already found is lost), exit 2.
    if let Some(e) = harness_error(&summary) {
        return Err(e);
    }
    let done = reports?;
    let ok = summary.ok() && marks_ok;
    if ended.interrupted && ok {
        return Err(CliError(format!(
            "interrupted before the sweep ended; what ran is in {}",
            writer.path().display()
        )));
    }
    let reasons = reasons(&summary, marks_ok, ended.interrupted);
    let what = format!(
        "{} runs of {}, {} failed",
        summary.runs, sc.name, summary.failed
    );
    let (first, own) = (done.first.as_ref(), own_binary_replays());
    println!("{}", verdict(ok, &what, &reasons, first, &dir, own));
    Ok(ok)
}

/// Why a sweep of one scenario fails besides its failed runs: expected
/// findings that never showed, nondeterminism, enforced required marks
/// never hit (`marks_ok` off), an interrupt.
fn reasons(summary: &Summary, marks_ok: bool, interrupted: bool) -> Vec<String> {
    let mut reasons: Vec<String> = summary
        .missing_expected
        .iter()
        .map(|f| format!("expected finding never showed: {f}"))
        .collect();
    if let Some(n) = summary.without_verdict.get("nondeterministic") {
        reasons.push(format!("{n} seeds nondeterministic"));
    }
    if !marks_ok {
        let missing = summary.missing_marks.iter();
        reasons.extend(missing.map(|m| format!("required mark never hit: {m}")));
    }
    if interrupted {
        reasons.push("interrupted".into());
    }
    reasons
}

/// The first harness error of a sweep, as the command's error (with how
/// many more seeds ended in one).
fn harness_error(summary: &Summary) -> Option<CliError> {
    let (seed, first) = summary.first_harness_error.as_ref()?;
    let n: u64 = summary
        .without_verdict
        .iter()
        .filter(|(k, _)| k.as_str() != "interrupted" && k.as_str() != "nondeterministic")
        .map(|(_, n)| n)
        .sum();
    let more = match n {
        1 => String::new(),
        n => format!(" (and {} more seeds)", n - 1),
    };
    Some(CliError(format!("seed {seed}{more}: {first}")))
}

/// What drives the runs: the native engine's registry, or the runtime.
fn engine_of(opts: &RunOptions) -> String {
    match opts.runtime {
        run::Runtime::Native => format!("registry {}", opts.registry.name()),
        runtime => format!("runtime {}", runtime.name()),
    }
}

/// Where the sweep writes: `--out` (or its old name, warned about), else
/// a directory of its own.
fn out_dir(args: &mut RunArgs, scenario: &str) -> PathBuf {
    if let Some(dir) = args.old_report.take() {
        super::renamed("--report", "--out");
        args.out = Some(dir);
    }
    args.out
        .clone()
        .unwrap_or_else(|| default_report_dir(scenario))
}

/// Where a sweep without `--out` writes: a directory of its own (two
/// sweeps at once never share a results file), with
/// `target/regsim/last-run` pointing at the latest.
fn default_report_dir(scenario: &str) -> PathBuf {
    let runs = workspace_root().join("target/regsim/runs");
    let name = format!("{scenario}-{}", std::process::id());
    let dir = runs.join(&name);
    let last = workspace_root().join("target/regsim/last-run");
    if std::fs::create_dir_all(&dir).is_ok() {
        // Best effort: a link another sweep replaces at once is no loss.
        let _ = std::fs::remove_file(&last);
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink(Path::new("runs").join(&name), &last);
    }
    dir
}

fn describe(plan: &Plan) -> String {
    let shard = if plan.shard.count > 1 {
        format!(" (shard {}/{})", plan.shard.index, plan.shard.count)
    } else {
        String::new()
    };
    let what = match plan.limit {
        Limit::Count(n) => format!("{n} seeds from {}", plan.base),
        Limit::Below(end) => format!("seeds {}..{end}", plan.base),
        Limit::Budget(d) => format!(
            "fresh seeds from {} for {}",
            plan.base,
            humantime::format_duration(d)
        ),
    };
    format!("{what}{shard}")
}

/// The command line as typed, for the results header.
pub(super) fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("regsim {}", args.join(" "))
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
    opts.mutant = mutant_slot(args.mutant.as_deref())?;
    Ok(opts)
}

/// The progress bar of a plan (hidden without a terminal).
fn progress_bar(plan: &Plan) -> ProgressBar {
    let bar = match plan.known_len() {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {elapsed} eta {eta} {msg}")
            .expect("valid template"),
    );
    bar
}

/// One streaming sweep of a scenario: prints, records and sums each seed
/// as it finishes.
pub(super) struct Sweep<'a> {
    pub(super) path: &'a Path,
    pub(super) sc: &'a Scenario,
    pub(super) opts: &'a RunOptions,
    pub(super) mutant: Option<&'a str>,
    pub(super) quiet: bool,
    pub(super) writer: &'a Writer,
    pub(super) failed_dir: PathBuf,
    /// Where failing runs' fjall directories go (`--keep-failures`).
    pub(super) kept_dir: PathBuf,
    /// How many failing runs are printed and recorded as seeds/ entries
    /// (the rest are in results.jsonl only).
    pub(super) show_failures: u64,
}

impl Sweep<'_> {
    pub(super) fn origin(&self) -> Origin {
        // The path relative to the root, as corpus entries record it.
        let path = super::case::recorded_scenario(self.path)
            .unwrap_or_else(|_| self.path.display().to_string());
        Origin::new(&self.sc.name, path, self.opts, self.mutant)
    }

    /// Runs the plan; returns the summary, how it ended and the first
    /// error writing results (the sweep goes on printing after one).
    pub(super) fn run(
        &self,
        plan: &Plan,
        control: &Control,
    ) -> (Summary, sweep::Ended, Option<String>) {
        let origin = self.origin();
        let bar = progress_bar(plan);
        let state = Mutex::new((Summary::new(), None::<String>));
        let failures = AtomicU64::new(0);
        let finished = AtomicU64::new(0);
        let done = |d: Done| {
            let rec = self.record(&origin, &d);
            let write = self.writer.write(&rec);
            finished.fetch_add(1, Ordering::Relaxed);
            let mut show = true;
            if rec.outcome.is_failure() {
                let n = failures.fetch_add(1, Ordering::Relaxed) + 1;
                bar.set_message(format!("{n} failing"));
                show = n <= self.show_failures;
                if n == self.show_failures.saturating_add(1) {
                    bar.suspend(|| {
                        println!(
                            "(more failing seeds are in {} only)",
                            self.writer.path().display()
                        )
                    });
                }
            }
            // `regsim run | head`: once the reader is gone, stop starting
            // runs and end with that (the results file has this one).
            let printed = match show {
                true => {
                    bar.suspend(|| writer_registry_sim::panics::guarded(|| self.print(&d, &rec)))
                }
                false => {
                    // Not reported, so not kept: a mass failure must not
                    // fill /dev/shm with directories nobody is shown.
                    if let Some(dir) = d.result.as_ref().ok().and_then(|r| r.kept_data.as_ref()) {
                        let _ = std::fs::remove_dir_all(dir);
                    }
                    Ok(())
                }
            };
            bar.inc(1);
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            st.0.add(&rec);
            if let Err(e) = write {
                st.1.get_or_insert(e);
            }
            if let Err(caught) = printed {
                control.stop.store(true, Ordering::Relaxed);
                st.1.get_or_insert(format!("standard output closed: {}", caught.message));
            }
        };
        // Without a terminal the bar is hidden: a line every 10 s shows
        // a CI log that the sweep lives.
        let start = Instant::now();
        let mut last = Instant::now();
        let show_progress = bar.is_hidden();
        let mut watch = || {
            if show_progress && last.elapsed() >= Duration::from_secs(10) {
                last = Instant::now();
                let n = finished.load(Ordering::Relaxed);
                let secs = start.elapsed().as_secs_f64();
                println!(
                    "progress: {n} seeds in {secs:.0}s ({:.1}/s), {} failing",
                    n as f64 / secs.max(1e-9),
                    failures.load(Ordering::Relaxed)
                );
            }
        };
        let mut stuck = |list: Vec<Stuck>| self.abandon(&origin, control, &list);
        let ended = sweep::stream(
            self.sc, plan, self.opts, control, &done, &mut watch, &mut stuck,
        );
        bar.finish_and_clear();
        let (mut summary, write_error) = state.into_inner().unwrap_or_else(|p| p.into_inner());
        summary.finish(self.sc, ended.wall);
        (summary, ended, write_error)
    }

    /// Runs stuck inside one step cannot be ended: records them, and
    /// leaves without waiting for their threads (nothing recorded is
    /// lost).
    fn abandon(&self, origin: &Origin, control: &Control, list: &[Stuck]) -> ! {
        let _out = std::io::stdout().lock();
        for s in list {
            let (seed, e) = match *s {
                Stuck::Timeout(seed) => (
                    seed,
                    HarnessError::Timeout(control.timeout.unwrap_or_default()),
                ),
                Stuck::Interrupted(seed) => (seed, HarnessError::Interrupted),
            };
            let rec = origin.harness_error(seed, &e, 0, self.replay(seed));
            let _ = self.writer.write(&rec);
            println!("seed {seed}: STUCK ({}): {e}", e.kind());
        }
        eprintln!(
            "regsim: {} runs stuck past {}s beyond their limit or abandonment: recorded in {}; exiting without waiting for them",
            list.len(),
            sweep::STUCK_AFTER.as_secs(),
            self.writer.path().display()
        );
        writer_registry_sim::tempdirs::remove_session();
        std::process::exit(2);
    }

    /// Moves a failing run's kept fjall directories out of the session
    /// (which is removed at exit) into `kept_dir`.
    fn keep(&self, dir: &Path, seed: u64) -> Result<PathBuf, String> {
        let to = self.kept_dir.join(format!("{}-{seed}", self.sc.name));
        writer_registry_sim::tempdirs::move_out(dir, &to)
            .map(|()| to.clone())
            .map_err(|e| format!("moving {} to {}: {e}", dir.display(), to.display()))
    }

    /// The replay command a record keeps (bare: a command as is).
    fn replay(&self, seed: u64) -> String {
        bare_replay_command(self.path, self.sc, seed, self.opts, self.mutant)
    }

    fn record(&self, origin: &Origin, d: &Done) -> Record {
        let ms = d.wall.as_millis() as u64;
        let replay = self.replay(d.seed);
        match (&d.result, &d.again) {
            (
                Ok(r),
                Some(Again::Differs {
                    hash,
                    first_difference,
                }),
            ) => {
                let at = first_difference
                    .as_ref()
                    .map(|(i, a, b)| format!("; first difference at event {i}: {a} | {b}"))
                    .unwrap_or_default();
                origin.nondeterministic(r, *hash, at, ms, replay)
            }
            (result, _) => origin.ended(d.seed, result, ms, replay),
        }
    }

    fn print(&self, d: &Done, rec: &Record) {
        // A seed's lines stay together whatever the other workers print.
        let _whole = std::io::stdout().lock();
        match &d.result {
            Ok(r) if rec.outcome == Outcome::Pass => {
                if !self.quiet {
                    print_result(r);
                }
            }
            Ok(r) => {
                print_result(r);
                if let Some(e) = rec
                    .error
                    .as_ref()
                    .filter(|_| rec.outcome == Outcome::Nondeterministic)
                {
                    println!("  NONDETERMINISTIC: {e}");
                }
                self.report_failure(r);
            }
            Err(e) => println!("seed {}: HARNESS ERROR ({}): {e}", d.seed, e.kind()),
        }
    }

    /// Prints how to replay a failing run (the record keeps the `cargo
    /// run` form) and records it as a seeds/ entry in `failed_dir`.
    fn report_failure(&self, r: &RunResult) {
        let replay = seed_replay(self.path, self.sc, r.seed, self.opts, self.mutant);
        println!("{}", printed_replay("  ", self.sc, &replay));
        let schedule = run::schedule_for(self.sc, r.seed);
        if let Some(knobs) = schedule
            .as_ref()
            .ok()
            .and_then(|s| run::swarm_knobs(self.sc, s))
        {
            println!("  swarm knobs: {knobs}");
        }
        let file = failure_file(
            &self.failed_dir,
            &self.sc.name,
            r.seed,
            self.opts.runtime,
            self.mutant,
        );
        let signature = r
            .violations
            .first()
            .map(|v| v.oracle.clone())
            .unwrap_or_default();
        let entry = schedule.map_err(|e| e.to_string()).and_then(|s| {
            entry_for(
                self.path,
                s,
                Expect::StillFailing,
                signature,
                String::new(),
                self.mutant.map(str::to_owned),
                self.opts.runtime,
            )
            .map_err(|CliError(e)| e)
        });
        let group = r
            .violations
            .first()
            .map(|v| writer_registry_sim::results::signature(&v.oracle, &v.detail));
        match entry.and_then(|mut entry| {
            entry.group = group;
            std::fs::create_dir_all(&self.failed_dir)
                .map_err(|e| format!("{}: {e}", self.failed_dir.display()))?;
            record_failure(&file, &entry.to_toml()).map_err(|CliError(e)| e)
        }) {
            Ok(file) => println!("  recorded as a seeds/ entry: {}", file.display()),
            Err(e) => println!("  not recorded as a seeds/ entry: {e}"),
        }
        if let Some(dir) = &r.kept_data {
            match self.keep(dir, r.seed) {
                Ok(to) => println!("  fjall data kept in {}", to.display()),
                Err(e) => println!("  fjall data not kept: {e}"),
            }
        }
    }
}

/// A failing run's seeds/ entry file in `dir`: named by scenario, seed,
/// runtime and mutant, so that one failure's record never takes another's
/// name (`default-7-native.toml`, `default-7-turmoil-lost-wake.toml`).
fn failure_file(
    dir: &Path,
    scenario: &str,
    seed: u64,
    runtime: run::Runtime,
    mutant: Option<&str>,
) -> PathBuf {
    let mutant = mutant.map(|m| format!("-{m}")).unwrap_or_default();
    dir.join(format!("{scenario}-{seed}-{}{mutant}.toml", runtime.name()))
}

/// Writes a failure's entry to `file`, never over a different one: the
/// same failure run again finds its own record there (or at a numbered
/// name beside it) and keeps it; other text goes to the first free
/// numbered name (`<stem>-2.toml`, ...). Returns the file that holds the
/// entry. Creating a file is atomic (`create_new`): two sweeps recording
/// at once never share a name.
fn record_failure(file: &Path, text: &str) -> Result<PathBuf, CliError> {
    for candidate in numbered_names(file) {
        match write_new(&candidate, text) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if std::fs::read_to_string(&candidate).is_ok_and(|held| held == text) {
                    return Ok(candidate);
                }
            }
            Err(e) => {
                let detail = format!("{}: cannot write: {e}", candidate.display());
                return Err(CliError(detail));
            }
        }
    }
    Err(CliError(format!(
        "{}: it and {MAX_NEW_NAMES} numbered variants hold other entries; move some away",
        file.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_s_file_is_named_by_scenario_seed_runtime_and_mutant() {
        let dir = Path::new("f");
        let name = |runtime, mutant| failure_file(dir, "default", 7, runtime, mutant);
        assert_eq!(
            name(run::Runtime::Native, None),
            dir.join("default-7-native.toml")
        );
        assert_eq!(
            name(run::Runtime::Turmoil, Some("lost-wake")),
            dir.join("default-7-turmoil-lost-wake.toml")
        );
    }

    #[test]
    fn a_recorded_failure_is_never_overwritten_and_a_rerun_keeps_its_own() {
        let record_failure = |file: &Path, text| record_failure(file, text).map_err(|e| e.0);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("default-0-native.toml");
        assert_eq!(record_failure(&file, "first").unwrap(), file);
        assert_eq!(record_failure(&file, "first").unwrap(), file, "a rerun");
        let other = record_failure(&file, "second").unwrap();
        assert_eq!(other, dir.path().join("default-0-native-2.toml"));
        assert_eq!(record_failure(&file, "second").unwrap(), other, "a rerun");
        let third = record_failure(&file, "third").unwrap();
        assert_eq!(third, dir.path().join("default-0-native-3.toml"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "first");
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "second");
    }
}
