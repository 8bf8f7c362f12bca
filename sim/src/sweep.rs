//! Seed sweeps: many independent runs on a few threads, in a fixed order
//! of results whatever the thread timing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::HarnessError;
use crate::run::{run_seed, RunOptions, RunResult};
use crate::scenario::Scenario;

/// What a sweep found, summed over its runs.
#[derive(Debug, Default)]
pub struct Summary {
    pub runs: u64,
    pub failed: u64,
    pub violations_by_oracle: BTreeMap<String, u64>,
    pub findings_by_signature: BTreeMap<String, u64>,
    pub justified_halts: u64,
    pub justified_refusals: u64,
    pub halts: u64,
    pub refusals: u64,
    pub committed: u64,
    pub crashes: u64,
    pub power_losses: u64,
    pub snapshot_installs: u64,
    pub elections: u64,
    pub virtual_us: u64,
    pub events: u64,
    pub wall: Duration,
    /// Expected signatures the sweep never showed.
    pub missing_expected: Vec<String>,
    /// Every coverage mark: (runs that hit it, total hits).
    pub marks: BTreeMap<String, (u64, u64)>,
    /// Marks the scenario requires that no run hit.
    pub missing_marks: Vec<String>,
}

impl Summary {
    pub fn from_results(sc: &Scenario, results: &[RunResult], wall: Duration) -> Summary {
        let mut s = Summary {
            wall,
            ..Default::default()
        };
        s.marks = crate::sim::all_marks()
            .into_iter()
            .map(|m| (m.to_string(), (0, 0)))
            .collect();
        for r in results {
            s.runs += 1;
            if !r.passed() {
                s.failed += 1;
            }
            for o in r.failed_oracles() {
                *s.violations_by_oracle.entry(o).or_default() += 1;
            }
            let signatures: std::collections::BTreeSet<&str> =
                r.findings.iter().map(|f| f.signature.as_str()).collect();
            for sig in signatures {
                *s.findings_by_signature.entry(sig.to_string()).or_default() += 1;
            }
            for (mark, hits) in &r.marks {
                let entry = s.marks.entry(mark.clone()).or_default();
                entry.0 += 1;
                entry.1 += hits;
            }
            s.justified_halts += r.justified_halts;
            s.justified_refusals += r.justified_refusals;
            s.halts += r.stats.halts;
            s.refusals += r.stats.refusals;
            s.committed += r.stats.committed;
            s.crashes += r.stats.crashes;
            s.power_losses += r.stats.power_losses;
            s.snapshot_installs += r.stats.snapshot_installs;
            s.elections += r.stats.elections;
            s.virtual_us += r.stats.virtual_us;
            s.events += r.stats.events;
        }
        s.missing_expected = sc
            .findings
            .expected
            .iter()
            .filter(|e| !s.findings_by_signature.contains_key(*e))
            .cloned()
            .collect();
        let on_turmoil = results
            .iter()
            .any(|r| r.runtime == crate::run::Runtime::Turmoil);
        let turmoil_only = sc.marks.turmoil_required.iter().filter(|_| on_turmoil);
        s.missing_marks = sc
            .marks
            .required
            .iter()
            .chain(turmoil_only)
            .filter(|m| s.marks.get(*m).is_none_or(|(runs, _)| *runs == 0))
            .cloned()
            .collect();
        s
    }

    /// True when no run failed and every expected finding showed.
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.missing_expected.is_empty()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let runs = self.runs.max(1) as f64;
        writeln!(f, "runs: {} ({} failed)", self.runs, self.failed)?;
        if self.violations_by_oracle.is_empty() {
            writeln!(f, "violations: none")?;
        } else {
            for (o, n) in &self.violations_by_oracle {
                writeln!(f, "violations: {o}: {n} runs")?;
            }
        }
        writeln!(
            f,
            "halts: {} ({} expected), refusals: {} ({} expected)",
            self.halts, self.justified_halts, self.refusals, self.justified_refusals
        )?;
        if self.findings_by_signature.is_empty() {
            writeln!(f, "findings: none")?;
        } else {
            for (sig, n) in &self.findings_by_signature {
                writeln!(f, "findings: {sig}: {n} runs")?;
            }
        }
        for m in &self.missing_expected {
            writeln!(f, "expected finding never showed: {m}")?;
        }
        writeln!(f, "coverage marks (runs that hit it, total hits):")?;
        for (mark, (runs, hits)) in &self.marks {
            writeln!(f, "  {mark:<40} {runs:>6} runs {hits:>9} hits")?;
        }
        for m in &self.missing_marks {
            writeln!(f, "required mark never hit: {m}")?;
        }
        writeln!(
            f,
            "per run: {:.0} committed, {:.2} crashes, {:.2} power losses, {:.2} snapshot installs, {:.1} elections",
            self.committed as f64 / runs,
            self.crashes as f64 / runs,
            self.power_losses as f64 / runs,
            self.snapshot_installs as f64 / runs,
            self.elections as f64 / runs
        )?;
        let wall = self.wall.as_secs_f64().max(1e-9);
        write!(
            f,
            "virtual time: {:.1}s, wall time: {:.2}s, events: {} ({:.0}/s)",
            self.virtual_us as f64 / 1e6,
            wall,
            self.events,
            self.events as f64 / wall
        )
    }
}

/// What a sweep produced: the verdicts in seed order, and the seeds that
/// ended in a harness error instead (they are in no verdict and no count).
#[derive(Debug)]
pub struct SweepOutput {
    pub results: Vec<RunResult>,
    pub harness_errors: Vec<(u64, HarnessError)>,
    pub wall: Duration,
}

/// Runs `seeds` on `jobs` threads. `on_done` sees each verdict as it
/// finishes (for a progress bar); the returned lists are in seed order.
pub fn sweep(
    sc: &Scenario,
    seeds: &[u64],
    jobs: usize,
    opts: &RunOptions,
    on_done: &(dyn Fn(&Result<RunResult, HarnessError>) + Sync),
) -> SweepOutput {
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<RunResult, HarnessError>>>> =
        Mutex::new(vec![None; seeds.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&seed) = seeds.get(i) else { break };
                let r = run_seed(sc, seed, opts);
                on_done(&r);
                slots.lock().expect("no thread panics while holding it")[i] = Some(r);
            });
        }
    });
    let mut out = SweepOutput {
        results: Vec::with_capacity(seeds.len()),
        harness_errors: Vec::new(),
        wall: start.elapsed(),
    };
    let slots = slots.into_inner().expect("threads joined");
    for (slot, &seed) in slots.into_iter().zip(seeds) {
        match slot.expect("every seed ran") {
            Ok(r) => out.results.push(r),
            Err(e) => out.harness_errors.push((seed, e)),
        }
    }
    out
}
