//! Seed sweeps: many independent runs on a few threads.
//!
//! The seeds come from a [`Plan`] one at a time (a billion-seed range costs
//! nothing up front), each finished run goes to the caller the moment it
//! ends (so a results file holds it even if the sweep is killed next),
//! and what a sweep reports is summed run by run ([`Summary::add`]), so a
//! sweep's memory does not grow with its length.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cancel::Cancel;
use crate::error::HarnessError;
use crate::results::{Outcome, Record};
use crate::run::{run_validated, schedule_for, RunOptions, RunResult};
use crate::scenario::Scenario;

/// Runs `work` on items drawn from `next` by `jobs` threads until `next`
/// returns `None`; `done` sees each item's result as it finishes, from the
/// worker's thread. While they run, the calling thread calls `watch`
/// about every 100 ms (progress lines, an interrupt's grace period).
pub fn parallel<I: Send, R>(
    jobs: usize,
    next: &(dyn Fn() -> Option<I> + Sync),
    work: &(dyn Fn(&I) -> R + Sync),
    done: &(dyn Fn(I, R) + Sync),
    watch: &mut dyn FnMut(),
) {
    let running = AtomicUsize::new(jobs.max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                // Counted down even if `work` panics (the harness catches
                // run panics itself; this keeps `watch` from spinning).
                struct Leave<'a>(&'a AtomicUsize);
                impl Drop for Leave<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                let _leave = Leave(&running);
                while let Some(item) = next() {
                    let r = work(&item);
                    done(item, r);
                }
            });
        }
        while running.load(Ordering::SeqCst) > 0 {
            watch();
            std::thread::sleep(Duration::from_millis(100));
        }
    });
}

/// Which seeds a sweep runs: seed k (k = 0, 1, ...) of shard `index` of
/// `count` is `base + k * count + index`, until the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub base: u64,
    pub shard: Shard,
    pub limit: Limit,
}

/// Shard `index` of `count` (0-based; `0/1` is the whole sweep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected I/N (shard I of N, 0-based), found {s:?}"))?;
        let index: u64 = i.parse().map_err(|e| format!("shard index {i:?}: {e}"))?;
        let count: u64 = n.parse().map_err(|e| format!("shard count {n:?}: {e}"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }
}

/// When a sweep stops drawing seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// This many seeds (per shard).
    Count(u64),
    /// Seeds below this one.
    Below(u64),
    /// Fresh seeds until this much wall time has passed since the start.
    Budget(Duration),
}

impl Plan {
    /// Seed number `k` of the plan, or `None` past its end (or where the
    /// seeds would overflow u64).
    pub fn seed(&self, k: u64) -> Option<u64> {
        let seed = k
            .checked_mul(self.shard.count)?
            .checked_add(self.shard.index)?
            .checked_add(self.base)?;
        match self.limit {
            Limit::Count(n) if k >= n => None,
            Limit::Below(end) if seed >= end => None,
            _ => Some(seed),
        }
    }

    /// How many seeds the plan holds, when that is known in advance.
    pub fn known_len(&self) -> Option<u64> {
        match self.limit {
            Limit::Count(n) => Some(n),
            Limit::Below(end) => {
                let first = self.base.checked_add(self.shard.index)?;
                Some(end.saturating_sub(first).div_ceil(self.shard.count))
            }
            Limit::Budget(_) => None,
        }
    }
}

/// How a sweep runs its seeds.
#[derive(Debug, Clone, Default)]
pub struct Control {
    pub jobs: usize,
    /// Each run's wall-clock limit.
    pub timeout: Option<Duration>,
    /// Run every seed twice and compare the traces (a failing seed is run
    /// twice anyway).
    pub check_determinism: bool,
    /// Set to start no more runs (the sweep's reader went away).
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The second run of a seed, when there was one.
#[derive(Debug, Clone)]
pub enum Again {
    Same,
    /// Another trace hash from the same schedule; where the two traces
    /// first differ, when a third and fourth run (with text) showed it.
    Differs {
        hash: u64,
        first_difference: Option<(usize, String, String)>,
    },
}

/// One seed of a sweep, finished.
#[derive(Debug)]
pub struct Done {
    pub seed: u64,
    pub result: Result<RunResult, HarnessError>,
    pub again: Option<Again>,
    pub wall: Duration,
}

/// What ended a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// An interrupt stopped it before its plan ran out.
    pub interrupted: bool,
    pub wall: Duration,
}

