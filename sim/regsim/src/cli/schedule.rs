//! `regsim schedule`: print, as TOML, the schedule a seed of a scenario
//! expands into.

use std::path::PathBuf;

use super::{load, CliError};
use writer_registry_sim::run;

pub(super) fn cmd_schedule(scenario: Option<PathBuf>, seed: u64) -> Result<bool, CliError> {
    let (_, sc) = load(scenario)?;
    print!("{}", run::schedule_for(&sc, seed)?.to_toml());
    Ok(true)
}
