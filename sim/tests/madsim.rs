//! The cluster on madsim: every shipped scenario but `power-loss` (madsim
//! 0.2.34 has no durability model) as a `#[madsim::test]`, seeded by
//! `MADSIM_TEST_SEED`, which is also the run's seed. Built only under
//! `RUSTFLAGS="--cfg madsim"`; run them with `.ci/madsim-test` (add
//! `MADSIM_TEST_NUM=N` for N seeds, `MADSIM_TEST_CHECK_DETERMINISM=1` to run
//! each seed twice and compare madsim's own record of the run).
//!
//! Copy one to put your own scenario on madsim:
//!
//! ```ignore
//! #[madsim::test]
//! async fn my_scenario() {
//!     let seed = madsim::runtime::Handle::current().seed();
//!     let (sc, _) = Scenario::load("scenarios/my.toml".as_ref()).unwrap();
//!     let r = run_seed(&sc, seed, &RunOptions::for_scenario(&sc)).await.unwrap();
//!     assert!(r.passed(), "{:?}", r.violations);
//! }
//! ```
#![cfg(madsim)]

use std::collections::BTreeSet;
use std::path::Path;

use writer_registry_sim::madsim_runtime::{run_schedule, run_seed};
use writer_registry_sim::run::{RunOptions, RunResult, Runtime};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::store::RegistryKind;

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    Scenario::load(&path).unwrap().0
}

fn seed() -> u64 {
    madsim::runtime::Handle::current().seed()
}

async fn passes(name: &str) {
    let seed = seed();
    let sc = scenario(name);
    let mut opts = RunOptions::for_scenario(&sc);
    opts.keep_trace_lines = std::env::var_os("REGSIM_TRACE").is_some();
    let r = run_seed(&sc, seed, &opts)
        .await
        .unwrap_or_else(|e| panic!("{name} seed {seed}: harness error: {e}"));
    if !r.passed() && opts.keep_trace_lines {
        for line in &r.trace_lines {
            eprintln!("{line}");
        }
    }
    assert_eq!(r.runtime, Runtime::Madsim);
    eprintln!(
        "{name} seed {seed}: trace {:016x} {:?} {}",
        r.trace_hash, r.stats, r.ending
    );
    assert!(
        r.stats.committed > 0 && r.stats.virtual_us >= sc.duration_ms * 1000,
        "{name}: {:?}",
        r.stats
    );
    assert!(
        r.passed(),
        "{name} seed {seed}: {:#?}\nrerun with MADSIM_TEST_SEED={seed} .ci/madsim-test {}",
        r.violations,
        name.replace('-', "_")
    );
}

macro_rules! scenarios {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[madsim::test]
            async fn $test() {
                passes($name).await
            }
        )*
    };
}

scenarios! {
    boot_rotation => "boot-rotation",
    collision => "collision",
    corrupt_rows => "corrupt-rows",
    default => "default",
    exhaustion => "exhaustion",
    five_nodes => "five-nodes",
    malformed => "malformed",
    partitions => "partitions",
    registration_orders => "registration-orders",
    replay_after_crash => "replay-after-crash",
    replay_after_crash_atomic => "replay-after-crash-atomic",
    restart_storm => "restart-storm",
    restart_storm_atomic => "restart-storm-atomic",
    rollback => "rollback",
    seven_nodes => "seven-nodes",
    slow_disk => "slow-disk",
    store_errors => "store-errors",
    swarm => "swarm",
}

/// What a verdict says without the timing that differs between runtimes.
fn class(r: &RunResult) -> (bool, BTreeSet<String>, BTreeSet<String>) {
    (
        r.passed(),
        r.failed_oracles().into_iter().collect(),
        r.findings.iter().map(|f| f.signature.clone()).collect(),
    )
}

/// The same explicit schedule gets the same verdict class on madsim as on
/// the native engine, on scenarios whose faults are not timing sensitive.
#[madsim::test]
async fn a_native_schedule_gets_the_same_verdict_class_on_madsim() {
    for name in ["collision", "malformed", "boot-rotation"] {
        let sc = scenario(name);
        let schedule = writer_registry_sim::run::schedule_for(&sc, seed()).unwrap();
        let mut opts = RunOptions::for_scenario(&sc);
        opts.registry = RegistryKind::Memory;
        let native = writer_registry_sim::run::run_schedule(&sc, &schedule, &opts).unwrap();
        let madsim = run_schedule(&sc, &schedule, &opts).await.unwrap();
        assert_eq!(class(&native), class(&madsim), "{name} seed {}", seed());
    }
}

/// The restart-storm finding shows on madsim as on the native engine: a
/// run that reaches it is judged the same way whatever drives the nodes.
#[madsim::test]
async fn the_restart_storm_finding_shows_on_madsim() {
    let sc = scenario("restart-storm");
    let mut shown = 0;
    for seed in 0..4 {
        let r = run_seed(&sc, seed, &RunOptions::for_scenario(&sc))
            .await
            .unwrap();
        assert!(r.passed(), "seed {seed}: {:?}", r.violations);
        shown += u32::from(
            r.findings
                .iter()
                .any(|f| f.signature == "unjustified-halt:rollback:replay-window"),
        );
    }
    assert!(shown >= 2, "F1 in {shown} of 4 runs");
}

/// The schedule that catches a start-sequence mutant natively (rollback,
/// seed 0) catches it on madsim too, by the same oracle; the unmutated
/// build passes it. Needs the mutant catalogue: `MADSIM_FEATURES=mutants
/// .ci/madsim-test`.
#[cfg(feature = "mutants")]
#[madsim::test]
async fn a_schedule_that_catches_a_mutant_natively_catches_it_on_madsim() {
    use writer_registry::mutants::Mutant;
    let sc = scenario("rollback");
    let schedule = writer_registry_sim::run::schedule_for(&sc, 0).unwrap();
    let mut opts = RunOptions::for_scenario(&sc);
    opts.registry = RegistryKind::Memory;
    opts.mutant = Some(Mutant::GuardAfterReplayNotStrict);
    let native = writer_registry_sim::run::run_schedule(&sc, &schedule, &opts).unwrap();
    let caught_by = native.failed_oracles();
    assert!(
        caught_by.iter().any(|o| o == "start-sequence"),
        "{caught_by:?}"
    );
    let r = run_schedule(&sc, &schedule, &opts).await.unwrap();
    assert_eq!(r.failed_oracles(), caught_by, "{:?}", r.violations);
    opts.mutant = None;
    assert!(run_schedule(&sc, &schedule, &opts).await.unwrap().passed());
}
