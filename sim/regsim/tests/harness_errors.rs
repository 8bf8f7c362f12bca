//! A harness error is never a verdict: bad input, a panic in harness code
//! and an exhausted machine end a run (and `regsim`) with exit 2 and one
//! line naming the file, field or cause; they are never recorded as a
//! corpus entry and never count as a violation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use writer_registry_sim::corpus::SeedEntry;
use writer_registry_sim::error::HarnessError;
use writer_registry_sim::faults::crash::Crash;
use writer_registry_sim::faults::kv::Kv;
use writer_registry_sim::run::{run_schedule, run_validated, schedule_for, RunOptions};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::schedule::{Action, Schedule};

// The integration tests' helpers, shared with the simulator's own tests
// (sim/tests) rather than copied.
#[path = "../../tests/common/mod.rs"]
mod common;

use common::root;

fn regsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// Exit 2, exactly one line on stderr holding every needle, no panic text.
fn assert_harness_error(o: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} lacks {n:?}");
    }
    assert!(!err.contains("panicked at"), "{err}");
    assert!(!out.contains("  violation ["), "{out}");
}

fn default_scenario() -> Scenario {
    Scenario::load(&root().join("scenarios/default.toml"))
        .unwrap()
        .0
}

/// The default scenario's text with `from` replaced by `to`, in a file.
fn scenario_with(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios/default.toml")).unwrap();
    assert!(text.contains(from), "default.toml lacks {from:?}");
    let path = dir.join(name);
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

fn schedule_text(edit: impl FnOnce(&mut Schedule)) -> String {
    let mut s = schedule_for(&default_scenario(), 0).unwrap();
    edit(&mut s);
    s.to_toml()
}

#[test]
fn out_of_range_scenario_values_are_rejected_naming_field_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "duration_ms = 30_000",
            "duration_ms = 9223372036854775807",
            "max-duration.toml",
            &["max-duration.toml", "duration_ms", "1 to 3600000"],
        ),
        (
            "duration_ms = 30_000",
            "duration_ms = 1_000_000_000_000_000",
            "duration.toml",
            &["duration_ms", "3600000"],
        ),
        (
            "kv_per_sec = 12.0",
            "kv_per_sec = 1e9",
            "kv.toml",
            &["workload.kv_per_sec", "0 to 1000"],
        ),
        (
            "kv_per_sec = 12.0",
            "kv_per_sec = nan",
            "kv-nan.toml",
            &["workload.kv_per_sec", "NaN"],
        ),
        (
            "crashes = 3",
            "crashes = 10_000_000",
            "crashes.toml",
            &["faults.crashes", "0 to 10000"],
        ),
        (
            "tick_ms = 10",
            "tick_ms = 9223372036854775807",
            "tick.toml",
            &["tick_ms", "1 to 10000"],
        ),
        (
            "liveness_bound_ms = 20_000",
            "liveness_bound_ms = 18446744073709551",
            "liveness.toml",
            &["liveness_bound_ms"],
        ),
        (
            "client_attempts = 4",
            "client_attempts = 300",
            "attempts.toml",
            &["workload.client_attempts", "1 to 100"],
        ),
        (
            "client_attempts = 4",
            "client_attempts = 0",
            "attempts0.toml",
            &["workload.client_attempts", "found 0"],
        ),
        (
            "nodes = 3",
            "nodes = 0",
            "nodes.toml",
            &["nodes", "3 to 9", "found 0"],
        ),
        (
            "name = \"default\"",
            "name = \"../escape\"",
            "name.toml",
            &["name", "names files"],
        ),
        (
            "delay_us = [200, 3_000]",
            "delay_us = [200, 1_000_000]",
            "slow-links.toml",
            &["network.delay_us", "round trip", "election timeout"],
        ),
        (
            "[marks]",
            "[limits]\nmax_events = 50_000\nmax_events_per_instant = 10_000\n\n[marks]",
            "tight-watchdog.toml",
            &["limits.max_events", "timers"],
        ),
        (
            "[marks]",
            "[findings]\nallowed = [\"unjustified-halt:typo\"]\nexpected = [\"unjustifed-halt:typo\"]\n\n[marks]",
            "finding-typo.toml",
            &["findings", "unknown finding signature", "unjustifed-halt:typo"],
        ),
        (
            "[marks]",
            "[findings]\nexpected = [\"nonce-reuse\"]\n\n[marks]",
            "finding-not-allowed.toml",
            &["findings.expected", "not in findings.allowed"],
        ),
    ];
    for (from, to, file, needles) in cases {
        let path = scenario_with(dir.path(), file, from, to);
        let o = regsim(&["run", "--scenario", path.to_str().unwrap(), "--count", "1"]);
        assert_harness_error(&o, needles);
    }
    // Each bound alone is not enough: the total of scheduled events is
    // bounded too (a day of traffic at the highest rate).
    let path = scenario_with(
        dir.path(),
        "total.toml",
        "kv_per_sec = 12.0",
        "kv_per_sec = 1000.0",
    );
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "duration_ms = 30_000",
        "duration_ms = 3_600_000",
        1,
    );
    std::fs::write(&path, text).unwrap();
    let o = regsim(&["run", "--scenario", path.to_str().unwrap(), "--count", "1"]);
    assert_harness_error(&o, &["total.toml", "events per run", "1000000"]);
}

