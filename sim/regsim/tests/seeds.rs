//! Replays every entry of the regression corpus in `seeds/`, checking all
//! of them before failing: the failure lists each entry that does not
//! hold, is stale (its scenario or the schedule format changed: its
//! schedule may no longer mean the same run, and the message says how to
//! refresh it) or cannot be read, by file name and reason.

// The integration tests' helpers, shared with the simulator's own tests
// (sim/tests) rather than copied.
#[path = "../../tests/common/mod.rs"]
mod common;

use writer_registry_sim::corpus::{check_corpus, failure_report, Outcome, Problem, SeedEntry};

#[test]
fn corpus_entries_still_hold() {
    let root = common::root();
    let checks = check_corpus(&root, &root.join("seeds")).unwrap_or_else(|e| panic!("{e}"));
    assert!(!checks.is_empty(), "seeds/ holds no entries");
    common::announce(&format!("seeds.rs: {} corpus entries", checks.len()));
    for c in &checks {
        match &c.outcome {
            Outcome::Holds(hash) => eprintln!("ok   {} (trace {hash:016x})", c.file),
            Outcome::Skipped(why) => eprintln!("SKIP {}: {why}", c.file),
            Outcome::Failed(problem, why) => eprintln!("{} {}: {why}", problem.label(), c.file),
        }
    }
    if let Some(report) = failure_report(&checks) {
        panic!("{report}");
    }
}

/// A corpus with a good entry, a stale one and two unreadable ones: the
/// check goes through all of them, and its failure names each bad file
/// with its problem (and, for the stale one, how to refresh it).
#[test]
fn a_stale_or_unreadable_entry_fails_the_check_by_name() {
    let shipped = common::root();
    let good = std::fs::read_to_string(shipped.join("seeds/restart-storm-0-shrunk.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    std::fs::create_dir_all(root.join("seeds")).unwrap();
    std::fs::copy(
        shipped.join("scenarios/restart-storm.toml"),
        root.join("scenarios/restart-storm.toml"),
    )
    .unwrap();
    let write =
        |name: &str, text: &str| std::fs::write(root.join("seeds").join(name), text).unwrap();
    // Sorted first, so a check that stopped at a bad entry would miss the rest.
    write("a-not-toml.toml", "scenario = \n");
    write(
        "b-unknown-expect.toml",
        &good.replacen("expect = \"expected-finding\"", "expect = \"sometimes\"", 1),
    );
    let hash = good
        .lines()
        .find_map(|l| l.strip_prefix("scenario_hash = "))
        .unwrap();
    write(
        "c-stale.toml",
        &good.replacen(hash, "\"0123456789abcdef\"", 1),
    );
    write("d-good.toml", &good);
    let checks = check_corpus(root, &root.join("seeds")).unwrap();
    let files: Vec<&str> = checks.iter().map(|c| c.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "seeds/a-not-toml.toml",
            "seeds/b-unknown-expect.toml",
            "seeds/c-stale.toml",
            "seeds/d-good.toml"
        ]
    );
    assert!(
        matches!(checks[3].outcome, Outcome::Holds(_)),
        "{:?}",
        checks[3]
    );
    assert!(
        matches!(checks[2].outcome, Outcome::Failed(Problem::Stale, _)),
        "{:?}",
        checks[2]
    );
    let report = failure_report(&checks).expect("bad entries fail the check");
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(
        lines[0], "3 of 4 corpus entries fail the check:",
        "{report}"
    );
    assert!(
        lines[1].starts_with("UNREADABLE seeds/a-not-toml.toml: "),
        "{report}"
    );
    assert!(
        lines[2].starts_with("UNREADABLE seeds/b-unknown-expect.toml: `expect`")
            && lines[2].contains("sometimes"),
        "{report}"
    );
    assert!(
        lines[3]
            .starts_with("STALE seeds/c-stale.toml: scenario scenarios/restart-storm.toml changed")
            && lines[3].contains(
                "regsim record --schedule seeds/c-stale.toml --out seeds/c-stale.toml --force"
            ),
        "{report}"
    );
    assert_eq!(lines.len(), 4, "{report}");
    // A corpus that holds has nothing to report.
    for bad in ["a-not-toml.toml", "b-unknown-expect.toml", "c-stale.toml"] {
        std::fs::remove_file(root.join("seeds").join(bad)).unwrap();
    }
    let checks = check_corpus(root, &root.join("seeds")).unwrap();
    assert_eq!(failure_report(&checks), None);
    // A directory that cannot be listed is an error naming it.
    let gone = root.join("no-such-dir");
    let err = check_corpus(root, &gone).unwrap_err();
    assert!(err.contains(&gone.display().to_string()), "{err}");
}

/// The command a stale entry's failure gives refreshes it: run as printed,
/// it re-records the entry against the changed scenario, keeping what the
/// entry says it shows, and the corpus holds again.
#[test]
fn a_stale_entry_is_refreshed_by_the_command_its_failure_gives() {
    let shipped = common::root();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    std::fs::create_dir_all(root.join("seeds")).unwrap();
    // The same scenario with a comment added: a new hash, the same runs.
    let scenario = std::fs::read_to_string(shipped.join("scenarios/restart-storm.toml")).unwrap();
    std::fs::write(
        root.join("scenarios/restart-storm.toml"),
        format!("{scenario}\n# edited\n"),
    )
    .unwrap();
    let entry = root.join("seeds/storm.toml");
    std::fs::copy(shipped.join("seeds/restart-storm-0-shrunk.toml"), &entry).unwrap();
    let before = SeedEntry::parse(&std::fs::read_to_string(&entry).unwrap(), "before").unwrap();
    let report = failure_report(&check_corpus(root, &root.join("seeds")).unwrap())
        .expect("the stale entry fails");
    let command = report
        .split("refresh it with `regsim ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no refresh command in {report}"));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args(command.split(' '))
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "regsim {command}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let after = SeedEntry::parse(&std::fs::read_to_string(&entry).unwrap(), "after").unwrap();
    assert_ne!(after.scenario_hash, before.scenario_hash);
    assert_eq!(
        SeedEntry {
            scenario_hash: before.scenario_hash.clone(),
            ..after
        },
        before
    );
    assert_eq!(
        failure_report(&check_corpus(root, &root.join("seeds")).unwrap()),
        None
    );
}
