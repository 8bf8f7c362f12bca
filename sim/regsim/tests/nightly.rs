//! The nightly pipeline end to end: `regsim nightly` writes its three
//! files, and `regsim merge` fails on a shard that is missing or whose
//! job saved a harness exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// The integration tests' helpers, shared with the simulator's own tests
// (sim/tests) rather than copied.
#[path = "../../tests/common/mod.rs"]
mod common;

fn regsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args(args)
        .current_dir(common::root())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A shard: two seeds of the default scenario into `dir`.
fn shard(dir: &Path, i: usize) -> PathBuf {
    let out = dir.join(format!("shard-{i}"));
    let shard = format!("{i}/2");
    let o = regsim(&[
        "nightly",
        "--count",
        "1",
        "--seed-base",
        "0",
        "--shard",
        &shard,
        "--only",
        "default",
        "--no-mutant-hunt",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    out
}

#[test]
fn nightly_writes_its_files_and_merge_gates_on_missing_or_crashed_shards() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (shard(dir.path(), 0), shard(dir.path(), 1));
    for f in ["results.jsonl", "junit.xml", "summary.md"] {
        assert!(a.join(f).exists(), "{f}");
    }
    // The title says what bounded the sweep: its count, not the unused
    // default budget.
    let summary = std::fs::read_to_string(a.join("summary.md")).unwrap();
    let title = summary.lines().next().unwrap_or_default();
    assert!(
        title.contains("nightly, 1 seeds of every scenario on native"),
        "{title}"
    );
    // Shard 1 of 2 ran seed 1, shard 0 seed 0.
    let seeds = |d: &Path| -> Vec<u64> {
        writer_registry_sim::results::read(&d.join("results.jsonl"))
            .unwrap()
            .records
            .iter()
            .map(|r| r.seed)
            .collect()
    };
    assert_eq!((seeds(&a), seeds(&b)), (vec![0], vec![1]));
    let merged = dir.path().join("merged");
    let merge = |inputs: &[&Path], expect: &str| {
        let mut args = vec![
            "merge",
            "--expect",
            expect,
            "--out",
            merged.to_str().unwrap(),
        ];
        args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
        regsim(&args)
    };
    let o = merge(&[&a, &b], "2");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(seeds(&merged), vec![0, 1]);
    // A shard that uploaded nothing.
    let o = merge(&[&a], "2");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("a shard is missing"), "{}", text(&o));
    // A shard whose job saved a harness error's exit code.
    std::fs::write(b.join("exit-code"), "2\n").unwrap();
    let o = merge(&[&a, &b], "2");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("exited 2"), "{}", text(&o));
    // Its verdict codes are fine.
    std::fs::write(b.join("exit-code"), "1\n").unwrap();
    assert_eq!(merge(&[&a, &b], "2").status.code(), Some(0));
}

#[test]
fn a_failing_runs_kept_fjall_data_outlives_the_session_and_its_new_group_is_shrunk() {
    let dir = tempfile::tempdir().unwrap();
    let strict = common::strict_restart_storm_file(dir.path());
    let report = dir.path().join("report");
    let o = regsim(&[
        "run",
        "--scenario",
        strict.to_str().unwrap(),
        "--seeds",
        "0..1",
        "--registry",
        "fjall",
        "--keep-failures",
        "--quiet",
        "--out",
        report.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let kept = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("fjall data kept in "))
        .unwrap_or_else(|| panic!("no kept data reported:\n{out}"));
    let kept = common::root().join(kept);
    assert!(
        kept.join("n1").is_dir(),
        "{} is gone after exit",
        kept.display()
    );
    std::fs::remove_dir_all(&kept).unwrap();
    // Its group is new: the first failure is shrunk into an entry that
    // names the group, and drawn.
    let corpus: Vec<_> = std::fs::read_dir(report.join("corpus")).unwrap().collect();
    assert_eq!(corpus.len(), 1, "{out}");
    let entry = std::fs::read_to_string(corpus[0].as_ref().unwrap().path()).unwrap();
    assert!(entry.contains("group = "), "{entry}");
    assert!(std::fs::read_dir(report.join("reports")).unwrap().count() == 1);
}
