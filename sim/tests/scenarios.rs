//! Every shipped scenario (each `scenarios/*.toml`, found at run time: a
//! new file is tested with no edit here) over a small fixed seed range
//! must pass by its own declaration. `REGSIM_SEED=N` runs only seed N,
//! `REGSIM_SEEDS=N` the range 0..N, `REGSIM_SCENARIO=NAME` only that
//! scenario; a failing seed's message gives the command that reruns it.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use writer_registry_sim::error::HarnessError;
use writer_registry_sim::run::{run_seed, RunOptions, RunResult};
use writer_registry_sim::sweep::Summary;

const DEFAULT_SEEDS: u64 = 16;

/// The scenarios to run: all of them, or `REGSIM_SCENARIO`'s.
fn selected_scenarios() -> Vec<String> {
    let names = common::scenario_names();
    match std::env::var("REGSIM_SCENARIO") {
        Err(_) => names,
        Ok(asked) => vec![scenario_named(&asked, &names)],
    }
}

/// The shipped scenario `REGSIM_SCENARIO=asked` names: a name, a file name
/// or a path (`partitions`, `partitions.toml` and
/// `scenarios/partitions.toml` all name scenarios/partitions.toml).
/// Anything else panics, naming the value and the scenarios there are.
fn scenario_named(asked: &str, names: &[String]) -> String {
    let name = asked.rsplit('/').next().unwrap_or(asked);
    let name = name.strip_suffix(".toml").unwrap_or(name).to_string();
    if names.contains(&name) {
        return name;
    }
    panic!("REGSIM_SCENARIO={asked:?}: no scenarios/{name}.toml; known: {names:?}")
}

#[test]
fn regsim_scenario_takes_a_name_a_file_name_or_a_path() {
    let names = common::scenario_names();
    for asked in ["partitions", "partitions.toml", "scenarios/partitions.toml"] {
        assert_eq!(scenario_named(asked, &names), "partitions", "{asked}");
    }
    let unknown = std::panic::catch_unwind(|| scenario_named("partition", &names))
        .expect_err("an unknown scenario must not run");
    let msg = unknown
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(msg.contains("REGSIM_SCENARIO=\"partition\""), "{msg}");
}

#[test]
fn every_shipped_scenario_passes() {
    let seeds = common::seeds(DEFAULT_SEEDS);
    let names = selected_scenarios();
    let scenarios: Vec<_> = names.iter().map(|n| common::scenario(n)).collect();
    common::announce(&format!(
        "scenarios.rs: {} of {}",
        seeds.described,
        match names.as_slice() {
            [one] => format!("scenario {one}"),
            all => format!("each of {} scenarios ({})", all.len(), all.join(", ")),
        }
    ));
    // Every (scenario, seed) pair on every core: one scenario's seeds
    // alone (REGSIM_SEED) would leave cores idle.
    let work: Vec<(usize, u64)> = (0..names.len())
        .flat_map(|i| seeds.seeds.iter().map(move |&s| (i, s)))
        .collect();
    let results: Mutex<Vec<Vec<Result<RunResult, HarnessError>>>> =
        Mutex::new(names.iter().map(|_| Vec::new()).collect());
    let next = AtomicUsize::new(0);
    let start = std::time::Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads.min(work.len()) {
            scope.spawn(|| {
                while let Some(&(i, seed)) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let sc = &scenarios[i];
                    let r = run_seed(sc, seed, &RunOptions::for_scenario(sc));
                    results.lock().unwrap_or_else(|e| e.into_inner())[i].push(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut failures = Vec::new();
    for ((name, sc), runs) in names.iter().zip(&scenarios).zip(results) {
        let rerun = |seed| {
            format!(
                "    {}\n    replay: regsim replay --scenario scenarios/{name}.toml --seed {seed}",
                common::rerun(
                    seed,
                    &format!("REGSIM_SCENARIO={name}"),
                    "scenarios",
                    "every_shipped_scenario_passes"
                )
            )
        };
        let mut passed_or_failed = Vec::new();
        for r in runs {
            match r {
                Ok(r) => passed_or_failed.push(r),
                Err(e) => failures.push(format!("{name}: harness error: {e}")),
            }
        }
        passed_or_failed.sort_by_key(|r| r.seed);
        for r in passed_or_failed.iter().filter(|r| !r.passed()) {
            failures.push(format!(
                "{name} seed {} fails: {}\n{}",
                r.seed,
                common::violations(r),
                rerun(r.seed)
            ));
        }
        // Expected findings and required marks must show within a range
        // (not for one seed, which may legitimately miss them).
        if !seeds.single {
            let summary = Summary::from_results(sc, &passed_or_failed, start.elapsed());
            if !summary.missing_expected.is_empty() {
                failures.push(format!(
                    "{name}: expected findings never showed in {}: {:?}",
                    seeds.described, summary.missing_expected
                ));
            }
            if !summary.missing_marks.is_empty() {
                failures.push(format!(
                    "{name}: required coverage marks never hit in {}: {:?}",
                    seeds.described, summary.missing_marks
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} (ran {}):\n{}",
        if failures.len() == 1 {
            "a scenario check fails".to_string()
        } else {
            format!("{} scenario checks fail", failures.len())
        },
        seeds.described,
        failures.join("\n")
    );
}

#[test]
fn seed_variables_parse_strictly_and_reruns_name_the_seed() {
    common::check_seed_parsing();
}

#[test]
fn default_is_a_real_workout() {
    // The floor for `default`, averaged over the test range.
    let sc = common::scenario("default");
    assert!(sc.nodes == 3 && sc.duration_ms >= 30_000);
    let opts = RunOptions::for_scenario(&sc);
    let results: Vec<_> = (0..DEFAULT_SEEDS)
        .map(|s| run_seed(&sc, s, &opts).unwrap())
        .collect();
    let n = results.len() as f64;
    let avg = |f: &dyn Fn(&writer_registry_sim::sim::Stats) -> u64| {
        results.iter().map(|r| f(&r.stats)).sum::<u64>() as f64 / n
    };
    assert!(
        avg(&|s| s.committed) >= 300.0,
        "committed {}",
        avg(&|s| s.committed)
    );
    assert!(
        avg(&|s| s.crashes) >= 3.0,
        "crashes {}",
        avg(&|s| s.crashes)
    );
    assert!(
        avg(&|s| s.power_losses) >= 1.0,
        "power losses {}",
        avg(&|s| s.power_losses)
    );
    assert!(
        avg(&|s| s.snapshot_installs) >= 1.0,
        "snapshot installs {}",
        avg(&|s| s.snapshot_installs)
    );
}
