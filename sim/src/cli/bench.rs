//! `regsim bench`: measure simulation speed on a scenario, on one thread,
//! with the memory and fjall registries and with oracles on and off.

use std::path::PathBuf;

use super::{load, CliError};
use crate::run;

pub(super) fn cmd_bench(
    scenario: Option<PathBuf>,
    count: u64,
    runtime: crate::run::Runtime,
) -> Result<bool, CliError> {
    let (path, sc) = load(scenario)?;
    run::quiet_panics();
    println!(
        "bench: scenario {} ({}), {count} seeds per configuration, one thread",
        sc.name,
        path.display()
    );
    let turmoil = runtime == crate::run::Runtime::Turmoil;
    println!("{}", crate::bench::Report::run(&sc, count, turmoil)?);
    Ok(true)
}
