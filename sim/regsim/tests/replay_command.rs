//! The replay command a failing run prints replays that run when pasted
//! at the repository root, however the run was named (a scenario outside
//! the repository, a schedule given relative to another directory): first
//! on the binary that ran it, then as a `cargo run` with the same
//! arguments.

use std::path::Path;
use std::process::{Command, Output};

const CARGO: &str = "cargo run --release -p regsim --bin regsim -- ";

fn regsim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regsim"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The trace hash of the `seed N:` result line.
fn trace_hash(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("seed ")?.split(" trace ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no result line in {out}"))
        .to_string()
}

/// The words of the printed line that starts with `label`, its trailing
/// comment dropped.
fn printed(out: &str, label: &str) -> String {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} line in {out}"));
    let command = line.split("   #").next().unwrap();
    assert!(!command.contains('\''), "quoted words: {command}");
    command.to_string()
}

/// The printed `replay:` line's binary and arguments, after checking that
/// the `cargo run` line under it has the same arguments.
fn printed_replay(out: &str) -> (String, Vec<String>) {
    let command = printed(out, "replay: ");
    let (binary, args) = command.split_once(' ').unwrap();
    let cargo = printed(out, "or, from a fresh clone: ");
    assert_eq!(
        cargo.strip_prefix(CARGO),
        Some(args),
        "not the one form with the same arguments: {cargo}"
    );
    (
        binary.to_string(),
        args.split_whitespace().map(String::from).collect(),
    )
}

#[test]
fn the_printed_replay_command_replays_the_same_trace_from_the_repository_root() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = package.join("../..");
    // restart-storm with its finding no longer allowed: seed 0 fails.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("storm.toml");
    let text = std::fs::read_to_string(root.join("scenarios/restart-storm.toml")).unwrap();
    let strict = text
        .lines()
        .map(|l| match l.split_once(" = ") {
            Some(("allowed" | "expected", _)) => {
                l.split(" = ").next().unwrap().to_string() + " = []"
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&scenario, strict).unwrap();
    let scenario = scenario.to_str().unwrap();
    for case in [
        vec!["replay", "--scenario", scenario, "--seed", "0"],
        // Relative to sim/regsim/, as a user there would type it.
        vec![
            "replay",
            "--scenario",
            scenario,
            "--schedule",
            "../../seeds/restart-storm-0-shrunk.toml",
        ],
    ] {
        let first = regsim_in(package, &case);
        assert_eq!(first.status.code(), Some(1), "{}", stdout(&first));
        let (binary, args) = printed_replay(&stdout(&first));
        // The binary that printed it, named from the root.
        assert_eq!(
            root.join(&binary).canonicalize().unwrap(),
            Path::new(env!("CARGO_BIN_EXE_regsim"))
                .canonicalize()
                .unwrap(),
            "{binary}"
        );
        let again = Command::new(root.join(&binary))
            .current_dir(&root)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            again.status.code(),
            Some(1),
            "{args:?}: {}{}",
            stdout(&again),
            String::from_utf8_lossy(&again.stderr)
        );
        assert_eq!(trace_hash(&stdout(&again)), trace_hash(&stdout(&first)));
    }
}
