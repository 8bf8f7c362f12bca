//! `regsim shrink`: shrink a failing run's schedule (or one that shows a
//! finding) to fewer events that still show it, and write the result into
//! seeds/ as an entry.

use std::path::PathBuf;

use clap::Args;

use super::case::{case, default_out, entry_for, write_entry_file, Case, CaseArgs};
use super::report::{print_result, printed_replay, schedule_replay};
use super::CliError;
use writer_registry_sim::corpus::Expect;
use writer_registry_sim::run;

#[derive(Args)]
pub(super) struct ShrinkArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// Output file (default: seeds/<scenario>-<seed>[-<mutant>]-shrunk.toml
    /// under the workspace root). If it exists, the entry goes to the first
    /// free <name>-2.toml, <name>-3.toml, ... unless --force.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
    /// A note for the entry (why it matters); the shrinker adds what it
    /// did.
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
    let Some(shrunk) = writer_registry_sim::shrink::shrink(&sc, &schedule, &opts, &log)? else {
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
    let out = match args.out {
        Some(out) => out,
        None => default_out(&format!("{}-{seed}{suffix}-shrunk.toml", sc.name))?,
    };
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
    let out = write_entry_file(&out, &entry.to_toml(), args.force)?;
    print_result(&result);
    println!(
        "shrunk {} -> {events} events in {} runs, signature {}: wrote {}",
        shrunk.before,
        shrunk.runs,
        shrunk.signature,
        out.display()
    );
    let replay = schedule_replay(&path, &out, &sc, &opts, entry.mutant.as_deref());
    println!("{}", printed_replay("", &sc, &replay));
    Ok(true)
}