#[test]
fn schedules_that_do_not_fit_their_scenario_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let node99 = write(
        "node99.toml",
        schedule_text(|s| {
            let i = s
                .events
                .iter()
                .position(|e| matches!(e.action, Action::Crash(_)))
                .unwrap();
            s.events[i].action = Crash { node: 99 }.into();
        }),
    );
    let zero = write("zero-nodes.toml", schedule_text(|s| s.nodes = Some(0)));
    let ten = write("ten-nodes.toml", schedule_text(|s| s.nodes = Some(10)));
    let no_end = write(
        "no-end.toml",
        schedule_text(|s| s.events.retain(|e| !e.action.ends_faults())),
    );
    let foreign_dek = write(
        "dek.toml",
        schedule_text(|s| {
            s.events.push(writer_registry_sim::schedule::Timed {
                at_us: 1,
                action: Kv { node: 0, dek: 77 }.into(),
            })
        }),
    );
    let future = write(
        "future.toml",
        schedule_text(|_| {}).replacen("format = 1", "format = 99", 1),
    );
    let unknown_kind = write(
        "kind.toml",
        schedule_text(|_| {}).replacen("kind = \"crash\"", "kind = \"meteor\"", 1),
    );
    let missing_node = write(
        "missing.toml",
        schedule_text(|_| {}).replacen("kind = \"kv\"\nnode = \"n2\"\n", "kind = \"kv\"\n", 1),
    );
    let cases: &[(&PathBuf, &[&str])] = &[
        (
            &node99,
            &["node99.toml", "events[", "].node", "node n100", "n1 to n3"],
        ),
        (&zero, &["zero-nodes.toml", "`nodes`", "3 to 3", "found 0"]),
        (&ten, &["`nodes`", "found 10"]),
        (&no_end, &["no-end.toml", "end-of-faults", "found 0"]),
        (&foreign_dek, &["dek 77", "deks"]),
        (&future, &["future.toml", "`format`", "99", "newer"]),
        (&unknown_kind, &["kind.toml", ".kind`", "\"meteor\""]),
        (
            &missing_node,
            &["missing.toml", "(kv)", "missing field `node`"],
        ),
    ];
    for (path, needles) in cases {
        let o = regsim(&["replay", "--schedule", path.to_str().unwrap()]);
        assert_harness_error(&o, needles);
    }
}

