//! Same seed, same scenario, same code: the same trace, byte for byte,
//! whichever registry stores the state and however many threads sweep.
//! `REGSIM_SEED=N` sets the seed (default 7).

// The integration tests' helpers, shared with the simulator's own tests
// (sim/tests) rather than copied.
#[path = "../../tests/common/mod.rs"]
mod common;

use writer_registry_sim::run::{run_schedule, run_seed, RunOptions};
use writer_registry_sim::schedule::{Action, Schedule};
use writer_registry_sim::store::RegistryKind;
use writer_registry_sim::sweep::sweep;

use common::scenario;

/// The seed these tests run, said once per run.
fn seed() -> u64 {
    let seed = common::one_seed(7);
    common::announce(&format!(
        "determinism.rs: seed {seed} (REGSIM_SEED=N to change)"
    ));
    seed
}

/// The rerun command for `test`'s seed.
fn rerun(test: &str) -> String {
    common::rerun(seed(), "", "determinism", test)
}

#[test]
fn same_seed_same_trace_event_by_event() {
    let sc = scenario("default");
    let mut opts = RunOptions::for_scenario(&sc);
    opts.keep_trace_lines = true;
    let a = run_seed(&sc, seed(), &opts).unwrap();
    let b = run_seed(&sc, seed(), &opts).unwrap();
    let rerun = rerun("same_seed_same_trace_event_by_event");
    assert!(a.trace_lines.len() > 1000, "{rerun}");
    assert_eq!(a.trace_hash, b.trace_hash, "{rerun}");
    assert_eq!(a.trace_lines, b.trace_lines, "{rerun}");
    let c = run_seed(&sc, seed() + 1, &opts).unwrap();
    assert_ne!(a.trace_hash, c.trace_hash, "different seeds should differ");
}

#[test]
fn memory_and_fjall_registries_give_the_same_trace() {
    for name in ["default", "replay-after-crash", "restart-storm"] {
        let sc = scenario(name);
        let mut opts = RunOptions::for_scenario(&sc);
        opts.registry = RegistryKind::Fjall;
        let fjall = run_seed(&sc, seed(), &opts).unwrap();
        opts.registry = RegistryKind::Memory;
        let memory = run_seed(&sc, seed(), &opts).unwrap();
        let rerun = rerun("memory_and_fjall_registries_give_the_same_trace");
        assert_eq!(fjall.trace_hash, memory.trace_hash, "{name}: {rerun}");
        assert_eq!(fjall.stats, memory.stats, "{name}: {rerun}");
    }
}

#[test]
fn sweeps_on_several_threads_give_the_same_results() {
    let sc = scenario("partitions");
    let opts = RunOptions::for_scenario(&sc);
    let seeds: Vec<u64> = (0..6).collect();
    let one = sweep(&sc, &seeds, 1, &opts, &|_| {}).results;
    let three = sweep(&sc, &seeds, 3, &opts, &|_| {}).results;
    let hashes = |rs: &[writer_registry_sim::run::RunResult]| {
        rs.iter().map(|r| r.trace_hash).collect::<Vec<_>>()
    };
    assert_eq!(hashes(&one), hashes(&three));
}

#[test]
fn oracles_do_not_change_the_run() {
    let sc = scenario("default");
    let mut opts = RunOptions::for_scenario(&sc);
    let on = run_seed(&sc, seed(), &opts).unwrap();
    opts.oracles = false;
    let off = run_seed(&sc, seed(), &opts).unwrap();
    assert_eq!(
        on.trace_hash,
        off.trace_hash,
        "{}",
        rerun("oracles_do_not_change_the_run")
    );
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
        run_schedule(&sc, &back, &opts).unwrap().trace_hash,
        run_seed(&sc, seed(), &opts).unwrap().trace_hash
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
            .filter(|e| matches!(e.action, Action::Kv(_)))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        kv(&Schedule::generate(&sc, 3)),
        kv(&Schedule::generate(&fewer, 3))
    );
}

/// The hash covers state: runs that leave different registries behind
/// hash differently even when every event happens at the same time. The
/// two mutants below change only row bytes (first_seen overwritten,
/// last_seen not advanced), never an event's time or kind.
#[cfg(feature = "mutants")]
#[test]
fn runs_that_leave_different_data_have_different_hashes() {
    use writer_registry::mutants::Mutant;
    let sc = scenario("default");
    let hash = |mutant: Option<Mutant>| {
        let mut opts = RunOptions::for_scenario(&sc);
        opts.mutant = mutant;
        run_seed(&sc, 0, &opts).unwrap().trace_hash
    };
    let plain = hash(None);
    let first = hash(Some(Mutant::FirstSeenOverwritten));
    let last = hash(Some(Mutant::LastSeenNotAdvanced));
    assert_ne!(plain, first);
    assert_ne!(plain, last);
    assert_ne!(first, last);
    // Durability is state too: a mutant that skips the registry's sync
    // leaves the same bytes in the store but not on the disk.
    let sc = scenario("rollback");
    let hash = |mutant: Option<Mutant>| {
        let mut opts = RunOptions::for_scenario(&sc);
        opts.mutant = mutant;
        run_seed(&sc, 0, &opts).unwrap().trace_hash
    };
    assert_ne!(hash(None), hash(Some(Mutant::RegistryWriteNotSynced)));
}

/// The hash a run prints is the same in another process, with another
/// number of jobs and with the other registry: nothing per-process (heap
/// addresses, thread timing, fjall's background threads) reaches it.
#[test]
fn same_hashes_across_processes_jobs_and_registries() {
    let run = |jobs: &str, registry: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_regsim"))
            .args([
                "run",
                "--scenario",
                "scenarios/partitions.toml",
                "--count",
                "4",
                "--jobs",
                jobs,
                "--registry",
                registry,
            ])
            .current_dir(common::root())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let hashes = common::printed_hashes(&out);
        assert_eq!(hashes.len(), 4, "{out}");
        hashes
    };
    let one = run("1", "fjall");
    assert_eq!(one, run("2", "fjall"));
    assert_eq!(one, run("3", "memory"));
}
