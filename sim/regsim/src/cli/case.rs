//! The run a `replay`, `record` or `shrink` names (a seed of a scenario,
//! a bare schedule file or a seeds/ entry), and the seeds/ entry that
//! records a run.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{find_root, load, mutant_slot, runtime_arg, CliError};
use writer_registry_sim::corpus::{hash_hex, Expect, SeedEntry};
use writer_registry_sim::run::{self, RunOptions};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::schedule::Schedule;

/// Which run: a seed of a scenario, or a schedule file (a bare schedule
/// or a seeds/ entry, which names its scenario and mutant).
#[derive(Args)]
pub(super) struct CaseArgs {
    /// Scenario: a file, or a shipped scenario's name (default:
    /// scenarios/default.toml, or the corpus entry's).
    #[arg(long, value_name = "FILE|NAME")]
    scenario: Option<PathBuf>,
    /// The seed to expand into a schedule.
    #[arg(long, required_unless_present = "schedule")]
    seed: Option<u64>,
    /// A schedule file (a bare schedule or a seeds/ entry).
    #[arg(long, conflicts_with = "seed")]
    pub(super) schedule: Option<PathBuf>,
    /// Run a mutant of the catalogue (needs the `mutants` feature).
    #[arg(long)]
    mutant: Option<String>,
    /// The runtime that drives the nodes (default: the entry's, else the
    /// native engine).
    #[arg(long, value_parser = runtime_arg())]
    runtime: Option<run::Runtime>,
}

/// A run to replay, record or shrink: where its scenario lives, the
/// scenario, the schedule, the mutant (from the command line, else from a
/// seeds/ entry) and the options it runs with.
pub(super) struct Case {
    pub(super) path: PathBuf,
    pub(super) sc: Scenario,
    pub(super) schedule: Schedule,
    pub(super) mutant: Option<String>,
    pub(super) opts: RunOptions,
}

impl Case {
    /// The replay of this case's run of `seed`: by its schedule file when
    /// it came from one, else by its scenario and seed.
    pub(super) fn replay<'a>(
        &'a self,
        schedule_file: Option<&'a PathBuf>,
        seed: u64,
    ) -> writer_registry_sim::command::Replay<'a> {
        let mutant = self.mutant.as_deref();
        match schedule_file {
            Some(file) => {
                super::report::schedule_replay(&self.path, file, &self.sc, &self.opts, mutant)
            }
            None => super::report::seed_replay(&self.path, &self.sc, seed, &self.opts, mutant),
        }
    }
}

/// What a seeds/ entry named on the command line says it must keep
/// showing: `record` keeps it when it refreshes the entry.
pub(super) struct Recorded {
    pub(super) expect: Expect,
    pub(super) signature: String,
    pub(super) note: String,
    pub(super) group: Option<String>,
}

struct Resolved {
    path: PathBuf,
    sc: Scenario,
    schedule: Schedule,
    mutant: Option<String>,
    runtime: Option<run::Runtime>,
    recorded: Option<Recorded>,
}

/// [`case`] with a `--registry` override, and the schedule file the case
/// came from (if it did), for `replay` and `report`.
pub(super) fn case_on(
    args: CaseArgs,
    registry: Option<super::Registry>,
) -> Result<(Option<PathBuf>, Case), CliError> {
    let schedule_file = args.schedule.clone();
    let mut c = case(args)?;
    if let Some(r) = registry {
        c.opts.registry = r.into();
    }
    Ok((schedule_file, c))
}

pub(super) fn case(args: CaseArgs) -> Result<Case, CliError> {
    case_and_entry(args).map(|(case, _)| case)
}

/// The case, and what the seeds/ entry it came from records (when it came
/// from one).
pub(super) fn case_and_entry(args: CaseArgs) -> Result<(Case, Option<Recorded>), CliError> {
    let from_entry = args
        .mutant
        .is_none()
        .then(|| args.schedule.clone())
        .flatten();
    let Resolved {
        path,
        sc,
        schedule,
        mutant: entry_mutant,
        runtime: entry_runtime,
        recorded,
    } = resolve(args.scenario, args.seed, args.schedule.as_deref())?;
    let mutant = args.mutant.or(entry_mutant);
    let mut opts = RunOptions::for_scenario(&sc);
    opts.runtime = args.runtime.or(entry_runtime).unwrap_or_default();
    opts.mutant = mutant_slot(mutant.as_deref()).map_err(|CliError(e)| match &from_entry {
        // The name came from the entry's file, not the command line.
        Some(file) if mutant.is_some() => CliError(format!(
            "{}: `mutant`: {}",
            file.display(),
            e.trim_start_matches("--mutant: ")
        )),
        _ => CliError(e),
    })?;
    Ok((
        Case {
            path,
            sc,
            schedule,
            mutant,
            opts,
        },
        recorded,
    ))
}

