//! The one form of the command that replays a run, as every report prints
//! it (a sweep's failures, `replay`, `shrink`, `record`, the mutant
//! table): a `cargo run` that works from the repository root, whatever
//! directory the run was started from; and the same arguments given to the
//! binary that is running, which a person at this machine runs without a
//! build (a mutants build takes minutes).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::run::Runtime;
use crate::store::RegistryKind;

/// Which run a replay names.
#[derive(Debug, Clone, Copy)]
pub enum Case<'a> {
    /// A seed of the scenario at `scenario`.
    Seed { scenario: &'a Path, seed: u64 },
    /// A schedule file (a bare schedule or a seeds/ entry) under the
    /// scenario at `scenario`; the scenario is named even for an entry,
    /// which names its own, so that one rule covers both.
    Schedule { scenario: &'a Path, file: &'a Path },
}

/// A replay command. Its `Display` is the command line.
#[derive(Debug, Clone, Copy)]
pub struct Replay<'a> {
    pub case: Case<'a>,
    /// Adds `--features mutants` and `--mutant NAME`.
    pub mutant: Option<&'a str>,
    /// `--runtime NAME` unless native.
    pub runtime: Runtime,
    /// `--registry NAME` on the native runtime, when it is not the
    /// scenario's own (`None`: the scenario's).
    pub registry: Option<RegistryKind>,
}

impl<'a> Replay<'a> {
    /// A replay of `case` with every option at its default.
    pub fn of(case: Case<'a>) -> Self {
        Replay {
            case,
            mutant: None,
            runtime: Runtime::Native,
            registry: None,
        }
    }
}

/// What comes before regsim's own arguments in a `cargo run` from the
/// repository root. The mutants build goes to a target directory of its
/// own: built into `target/`, it would replace the normal binary (and be
/// replaced by the next normal build, minutes each way).
pub fn cargo_run(mutants: bool) -> &'static str {
    if mutants {
        "cargo run --release -p regsim --features mutants --target-dir target/mutants --bin regsim --"
    } else {
        "cargo run --release -p regsim --bin regsim --"
    }
}

/// The binary running now, when its file is still there to run again (a
/// rebuild during a long sweep replaces it; Linux then names the running
/// one `... (deleted)`).
pub fn this_binary() -> Option<PathBuf> {
    std::env::current_exe().ok().filter(|p| p.is_file())
}

impl Replay<'_> {
    /// The command on the binary at `exe` instead of `cargo run`: the
    /// binary named like every other path here, so that the command too
    /// works from the repository root.
    pub fn on(&self, exe: &Path) -> String {
        format!("{} {}", shown(exe), Args(self))
    }
}

/// A command of this module's `cargo run` form (a results file's `replay`
/// field) on the binary at `exe`; `None` when `command` is not of that
/// form (a file written by another version).
pub fn on_binary(command: &str, exe: &Path) -> Option<String> {
    let args = [true, false]
        .into_iter()
        .find_map(|mutants| command.strip_prefix(cargo_run(mutants))?.strip_prefix(' '))?;
    Some(format!("{} {args}", shown(exe)))
}

impl fmt::Display for Replay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", cargo_run(self.mutant.is_some()), Args(self))
    }
}

/// A replay's arguments to regsim, `replay` first.
struct Args<'r, 'a>(&'r Replay<'a>);

impl fmt::Display for Args<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Args(r) = self;
        f.write_str("replay")?;
        match r.case {
            Case::Seed { scenario, seed } => {
                write!(f, " --scenario {} --seed {seed}", shown(scenario))?
            }
            Case::Schedule { scenario, file } => write!(
                f,
                " --scenario {} --schedule {}",
                shown(scenario),
                shown(file)
            )?,
        }
        match (r.runtime, r.registry) {
            (Runtime::Native, Some(registry)) => write!(f, " --registry {}", registry.name())?,
            (Runtime::Native, None) => {}
            // `--registry` conflicts with `--runtime`: another runtime
            // has its own store.
            (runtime, _) => write!(f, " --runtime {}", runtime.name())?,
        }
        if let Some(m) = r.mutant {
            write!(f, " --mutant {m}")?;
        }
        Ok(())
    }
}