/// Sweeps `plan` under `sc`, handing each finished seed to `done` as soon
/// as it ends; `watch` runs on the calling thread about every 100 ms.
/// Each run is re-run from its schedule when it fails (or always, with
/// `check_determinism`) and the two traces compared.
/// How long past its limit (or past being abandoned) a run may go on
/// before the sweep gives up on it: a run stuck inside one step (a loop
/// in the system or the engine, a lock) never checks its [`Cancel`].
pub const STUCK_AFTER: Duration = Duration::from_secs(30);

/// A run the sweep gave up waiting for: its seed and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stuck {
    /// Past its wall-clock limit by [`STUCK_AFTER`].
    Timeout(u64),
    /// Abandoned by an interrupt [`STUCK_AFTER`] ago.
    Interrupted(u64),
}

pub fn stream(
    sc: &Scenario,
    plan: &Plan,
    opts: &RunOptions,
    control: &Control,
    done: &(dyn Fn(Done) + Sync),
    watch: &mut dyn FnMut(),
    stuck: &mut dyn FnMut(Vec<Stuck>),
) -> Ended {
    let start = Instant::now();
    let k = AtomicU64::new(0);
    let budget_end = match plan.limit {
        Limit::Budget(b) => start.checked_add(b),
        _ => None,
    };
    let next = || {
        if crate::interrupt::stopping()
            || control.stop.load(Ordering::Relaxed)
            || budget_end.is_some_and(|end| Instant::now() >= end)
        {
            return None;
        }
        plan.seed(k.fetch_add(1, Ordering::Relaxed))
    };
    let inflight: Mutex<BTreeMap<u64, Instant>> = Mutex::new(BTreeMap::new());
    let work = |&seed: &u64| {
        inflight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(seed, Instant::now());
        run_twice_if_needed(sc, seed, opts, control)
    };
    let finished = |seed: u64, d: Done| {
        done(d);
        inflight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&seed);
    };
    let mut reported = false;
    let mut watching = || {
        crate::interrupt::enforce_grace();
        watch();
        if reported {
            return;
        }
        let abandoned = crate::interrupt::abandoned_for().is_some_and(|t| t >= STUCK_AFTER);
        let now = Instant::now();
        let limit = control.timeout.map(|t| t + STUCK_AFTER);
        let list: Vec<Stuck> = inflight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|(&seed, &started)| {
                // A seed runs up to four times (re-runs): four limits.
                let late = limit.is_some_and(|l| now.duration_since(started) >= l * 4);
                match (late, abandoned) {
                    (true, _) => Some(Stuck::Timeout(seed)),
                    (false, true) => Some(Stuck::Interrupted(seed)),
                    _ => None,
                }
            })
            .collect();
        if !list.is_empty() {
            reported = true;
            stuck(list);
        }
    };
    parallel(control.jobs, &next, &work, &finished, &mut watching);
    Ended {
        interrupted: crate::interrupt::stopping(),
        wall: start.elapsed(),
    }
}

fn run_twice_if_needed(sc: &Scenario, seed: u64, opts: &RunOptions, control: &Control) -> Done {
    let start = Instant::now();
    let schedule = match schedule_for(sc, seed) {
        Ok(s) => s,
        Err(e) => {
            return Done {
                seed,
                result: Err(e),
                again: None,
                wall: start.elapsed(),
            }
        }
    };
    // `again`: a re-run, which keeps text when asked and never data (the
    // first run's is the same).
    let run_as = |again: bool, keep_lines: bool| {
        let mut o = opts.clone();
        o.cancel = Cancel::within(control.timeout, Some(crate::interrupt::abandon_flag()));
        o.keep_trace_lines = keep_lines;
        o.keep_failed_data &= !again;
        run_validated(sc, &schedule, &o)
    };
    let run = |keep_lines: bool| run_as(true, keep_lines);
    let result = run_as(false, opts.keep_trace_lines);
    let again = match &result {
        Ok(first) if control.check_determinism || !first.passed() => match run(false) {
            Ok(second) if second.trace_hash == first.trace_hash => Some(Again::Same),
            Ok(second) => {
                // Only now pay for text: two more runs to show where.
                let first_difference = match (run(true), run(true)) {
                    (Ok(a), Ok(b)) => first_difference(&a.trace_lines, &b.trace_lines),
                    _ => None,
                };
                Some(Again::Differs {
                    hash: second.trace_hash,
                    first_difference,
                })
            }
            // The second run was abandoned or failed to run: no proof
            // either way.
            Err(_) => None,
        },
        _ => None,
    };
    Done {
        seed,
        result,
        again,
        wall: start.elapsed(),
    }
}

