//! The turmoil runtime: the same node core, schedules and checkers on
//! turmoil's hosts, clock, network and file system. Every shipped scenario
//! passes there; a seed's trace is the same twice and in another process;
//! the same explicit schedule gets the same verdict class on both runtimes;
//! per-scenario rates agree within a stated tolerance.
//!
//! `REGSIM_SEED=N` runs only seed N of the scenario sweep; `REGSIM_SEEDS=N`
//! widens it to 0..N.

// The integration tests' helpers, shared with the simulator's own tests
// (sim/tests) rather than copied.
#[path = "../../tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;

use writer_registry_sim::run::{
    run_schedule, run_seed, schedule_for, RunOptions, RunResult, Runtime,
};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::store::RegistryKind;

use common::{root, scenario};
use writer_registry_sim::sweep::Summary;

fn on(runtime: Runtime, sc: &Scenario) -> RunOptions {
    let mut opts = RunOptions::for_scenario(sc);
    opts.runtime = runtime;
    // The native side of a comparison: the memory registry keeps the
    // test fast and hashes the same as fjall (determinism.rs).
    opts.registry = RegistryKind::Memory;
    opts
}

/// Every shipped scenario runs clean on turmoil (a few seeds each; the
/// nightly job sweeps thousands).
#[test]
fn every_shipped_scenario_passes_on_turmoil() {
    let names = common::scenario_names();
    let seeds = common::seeds(3);
    common::announce(&format!(
        "turmoil.rs: {} scenarios on turmoil, {}",
        names.len(),
        seeds.described
    ));
    let mut failed = Vec::new();
    for name in &names {
        let sc = scenario(name);
        let opts = on(Runtime::Turmoil, &sc);
        let start = std::time::Instant::now();
        let mut results: Vec<RunResult> = Vec::new();
        for &s in &seeds.seeds {
            match run_seed(&sc, s, &opts) {
                Ok(r) => results.push(r),
                Err(e) => failed.push(format!(
                    "{name} seed {s}: harness error: {e}\n    {}",
                    common::rerun(s, "", "turmoil", "every_shipped_scenario_passes_on_turmoil")
                )),
            }
        }
        let summary = Summary::from_results(&sc, &results, start.elapsed());
        for r in results.iter().filter(|r| !r.passed()) {
            failed.push(format!(
                "{name} seed {}: {}\n    {}",
                r.seed,
                common::violations(r),
                common::rerun(
                    r.seed,
                    "",
                    "turmoil",
                    "every_shipped_scenario_passes_on_turmoil"
                )
            ));
        }
        assert_eq!(
            summary.failed as usize,
            results.iter().filter(|r| !r.passed()).count()
        );
    }
    assert!(
        failed.is_empty(),
        "ran {}:\n{}",
        seeds.described,
        failed.join("\n")
    );
}

/// Same seed, same trace on turmoil, event by event; another seed differs.
#[test]
fn a_turmoil_run_is_deterministic() {
    for name in ["default", "power-loss", "rollback"] {
        let sc = scenario(name);
        let mut opts = on(Runtime::Turmoil, &sc);
        opts.keep_trace_lines = true;
        let a = run_seed(&sc, 3, &opts).unwrap();
        let b = run_seed(&sc, 3, &opts).unwrap();
        assert!(a.trace_lines.len() > 1000, "{name}");
        assert_eq!(a.trace_lines, b.trace_lines, "{name}");
        assert_eq!(a.trace_hash, b.trace_hash, "{name}");
        let c = run_seed(&sc, 4, &opts).unwrap();
        assert_ne!(a.trace_hash, c.trace_hash, "{name}: different seeds");
    }
}

/// The hashes `regsim run --runtime turmoil` prints are the same in
/// another process and with another number of jobs: nothing per process
/// (tokio's own select RNG, heap addresses, thread timing) reaches them.
#[test]
fn turmoil_hashes_are_the_same_across_processes_and_jobs() {
    let run = |jobs: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_regsim"))
            .args([
                "run",
                "--scenario",
                "scenarios/swarm.toml",
                "--count",
                "4",
                "--jobs",
                jobs,
                "--runtime",
                "turmoil",
            ])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(out.contains("runtime turmoil"), "{out}");
        let hashes = common::printed_hashes(&out);
        assert_eq!(hashes.len(), 4, "{out}");
        hashes
    };
    assert_eq!(run("1"), run("2"));
}

/// What a verdict says, without the timing that differs between runtimes:
/// passed or not, which oracles failed, which findings showed.
fn class(r: &RunResult) -> (bool, BTreeSet<String>, BTreeSet<String>) {
    (
        r.passed(),
        r.failed_oracles().into_iter().collect(),
        r.findings.iter().map(|f| f.signature.clone()).collect(),
    )
}

