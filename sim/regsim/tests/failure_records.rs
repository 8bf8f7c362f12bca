//! A failing run's record is never lost: `regsim run` names each failure's
//! seeds/ entry by scenario, seed, runtime and mutant, keeps its own
//! record when the same failure runs again, and never writes over a
//! different one; its last line is the verdict, with the first failure's
//! replay command and report. (Failing runs need a mutant: the unmutated
//! build is clean.)

#![cfg(feature = "mutants")]

use std::path::Path;
use std::process::Command;

// The integration tests' helpers, shared with the simulator's own tests
// (sim/tests) rather than copied.
#[path = "../../tests/common/mod.rs"]
mod common;

/// `regsim --root ROOT run --count 1 --mutant MUTANT`: seed 0 of the
/// default scenario.
fn fail(root: &Path, mutant: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args(["--root", root.to_str().unwrap(), "run", "--count", "1"])
        .args(["--mutant", mutant])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{mutant}: {out}");
    out
}

#[test]
fn two_mutants_failing_the_same_seed_keep_two_records_and_a_rerun_keeps_its_own() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("scenarios")).unwrap();
    std::fs::copy(
        common::root().join("scenarios/default.toml"),
        root.path().join("scenarios/default.toml"),
    )
    .unwrap();
    let failures = root.path().join("target/regsim/failures");
    let file = |name: &str| failures.join(format!("default-0-native-{name}.toml"));
    let recorded = |out: &str, name: &str| {
        let line = format!("  recorded as a seeds/ entry: {}\n", file(name).display());
        assert!(out.contains(&line), "not recorded as {name}: {out}");
        assert!(
            !out.contains("\nnote:"),
            "a note breaks the seed's block: {out}"
        );
    };
    let (a, b) = ("atomic-two-writes", "fjall-sync-buffer-only");
    let out = fail(root.path(), a);
    recorded(&out, a);
    // The verdict comes last, with the first failure's replay and report.
    let verdict = out.lines().last().unwrap();
    let head = "FAIL: 1 runs of default, 1 failed; first failure: default seed 0 [";
    assert!(verdict.starts_with(head), "{verdict}");
    let replay = format!("/scenarios/default.toml --seed 0 --mutant {a}, report: ");
    assert!(verdict.contains(&replay), "{verdict}");
    let report = format!("reports/default-0-{a}.html");
    assert!(verdict.ends_with(&report), "{verdict}");
    let first = std::fs::read_to_string(file(a)).expect("the first failure recorded");
    recorded(&fail(root.path(), b), b);
    assert_eq!(
        std::fs::read_to_string(file(a)).unwrap(),
        first,
        "the first record was overwritten"
    );
    recorded(&fail(root.path(), a), a);
    // Someone's edit of a record is theirs: the same failure goes beside
    // it, and is found there when it fails again.
    std::fs::write(file(a), "# edited\n").unwrap();
    for _ in 0..2 {
        recorded(&fail(root.path(), a), &format!("{a}-2"));
    }
    assert_eq!(std::fs::read_to_string(file(a)).unwrap(), "# edited\n");
    let mut names: Vec<_> = std::fs::read_dir(&failures)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("default-0-native-{a}-2.toml"),
            format!("default-0-native-{a}.toml"),
            format!("default-0-native-{b}.toml"),
        ]
    );
}
