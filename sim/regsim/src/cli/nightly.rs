//! `regsim nightly`: the nightly job as one command: every scenario (or
//! one shard of each) for a share of a wall-time budget, all results in
//! one `results.jsonl`; then failures grouped by signature, each new
//! signature's first failure shrunk into a corpus entry and drawn as an
//! HTML report, the scenarios' required marks enforced over all runs, and
//! `junit.xml` and `summary.md` written. `regsim merge` does the second
//! half over the results of several shards.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::finish::{own_binary_replays, verdict, Finish};
use super::run::{command_line, parse_duration, Sweep};
use super::{find_root, mutant_slot, parse_jobs, runtime_arg, CliError};
use writer_registry_sim::nightly::{targets, Target};
use writer_registry_sim::results::{Header, Source, Writer};
use writer_registry_sim::run::{self, RunOptions};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::sweep::{Control, Limit, Plan, Shard};

#[derive(Args)]
pub(super) struct NightlyArgs {
    /// Wall time for the whole job, split evenly across the scenarios.
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    budget: Duration,
    /// Instead of a budget, this many seeds of every scenario (a check
    /// whose runs do not depend on the machine's speed, as CI wants).
    #[arg(long)]
    count: Option<u64>,
    /// Run shard I of N (0-based) of every scenario's seeds.
    #[arg(long, default_value = "0/1")]
    shard: Shard,
    /// The first seed (default: today's date as YYYYMMDD000000, UTC, so
    /// each night runs new seeds; every result records its real seed).
    #[arg(long)]
    seed_base: Option<u64>,
    /// Directory of scenarios (default: scenarios/ under the root).
    #[arg(long)]
    scenarios: Option<PathBuf>,
    /// Only these scenarios (by name; repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// The runtime every scenario runs on.
    #[arg(long, value_parser = runtime_arg(), default_value = "native")]
    runtime: run::Runtime,
    /// Run a mutant of the catalogue (needs the `mutants` feature): the
    /// job must then fail, with a report of the mutant's failing run.
    #[arg(long)]
    mutant: Option<String>,
    /// Parallel runs (default: the number of cores), 1 to 256.
    #[arg(long, value_parser = parse_jobs)]
    jobs: Option<usize>,
    /// Output directory.
    #[arg(long, default_value = "target/regsim/nightly")]
    out: PathBuf,
    /// Each run's wall-clock limit.
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    timeout: Duration,
    /// Run every seed twice and compare traces.
    #[arg(long)]
    check_determinism: bool,
    /// Keep the fjall directories of failing runs (under OUT/kept).
    #[arg(long)]
    keep_failures: bool,
    /// Skip the mutant hunt that a mutants build runs by default (each
    /// mutant until caught, a quarter of the budget in all; the first
    /// catching run of each drawn as a report).
    #[arg(long)]
    no_mutant_hunt: bool,
    /// Do not shrink new signatures' failures into corpus entries.
    #[arg(long)]
    no_shrink: bool,
}

#[derive(Args)]
pub(super) struct MergeArgs {
    /// Output directory for the merged results.jsonl, junit.xml and
    /// summary.md.
    #[arg(long)]
    out: PathBuf,
    /// Results to merge: results.jsonl files, or directories holding one
    /// (e.g. the nightly shards' downloaded artifacts).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Directory of scenarios (default: scenarios/ under the root).
    #[arg(long)]
    scenarios: Option<PathBuf>,
    /// How many inputs there must be (the workflow's shard count): a
    /// shard that uploaded nothing fails the merge instead of going
    /// unnoticed.
    #[arg(long)]
    expect: Option<usize>,
}

fn today_base() -> u64 {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y * 10_000 + m * 100 + d) as u64 * 1_000_000
}

fn scenario_dir(arg: Option<PathBuf>) -> Result<PathBuf, CliError> {
    match arg {
        Some(dir) => Ok(dir),
        None => Ok(find_root()?.join("scenarios")),
    }
}

/// The scenarios of the job: every one, or those `--only` names (each
/// name must exist; `partitions.toml` names `partitions`, as
/// `--scenario` and `REGSIM_SCENARIO` take it).
fn selected(args: &NightlyArgs) -> Result<Vec<Target>, CliError> {
    let mut all = targets(&scenario_dir(args.scenarios.clone())?)?;
    if !args.only.is_empty() {
        let only: Vec<&str> = args
            .only
            .iter()
            .map(|n| n.strip_suffix(".toml").unwrap_or(n))
            .collect();
        for name in &only {
            if !all.iter().any(|t| t.scenario.name == *name) {
                return Err(CliError(format!("--only: no scenario named {name:?}")));
            }
        }
        all.retain(|t| only.contains(&t.scenario.name.as_str()));
    }
    Ok(all)
}

