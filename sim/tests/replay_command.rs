//! The replay command a failing run prints replays that run when pasted
//! at the repository root, however the run was named (a scenario outside
//! the repository, a schedule given relative to another directory).

use std::path::Path;
use std::process::{Command, Output};

const CARGO: &str = "cargo run --release -p writer-registry-sim --bin regsim -- ";

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

/// The arguments after `regsim` of the printed `replay:` line (its
/// trailing comment dropped).
fn printed_replay(out: &str) -> Vec<String> {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("replay: "))
        .unwrap_or_else(|| panic!("no replay line in {out}"));
    let command = line.split("   #").next().unwrap();
    let args = command
        .strip_prefix(CARGO)
        .unwrap_or_else(|| panic!("not the one form: {command}"));
    assert!(!args.contains('\''), "quoted words: {args}");
    args.split_whitespace().map(String::from).collect()
}

#[test]
fn the_printed_replay_command_replays_the_same_trace_from_the_repository_root() {
    let sim = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = sim.join("..");
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
        // Relative to sim/, as a user there would type it.
        vec![
            "replay",
            "--scenario",
            scenario,
            "--schedule",
            "../seeds/restart-storm-0-shrunk.toml",
        ],
    ] {
        let first = regsim_in(sim, &case);
        assert_eq!(first.status.code(), Some(1), "{}", stdout(&first));
        let args = printed_replay(&stdout(&first));
        let again = regsim_in(&root, &args.iter().map(String::as_str).collect::<Vec<_>>());
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