#[test]
fn corpus_entries_say_their_real_problem() {
    let good = std::fs::read_to_string(root().join("seeds/restart-storm-0-shrunk.toml")).unwrap();
    assert!(SeedEntry::parse(&good, "good").is_ok());
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "expect = \"expected-finding\"",
            "expect = \"sometimes\"",
            &["`expect`", "\"sometimes\"", "still-failing"],
        ),
        (
            "[schedule]\nformat = 1",
            "[schedule]\nformat = 2",
            &["`schedule.format`", "newer"],
        ),
        (
            "kind = \"crash\"",
            "kind = \"meteor\"",
            &["`schedule.events[0].kind`", "meteor"],
        ),
        (
            "node = 1\n",
            "node = 1\nsize = 3\n",
            &["`schedule.events[0].size` (crash)", "unknown field"],
        ),
        (
            "scenario_hash = ",
            "scenario_hashes = ",
            &["`scenario_hash`", "missing"],
        ),
        (
            "node = 1\n",
            "node = \"one\"\n",
            &["`schedule.events[0].node` (crash)", "expected a node name"],
        ),
    ];
    for (from, to, needles) in cases {
        assert!(good.contains(from), "{from}");
        let err = SeedEntry::parse(&good.replacen(from, to, 1), "seeds/x.toml").unwrap_err();
        assert!(err.starts_with("seeds/x.toml: "), "{err}");
        for n in *needles {
            assert!(err.contains(n), "{err:?} lacks {n:?}");
        }
        assert!(!err.contains("missing field `format`"), "{err}");
    }
    // Through the command line: an entry with an event outside its
    // cluster is bad input, exit 2.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("entry.toml");
    std::fs::write(&bad, good.replacen("node = 1\n", "node = 7\n", 1)).unwrap();
    let o = regsim(&["replay", "--schedule", bad.to_str().unwrap()]);
    assert_harness_error(&o, &["entry.toml", "node n8", "outside the cluster"]);
}

#[cfg(feature = "mutants")]
#[test]
fn mutants_over_an_empty_scenario_directory_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = regsim(&[
        "mutants",
        "--count",
        "1",
        "--scenarios",
        dir.path().to_str().unwrap(),
    ]);
    assert_harness_error(&o, &["no scenario files"]);
}

/// A run that cannot be run catches no mutant: the table counts it apart,
/// marks the row, and neither a mutant nor the baseline is "ok" with it.
#[cfg(feature = "mutants")]
#[test]
fn harness_errors_never_count_as_catching_a_mutant() {
    use writer_registry::mutants::Mutant;
    use writer_registry_sim::mutants::{render, table, Plan, Target};
    let mut broken = default_scenario();
    broken.nodes = 0; // built in code, past the file checks
    let targets = [Target {
        path: "scenarios/broken.toml".into(),
        scenario: broken,
    }];
    let native = writer_registry_sim::run::Runtime::Native;
    let plan = Plan {
        targets: &targets,
        mutants: &[None, Some(Mutant::GuardSkipped)],
        budget: 2,
        jobs: 1,
        runtime: native,
    };
    let rows = table(&plan, &|| {});
    for row in &rows {
        assert_eq!(row.detected, 0, "{}", row.name());
        assert_eq!(row.harness_errors, 2, "{}", row.name());
        assert!(!row.ok(), "{}", row.name());
        let (_, _, e) = row.first_harness_error.as_ref().unwrap();
        assert!(
            matches!(e, HarnessError::BadInput(m) if m.contains("nodes")),
            "{e}"
        );
    }
    assert!(render(&rows, native).contains("HARNESS ERROR"));
}

#[test]
fn a_harness_panic_is_a_harness_error_and_not_a_violation() {
    let sc = default_scenario();
    let mut schedule = schedule_for(&sc, 0).unwrap();
    schedule.events.insert(
        0,
        writer_registry_sim::schedule::Timed {
            at_us: 0,
            action: Crash { node: 99 }.into(),
        },
    );
    let opts = RunOptions::for_scenario(&sc);
    // Checked: refused before it runs.
    match run_schedule(&sc, &schedule, &opts) {
        Err(HarnessError::BadInput(m)) => assert!(m.contains("node n100"), "{m}"),
        other => panic!("expected bad input, got {other:?}"),
    }
    // Unchecked: the engine indexes past its cluster and panics, which is
    // the harness's bug, reported with where it happened.
    match run_validated(&sc, &schedule, &opts) {
        Err(HarnessError::Panic { message, location }) => {
            assert!(message.contains("out of bounds"), "{message}");
            assert!(location.starts_with("sim/src/sim/"), "{location}");
        }
        other => panic!("expected a harness panic, got {other:?}"),
    }
}

