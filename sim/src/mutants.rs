//! `regsim mutants`: every mutant of the catalogue over the shipped
//! scenarios (swarm included), measured by seeds-to-detect and detection
//! rate, next to the unmutated build on the same runs.
//!
//! A mutant's budget of N runs cycles through the scenarios: run k uses
//! scenario k mod S and seed k div S, so every mutant meets every scenario
//! and the table needs no scenario written for one mutant.
//!
//! A mutant is caught when any oracle fires in one of its runs, or when a
//! sweep-level expectation (a scenario's expected finding) fails on its
//! runs of a scenario where the unmutated build's same runs meet every
//! one. Coverage marks never count; a harness error never catches.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use writer_registry::mutants::Mutant;

use crate::error::HarnessError;
pub use crate::nightly::{targets, Target};
use crate::run::{run_seed, RunOptions, RunResult, Runtime};

/// One row of the table: a mutant (or the unmutated build) over its budget.
#[derive(Debug, Clone)]
pub struct Row {
    pub mutant: Option<Mutant>,
    pub runs: u64,
    pub detected: u64,
    /// 1-based run number of the first detection.
    pub first: Option<u64>,
    /// The first detection's scenario path and seed.
    pub first_case: Option<(PathBuf, u64)>,
    /// Runs in which each oracle fired.
    pub oracles: BTreeMap<String, u64>,
    /// Runs that ended in a harness error: neither caught nor clean, and
    /// the first of them, with its case.
    pub harness_errors: u64,
    pub first_harness_error: Option<(PathBuf, u64, HarnessError)>,
    /// Sweep-level catches: "scenario: expected finding X never showed",
    /// on scenarios where the unmutated build's runs showed every one.
    pub sweep_catches: Vec<String>,
}

impl Row {
    pub fn name(&self) -> &'static str {
        self.mutant.map_or("(none: unmutated build)", Mutant::name)
    }

    /// Caught at least once (for a mutant) / never fired (for the baseline).
    pub fn ok(&self) -> bool {
        if self.harness_errors > 0 {
            return false;
        }
        match self.mutant {
            Some(_) => self.detected > 0 || !self.sweep_catches.is_empty(),
            None => self.detected == 0,
        }
    }

    pub fn top_oracle(&self) -> String {
        self.oracles
            .iter()
            .max_by_key(|(o, n)| (**n, std::cmp::Reverse((*o).clone())))
            .map(|(o, _)| o.clone())
            .or_else(|| self.sweep_catches.first().map(|c| format!("sweep: {c}")))
            .unwrap_or_else(|| "-".into())
    }
}

/// Why `mutant` cannot show on `runtime`, if it cannot (`None`: it can).
/// The hosted runtimes differ from the native engine in ways a mutant can
/// depend on.
pub fn why_not_on(mutant: Mutant, runtime: Runtime) -> Option<&'static str> {
    if runtime == Runtime::Native {
        return None;
    }
    match mutant {
        Mutant::FjallSyncSkipped | Mutant::FjallSyncBufferOnly => Some(
            "it mutates the fjall store, which the hosted runtimes never run (turmoil keeps the registry in a file store of its own, madsim in memory)",
        ),
        Mutant::LogNotSyncedOnOpen => Some(
            "the hosted runtimes never lose a start's unsynced log: turmoil's open syncs the log it reads, and madsim runs a power loss as a crash",
        ),
        // A leader counts its own entries early only at an instant when no
        // follower has acknowledged them, and the commit cannot move
        // before the real sync.
        Mutant::PersistReportedAtWrite => Some(
            "the hosted runtimes complete a Ready's sync in the call that wrote it (no storage.sync_us), so no ack can arrive between the early persist report and the sync",
        ),
        Mutant::LostSnapshotUnreachableOnly => Some(
            "the hosted runtimes report a snapshot delivered once it is handed to the network and never report one failed",
        ),
        _ => None,
    }
}

/// Whether `mutant` can show on `runtime` at all ([`why_not_on`]).
pub fn applies_on(mutant: Mutant, runtime: Runtime) -> bool {
    why_not_on(mutant, runtime).is_none()
}

/// A mutant table to run: `budget` cases of each of `mutants` (`None`:
/// the unmutated baseline) over `targets`, on `jobs` threads, on `runtime`.
pub struct Plan<'a> {
    pub targets: &'a [Target],
    pub mutants: &'a [Option<Mutant>],
    pub budget: u64,
    pub jobs: usize,
    pub runtime: Runtime,
}

