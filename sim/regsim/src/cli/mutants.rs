//! `regsim mutants` (only with the `mutants` feature): run every mutant of
//! the catalogue, and the unmutated build, over the shipped scenarios and
//! print how fast each mutant is caught.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};

use super::{find_root, CliError};
use writer_registry_sim::run;

pub(super) fn cmd_mutants(
    budget: u64,
    jobs: Option<usize>,
    only: Vec<String>,
    dir: Option<PathBuf>,
    runtime: run::Runtime,
) -> Result<bool, CliError> {
    use writer_registry::mutants::Mutant;
    use writer_registry_sim::mutants::{render, table, targets, why_not_on};
    let dir = match dir {
        Some(dir) => dir,
        None => find_root()?.join("scenarios"),
    };
    let targets = targets(&dir)?;
    let mut mutants: Vec<Option<Mutant>> = vec![None];
    for m in Mutant::ALL {
        if !only.is_empty() && !only.iter().any(|o| o == m.name()) {
            continue;
        }
        match why_not_on(m, runtime) {
            None => mutants.push(Some(m)),
            Some(why) => println!(
                "{}: not run on the {} runtime: {why}",
                m.name(),
                runtime.name()
            ),
        }
    }
    if mutants.len() == 1 && !only.is_empty() {
        return Err(CliError(format!("--only: no mutant named {only:?}")));
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!(
        "mutants: {} mutants + the unmutated build, {budget} runs each over {} scenarios, {jobs} jobs, {} runtime",
        mutants.len() - 1,
        targets.len(),
        runtime.name()
    );
    run::quiet_panics();
    let bar = ProgressBar::new(budget * mutants.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs {elapsed} eta {eta}")
            .expect("valid template"),
    );
    let plan = writer_registry_sim::mutants::Plan {
        targets: &targets,
        mutants: &mutants,
        budget,
        jobs,
        runtime,
    };
    let rows = table(&plan, &|| bar.inc(1));
    bar.finish_and_clear();
    print!("{}", render(&rows, runtime));
    // A harness error catches no mutant and clears no baseline: exit 2.
    let broken: Vec<&writer_registry_sim::mutants::Row> =
        rows.iter().filter(|r| r.harness_errors > 0).collect();
    if let Some((path, seed, e)) = broken.iter().find_map(|r| r.first_harness_error.as_ref()) {
        let runs: u64 = broken.iter().map(|r| r.harness_errors).sum();
        return Err(CliError(format!(
            "{runs} runs ended in a harness error, first {} seed {seed}: {e}",
            path.display()
        )));
    }
    let survivors: Vec<&str> = rows.iter().filter(|r| !r.ok()).map(|r| r.name()).collect();
    if survivors.is_empty() {
        println!("every mutant caught; the unmutated build is clean");
        Ok(true)
    } else {
        println!("NOT OK: {}", survivors.join(", "));
        Ok(false)
    }
}
