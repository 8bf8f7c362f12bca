//! `regsim report`: run one case (a seed or a schedule file) keeping its
//! events, and write the self-contained HTML page of it
//! ([`crate::html`]).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::case::{case_on, CaseArgs};
use super::report::print_result;
use super::{CliError, Registry};
use crate::html::{render, Meta};
use writer_registry_sim::run;

#[derive(Args)]
pub(super) struct ReportArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// The registry store on the native runtime (default: the scenario's).
    #[arg(long, value_enum, conflicts_with = "runtime")]
    registry: Option<Registry>,
    /// Where to write the page.
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
}

/// Writes the page whatever the verdict; like `replay`, the exit code is
/// the run's (1 when it fails).
pub(super) fn cmd_report(args: ReportArgs) -> Result<bool, CliError> {
    let out = args.out;
    let (schedule_file, mut case) = case_on(args.case, args.registry)?;
    case.opts.keep_events = true;
    // Opened before the run, so that a page that cannot be written costs
    // no run and says so at once.
    let mut file = std::fs::File::create(&out)
        .map_err(|e| CliError(format!("{}: cannot write the report: {e}", out.display())))?;
    run::quiet_panics();
    let r = match run::run_schedule(&case.sc, &case.schedule, &case.opts) {
        Ok(r) => r,
        Err(e) => {
            // An empty file must not pass for a report.
            drop(file);
            let _ = std::fs::remove_file(&out);
            return Err(e.into());
        }
    };
    // A file that is read elsewhere: the `cargo run` form, as a results
    // file's.
    let replay = super::report::pinned(
        &case.sc,
        &case.replay(schedule_file.as_ref(), r.seed).to_string(),
    );
    let source = schedule_file
        .as_ref()
        .unwrap_or(&case.path)
        .display()
        .to_string();
    let meta = Meta {
        source: &source,
        replay: &replay,
        mutant: case.mutant.as_deref(),
        registry: case.opts.registry,
        schedule: &case.schedule,
    };
    let ran = case.schedule.scenario_of(&case.sc);
    let page = render(&meta, &ran, &r);
    file.write_all(page.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| CliError(format!("{}: cannot write the report: {e}", out.display())))?;
    print_result(&r);
    println!(
        "wrote report {} ({} bytes, {})",
        out.display(),
        page.len(),
        if r.passed() { "pass" } else { "FAIL" }
    );
    Ok(r.passed())
}