/// Runs the plan's cases and tallies a row per mutant; `on_done` after
/// each run.
pub fn table(plan: &Plan<'_>, on_done: &(dyn Fn() + Sync)) -> Vec<Row> {
    let (targets, mutants, budget) = (plan.targets, plan.mutants, plan.budget);
    let results = run_all(plan, on_done);
    let t = targets.len() as u64;
    let result = |m: usize, k: u64| &results[m * budget as usize + k as usize];
    // Per scenario, the expected findings a row's runs showed.
    let shown = |m: usize, target: u64| -> std::collections::BTreeSet<String> {
        (target..budget)
            .step_by(t as usize)
            .filter_map(|k| result(m, k).as_ref().ok())
            .flat_map(|r| r.findings.iter().map(|f| f.signature.clone()))
            .collect()
    };
    let baseline = mutants.iter().position(Option::is_none);
    let scenarios = t.min(budget);
    let expected: Vec<(&str, &[String])> = targets[..scenarios as usize]
        .iter()
        .map(|x| {
            (
                x.scenario.name.as_str(),
                x.scenario.findings.expected.as_slice(),
            )
        })
        .collect();
    let shown_by = |m: usize| (0..scenarios).map(|x| shown(m, x)).collect::<Vec<_>>();
    let baseline_shown = baseline.map(shown_by);
    mutants
        .iter()
        .enumerate()
        .map(|(m, &mutant)| {
            let mut row = Row {
                mutant,
                runs: budget,
                detected: 0,
                first: None,
                first_case: None,
                oracles: BTreeMap::new(),
                harness_errors: 0,
                first_harness_error: None,
                sweep_catches: Vec::new(),
            };
            if let Some(base) = baseline_shown.as_ref().filter(|_| mutant.is_some()) {
                row.sweep_catches = sweep_level_catches(&expected, base, &shown_by(m));
            }
            let of_row = m * budget as usize..(m + 1) * budget as usize;
            tally(&mut row, targets, &results[of_row]);
            row
        })
        .collect()
}

/// Runs the plan's cases (case k: scenario k mod S, seed k div S);
/// results in (mutant, case) order.
fn run_all(plan: &Plan<'_>, on_done: &(dyn Fn() + Sync)) -> Vec<Result<RunResult, HarnessError>> {
    let (targets, mutants, budget) = (plan.targets, plan.mutants, plan.budget);
    let cases: Vec<(usize, u64)> = mutants
        .iter()
        .enumerate()
        .flat_map(|(m, _)| (0..budget).map(move |k| (m, k)))
        .collect();
    let results: Mutex<Vec<Option<Result<RunResult, HarnessError>>>> =
        Mutex::new(vec![None; cases.len()]);
    let next_case = AtomicUsize::new(0);
    let t = targets.len() as u64;
    let next = || {
        let i = next_case.fetch_add(1, Ordering::Relaxed);
        (i < cases.len()).then_some(i)
    };
    let work = |&i: &usize| {
        let (m, k) = cases[i];
        let target = &targets[(k % t) as usize];
        let mut opts = RunOptions::for_scenario(&target.scenario);
        opts.mutant = mutants[m];
        opts.runtime = plan.runtime;
        run_seed(&target.scenario, k / t, &opts)
    };
    let done = |i: usize, r: Result<RunResult, HarnessError>| {
        results.lock().expect("no panics while held")[i] = Some(r);
        on_done();
    };
    crate::sweep::parallel(plan.jobs, &next, &work, &done, &mut || {});
    results
        .into_inner()
        .expect("joined")
        .into_iter()
        .map(|r| r.expect("ran"))
        .collect()
}

/// Counts one row's catches, first catch, oracles and harness errors over
/// its `budget` results.
fn tally(row: &mut Row, targets: &[Target], results: &[Result<RunResult, HarnessError>]) {
    let (t, budget) = (targets.len() as u64, results.len() as u64);
    for k in 0..budget {
        let r = match &results[k as usize] {
            Ok(r) => r,
            Err(e) => {
                // Says nothing about the mutant: never a catch.
                row.harness_errors += 1;
                if row.first_harness_error.is_none() {
                    let path = targets[(k % t) as usize].path.clone();
                    row.first_harness_error = Some((path, k / t, e.clone()));
                }
                continue;
            }
        };
        if r.passed() {
            continue;
        }
        row.detected += 1;
        if row.first.is_none() {
            row.first = Some(k + 1);
            row.first_case = Some((targets[(k % t) as usize].path.clone(), k / t));
        }
        for o in r.failed_oracles() {
            *row.oracles.entry(o).or_default() += 1;
        }
    }
}