/// The scenario and schedule a replay or record names: a seed under a
/// scenario, a bare schedule file, or a seeds/ entry (which names its own
/// scenario unless --scenario overrides it).
fn resolve(
    scenario: Option<PathBuf>,
    seed: Option<u64>,
    schedule: Option<&Path>,
) -> Result<Resolved, CliError> {
    match (schedule, seed) {
        (Some(file), _) => {
            let shown = file.display().to_string();
            let text = writer_registry_sim::schedule::read_file(file)?;
            if SeedEntry::is_entry(&text) {
                let entry = SeedEntry::parse(&text, &shown)?;
                let scenario = match scenario {
                    Some(s) => s,
                    None => recorded_scenario_path(&entry.scenario, &shown)?,
                };
                let (path, sc) = load(Some(scenario))?;
                let now = std::fs::read_to_string(&path)
                    .map(|t| hash_hex(&t))
                    .unwrap_or_default();
                if now != entry.scenario_hash {
                    println!(
                        "note: {shown} was recorded against {} with hash {}, now {now}: the entry is stale and may no longer mean the same run",
                        path.display(),
                        entry.scenario_hash
                    );
                }
                entry.schedule.validate_in(&sc, &shown, "schedule.")?;
                Ok(Resolved {
                    path,
                    sc,
                    schedule: entry.schedule,
                    mutant: entry.mutant,
                    runtime: Some(entry.runtime),
                    recorded: Some(Recorded {
                        expect: entry.expect,
                        signature: entry.signature,
                        note: entry.note,
                        group: entry.group,
                    }),
                })
            } else {
                let schedule = Schedule::from_toml(&text, &shown)?;
                let (path, sc) = load(scenario)?;
                schedule.validate(&sc, &shown)?;
                Ok(Resolved::bare(path, sc, schedule))
            }
        }
        (None, Some(seed)) => {
            let (path, sc) = load(scenario)?;
            let schedule = run::schedule_for(&sc, seed)?;
            Ok(Resolved::bare(path, sc, schedule))
        }
        (None, None) => Err(CliError("give --seed or --schedule".into())),
    }
}

impl Resolved {
    /// A run that no entry names: a seed, or a bare schedule.
    fn bare(path: PathBuf, sc: Scenario, schedule: Schedule) -> Resolved {
        Resolved {
            path,
            sc,
            schedule,
            mutant: None,
            runtime: None,
            recorded: None,
        }
    }
}

/// Where an entry's recorded `scenario` is: an absolute path as it is, a
/// relative one under the workspace root (see [`recorded_scenario`]).
fn recorded_scenario_path(recorded: &str, entry: &str) -> Result<PathBuf, CliError> {
    let path = Path::new(recorded);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let root = find_root().map_err(|CliError(e)| {
        CliError(format!(
            "{entry}: `scenario` {recorded:?} is relative to the workspace root, and there is {e}"
        ))
    })?;
    Ok(root.join(path))
}

/// The scenario path as an entry records it: relative to the workspace
/// root when the scenario lies under it (the entry then replays from any
/// checkout of the workspace), else absolute (it replays on this machine
/// from any directory). Either way [`recorded_scenario_path`] and
/// [`SeedEntry::check`] find the same file from it.
pub(super) fn recorded_scenario(path: &Path) -> Result<String, CliError> {
    let absolute = std::fs::canonicalize(path)
        .map_err(|e| format!("{}: cannot resolve: {e}", path.display()))?;
    // Canonical on both sides, so `..`, `.` and symlinks compare equal.
    let under_root = find_root()
        .ok()
        .and_then(|root| std::fs::canonicalize(root).ok())
        .and_then(|root| absolute.strip_prefix(root).ok().map(Path::to_path_buf));
    let recorded = under_root.unwrap_or(absolute);
    recorded.to_str().map(str::to_owned).ok_or_else(|| {
        CliError(format!(
            "{}: the path is not UTF-8, and an entry records it as text",
            path.display()
        ))
    })
}