#[test]
fn running_out_of_file_descriptors_is_an_environment_error_and_never_recorded() {
    // fjall needs a few descriptors per node: under a low limit some
    // store cannot open. That is the machine's problem, not a store-open
    // violation, and the failing seed must not land in the failures dir.
    let failures = root().join("target/regsim/failures/default-0-native.toml");
    let _ = std::fs::remove_file(&failures);
    let mut seen = false;
    for limit in 4..=12 {
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n {limit} && exec \"$0\" run --count 1 --jobs 1 --quiet",
            ))
            .arg(env!("CARGO_BIN_EXE_regsim"))
            .current_dir(root())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(!out.contains("[store-open]"), "limit {limit}: {out}");
        if o.status.code() == Some(2) {
            assert_harness_error(&o, &["environment", "too many open files"]);
            seen = true;
        }
    }
    assert!(
        seen,
        "no descriptor limit from 4 to 12 made a store fail to open"
    );
    assert!(
        !failures.exists(),
        "a harness error was recorded as {}",
        failures.display()
    );
}

#[test]
fn command_line_numbers_are_bounded() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "--count", "0"], "--count"),
        (&["run", "--seeds", "5..5"], "empty seed range"),
        (&["run", "--shard", "3/3"], "0 <= I < N"),
        (&["run", "--budget", "0s"], "more than zero"),
        (&["run", "--timeout", "soon"], "--timeout"),
        (&["nightly", "--budget", "1 fortnight"], "--budget"),
        (&["run", "--jobs", "0"], "--jobs"),
        (&["run", "--jobs", "1000000"], "1 to 256"),
        (&["bench", "--count", "0"], "--count"),
        (&["mutants", "--count", "0"], "--count"),
    ];
    for (args, needle) in cases {
        let o = regsim(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_closed_standard_output_is_no_harness_bug() {
    // `regsim run | head -1`: the reader leaves; regsim must not call its
    // failed print a bug of its own.
    let o = Command::new("bash")
        .arg("-c")
        .arg("\"$0\" run --count 16 --jobs 1 | head -1 >/dev/null; exit ${PIPESTATUS[0]}")
        .arg(env!("CARGO_BIN_EXE_regsim"))
        .current_dir(root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("standard output closed"), "{err}");
    assert!(!err.contains("harness bug"), "{err}");
}

#[test]
fn an_entry_whose_scenario_is_gone_does_not_hold() {
    let good = std::fs::read_to_string(root().join("seeds/restart-storm-0-shrunk.toml")).unwrap();
    let entry = SeedEntry::parse(
        &good.replacen(
            "scenarios/restart-storm.toml",
            "scenarios/restart-strom.toml",
            1,
        ),
        "x",
    )
    .unwrap();
    match entry.check(&root()) {
        writer_registry_sim::corpus::Verdict::Broken(why) => {
            assert!(why.contains("restart-strom.toml"), "{why}")
        }
        other => panic!("expected broken, got {other:?}"),
    }
}

#[test]
fn an_entry_s_unknown_mutant_names_the_file_and_field() {
    let good = std::fs::read_to_string(root().join("seeds/restart-storm-0-shrunk.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("mutant.toml");
    std::fs::write(
        &bad,
        good.replacen("[schedule]", "mutant = \"no-such-mutant\"\n\n[schedule]", 1),
    )
    .unwrap();
    let o = regsim(&["replay", "--schedule", bad.to_str().unwrap()]);
    assert_harness_error(&o, &["mutant.toml", "`mutant`"]);
}