/// The sweep-level expectations a mutant's runs fail where the unmutated
/// build's same runs meet them all: per scenario (name, expected finding
/// signatures), the signatures each side showed.
pub fn sweep_level_catches(
    expected: &[(&str, &[String])],
    baseline: &[std::collections::BTreeSet<String>],
    mutant: &[std::collections::BTreeSet<String>],
) -> Vec<String> {
    let mut catches = Vec::new();
    for (((name, expected), base), shown) in expected.iter().zip(baseline).zip(mutant) {
        if expected.iter().any(|e| !base.contains(e)) {
            // The unmutated build fails it too: it says nothing here.
            continue;
        }
        for sig in expected.iter().filter(|e| !shown.contains(*e)) {
            catches.push(format!("{name}: expected finding {sig} never showed"));
        }
    }
    catches
}

/// The table as Markdown, with a replay command per first detection
/// ([`crate::command`]'s form, on `runtime`): the
/// unmutated build, then the library's mutants (applier and FSM), then the
/// start sequence's, then the node core's, each group under its own
/// heading row.
pub fn render(rows: &[Row], runtime: Runtime) -> String {
    let mut out = String::from("| mutant | caught | seeds to first detection | detection rate | caught by | replay |\n| --- | --- | --- | --- | --- | --- |\n");
    let group = |r: &&Row| match r.mutant {
        None => 0,
        Some(m) if m.in_start_sequence() => 2,
        Some(m) if m.in_node_core() => 3,
        Some(_) => 1,
    };
    let mut ordered: Vec<&Row> = rows.iter().collect();
    ordered.sort_by_key(group);
    let mut last_group = 0;
    for r in ordered {
        let g = group(&r);
        if g != last_group {
            last_group = g;
            let heading = match g {
                1 => "library mutants (applier, FSM, store)",
                2 => "start-sequence mutants",
                _ => "node-core mutants (raft-rs integration)",
            };
            out.push_str(&format!("| **{heading}** | | | | | |\n"));
        }
        let caught = match (r.mutant, r.ok()) {
            _ if r.harness_errors > 0 => "**HARNESS ERROR**",
            (Some(_), true) => "yes",
            (Some(_), false) => "**NO**",
            (None, true) => "clean",
            (None, false) => "**FALSE ALARM**",
        };
        let replay = match &r.first_case {
            Some((path, seed)) => {
                let cmd = crate::command::Replay {
                    case: crate::command::Case::Seed {
                        scenario: path,
                        seed: *seed,
                    },
                    mutant: r.mutant.map(|m| m.name()),
                    runtime,
                    registry: None,
                };
                format!("`{cmd}`")
            }
            None => "-".into(),
        };
        out.push_str(&format!(
            "| {} | {caught} | {} | {}/{} ({:.0}%) | {} | {replay} |\n",
            r.name(),
            r.first.map_or("-".to_string(), |f| f.to_string()),
            r.detected,
            r.runs,
            100.0 * r.detected as f64 / r.runs.max(1) as f64,
            r.top_oracle()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_missing_expected_finding_catches_only_where_the_baseline_meets_it() {
        let f1 = vec!["unjustified-halt:rollback:replay-window".to_string()];
        let expected: Vec<(&str, &[String])> = vec![("storm", &f1), ("other", &f1), ("quiet", &[])];
        let baseline = vec![set(&[&f1[0]]), set(&[]), set(&[])];
        // The mutant never shows F1: a catch on "storm" only ("other"'s
        // baseline misses it too; "quiet" expects nothing).
        let mutant = vec![set(&[]), set(&[]), set(&[])];
        assert_eq!(
            sweep_level_catches(&expected, &baseline, &mutant),
            vec!["storm: expected finding unjustified-halt:rollback:replay-window never showed"]
        );
        // Showing it everywhere the baseline does: no catch.
        let mutant = vec![set(&[&f1[0]]), set(&[]), set(&[])];
        assert!(sweep_level_catches(&expected, &baseline, &mutant).is_empty());
    }
}
