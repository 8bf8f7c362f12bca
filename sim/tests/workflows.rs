//! The GitHub workflows can fail: every `run:` step runs under
//! `bash -eo pipefail`, so `cmd | tee file` fails when `cmd` does. GitHub's
//! default shell on Linux is `bash -e` without pipefail, which is what the
//! workflow-level `defaults.run.shell: bash` changes.

use std::path::Path;

fn workflows() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no workflow files in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect()
}

/// Whether the workflow's top level sets `defaults: run: shell: bash`.
fn runs_under_pipefail(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    lines.windows(3).any(|w| {
        w[0].trim_end() == "defaults:"
            && w[1].trim_end() == "  run:"
            && w[2].trim_end() == "    shell: bash"
    })
}

/// Whether some step's command pipes into another (`a | b`, not `a || b`
/// nor a YAML block scalar `run: |`).
fn pipes(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        !l.starts_with('#') && !l.ends_with(": |") && l.replace("||", "").contains(" | ")
    })
}

#[test]
fn every_workflow_runs_its_steps_under_pipefail() {
    for (name, text) in workflows() {
        assert!(
            runs_under_pipefail(&text),
            "{name}: no top-level `defaults: run: shell: bash`; GitHub's default `bash -e` has no pipefail, so a failing command piped into `tee` passes"
        );
    }
}

/// The shells a workflow names anywhere (a job's or a step's `shell:`).
fn shells(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("shell:"))
        .map(|s| s.trim().to_string())
        .collect()
}

#[test]
fn no_job_or_step_names_another_shell() {
    for (name, text) in workflows() {
        for shell in shells(&text) {
            assert_eq!(
                shell, "bash",
                "{name}: `shell: {shell}` runs without `-eo pipefail`"
            );
        }
    }
}

#[test]
fn the_check_sees_a_pipe_and_the_missing_default() {
    let old = "jobs:\n  t:\n    steps:\n      - run: bin/regsim mutants | tee mutants.md\n";
    assert!(pipes(old) && !runs_under_pipefail(old));
    let new = format!("defaults:\n  run:\n    shell: bash\n{old}");
    assert!(runs_under_pipefail(&new));
    assert!(!pipes("      - run: |\n          a || b\n"));
    assert_eq!(shells("    shell: sh\n      shell: bash\n"), ["sh", "bash"]);
    let nightly = workflows()
        .into_iter()
        .find(|(n, _)| n == "nightly.yml")
        .expect("nightly.yml");
    assert!(
        pipes(&nightly.1),
        "nightly.yml pipes its mutant table into tee"
    );
}