/// The same explicit schedule, on scenarios whose faults are not timing
/// sensitive (injected entries halt every replica whenever they commit;
/// rollbacks and presets act on files of nodes that are down), gets the
/// same verdict class on both runtimes.
#[test]
fn a_native_schedule_gets_the_same_verdict_class_on_turmoil() {
    for name in ["collision", "malformed", "boot-rotation", "partitions"] {
        let sc = scenario(name);
        for seed in 0..2 {
            let schedule = schedule_for(&sc, seed).unwrap();
            let native = run_schedule(&sc, &schedule, &on(Runtime::Native, &sc)).unwrap();
            let turmoil = run_schedule(&sc, &schedule, &on(Runtime::Turmoil, &sc)).unwrap();
            assert_eq!(
                class(&native),
                class(&turmoil),
                "{name} seed {seed}: native {:?} / turmoil {:?}",
                native.violations,
                turmoil.violations
            );
        }
    }
}

/// Per-scenario rates agree within the stated tolerance: F1 (the
/// restart-storm finding) in a share of runs within 0.25 of each other,
/// and justified halts per run on collision within 30% of each other.
/// The runtimes differ in timing (turmoil's 1 ms steps, its latency curve,
/// no sync latency), so the runs differ; what they find must not.
#[test]
fn per_scenario_rates_agree_within_tolerance() {
    let n = 12;
    let rate = |name: &str, runtime: Runtime, f: &dyn Fn(&RunResult) -> f64| {
        let sc = scenario(name);
        let opts = on(runtime, &sc);
        (0..n)
            .map(|s| f(&run_seed(&sc, s, &opts).unwrap()))
            .sum::<f64>()
            / n as f64
    };
    let f1 = |r: &RunResult| {
        f64::from(u8::from(r.findings.iter().any(|f| {
            f.signature == "unjustified-halt:rollback:replay-window"
        })))
    };
    let (a, b) = (
        rate("restart-storm", Runtime::Native, &f1),
        rate("restart-storm", Runtime::Turmoil, &f1),
    );
    assert!(
        (a - b).abs() <= 0.25,
        "F1 share: native {a:.2}, turmoil {b:.2}"
    );
    assert!(
        a > 0.5 && b > 0.5,
        "F1 share: native {a:.2}, turmoil {b:.2}"
    );
    let halts = |r: &RunResult| r.justified_halts as f64;
    let (a, b) = (
        rate("collision", Runtime::Native, &halts),
        rate("collision", Runtime::Turmoil, &halts),
    );
    assert!(
        (a - b).abs() <= 0.3 * a.max(b),
        "justified halts per run: native {a:.2}, turmoil {b:.2}"
    );
}

/// A corpus entry records its runtime and replays there.
#[test]
fn a_corpus_entry_records_and_replays_its_runtime() {
    use writer_registry_sim::corpus::{hash_hex, Expect, SeedEntry, Verdict};
    let text = std::fs::read_to_string(root().join("scenarios/collision.toml")).unwrap();
    let sc = scenario("collision");
    let entry = SeedEntry {
        scenario: "scenarios/collision.toml".into(),
        scenario_hash: hash_hex(&text),
        expect: Expect::Fixed,
        signature: String::new(),
        note: String::new(),
        group: None,
        mutant: None,
        runtime: Runtime::Turmoil,
        schedule: schedule_for(&sc, 1).unwrap(),
    };
    let written = entry.to_toml();
    assert!(written.contains("runtime = \"turmoil\""), "{written}");
    let back = SeedEntry::parse(&written, "entry.toml").unwrap();
    assert_eq!(back, entry);
    match back.check(&root()) {
        Verdict::Holds(r) => assert_eq!(r.runtime, Runtime::Turmoil),
        other => panic!("{other:?}"),
    }
    for other in ["jepsen", "madsim"] {
        let bad = written.replace("runtime = \"turmoil\"", &format!("runtime = \"{other}\""));
        let err = SeedEntry::parse(&bad, "entry.toml").unwrap_err();
        assert!(err.contains("`runtime`") && err.contains(other), "{err}");
    }
}

/// The same schedule that catches a start-sequence mutant natively
/// catches it on turmoil, by the same oracles (the start judge among
/// them; START-7's gate also sees the node's replayed registration).
#[cfg(feature = "mutants")]
#[test]
fn a_schedule_that_catches_a_mutant_natively_catches_it_on_turmoil() {
    use writer_registry::mutants::Mutant;
    let sc = scenario("rollback");
    let schedule = schedule_for(&sc, 0).unwrap();
    let mut caught_by = Vec::new();
    for runtime in [Runtime::Native, Runtime::Turmoil] {
        let mut opts = on(runtime, &sc);
        opts.mutant = Some(Mutant::GuardAfterReplayNotStrict);
        let r = run_schedule(&sc, &schedule, &opts).unwrap();
        let oracles = r.failed_oracles();
        assert!(
            oracles.iter().any(|o| o == "start-sequence"),
            "{runtime:?}: {oracles:?}"
        );
        caught_by.push(oracles);
        opts.mutant = None;
        assert!(
            run_schedule(&sc, &schedule, &opts).unwrap().passed(),
            "{runtime:?}"
        );
    }
    assert_eq!(caught_by[0], caught_by[1], "native, then turmoil");
}