/// Sweeps every scenario in turn into `writer`; true when an interrupt
/// stopped the job before the last one.
fn sweep_all(
    args: &NightlyArgs,
    all: &[Target],
    writer: &Writer,
    plan: &Plan,
    control: &Control,
    notes: &mut Vec<String>,
) -> Result<bool, CliError> {
    for t in all {
        let mut opts = RunOptions::for_scenario(&t.scenario);
        opts.runtime = args.runtime;
        opts.mutant = mutant_slot(args.mutant.as_deref())?;
        opts.keep_failed_data = args.keep_failures;
        let sweep = Sweep {
            path: &t.path,
            sc: &t.scenario,
            opts: &opts,
            mutant: args.mutant.as_deref(),
            quiet: true,
            writer,
            failed_dir: args.out.join("failures"),
            kept_dir: args.out.join("kept"),
            show_failures: 20,
        };
        let (summary, ended, write_error) = sweep.run(plan, control);
        if let Some(e) = write_error {
            return Err(CliError(e));
        }
        println!(
            "{}: {} runs, {} failed{}",
            t.scenario.name,
            summary.runs,
            summary.failed,
            summary
                .without_verdict
                .iter()
                .map(|(k, n)| format!(", {n} {k}"))
                .collect::<String>()
        );
        if ended.interrupted {
            notes.push("interrupted: the scenarios after this point did not run".into());
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) fn cmd_nightly(args: NightlyArgs) -> Result<bool, CliError> {
    let all = selected(&args)?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let base = args.seed_base.unwrap_or_else(today_base);
    mutant_slot(args.mutant.as_deref())?;
    run::quiet_panics();
    super::ctrl_c::install();
    let mut notes = writer_registry_sim::tempdirs::prepare(jobs);
    for n in &notes {
        println!("note: {n}");
    }
    let hunt = cfg!(feature = "mutants") && args.mutant.is_none() && !args.no_mutant_hunt;
    let sweeps = if hunt {
        args.budget * 3 / 4
    } else {
        args.budget
    };
    let per = sweeps / all.len() as u32;
    println!(
        "nightly: {} scenarios on {}, {} each, seeds from {base} (shard {}/{}), {jobs} jobs, into {}",
        all.len(),
        args.runtime.name(),
        match args.count {
            Some(n) => format!("{n} seeds"),
            None => humantime::format_duration(Duration::from_secs(per.as_secs().max(1)))
                .to_string(),
        },
        args.shard.index,
        args.shard.count,
        args.out.display()
    );
    let results_file = args.out.join("results.jsonl");
    let writer = Writer::create(&results_file, &Header::new(command_line()))?;
    let plan = Plan {
        base,
        shard: args.shard,
        limit: match args.count {
            Some(n) => Limit::Count(n),
            None => Limit::Budget(per),
        },
    };
    let control = Control {
        jobs,
        timeout: Some(args.timeout),
        check_determinism: args.check_determinism,
        stop: Default::default(),
    };
    let interrupted = sweep_all(&args, &all, &writer, &plan, &control, &mut notes)?;
    let extra = if hunt && !interrupted {
        mutant_hunt(&args, &all, base, args.budget - sweeps, jobs)?
    } else {
        String::new()
    };
    let scenarios: BTreeMap<String, Scenario> = all
        .iter()
        .map(|t| (t.scenario.name.clone(), t.scenario.clone()))
        .collect();
    // What bounded the sweep: a seed count, else the wall-time budget.
    let bound = match args.count {
        Some(n) => format!("{n} seeds of every scenario"),
        None => humantime::format_duration(args.budget).to_string(),
    };
    let title = format!(
        "nightly, {bound} on {}{}",
        args.runtime.name(),
        args.mutant
            .as_deref()
            .map(|m| format!(", mutant {m}"))
            .unwrap_or_default()
    );
    let done = Finish {
        out: &args.out,
        title: &title,
        files: &[results_file],
        scenarios: &scenarios,
        shrink: !args.no_shrink,
        shout: true,
        extra_md: &extra,
    }
    .run(&notes)?;
    let mut reasons = done.reasons;
    if interrupted {
        reasons.push("interrupted".into());
    }
    let ok = reasons.is_empty();
    let what = format!("{} runs, {} failed", done.runs, done.failed);
    let first = done.first.as_ref();
    println!(
        "{}",
        verdict(ok, &what, &reasons, first, &args.out, own_binary_replays())
    );
    Ok(ok)
}

/// The mutant hunt (mutants builds) over `budget`, as a summary section.
#[cfg(feature = "mutants")]
fn mutant_hunt(
    args: &NightlyArgs,
    all: &[writer_registry_sim::nightly::Target],
    base: u64,
    budget: Duration,
    jobs: usize,
) -> Result<String, CliError> {
    let hunted_file = args.out.join("mutants.jsonl");
    let writer = Writer::create(&hunted_file, &Header::new(command_line()))?;
    let applies = writer_registry::mutants::Mutant::ALL
        .into_iter()
        .filter(|m| writer_registry_sim::mutants::applies_on(*m, args.runtime))
        .count()
        .max(1);
    let share = budget / applies as u32;
    println!(
        "mutant hunt: {applies} mutants, up to {} each, runs in {}",
        humantime::format_duration(Duration::from_millis(share.as_millis() as u64)),
        hunted_file.display()
    );
    let plan = super::hunt::HuntPlan {
        runtime: args.runtime,
        base,
        share,
        jobs,
        timeout: args.timeout,
    };
    let hunted = super::hunt::hunt(all, &plan, &writer, &args.out);
    Ok(super::hunt::markdown(&hunted, &super::finish::links()))
}

#[cfg(not(feature = "mutants"))]
fn mutant_hunt(
    _: &NightlyArgs,
    _: &[writer_registry_sim::nightly::Target],
    _: u64,
    _: Duration,
    _: usize,
) -> Result<String, CliError> {
    Ok(String::new())
}

pub(super) fn cmd_merge(args: MergeArgs) -> Result<bool, CliError> {
    let files: Vec<PathBuf> = args
        .inputs
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.join("results.jsonl")
            } else {
                p.clone()
            }
        })
        .collect();
    if let Some(n) = args.expect.filter(|n| *n != files.len()) {
        return Err(CliError(format!(
            "--expect {n}: {} inputs given ({}): a shard is missing",
            files.len(),
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // A shard's own exit code, when its job saved it: 0 and 1 are
    // verdicts; anything else (a harness error, a crash) fails the merge.
    let mut crashed = Vec::new();
    for dir in args.inputs.iter().filter(|p| p.is_dir()) {
        if let Ok(code) = std::fs::read_to_string(dir.join("exit-code")) {
            if !matches!(code.trim(), "0" | "1") {
                crashed.push(format!("{} exited {}", dir.display(), code.trim()));
            }
        }
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("{}: cannot create: {e}", args.out.display()))?;
    // The merged file: every input's records, after one header.
    let merged = args.out.join("results.jsonl");
    if files.iter().any(|f| f == &merged) {
        return Err(CliError(format!(
            "{}: the output would overwrite an input",
            merged.display()
        )));
    }
    let writer = Writer::create(&merged, &Header::new(command_line()))?;
    let mut notes = Vec::new();
    for f in &files {
        let mut error = None;
        notes.extend(Source::Files(std::slice::from_ref(f)).each(&mut |r| {
            if let Err(e) = writer.write(r) {
                error.get_or_insert(e);
            }
        })?);
        if let Some(e) = error {
            return Err(CliError(e));
        }
    }
    let scenarios: BTreeMap<String, Scenario> = targets(&scenario_dir(args.scenarios)?)?
        .into_iter()
        .map(|t| (t.scenario.name.clone(), t.scenario))
        .collect();
    let title = format!("merge of {} shards", files.len());
    notes.extend(
        crashed
            .iter()
            .map(|c| format!("shard {c}: its results may be incomplete")),
    );
    let done = Finish {
        out: &args.out,
        title: &title,
        files: &[merged],
        scenarios: &scenarios,
        shrink: false,
        shout: true,
        extra_md: "",
    }
    .run(&notes)?;
    let mut reasons = done.reasons;
    reasons.extend(crashed.iter().map(|c| format!("shard {c} crashed")));
    let ok = reasons.is_empty();
    let what = format!(
        "{} runs in {} shards, {} failed",
        done.runs,
        files.len(),
        done.failed
    );
    let first = done.first.as_ref();
    // The shards' runs came from other binaries: the replay stays the
    // `cargo run` their records hold.
    println!("{}", verdict(ok, &what, &reasons, first, &args.out, false));
    Ok(ok)
}