/// Writes `text` to `out`; when `out` exists and `force` is off, writes
/// to the first free `<stem>-2.<ext>`, `<stem>-3.<ext>`, ... instead and
/// says so, so that no committed corpus entry is overwritten silently.
/// Returns the file written. Creating a new file is atomic (`create_new`):
/// two commands writing at once never share a name.
pub(super) fn write_entry_file(out: &Path, text: &str, force: bool) -> Result<PathBuf, CliError> {
    let cannot = |file: &Path, e: std::io::Error| format!("{}: cannot write: {e}", file.display());
    if out.is_dir() {
        // Not a name taken by an entry: numbering it would write a
        // sibling of the directory.
        return Err(CliError(format!(
            "{}: is a directory; --out names the entry's file",
            out.display()
        )));
    }
    if force {
        std::fs::write(out, text).map_err(|e| cannot(out, e))?;
        return Ok(out.to_path_buf());
    }
    for file in numbered_names(out) {
        match write_new(&file, text) {
            Ok(()) => {
                if file != out {
                    println!(
                        "note: {} exists; wrote {} instead (--force overwrites)",
                        out.display(),
                        file.display()
                    );
                }
                return Ok(file);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(CliError(cannot(&file, e))),
        }
    }
    Err(CliError(format!(
        "{}: it and {MAX_NEW_NAMES} numbered variants exist; give another --out or --force",
        out.display()
    )))
}

/// `out`, then `<stem>-2.<ext>`, `<stem>-3.<ext>`, ...: the names a file
/// that must not replace another may take, [`MAX_NEW_NAMES`] in all.
pub(super) fn numbered_names(out: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = out
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (1..=MAX_NEW_NAMES).map(move |n| match n {
        1 => out.to_path_buf(),
        n => out.with_file_name(format!("{stem}-{n}{ext}")),
    })
}

/// Writes `text` to `file` if no file has that name yet: creating it is
/// atomic (`create_new`), so two commands writing at once never share a
/// name.
pub(super) fn write_new(file: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    options.open(file)?.write_all(text.as_bytes())
}

/// How many names [`numbered_names`] gives.
pub(super) const MAX_NEW_NAMES: u32 = 1000;

/// `seeds/<name>` under the workspace root, creating `seeds/` if the root
/// has none yet.
pub(super) fn default_out(name: &str) -> Result<PathBuf, CliError> {
    let dir = find_root()?.join("seeds");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    Ok(dir.join(name))
}

pub(super) fn entry_for(
    path: &Path,
    schedule: Schedule,
    expect: Expect,
    signature: String,
    note: String,
    mutant: Option<String>,
    runtime: run::Runtime,
) -> Result<SeedEntry, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    Ok(SeedEntry {
        scenario: recorded_scenario(path)?,
        scenario_hash: hash_hex(&text),
        expect,
        signature,
        note,
        group: None,
        mutant,
        runtime,
        schedule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_is_kept_and_the_entry_goes_to_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("e.toml");
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(write_entry_file(&out, "one", false).ok(), Some(out.clone()));
        let second = write_entry_file(&out, "two", false).ok().unwrap();
        assert_eq!(second, dir.path().join("e-2.toml"));
        let third = write_entry_file(&out, "three", false).ok().unwrap();
        assert_eq!(third, dir.path().join("e-3.toml"));
        assert_eq!(
            (read("e.toml"), read("e-2.toml"), read("e-3.toml")),
            ("one".into(), "two".into(), "three".into())
        );
        // --force overwrites the named file, and only it.
        assert_eq!(write_entry_file(&out, "four", true).ok(), Some(out.clone()));
        assert_eq!(read("e.toml"), "four");
        assert!(!dir.path().join("e-4.toml").exists());
    }

    #[test]
    fn an_unwritable_output_or_a_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("no-such-dir/e.toml");
        for force in [false, true] {
            let Err(CliError(e)) = write_entry_file(&out, "x", force) else {
                panic!("wrote into a missing directory")
            };
            assert!(e.contains(&out.display().to_string()), "{e}");
        }
        for force in [false, true] {
            let Err(CliError(e)) = write_entry_file(dir.path(), "x", force) else {
                panic!("wrote over a directory")
            };
            assert!(e.contains("is a directory"), "{e}");
        }
    }
}
