//! `regsim record`: run one case and write it into the regression corpus
//! as a seeds/ entry with what it must keep showing, then check that the
//! entry holds.

use std::path::PathBuf;

use clap::Args;

use super::case::{case, entry_for, CaseArgs};
use super::report::{print_result, replay_schedule_command};
use super::{workspace_root, CliError};
use crate::corpus::{Expect, Verdict};
use crate::run;

#[derive(Args)]
pub(super) struct RecordArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// What the entry must keep showing.
    #[arg(long, value_enum)]
    expect: ExpectArg,
    /// Oracle or finding signature (default: the run's first).
    #[arg(long)]
    signature: Option<String>,
    #[arg(long, default_value = "")]
    note: String,
    /// Output file (default: seeds/<scenario>-<seed>.toml).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExpectArg {
    StillFailing,
    Fixed,
    ExpectedFinding,
}

pub(super) fn cmd_record(args: RecordArgs) -> Result<bool, CliError> {
    let case = case(args.case)?;
    run::quiet_panics();
    let r = run::run_schedule(&case.sc, &case.schedule, &case.opts)?;
    print_result(&r);
    let expect = match args.expect {
        ExpectArg::StillFailing => Expect::StillFailing,
        ExpectArg::Fixed => Expect::Fixed,
        ExpectArg::ExpectedFinding => Expect::ExpectedFinding,
    };
    let signature = args.signature.unwrap_or_else(|| match expect {
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
    let entry = entry_for(
        &case.path,
        case.schedule,
        expect,
        signature,
        args.note,
        case.mutant,
        case.opts.runtime,
    )?;
    let out = args.out.unwrap_or_else(|| {
        workspace_root()
            .join("seeds")
            .join(format!("{}-{seed}.toml", case.sc.name))
    });
    std::fs::write(&out, entry.to_toml())
        .map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
    println!(
        "replay: {}",
        replay_schedule_command(
            &case.path,
            &out,
            &case.sc,
            &case.opts,
            entry.mutant.as_deref()
        )
    );
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