/// Where two traces first differ: (event number, one line, the other).
pub fn first_difference(a: &[String], b: &[String]) -> Option<(usize, String, String)> {
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

/// What a sweep produced, in seed order: the verdicts, and the seeds that
/// ended in a harness error instead (they are in no verdict and no count).
#[derive(Debug)]
pub struct SweepOutput {
    pub results: Vec<RunResult>,
    pub harness_errors: Vec<(u64, HarnessError)>,
    pub wall: Duration,
}

/// Runs `seeds` on `jobs` threads and keeps every result (for tests and
/// small sweeps; `regsim run` streams instead). `on_done` sees each
/// verdict as it finishes.
pub fn sweep(
    sc: &Scenario,
    seeds: &[u64],
    jobs: usize,
    opts: &RunOptions,
    on_done: &(dyn Fn(&Result<RunResult, HarnessError>) + Sync),
) -> SweepOutput {
    let start = Instant::now();
    let i = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<RunResult, HarnessError>>>> =
        Mutex::new(vec![None; seeds.len()]);
    let next = || {
        let n = i.fetch_add(1, Ordering::Relaxed);
        (n < seeds.len()).then_some(n)
    };
    let work = |&n: &usize| crate::run::run_seed(sc, seeds[n], opts);
    let done = |n: usize, r: Result<RunResult, HarnessError>| {
        on_done(&r);
        slots.lock().expect("no thread panics while holding it")[n] = Some(r);
    };
    parallel(jobs, &next, &work, &done, &mut || {});
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

/// What a sweep found, summed over its runs.
#[derive(Debug, Default)]
pub struct Summary {
    pub runs: u64,
    pub failed: u64,
    /// Seeds without a verdict, by kind (harness error, timeout,
    /// interrupted, nondeterministic).
    pub without_verdict: BTreeMap<String, u64>,
    /// The first seed that ended in a harness error or timeout, with it.
    pub first_harness_error: Option<(u64, String)>,
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
    /// Marks the scenario requires (on this runtime).
    pub required_marks: Vec<String>,
    on_turmoil: bool,
}

impl Summary {
    /// An empty summary that lists every known mark.
    pub fn new() -> Summary {
        Summary {
            marks: crate::marks::all_marks()
                .into_iter()
                .map(|m| (m.to_string(), (0, 0)))
                .collect(),
            ..Default::default()
        }
    }

    /// Adds one seed. Seeds without a verdict are counted apart and
    /// change no verdict count.
    pub fn add(&mut self, r: &Record) {
        match r.outcome {
            Outcome::Pass | Outcome::Fail => {}
            Outcome::Nondeterministic => {
                *self
                    .without_verdict
                    .entry("nondeterministic".into())
                    .or_default() += 1;
            }
            other => {
                if other != Outcome::Interrupted && self.first_harness_error.is_none() {
                    self.first_harness_error = Some((r.seed, r.error.clone().unwrap_or_default()));
                }
                let kind = r.oracle.clone().unwrap_or_else(|| format!("{other:?}"));
                *self.without_verdict.entry(kind).or_default() += 1;
                return;
            }
        }
        self.runs += 1;
        self.on_turmoil |= r.runtime == crate::run::Runtime::Turmoil;
        if r.outcome != Outcome::Pass {
            self.failed += 1;
        }
        let oracles: std::collections::BTreeSet<&str> =
            r.violations.iter().map(|v| v.oracle.as_str()).collect();
        for o in oracles {
            *self.violations_by_oracle.entry(o.to_string()).or_default() += 1;
        }
        for sig in &r.findings {
            *self.findings_by_signature.entry(sig.clone()).or_default() += 1;
        }
        for (mark, hits) in &r.marks {
            let entry = self.marks.entry(mark.clone()).or_default();
            entry.0 += 1;
            entry.1 += hits;
        }
        let s = &r.stats;
        self.justified_halts += r.justified_halts;
        self.justified_refusals += r.justified_refusals;
        self.halts += s.halts;
        self.refusals += s.refusals;
        self.committed += s.committed;
        self.crashes += s.crashes;
        self.power_losses += s.power_losses;
        self.snapshot_installs += s.snapshot_installs;
        self.elections += s.elections;
        self.virtual_us += s.virtual_us;
        self.events += s.events;
    }

    /// Closes the summary: the expected findings and required marks the
    /// runs never showed.
    pub fn finish(&mut self, sc: &Scenario, wall: Duration) {
        self.wall = wall;
        self.missing_expected = sc
            .findings
            .expected
            .iter()
            .filter(|e| !self.findings_by_signature.contains_key(*e))
            .cloned()
            .collect();
        let turmoil_only = sc.marks.turmoil_required.iter().filter(|_| self.on_turmoil);
        self.required_marks = sc
            .marks
            .required
            .iter()
            .chain(turmoil_only)
            .cloned()
            .collect();
        self.missing_marks = (self.required_marks.iter())
            .filter(|m| self.marks.get(*m).is_none_or(|(runs, _)| *runs == 0))
            .cloned()
            .collect();
    }

    /// The summary of kept results (tests and small sweeps).
    pub fn from_results(sc: &Scenario, results: &[RunResult], wall: Duration) -> Summary {
        let origin = crate::results::Origin {
            scenario: sc.name.clone(),
            scenario_path: String::new(),
            runtime: crate::run::Runtime::Native,
            registry: String::new(),
            mutant: None,
        };
        let mut s = Summary::new();
        for r in results {
            let mut rec = origin.verdict(r, 0, String::new());
            rec.runtime = r.runtime;
            s.add(&rec);
        }
        s.finish(sc, wall);
        s
    }

    /// True when no run failed, every seed had a verdict that replays, and
    /// every expected finding showed.
    pub fn ok(&self) -> bool {
        self.failed == 0
            && self.missing_expected.is_empty()
            && !self.without_verdict.contains_key("nondeterministic")
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let runs = self.runs.max(1) as f64;
        writeln!(f, "runs: {} ({} failed)", self.runs, self.failed)?;
        for (kind, n) in &self.without_verdict {
            writeln!(f, "without a verdict: {kind}: {n} seeds")?;
        }
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
        writeln!(
            f,
            "coverage marks (runs that hit it, total hits; * the scenario requires it):"
        )?;
        for (mark, (runs, hits)) in &self.marks {
            let required = if self.required_marks.contains(mark) {
                "*"
            } else {
                " "
            };
            writeln!(f, "{required} {mark:<40} {runs:>6} runs {hits:>9} hits")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_draw_shard_seeds_lazily_and_stop_at_their_end_or_overflow() {
        let p = Plan {
            base: 1000,
            shard: "2/4".parse().unwrap(),
            limit: Limit::Count(3),
        };
        let seeds: Vec<u64> = (0..10).map_while(|k| p.seed(k)).collect();
        assert_eq!(seeds, vec![1002, 1006, 1010]);
        let below = Plan {
            limit: Limit::Below(1011),
            ..p
        };
        assert_eq!(below.known_len(), Some(3));
        assert_eq!(below.seed(2), Some(1010));
        assert_eq!(below.seed(3), None);
        // The whole u64 range costs nothing and ends without a panic.
        let all = Plan {
            base: 0,
            shard: Shard::default(),
            limit: Limit::Below(u64::MAX),
        };
        assert_eq!(all.seed(u64::MAX - 1), Some(u64::MAX - 1));
        assert_eq!(all.seed(u64::MAX), None);
        let top = Plan {
            base: u64::MAX - 1,
            shard: "1/2".parse().unwrap(),
            limit: Limit::Budget(Duration::from_secs(1)),
        };
        assert_eq!(top.seed(0), Some(u64::MAX));
        assert_eq!(top.seed(1), None);
        // k * N past u64 ends the plan too, whatever the base.
        let wide = Plan {
            base: 0,
            shard: "0/2".parse().unwrap(),
            limit: Limit::Budget(Duration::from_secs(1)),
        };
        assert_eq!(wide.seed(u64::MAX / 2), Some(u64::MAX - 1));
        assert_eq!(wide.seed(u64::MAX / 2 + 1), None);
        for bad in ["4/4", "1", "a/2", "0/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_partition_the_seeds() {
        let mut all: Vec<u64> = (0..3)
            .flat_map(|i| {
                let p = Plan {
                    base: 7,
                    shard: Shard { index: i, count: 3 },
                    limit: Limit::Count(4),
                };
                (0..).map_while(move |k| p.seed(k))
            })
            .collect();
        all.sort();
        assert_eq!(all, (7..19).collect::<Vec<_>>());
    }
}
