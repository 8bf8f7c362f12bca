//! Every shipped scenario over a small fixed seed range must pass by its
//! own declaration. `REGSIM_SEED=N` runs only seed N; `REGSIM_SEEDS=N`
//! widens the range to 0..N.

use std::path::{Path, PathBuf};

use writer_registry_sim::run::{run_seed, RunOptions};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::sweep::Summary;

const DEFAULT_SEEDS: u64 = 16;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("REGSIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let n = std::env::var("REGSIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEEDS);
    (0..n).collect()
}

fn check(name: &str) {
    let path = root().join("scenarios").join(format!("{name}.toml"));
    let (sc, _) = Scenario::load(&path).unwrap();
    let opts = RunOptions::for_scenario(&sc);
    let start = std::time::Instant::now();
    let results: Vec<_> = seeds()
        .into_iter()
        .map(|s| run_seed(&sc, s, &opts).unwrap())
        .collect();
    let summary = Summary::from_results(&sc, &results, start.elapsed());
    for r in results.iter().filter(|r| !r.passed()) {
        eprintln!("{name} seed {}: {:?}", r.seed, r.violations);
    }
    assert_eq!(
        summary.failed,
        0,
        "{name}: failing seeds (replay with regsim replay --scenario {} --seed N)\n{summary}",
        path.display()
    );
    // Expected findings and required marks must show within the range
    // (only on a range: a single REGSIM_SEED may legitimately miss them).
    if std::env::var("REGSIM_SEED").is_err() {
        assert!(
            summary.missing_expected.is_empty(),
            "{name}: expected findings never showed: {:?}",
            summary.missing_expected
        );
        assert!(
            summary.missing_marks.is_empty(),
            "{name}: required coverage marks never hit: {:?}",
            summary.missing_marks
        );
    }
}

macro_rules! scenarios {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { check($name); })*

        #[test]
        fn every_shipped_scenario_has_a_test() {
            let mut shipped: Vec<String> = std::fs::read_dir(root().join("scenarios"))
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".toml").map(String::from))
                .collect();
            shipped.sort();
            let mut tested = vec![$($name.to_string()),*];
            tested.sort();
            assert_eq!(shipped, tested);
        }
    };
}

scenarios! {
    default => "default",
    replay_after_crash => "replay-after-crash",
    replay_after_crash_atomic => "replay-after-crash-atomic",
    restart_storm => "restart-storm",
    restart_storm_atomic => "restart-storm-atomic",
    power_loss => "power-loss",
    partitions => "partitions",
    rollback => "rollback",
    collision => "collision",
    malformed => "malformed",
    five_nodes => "five-nodes",
    seven_nodes => "seven-nodes",
    swarm => "swarm",
    boot_rotation => "boot-rotation",
    exhaustion => "exhaustion",
    store_errors => "store-errors",
    corrupt_rows => "corrupt-rows",
}

#[test]
fn default_is_a_real_workout() {
    // The floor for `default`, averaged over the test range.
    let (sc, _) = Scenario::load(&root().join("scenarios/default.toml")).unwrap();
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
