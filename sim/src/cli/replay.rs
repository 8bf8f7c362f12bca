//! `regsim replay`: re-run one case (a seed or a schedule file), print its
//! outcome, its trace with --trace, and with --check-determinism run it
//! twice and compare the traces event by event.

use clap::Args;

use super::case::{case, Case, CaseArgs};
use super::report::{first_difference, print_result, replay_command, replay_schedule_command};
use super::{CliError, Registry};
use crate::run;

#[derive(Args)]
pub(super) struct ReplayArgs {
    #[command(flatten)]
    case: CaseArgs,
    #[arg(long, value_enum, conflicts_with = "runtime")]
    registry: Option<Registry>,
    /// Print the trace.
    #[arg(long)]
    trace: bool,
    /// Run twice and compare the traces event by event.
    #[arg(long)]
    check_determinism: bool,
}

pub(super) fn cmd_replay(args: ReplayArgs) -> Result<bool, CliError> {
    let schedule_file = args.case.schedule.clone();
    let Case {
        path,
        sc,
        schedule,
        mutant,
        mut opts,
    } = case(args.case)?;
    if let Some(r) = args.registry {
        opts.registry = r.into();
    }
    opts.keep_trace_lines = args.check_determinism;
    if args.trace {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "regsim=debug".into());
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .without_time()
            .init();
    } else if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_target(false)
            .without_time()
            .init();
    }
    run::quiet_panics();
    let r = run::run_schedule(&sc, &schedule, &opts)?;
    print_result(&r);
    for j in &r.justifications {
        println!("  justified {j}");
    }
    if let Some(knobs) = run::swarm_knobs(&sc, &schedule) {
        println!("swarm knobs: {knobs}");
    }
    if !r.passed() {
        match &schedule_file {
            Some(file) => println!(
                "replay: {}",
                replay_schedule_command(file, mutant.as_deref(), opts.runtime)
            ),
            None => println!(
                "replay: {}",
                replay_command(&path, &sc, &r, &opts, mutant.as_deref())
            ),
        }
    }
    let mut ok = r.passed();
    if args.check_determinism {
        let again = run::run_schedule(&sc, &schedule, &opts)?;
        if again.trace_hash == r.trace_hash {
            println!(
                "deterministic: trace {:016x} twice ({} events)",
                r.trace_hash,
                r.trace_lines.len()
            );
        } else {
            ok = false;
            println!(
                "NONDETERMINISTIC: {:016x} vs {:016x}",
                r.trace_hash, again.trace_hash
            );
            if let Some((i, x, y)) = first_difference(&r.trace_lines, &again.trace_lines) {
                println!("first difference at event {i}:\n  {x}\n  {y}");
            }
        }
    }
    Ok(ok)
}
