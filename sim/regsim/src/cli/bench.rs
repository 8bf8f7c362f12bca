//! `regsim bench`: measure simulation speed on a scenario, on one thread,
//! with the memory and fjall registries and with oracles on and off.

use std::path::PathBuf;

use super::{load, CliError};
use writer_registry_sim::run;

pub(super) fn cmd_bench(
    scenario: Option<PathBuf>,
    count: u64,
    runtime: writer_registry_sim::run::Runtime,
) -> Result<bool, CliError> {
    let (path, sc) = load(scenario)?;
    run::quiet_panics();
    println!(
        "bench: scenario {} ({}), {count} seeds per configuration, one thread",
        sc.name,
        path.display()
    );
    let turmoil = runtime == writer_registry_sim::run::Runtime::Turmoil;
    println!("{}", crate::bench::Report::run(&sc, count, turmoil)?);
    Ok(true)
}
