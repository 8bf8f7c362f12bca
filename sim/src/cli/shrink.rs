//! `regsim shrink`: shrink a failing run's schedule (or one that shows a
//! finding) to fewer events that still show it, and write the result into
//! seeds/ as an entry.

use std::path::PathBuf;

use clap::Args;

use super::case::{case, entry_for, Case, CaseArgs};
use super::report::{print_result, replay_schedule_command};
use super::{workspace_root, CliError};
use crate::corpus::Expect;
use crate::run;

#[derive(Args)]
pub(super) struct ShrinkArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// Output file (default: seeds/<scenario>-<seed>[-<mutant>]-shrunk.toml).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value = "")]
    note: String,
}

pub(super) fn cmd_shrink(args: ShrinkArgs) -> Result<bool, CliError> {
    let Case {
        path,
        sc,
        schedule,
        mutant,
        opts,
    } = case(args.case)?;
    run::quiet_panics();
    let log = |line: &str| println!("  {line}");
    let Some(shrunk) = crate::shrink::shrink(&sc, &schedule, &opts, &log)? else {
        println!(
            "seed {} neither fails nor shows a finding: nothing to shrink",
            schedule.seed
        );
        return Ok(false);
    };
    let seed = schedule.seed;
    let result = run::run_schedule(&sc, &shrunk.schedule, &opts)?;
    let expect = if result.passed() {
        Expect::ExpectedFinding
    } else {
        Expect::StillFailing
    };
    let suffix = mutant.as_ref().map(|m| format!("-{m}")).unwrap_or_default();
    let out = args.out.unwrap_or_else(|| {
        workspace_root()
            .join("seeds")
            .join(format!("{}-{seed}{suffix}-shrunk.toml", sc.name))
    });
    let note = if args.note.is_empty() {
        format!(
            "Shrunk from {} to {} events ({} runs) from seed {seed}.",
            shrunk.before,
            shrunk.schedule.events.len(),
            shrunk.runs
        )
    } else {
        args.note
    };
    let events = shrunk.schedule.events.len();
    let entry = entry_for(
        &path,
        shrunk.schedule,
        expect,
        shrunk.signature.clone(),
        note,
        mutant,
        opts.runtime,
    )?;
    std::fs::write(&out, entry.to_toml())
        .map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
    print_result(&result);
    println!(
        "shrunk {} -> {events} events in {} runs, signature {}: wrote {}",
        shrunk.before,
        shrunk.runs,
        shrunk.signature,
        out.display()
    );
    println!(
        "replay: {}",
        replay_schedule_command(&path, &out, &sc, &opts, entry.mutant.as_deref())
    );
    Ok(true)
}
