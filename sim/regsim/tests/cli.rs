//! The `regsim` binary on the spec's examples and on bad input.

// The integration tests' helpers, shared with the simulator's own tests
// (sim/tests) rather than copied.
#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use writer_registry_sim::corpus::SeedEntry;

/// `regsim` in the test's own directory (`sim/regsim/`, inside the workspace).
fn regsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args(args)
        .output()
        .unwrap()
}

/// `regsim` run from `dir`.
fn regsim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn entry_at(path: &Path) -> SeedEntry {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    SeedEntry::parse(&text, &path.display().to_string()).unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn inspect_entry_spec_example() {
    let o = regsim(&[
        "inspect",
        "entry",
        "01000000000000002a030100000007 08b37b07b558d4c00005",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "proposal id 42",
        "registration",
        "dek: 7",
        "0x08b37b07b558d4c0 (node16 0xd4c0)",
        "local epoch: 5",
    ] {
        assert!(out.contains(needle), "{out} lacks {needle}");
    }
}

#[test]
fn inspect_bootstrap_and_rotation_examples() {
    let boot = "01 0000000000000001 04 01 00000001 00000004 aaaaaaaa 00000002 00000003 bbbbbb 00000001 00000001 08b37b07b558d4c0 0000";
    let o = regsim(&["inspect", "entry", boot]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("registrations: 1"));
    let rot = "01 0000000000000002 05 01 04 00000009 01 00000000 00000009 08b37b07b558d4c0 0002";
    let o = regsim(&["inspect", "entry", rot]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("EnableStorageEnvelope"));
}

#[test]
fn inspect_row_spec_example() {
    let o = regsim(&[
        "inspect",
        "row",
        "21656e6372797074696f6e7c777269746572737c 00000007 7c d4c0",
        "08b37b07b558d4c0 0003 0005",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("first_seen: 3 last_seen: 5"));
}

#[test]
fn node_id_examples() {
    for (id, full) in [
        ("n1", "0x08b37b07b558d4c0"),
        ("n2", "0x08b37e07b558d9d9"),
        ("n3", "0x08b37d07b558d826"),
    ] {
        let o = regsim(&["node-id", id]);
        assert!(o.status.success());
        assert!(stdout(&o).contains(full), "{}", stdout(&o));
    }
}

#[test]
fn bad_input_exits_2_with_one_line_naming_the_offset() {
    let cases: &[(&[&str], &str)] = &[
        (&["inspect", "entry", "01xx"], "character 2"),
        (&["inspect", "entry", "010"], "odd number"),
        (&["inspect", "entry", "02000000000000002a"], "at byte 0"),
        (
            &["inspect", "entry", "01000000000000002a0301000000"],
            "at byte 10",
        ),
        (
            &[
                "inspect",
                "entry",
                "01000000000000002a03 02 00000007 0000000000000000 0005",
            ],
            "version 0x02 at byte 10",
        ),
        (
            &["inspect", "row", "2165", "08b37b07b558d4c000030005"],
            "row key",
        ),
        (
            &[
                "inspect",
                "row",
                "21656e6372797074696f6e7c777269746572737c000000077cd4c0",
                "0102",
            ],
            "row value",
        ),
    ];
    for (args, needle) in cases {
        let o = regsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // clap's own argument errors exit 2 as well.
    assert_eq!(regsim(&["inspect", "entry"]).status.code(), Some(2));
}

#[test]
fn run_sweeps_prints_stats_and_a_summary() {
    let o = regsim(&[
        "run",
        "--scenario",
        "../../scenarios/partitions.toml",
        "--count",
        "3",
        "--jobs",
        "2",
        "--registry",
        "memory",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for needle in [
        "seed 0: pass",
        "seed 2: pass",
        "committed",
        "crashes",
        "runs: 3 (0 failed)",
        "violations: none",
        "wall time",
    ] {
        assert!(out.contains(needle), "{out} lacks {needle}");
    }
    assert_eq!(last_line(&o), "PASS: 3 runs of partitions, 0 failed");
    // The mark table stars what the scenario requires, and only that.
    let mark = |name: &str| {
        out.lines()
            .find(|l| {
                l.get(2..)
                    .is_some_and(|rest| rest.starts_with(&format!("{name} ")))
            })
            .unwrap_or_else(|| panic!("no mark line for {name} in {out}"))
            .to_string()
    };
    assert!(mark("applier-advance").starts_with("* "), "{out}");
    assert!(
        mark("snapshot-install-restarted").starts_with("* "),
        "{out}"
    );
    assert!(mark("applier-insert").starts_with("  "), "{out}");
}

/// Splits a command line into words as a POSIX shell would, for the
/// words a replay command may hold; `None` for anything that needs a
/// shell's quoting, expansion or comments (so it would not round-trip).
fn shell_words(line: &str) -> Option<Vec<&str>> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    let words: Vec<&str> = line.split(' ').collect();
    (words.iter().all(|w| !w.is_empty() && w.chars().all(plain))).then_some(words)
}

#[test]
fn a_results_file_s_replay_field_is_a_command_a_shell_splits_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let o = regsim(&[
        "run",
        "--count",
        "2",
        "--quiet",
        "--registry",
        "memory",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let read = writer_registry_sim::results::read(&dir.path().join("results.jsonl")).unwrap();
    assert_eq!(read.records.len(), 2);
    for r in read.records {
        let words =
            shell_words(&r.replay).unwrap_or_else(|| panic!("not a plain command: {:?}", r.replay));
        assert_eq!(words.join(" "), r.replay, "round trip");
        assert_eq!(words[..3], ["cargo", "run", "--release"], "{:?}", r.replay);
        let seed = ["--seed", &r.seed.to_string()].join(" ");
        assert!(r.replay.contains(&seed), "{:?}", r.replay);
        assert!(r.replay.ends_with(" --registry memory"), "{:?}", r.replay);
    }
    // The old field, with its trailing comment, is caught.
    assert!(shell_words("cargo run --seed 0   # policy Atomic, commit 1").is_none());
}

/// The last line a command printed: its verdict.
fn last_line(o: &Output) -> String {
    stdout(o).lines().last().unwrap_or_default().to_string()
}

#[test]
fn replay_by_seed_and_by_corpus_entry() {
    let o = regsim(&[
        "replay",
        "--scenario",
        "../../scenarios/default.toml",
        "--seed",
        "3",
        "--check-determinism",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("deterministic: trace"),
        "{}",
        stdout(&o)
    );
    let o = regsim(&[
        "replay",
        "--schedule",
        "../../seeds/restart-storm-0-shrunk.toml",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("unjustified-halt:rollback:replay-window"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_failing_sweep_exits_1_and_names_what_never_showed() {
    // restart-storm expects the replay-window finding; one seed chosen so
    // that it does not show proves the sweep notices the absence.
    let out_of_range = (0..40)
        .map(|s| s.to_string())
        .find(|s| {
            let o = regsim(&[
                "replay",
                "--scenario",
                "../../scenarios/restart-storm.toml",
                "--seed",
                s,
            ]);
            !stdout(&o).contains("finding ")
        })
        .expect("some seed shows no finding");
    let o = regsim(&[
        "run",
        "--scenario",
        "../../scenarios/restart-storm.toml",
        "--seeds",
        &format!(
            "{out_of_range}..{}",
            out_of_range.parse::<u64>().unwrap() + 1
        ),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o)
        .contains("expected finding never showed: unjustified-halt:rollback:replay-window"));
    assert_eq!(
        last_line(&o),
        "FAIL: 1 runs of restart-storm, 0 failed; expected finding never showed: unjustified-halt:rollback:replay-window"
    );
}

#[test]
fn bad_scenarios_and_arguments_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nnodes = \"three\"\n").unwrap();
    let o = regsim(&["run", "--scenario", bad.to_str().unwrap(), "--count", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("bad.toml") && err.contains("nodes"), "{err}");
    let o = regsim(&["run", "--scenario", "no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/file.toml"));
    let o = regsim(&["run", "--seeds", "5..2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("5..2"), "{}", stderr(&o));
    let o = regsim(&[
        "replay",
        "--schedule",
        bad.to_str().unwrap(),
        "--scenario",
        "../../scenarios/default.toml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.toml"), "{}", stderr(&o));
}

#[test]
fn scenario_takes_a_shipped_name_as_nightly_only_and_regsim_scenario_do() {
    let by_path = regsim(&[
        "schedule",
        "--scenario",
        "../../scenarios/partitions.toml",
        "--seed",
        "3",
    ]);
    assert!(by_path.status.success(), "{}", stderr(&by_path));
    for name in ["partitions", "partitions.toml"] {
        let o = regsim(&["schedule", "--scenario", name, "--seed", "3"]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert_eq!(stdout(&o), stdout(&by_path), "{name}");
    }
    let o = regsim(&["schedule", "--scenario", "partition", "--seed", "3"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("\"partition\"") && err.contains("partitions"),
        "{err}"
    );
    // A directory of that name here (say, a sweep's --out) does not
    // shadow it; a file does, with a warning.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("partitions")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.to_str().unwrap();
    let here = |name: &str| {
        regsim_in(
            dir.path(),
            &[
                "--root",
                root,
                "schedule",
                "--scenario",
                name,
                "--seed",
                "3",
            ],
        )
    };
    let o = here("partitions");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&by_path));
    let other = std::fs::read_to_string(format!("{root}/scenarios/default.toml")).unwrap();
    std::fs::write(dir.path().join("partitions.toml"), other).unwrap();
    let o = here("partitions.toml");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(stdout(&o), stdout(&by_path));
    assert!(
        stderr(&o).contains("the file here, not the shipped"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn old_option_names_still_work_for_one_release_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = regsim(&[
        "run",
        "--count",
        "1",
        "--quiet",
        "--registry",
        "memory",
        "--report",
        out,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("results.jsonl").is_file());
    assert!(
        stderr(&o).contains("--report is now --out"),
        "{}",
        stderr(&o)
    );
    let o = regsim(&["bench", "--seeds", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("1 seeds per configuration"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("--seeds is now --count"),
        "{}",
        stderr(&o)
    );
    let o = regsim(&["run", "--count", "1", "--out", out, "--report", out]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "both spellings at once are a conflict"
    );
}

#[test]
fn shrink_writes_a_smaller_entry_that_still_shows_the_finding() {
    let dir = tempfile::tempdir().unwrap();
    // A file already at --out stays as it is: the entry goes beside it.
    let taken = dir.path().join("shrunk.toml");
    std::fs::write(&taken, "committed entry\n").unwrap();
    let out = dir.path().join("shrunk-2.toml");
    let o = regsim(&[
        "shrink",
        "--scenario",
        "../../scenarios/restart-storm.toml",
        "--seed",
        "0",
        "--out",
        taken.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&taken).unwrap(),
        "committed entry\n"
    );
    assert!(
        stdout(&o).contains(&format!(
            "note: {} exists; wrote {} instead (--force overwrites)",
            taken.display(),
            out.display()
        )),
        "{}",
        stdout(&o)
    );
    // "shrunk BEFORE -> AFTER events": BEFORE is the seed's own schedule,
    // AFTER the entry written, and smaller.
    let printed = stdout(&o);
    let (before, after) = printed
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("shrunk ")?;
            let (a, b) = rest.split_once(" -> ")?;
            Some((
                a.parse::<usize>().ok()?,
                b.split(' ').next()?.parse::<usize>().ok()?,
            ))
        })
        .unwrap_or_else(|| panic!("no shrunk line in {printed}"));
    let sc = writer_registry_sim::scenario::Scenario::load(std::path::Path::new(
        "../../scenarios/restart-storm.toml",
    ))
    .unwrap()
    .0;
    let seed_events = writer_registry_sim::run::schedule_for(&sc, 0)
        .unwrap()
        .events
        .len();
    assert_eq!(before, seed_events, "{printed}");
    let entry = writer_registry_sim::corpus::SeedEntry::parse(
        &std::fs::read_to_string(&out).unwrap(),
        "shrunk",
    )
    .unwrap();
    assert_eq!(after, entry.schedule.events.len(), "{printed}");
    assert!(after < before, "{printed}");
    assert!(
        entry.schedule.events.len() < 10,
        "{}",
        entry.schedule.events.len()
    );
    assert_eq!(entry.signature, "unjustified-halt:rollback:replay-window");
    let o = regsim(&["replay", "--schedule", out.to_str().unwrap()]);
    assert!(
        o.status.success() && stdout(&o).contains("replay-window"),
        "{}",
        stdout(&o)
    );
    // A passing seed has nothing to shrink.
    let o = regsim(&[
        "shrink",
        "--scenario",
        "../../scenarios/default.toml",
        "--seed",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("nothing to shrink"));
}

#[cfg(not(feature = "mutants"))]
#[test]
fn mutants_need_the_feature() {
    let o = regsim(&["mutants", "--count", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--features mutants"), "{}", stderr(&o));
    let o = regsim(&["replay", "--seed", "0", "--mutant", "guard-skipped"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn required_marks_are_enforced_by_default_from_min_seeds_up() {
    // A mark the default scenario never reaches, required from 4 seeds up.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unreached.toml");
    let text = std::fs::read_to_string("../../scenarios/default.toml").unwrap();
    let (head, _) = text.split_once("[marks]").unwrap();
    std::fs::write(
        &path,
        format!("{head}[marks]\nrequired = [\"applier-corrupt-row\"]\nmin_seeds = 4\n"),
    )
    .unwrap();
    let scenario = path.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--scenario",
            scenario,
            "--registry",
            "memory",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        regsim(&args)
    };
    let o = run(&["--count", "4"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("required mark never hit: applier-corrupt-row"));
    assert_eq!(
        last_line(&o),
        "FAIL: 4 runs of default, 0 failed; required mark never hit: applier-corrupt-row"
    );
    let o = run(&["--count", "2"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(last_line(&o), "PASS: 2 runs of default, 0 failed");
    let o = run(&["--count", "2", "--require-marks"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = run(&["--count", "4", "--no-require-marks"]);
    assert!(o.status.success(), "{}", stdout(&o));
}

#[test]
fn regsim_finds_its_root_from_a_subdirectory_or_root_and_says_when_there_is_none() {
    let root = common::root();
    let root_arg = root.to_str().unwrap();
    let schedule = |dir: &Path, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["schedule", "--seed", "1"]);
        regsim_in(dir, &all)
    };
    let from_sub = schedule(&root.join("sim/src"), &[]);
    assert!(from_sub.status.success(), "{}", stderr(&from_sub));
    assert!(
        stdout(&from_sub).contains("format = "),
        "{}",
        stdout(&from_sub)
    );
    // No scenarios/ here nor above: an error saying what was looked for.
    let elsewhere = tempfile::tempdir().unwrap();
    let o = schedule(elsewhere.path(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    for needle in [
        "no workspace root",
        &elsewhere.path().display().to_string(),
        "scenarios/",
        "--root DIR",
    ] {
        assert!(err.contains(needle), "{err} lacks {needle}");
    }
    // --root, before or after the command, finds the same scenario.
    let o = schedule(elsewhere.path(), &["--root", root_arg]);
    assert_eq!(stdout(&o), stdout(&from_sub), "{}", stderr(&o));
    let o = regsim_in(
        elsewhere.path(),
        &["schedule", "--seed", "1", "--root", root_arg],
    );
    assert_eq!(stdout(&o), stdout(&from_sub), "{}", stderr(&o));
    let missing = elsewhere.path().join("missing");
    let o = schedule(elsewhere.path(), &["--root", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--root") && stderr(&o).contains("not a directory"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn entries_record_a_scenario_path_that_replays_from_another_directory() {
    // A scenario outside the workspace: recorded absolute.
    let outside = tempfile::tempdir().unwrap();
    let mine = outside.path().join("mine.toml");
    std::fs::copy(common::root().join("scenarios/collision.toml"), &mine).unwrap();
    let entry = outside.path().join("mine-entry.toml");
    let record = |scenario: &str, out: &Path| {
        let o = regsim(&[
            "record",
            "--scenario",
            scenario,
            "--seed",
            "0",
            "--expect",
            "fixed",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    };
    record(mine.to_str().unwrap(), &entry);
    let canonical = std::fs::canonicalize(&mine).unwrap();
    assert_eq!(entry_at(&entry).scenario, canonical.to_str().unwrap());
    let elsewhere = tempfile::tempdir().unwrap();
    let o = regsim_in(
        elsewhere.path(),
        &["replay", "--schedule", entry.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(!stdout(&o).contains("stale"), "{}", stdout(&o));
    // A scenario under the root, however it is named: recorded relative
    // to the root, and replayed from elsewhere under --root.
    let inside = outside.path().join("inside-entry.toml");
    record("../../sim/../scenarios/collision.toml", &inside);
    assert_eq!(entry_at(&inside).scenario, "scenarios/collision.toml");
    let root = common::root();
    let o = regsim_in(
        elsewhere.path(),
        &[
            "--root",
            root.to_str().unwrap(),
            "replay",
            "--schedule",
            inside.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(!stdout(&o).contains("stale"), "{}", stdout(&o));
    // Without a root, the relative path cannot be resolved: say so.
    let o = regsim_in(
        elsewhere.path(),
        &["replay", "--schedule", inside.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    for needle in ["inside-entry.toml", "`scenario`", "no workspace root"] {
        assert!(err.contains(needle), "{err} lacks {needle}");
    }
}

#[test]
fn record_never_overwrites_an_entry_silently() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.toml");
    std::fs::write(&out, "committed entry\n").unwrap();
    let record = |extra: &[&str]| {
        let mut args = vec![
            "record",
            "--scenario",
            "../../scenarios/collision.toml",
            "--seed",
            "1",
            "--expect",
            "fixed",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = regsim(&args);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        stdout(&o)
    };
    let printed = record(&[]);
    let second = dir.path().join("e-2.toml");
    assert!(
        printed.contains(&format!(
            "note: {} exists; wrote {} instead (--force overwrites)",
            out.display(),
            second.display()
        )),
        "{printed}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "committed entry\n");
    assert_eq!(entry_at(&second).schedule.seed, 1);
    let printed = record(&["--force"]);
    assert!(!printed.contains("exists"), "{printed}");
    assert_eq!(entry_at(&out).schedule.seed, 1);
    assert!(!dir.path().join("e-3.toml").exists());
    // Without an entry to take it from, the expectation is required.
    let o = regsim(&[
        "record",
        "--scenario",
        "../../scenarios/collision.toml",
        "--seed",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("--expect: required"), "{}", stderr(&o));
}
