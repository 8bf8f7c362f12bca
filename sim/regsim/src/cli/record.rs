//! `regsim record`: run one case and write it into the regression corpus
//! as a seeds/ entry with what it must keep showing, then check that the
//! entry holds.

use std::path::PathBuf;

use clap::Args;

use super::case::{case_and_entry, default_out, entry_for, write_entry_file, CaseArgs};
use super::report::{print_result, printed_replay, schedule_replay};
use super::{workspace_root, CliError};
use writer_registry_sim::corpus::{Expect, Verdict};
use writer_registry_sim::run;

#[derive(Args)]
pub(super) struct RecordArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// What the entry must keep showing (default, for a seeds/ entry given
    /// with --schedule: what it records).
    #[arg(long, value_enum)]
    expect: Option<ExpectArg>,
    /// Oracle or finding signature (default: the entry's, else the run's
    /// first).
    #[arg(long)]
    signature: Option<String>,
    /// What the entry shows, in words (default: the entry's, else empty).
    #[arg(long)]
    note: Option<String>,
    /// Output file (default: seeds/<scenario>-<seed>.toml under the
    /// workspace root). If it exists, the entry goes to the first free
    /// <name>-2.toml, <name>-3.toml, ... unless --force.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Overwrite the output file if it exists (to refresh a stale entry:
    /// `--schedule seeds/F.toml --out seeds/F.toml --force`).
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExpectArg {
    /// A known bug not fixed yet: the run must still fail the same way.
    StillFailing,
    /// A fixed bug: the run must pass.
    Fixed,
    /// A finding the scenario allows: the run passes and shows it.
    ExpectedFinding,
}

pub(super) fn cmd_record(args: RecordArgs) -> Result<bool, CliError> {
    let (case, recorded) = case_and_entry(args.case)?;
    let expect = match (args.expect, &recorded) {
        (Some(ExpectArg::StillFailing), _) => Expect::StillFailing,
        (Some(ExpectArg::Fixed), _) => Expect::Fixed,
        (Some(ExpectArg::ExpectedFinding), _) => Expect::ExpectedFinding,
        (None, Some(entry)) => entry.expect,
        (None, None) => {
            return Err(CliError(
                "--expect: required unless --schedule names a seeds/ entry".into(),
            ))
        }
    };
    // An entry's signature and note describe its expectation: kept only
    // while that expectation is.
    let kept = recorded.filter(|entry| entry.expect == expect);
    run::quiet_panics();
    let r = run::run_schedule(&case.sc, &case.schedule, &case.opts)?;
    print_result(&r);
    let signature = args
        .signature
        .or_else(|| kept.as_ref().map(|e| e.signature.clone()))
        .unwrap_or_else(|| match expect {
            Expect::ExpectedFinding => r
                .findings
                .first()
                .map(|f| f.signature.clone())
                .unwrap_or_default(),
            _ => r
                .violations
                .first()
                .map(|v| v.oracle.clone())
                .unwrap_or_default(),
        });
    let seed = case.schedule.seed;
    // The failure group a still-failing entry makes known (see
    // `regsim nightly`): the entry's own, else the run's.
    let group = kept.as_ref().and_then(|e| e.group.clone()).or_else(|| {
        (expect == Expect::StillFailing)
            .then(|| r.violations.first())
            .flatten()
            .map(|v| writer_registry_sim::results::signature(&v.oracle, &v.detail))
    });
    let mut entry = entry_for(
        &case.path,
        case.schedule,
        expect,
        signature,
        args.note
            .or_else(|| kept.map(|e| e.note))
            .unwrap_or_default(),
        case.mutant,
        case.opts.runtime,
    )?;
    entry.group = group;
    let out = match args.out {
        Some(out) => out,
        None => default_out(&format!("{}-{seed}.toml", case.sc.name))?,
    };
    let out = write_entry_file(&out, &entry.to_toml(), args.force)?;
    let replay = schedule_replay(
        &case.path,
        &out,
        &case.sc,
        &case.opts,
        entry.mutant.as_deref(),
    );
    println!("{}", printed_replay("", &case.sc, &replay));
    match entry.check(&workspace_root()) {
        Verdict::Holds(_) => {
            println!(
                "recorded {} ({} events): it holds",
                out.display(),
                entry.schedule.events.len()
            );
            Ok(true)
        }
        Verdict::Harness(e) => Err(CliError(format!(
            "recorded {}, but it cannot be run: {e}",
            out.display()
        ))),
        Verdict::Stale(why) | Verdict::Broken(why) => {
            println!("recorded {}, but it does not hold: {why}", out.display());
            Ok(false)
        }
        Verdict::NeedsMutants => {
            println!(
                "recorded {}; it runs a mutant, so only a mutants build can check it",
                out.display()
            );
            Ok(true)
        }
    }
}
