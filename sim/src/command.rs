//! The one form of the command that replays a run, as every report prints
//! it (a sweep's failures, `replay`, `shrink`, `record`, the mutant
//! table): a `cargo run` that works from the repository root, whatever
//! directory the run was started from.

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

impl fmt::Display for Replay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let features = if self.mutant.is_some() {
            " --features mutants"
        } else {
            ""
        };
        write!(
            f,
            "cargo run --release -p writer-registry-sim{features} --bin regsim -- replay"
        )?;
        match self.case {
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
        match (self.runtime, self.registry) {
            (Runtime::Native, Some(registry)) => write!(f, " --registry {}", registry.name())?,
            (Runtime::Native, None) => {}
            // `--registry` conflicts with `--runtime`: another runtime
            // has its own store.
            (runtime, _) => write!(f, " --runtime {}", runtime.name())?,
        }
        if let Some(m) = self.mutant {
            write!(f, " --mutant {m}")?;
        }
        Ok(())
    }
}

/// The repository root: where `cargo run -p writer-registry-sim` runs
/// this build from.
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

    const CARGO: &str = "cargo run --release -p writer-registry-sim --bin regsim -- replay";

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
                "cargo run --release -p writer-registry-sim --features mutants --bin regsim -- replay "
            ),
            "{text}"
        );
        assert!(
            text.ends_with(" --runtime turmoil --mutant guard-skipped"),
            "{text}"
        );
    }
}
