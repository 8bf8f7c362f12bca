//! A sweep loses nothing already recorded: Ctrl-C (once: finish what
//! runs; twice: abandon it) and SIGKILL mid-sweep leave every finished
//! run in `results.jsonl`, and a killed sweep's run directories are
//! removed by the next sweep.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use writer_registry_sim::results::{self, Outcome};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A long sweep of the default scenario on fjall, results into `dir`.
fn start_sweep(dir: &Path, scenario: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args([
            "run",
            "--scenario",
            scenario,
            "--count",
            "1000000",
            "--jobs",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(dir)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn records(dir: &Path) -> Vec<results::Record> {
    results::read(&dir.join("results.jsonl"))
        .map(|r| r.records)
        .unwrap_or_default()
}

/// Waits until the sweep has recorded `n` runs; returns how many it had.
fn wait_for(dir: &Path, n: usize) -> usize {
    let start = Instant::now();
    loop {
        let have = records(dir).len();
        if have >= n {
            return have;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no {n} results in 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn session_dirs(pid: u32) -> Vec<PathBuf> {
    [PathBuf::from("/dev/shm"), std::env::temp_dir()]
        .into_iter()
        .map(|base| base.join(format!("regsim-session-{pid}")))
        .filter(|d| d.exists())
        .collect()
}

fn finish(child: Child) -> (Option<i32>, String, String) {
    let o = child.wait_with_output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn ctrl_c_keeps_every_result_writes_the_reports_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let child = start_sweep(dir.path(), "scenarios/default.toml");
    let pid = child.id();
    let before = wait_for(dir.path(), 4);
    signal(&child, "-INT");
    let (code, out, err) = finish(child);
    assert_eq!(
        code,
        Some(2),
        "an interrupted sweep does not pass\n{out}\n{err}"
    );
    assert!(err.contains("interrupted"), "{err}");
    let read = results::read(&dir.path().join("results.jsonl")).unwrap();
    assert!(read.truncated.is_none(), "a clean stop leaves whole lines");
    assert!(
        read.records.len() >= before,
        "{} < {before}",
        read.records.len()
    );
    // The first Ctrl-C lets running runs finish: they are verdicts.
    assert!(
        read.records.iter().all(|r| r.outcome == Outcome::Pass),
        "{out}"
    );
    assert!(
        out.contains("runs: "),
        "the summary so far is printed:\n{out}"
    );
    for f in ["junit.xml", "summary.md"] {
        assert!(dir.path().join(f).exists(), "{f} written after Ctrl-C");
    }
    assert!(session_dirs(pid).is_empty(), "run directories left behind");
}

#[test]
fn a_second_ctrl_c_abandons_the_running_runs_as_interrupted_lines() {
    let dir = tempfile::tempdir().unwrap();
    // Runs long enough (seven nodes, ten virtual minutes: seconds of wall
    // time each) that the second Ctrl-C finds one running on any machine:
    // shipped scenarios end in a tenth of a second, and on a loaded
    // two-core runner the running runs had finished before it arrived.
    let shipped = std::fs::read_to_string(root().join("scenarios/seven-nodes.toml")).unwrap();
    let long = shipped
        .replace("name = \"seven-nodes\"", "name = \"seven-nodes-long\"")
        .replace("duration_ms = 30_000", "duration_ms = 600_000");
    assert_ne!(long, shipped, "the seven-nodes scenario changed shape");
    let scenario = dir.path().join("seven-nodes-long.toml");
    std::fs::write(&scenario, long).unwrap();
    let child = start_sweep(dir.path(), scenario.to_str().unwrap());
    let before = wait_for(dir.path(), 1);
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(50));
    signal(&child, "-INT");
    let (code, out, err) = finish(child);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(err.contains("abandoning"), "{err}");
    let recs = records(dir.path());
    assert!(recs.len() >= before);
    let interrupted = recs
        .iter()
        .filter(|r| r.outcome == Outcome::Interrupted)
        .count();
    assert!(interrupted >= 1, "no run was abandoned:\n{out}");
    assert!(out.contains("interrupted: "), "{out}");
}

#[test]
fn sigkill_loses_no_recorded_result_and_the_next_sweep_removes_its_directories() {
    let dir = tempfile::tempdir().unwrap();
    let child = start_sweep(dir.path(), "scenarios/default.toml");
    let pid = child.id();
    let before = wait_for(dir.path(), 4);
    signal(&child, "-KILL");
    let (code, _, _) = finish(child);
    assert_eq!(code, None, "killed by a signal");
    let read = results::read(&dir.path().join("results.jsonl")).unwrap();
    assert!(
        read.records.len() >= before,
        "{} < {before}",
        read.records.len()
    );
    let left = session_dirs(pid);
    assert_eq!(left.len(), 1, "a killed sweep leaves its session behind");
    // The next sweep proves it stale (its lock is free) and removes it.
    let next = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args(["run", "--count", "1", "--jobs", "1", "--quiet", "--out"])
        .arg(next.path())
        .current_dir(root())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("left by killed regsim processes"), "{out}");
    assert!(!left[0].exists(), "{} still there", left[0].display());
}
