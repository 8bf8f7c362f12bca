//! The nightly job's mutant hunt (the mutants build only): each mutant of
//! the catalogue runs fresh seeds, cycling through the scenarios, until an
//! oracle catches it or its share of the budget is spent; the first
//! caught run of each is drawn as an HTML report. It shows, every night
//! and on the night's own seeds, that the oracles still catch what they
//! are for, and gives a person a failing run to look at. (The full table,
//! with detection rates and a gate, is `regsim mutants`.)

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use writer_registry::mutants::Mutant;

use super::report::{bare_replay_command, pinned};
use writer_registry_sim::cancel::Cancel;
use writer_registry_sim::mutants::{applies_on, Target};
use writer_registry_sim::results::{Origin, Writer};
use writer_registry_sim::run::{self, RunOptions, RunResult};

/// One mutant's hunt.
pub(super) struct Hunted {
    pub(super) mutant: &'static str,
    pub(super) runs: u64,
    /// The first run that caught it: (scenario, seed, first oracle).
    pub(super) caught: Option<(String, u64, String)>,
    /// Its HTML report, relative to the output directory.
    pub(super) report: Option<String>,
}

/// Hunts every mutant that applies on `runtime` for `share` of wall time
/// each, writing every run to `writer` and the reports under `out`.
/// How a hunt runs: seeds from `base`, `share` of wall time per mutant,
/// `jobs` threads, each run's `timeout`.
pub(super) struct HuntPlan {
    pub(super) runtime: run::Runtime,
    pub(super) base: u64,
    pub(super) share: Duration,
    pub(super) jobs: usize,
    pub(super) timeout: Duration,
}

pub(super) fn hunt(
    targets: &[Target],
    plan: &HuntPlan,
    writer: &Writer,
    out: &Path,
) -> Vec<Hunted> {
    let mut hunted = Vec::new();
    for mutant in Mutant::ALL
        .into_iter()
        .filter(|m| applies_on(*m, plan.runtime))
    {
        if writer_registry_sim::interrupt::stopping() {
            break;
        }
        let (runs, first) = search(targets, plan, writer, mutant);
        let h = caught(targets, plan, mutant, runs, first, out);
        println!(
            "mutant {}: {} after {} runs",
            h.mutant,
            match &h.caught {
                Some((sc, seed, oracle)) => format!("caught by {oracle} on {sc} seed {seed}"),
                None => "not caught in its share of the budget".into(),
            },
            h.runs
        );
        hunted.push(h);
    }
    hunted
}

/// The run options of `mutant` on `target`.
fn options(
    target: &Target,
    mutant: Mutant,
    runtime: writer_registry_sim::run::Runtime,
) -> RunOptions {
    let mut opts = RunOptions::for_scenario(&target.scenario);
    opts.mutant = Some(mutant);
    opts.runtime = runtime;
    opts
}