/// The repository root: where `cargo run -p regsim` runs this build from
/// (this crate's directory, `sim/`, is one below it).
fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A path as the command shows it: relative to the repository root when
/// it lies under it, else absolute (as given when it cannot be resolved),
/// quoted for a POSIX shell when it needs to be.
fn shown(path: &Path) -> String {
    let path = match (path.canonicalize(), repository_root().canonicalize()) {
        (Ok(path), Ok(root)) => relative_to(&path, &root),
        _ => path.to_path_buf(),
    };
    shell_word(&path.to_string_lossy())
}

/// `path` relative to `root` when it lies under it; both absolute and
/// normalised.
fn relative_to(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

/// `word` as one POSIX shell word.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./+,:@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARGO: &str = "cargo run --release -p regsim --bin regsim -- replay";

    #[test]
    fn a_scenario_under_the_root_is_named_from_the_root_wherever_it_was_given() {
        let root = repository_root();
        let from_sim = root.join("sim/../scenarios/default.toml");
        let cmd = Replay::of(Case::Seed {
            scenario: &from_sim,
            seed: 17,
        });
        assert_eq!(
            cmd.to_string(),
            format!("{CARGO} --scenario scenarios/default.toml --seed 17")
        );
        assert_eq!(
            relative_to(Path::new("/r/seeds/x.toml"), Path::new("/r")),
            Path::new("seeds/x.toml")
        );
        assert_eq!(
            relative_to(Path::new("/elsewhere/x.toml"), Path::new("/r")),
            Path::new("/elsewhere/x.toml")
        );
    }

    #[test]
    fn options_show_only_when_they_are_not_the_default() {
        let scenario = repository_root().join("scenarios/collision.toml");
        let file = Path::new("/tmp/a b/it's.toml");
        let mut cmd = Replay::of(Case::Schedule {
            scenario: &scenario,
            file,
        });
        assert_eq!(
            cmd.to_string(),
            format!(
                "{CARGO} --scenario scenarios/collision.toml --schedule '/tmp/a b/it'\\''s.toml'"
            )
        );
        cmd.registry = Some(RegistryKind::Memory);
        assert!(cmd.to_string().ends_with(" --registry memory"), "{cmd}");
        cmd.runtime = Runtime::Turmoil;
        cmd.mutant = Some("guard-skipped");
        let text = cmd.to_string();
        assert!(
            text.starts_with(
                "cargo run --release -p regsim --features mutants --target-dir target/mutants --bin regsim -- replay "
            ),
            "{text}"
        );
        assert!(
            text.ends_with(" --runtime turmoil --mutant guard-skipped"),
            "{text}"
        );
    }

    #[test]
    fn the_binary_form_has_the_same_arguments_on_the_binary_named_as_any_path() {
        let scenario = repository_root().join("scenarios/default.toml");
        let mut cmd = Replay::of(Case::Seed {
            scenario: &scenario,
            seed: 3,
        });
        cmd.mutant = Some("guard-skipped");
        let args = "replay --scenario scenarios/default.toml --seed 3 --mutant guard-skipped";
        // Under the repository root: from the root, as the scenario is.
        let inside = repository_root().join("sim/../sim/Cargo.toml");
        assert_eq!(cmd.on(&inside), format!("sim/Cargo.toml {args}"));
        // Elsewhere: absolute, one shell word.
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("a b");
        std::fs::write(&outside, "").unwrap();
        let quoted = shell_word(&outside.canonicalize().unwrap().to_string_lossy());
        assert!(quoted.starts_with("'/"), "{quoted}");
        assert_eq!(cmd.on(&outside), format!("{quoted} {args}"));
        // A results file's command, read back onto a binary.
        assert_eq!(on_binary(&cmd.to_string(), &inside), Some(cmd.on(&inside)));
        cmd.mutant = None;
        assert_eq!(on_binary(&cmd.to_string(), &inside), Some(cmd.on(&inside)));
        // The form before the mutants build had a target directory of
        // its own is left as it is, and so is the form before the command
        // line was a crate of its own (`-p writer-registry-sim`).
        let old = "cargo run --release -p writer-registry-sim --features mutants --bin regsim -- replay --seed 0";
        assert_eq!(on_binary(old, &inside), None);
        for mutants in ["", " --features mutants --target-dir target/mutants"] {
            let old = format!(
                "cargo run --release -p writer-registry-sim{mutants} --bin regsim -- replay --seed 0"
            );
            assert_eq!(on_binary(&old, &inside), None, "{old}");
        }
    }
}
