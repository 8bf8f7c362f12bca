//! Same seed, same scenario, same code: the same trace, byte for byte,
//! whichever registry stores the state and however many threads sweep.

use std::path::Path;

use writer_registry_sim::run::{run_schedule, run_seed, RunOptions};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::schedule::{Action, Schedule};
use writer_registry_sim::store::RegistryKind;
use writer_registry_sim::sweep::sweep;

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    Scenario::load(&path).unwrap().0
}

fn seed() -> u64 {
    std::env::var("REGSIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7)
}

#[test]
fn same_seed_same_trace_event_by_event() {
    let sc = scenario("default");
    let mut opts = RunOptions::for_scenario(&sc);
    opts.keep_trace_lines = true;
    let a = run_seed(&sc, seed(), &opts);
    let b = run_seed(&sc, seed(), &opts);
    assert!(a.trace_lines.len() > 1000);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.trace_lines, b.trace_lines);
    let c = run_seed(&sc, seed() + 1, &opts);
    assert_ne!(a.trace_hash, c.trace_hash, "different seeds should differ");
}

#[test]
fn memory_and_fjall_registries_give_the_same_trace() {
    for name in ["default", "replay-after-crash", "restart-storm"] {
        let sc = scenario(name);
        let mut opts = RunOptions::for_scenario(&sc);
        opts.registry = RegistryKind::Fjall;
        let fjall = run_seed(&sc, seed(), &opts);
        opts.registry = RegistryKind::Memory;
        let memory = run_seed(&sc, seed(), &opts);
        assert_eq!(fjall.trace_hash, memory.trace_hash, "{name}");
        assert_eq!(fjall.stats, memory.stats, "{name}");
    }
}

#[test]
fn sweeps_on_several_threads_give_the_same_results() {
    let sc = scenario("partitions");
    let opts = RunOptions::for_scenario(&sc);
    let seeds: Vec<u64> = (0..6).collect();
    let (one, _) = sweep(&sc, &seeds, 1, &opts, &|_| {});
    let (three, _) = sweep(&sc, &seeds, 3, &opts, &|_| {});
    let hashes = |rs: &[writer_registry_sim::run::RunResult]| {
        rs.iter().map(|r| r.trace_hash).collect::<Vec<_>>()
    };
    assert_eq!(hashes(&one), hashes(&three));
}

#[test]
fn oracles_do_not_change_the_run() {
    let sc = scenario("default");
    let mut opts = RunOptions::for_scenario(&sc);
    let on = run_seed(&sc, seed(), &opts);
    opts.oracles = false;
    let off = run_seed(&sc, seed(), &opts);
    assert_eq!(on.trace_hash, off.trace_hash);
}

#[test]
fn a_schedule_round_trips_through_its_file_and_replays_identically() {
    let sc = scenario("default");
    let schedule = Schedule::generate(&sc, seed());
    let text = schedule.to_toml();
    let back = Schedule::from_toml(&text, "test").unwrap();
    assert_eq!(back, schedule);
    let opts = RunOptions::for_scenario(&sc);
    assert_eq!(
        run_schedule(&sc, &back, &opts).trace_hash,
        run_seed(&sc, seed(), &opts).trace_hash
    );
}

#[test]
fn removing_a_fault_leaves_the_workload_schedule_alone() {
    let sc = scenario("default");
    let mut fewer = sc.clone();
    fewer.faults.crashes -= 1;
    let kv = |s: &Schedule| {
        s.events
            .iter()
            .filter(|e| matches!(e.action, Action::Kv { .. }))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        kv(&Schedule::generate(&sc, 3)),
        kv(&Schedule::generate(&fewer, 3))
    );
}