/// Runs `mutant` over the targets' seeds until it is caught or its share
/// of the budget is spent, recording every run; returns how many ran and
/// the catching run with the lowest case number, if any.
fn search(
    targets: &[Target],
    plan: &HuntPlan,
    writer: &Writer,
    mutant: Mutant,
) -> (u64, Option<(u64, RunResult)>) {
    let HuntPlan {
        runtime,
        base,
        share,
        jobs,
        timeout,
    } = *plan;
    let t = targets.len() as u64;
    let opts_for = |target: &Target| options(target, mutant, runtime);
    let deadline = Instant::now() + share;
    let k = AtomicU64::new(0);
    let runs = AtomicU64::new(0);
    // The catching run with the lowest k, so the report does not
    // depend on which thread finished first.
    let first: Mutex<Option<(u64, RunResult)>> = Mutex::new(None);
    let next = || {
        let found = first.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        if found || Instant::now() >= deadline || writer_registry_sim::interrupt::stopping() {
            return None;
        }
        Some(k.fetch_add(1, Ordering::Relaxed))
    };
    let work = |&k: &u64| {
        let target = &targets[(k % t) as usize];
        let mut opts = opts_for(target);
        opts.cancel = Cancel::within(
            Some(timeout),
            Some(writer_registry_sim::interrupt::abandon_flag()),
        );
        let start = Instant::now();
        let seed = base.wrapping_add(k / t);
        (
            run::run_seed(&target.scenario, seed, &opts),
            seed,
            start.elapsed(),
        )
    };
    let done = |k: u64,
                (r, seed, wall): (
        Result<RunResult, writer_registry_sim::error::HarnessError>,
        u64,
        Duration,
    )| {
        runs.fetch_add(1, Ordering::Relaxed);
        let target = &targets[(k % t) as usize];
        let opts = opts_for(target);
        let path = target.path.display().to_string();
        let origin = Origin::new(&target.scenario.name, path, &opts, Some(mutant.name()));
        let replay = bare_replay_command(
            &target.path,
            &target.scenario,
            seed,
            &opts,
            Some(mutant.name()),
        );
        let rec = origin.ended(seed, &r, wall.as_millis() as u64, replay);
        // A failed write leaves this line out; the hunt goes on.
        let _ = writer.write(&rec);
        if let Ok(res) = r {
            if !res.passed() {
                let mut f = first.lock().unwrap_or_else(|p| p.into_inner());
                if f.as_ref().is_none_or(|(fk, _)| k < *fk) {
                    *f = Some((k, res));
                }
            }
        }
    };
    writer_registry_sim::sweep::parallel(
        jobs,
        &next,
        &work,
        &done,
        &mut writer_registry_sim::interrupt::enforce_grace,
    );
    let first = first.into_inner().unwrap_or_else(|p| p.into_inner());
    (runs.load(Ordering::Relaxed), first)
}

/// What the hunt of `mutant` found, with the report of its catching run.
fn caught(
    targets: &[Target],
    plan: &HuntPlan,
    mutant: Mutant,
    runs: u64,
    first: Option<(u64, RunResult)>,
    out: &Path,
) -> Hunted {
    let t = targets.len() as u64;
    let mut h = Hunted {
        mutant: mutant.name(),
        runs,
        caught: None,
        report: None,
    };
    if let Some((k, res)) = first {
        let target = &targets[(k % t) as usize];
        let oracle = res
            .violations
            .first()
            .map(|v| v.oracle.clone())
            .unwrap_or_default();
        h.caught = Some((target.scenario.name.clone(), res.seed, oracle));
        h.report = draw(
            target,
            &options(target, mutant, plan.runtime),
            mutant,
            res.seed,
            out,
        );
    }
    h
}

/// The HTML report of a mutant's catching run, if it can be drawn.
fn draw(
    target: &Target,
    opts: &RunOptions,
    mutant: Mutant,
    seed: u64,
    out: &Path,
) -> Option<String> {
    let schedule = run::schedule_for(&target.scenario, seed).ok()?;
    let bare = bare_replay_command(
        &target.path,
        &target.scenario,
        seed,
        opts,
        Some(mutant.name()),
    );
    let replay = pinned(&target.scenario, &bare);
    let source = target.path.display().to_string();
    let meta = crate::html::Meta {
        source: &source,
        replay: &replay,
        mutant: Some(mutant.name()),
        registry: opts.registry,
        schedule: &schedule,
    };
    let name = format!("reports/mutant-{}.html", mutant.name());
    super::finish::draw(out, &name, &target.scenario, opts, &meta).ok()
}

/// The hunt as a Markdown section of `summary.md`, its reports linked
/// as `links` says.
pub(super) fn markdown(hunted: &[Hunted], links: &writer_registry_sim::results::Links) -> String {
    let caught = hunted.iter().filter(|h| h.caught.is_some()).count();
    let mut m = format!(
        "\n## Mutants\n\n{caught} of {} mutants caught on tonight's seeds (each runs until caught or its share of the budget is spent; `regsim mutants` is the full table).\n\n| mutant | runs | caught by | first caught run | report |\n| --- | ---: | --- | --- | --- |\n",
        hunted.len()
    );
    for h in hunted {
        let (by, run) = match &h.caught {
            Some((sc, seed, oracle)) => (oracle.clone(), format!("{sc} seed {seed}")),
            None => ("not caught in its share".into(), String::new()),
        };
        let report = h
            .report
            .as_deref()
            .map(|r| links.report(r))
            .unwrap_or_default();
        m.push_str(&format!(
            "| {} | {} | {by} | {run} | {report} |\n",
            h.mutant, h.runs
        ));
    }
    m
}
