//! The run a `replay`, `record` or `shrink` names (a seed of a scenario,
//! a bare schedule file or a seeds/ entry), and the seeds/ entry that
//! records a run.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{load, mutant_slot, workspace_root, CliError};
use crate::corpus::{hash_hex, Expect, SeedEntry};
use crate::run::{self, RunOptions};
use crate::scenario::Scenario;
use crate::schedule::Schedule;

/// Which run: a seed of a scenario, or a schedule file (a bare schedule
/// or a seeds/ entry, which names its scenario and mutant).
#[derive(Args)]
pub(super) struct CaseArgs {
    /// Scenario file (default: scenarios/default.toml, or the entry's).
    #[arg(long)]
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
    #[arg(long, value_enum)]
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

type Resolved = (
    PathBuf,
    Scenario,
    Schedule,
    Option<String>,
    Option<run::Runtime>,
);

pub(super) fn case(args: CaseArgs) -> Result<Case, CliError> {
    let from_entry = args
        .mutant
        .is_none()
        .then(|| args.schedule.clone())
        .flatten();
    let (path, sc, schedule, entry_mutant, entry_runtime) =
        resolve(args.scenario, args.seed, args.schedule.as_deref())?;
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
    Ok(Case {
        path,
        sc,
        schedule,
        mutant,
        opts,
    })
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
            let text = crate::schedule::read_file(file)?;
            if SeedEntry::is_entry(&text) {
                let entry = SeedEntry::parse(&text, &shown)?;
                let scenario = scenario.unwrap_or_else(|| workspace_root().join(&entry.scenario));
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
                Ok((path, sc, entry.schedule, entry.mutant, Some(entry.runtime)))
            } else {
                let schedule = Schedule::from_toml(&text, &shown)?;
                let (path, sc) = load(scenario)?;
                schedule.validate(&sc, &shown)?;
                Ok((path, sc, schedule, None, None))
            }
        }
        (None, Some(seed)) => {
            let (path, sc) = load(scenario)?;
            let schedule = run::schedule_for(&sc, seed)?;
            Ok((path, sc, schedule, None, None))
        }
        (None, None) => Err(CliError("give --seed or --schedule".into())),
    }
}

/// The scenario path as an entry records it: relative to the workspace root.
fn relative_scenario(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("scenarios/{name}")
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
        scenario: relative_scenario(path),
        scenario_hash: hash_hex(&text),
        expect,
        signature,
        note,
        mutant,
        runtime,
        schedule,
    })
}
