//! `regsim replay`: re-run one case (a seed or a schedule file), print its
//! outcome, its trace with --trace, and with --check-determinism run it
//! twice and compare the traces event by event.

use clap::Args;

use super::case::{case_on, CaseArgs};
use super::report::print_result;
use super::{CliError, Registry};
use writer_registry_sim::run;
use writer_registry_sim::sweep::first_difference;

#[derive(Args)]
pub(super) struct ReplayArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// The registry store on the native runtime (default: the scenario's).
    #[arg(long, value_enum, conflicts_with = "runtime")]
    registry: Option<Registry>,
    /// Print the trace to standard output, one labelled line per event,
    /// before the result: `--trace` shows what happened to the nodes,
    /// their state and the cluster; `--trace=all` adds every tick, message
    /// and disk sync. RUST_LOG adds other crates' logs (RUST_LOG=fjall=debug)
    /// and, without --trace, sets the trace's own level (RUST_LOG=regsim=debug
    /// is --trace, regsim=trace is --trace=all).
    #[arg(
        long,
        value_enum,
        value_name = "WHAT",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "events"
    )]
    trace: Option<TraceDetail>,
    /// Run twice and compare the traces event by event.
    #[arg(long)]
    check_determinism: bool,
}

/// How much of the trace `--trace` prints.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TraceDetail {
    /// What happened to the nodes, their state and the cluster.
    Events,
    /// Also every tick, message and disk sync.
    All,
}

/// Sends the trace to standard output as `--trace` and RUST_LOG ask: the
/// target `regsim` at DEBUG (events) or TRACE (everything), plus whatever
/// other targets RUST_LOG names. With neither, nothing is installed and
/// no line is ever formatted.
fn print_trace(detail: Option<TraceDetail>) -> Result<(), CliError> {
    let rust_log = std::env::var("RUST_LOG").unwrap_or_default();
    let mut directives = rust_log.trim().to_string();
    if let Some(detail) = detail {
        // After RUST_LOG's own directives, so --trace decides regsim's level.
        let level = match detail {
            TraceDetail::Events => "debug",
            TraceDetail::All => "trace",
        };
        if !directives.is_empty() {
            directives.push(',');
        }
        directives.push_str(&format!("{}={level}", writer_registry_sim::trace::TARGET));
    }
    if directives.is_empty() {
        return Ok(());
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .map_err(|e| CliError(format!("RUST_LOG={rust_log:?}: {e}")))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| QuietStdout)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .event_format(TraceLines)
        .init();
    Ok(())
}

/// The trace's own lines as they are (the same text a determinism check
/// compares); any other crate's line prefixed with its level and target.
struct TraceLines;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for TraceLines
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        if meta.target() != writer_registry_sim::trace::TARGET {
            // fjall and lsm-tree log through `log`: their events arrive
            // with the target "log" and the real one in a field.
            let mut target = LogTarget(None);
            event.record(&mut target);
            let target = target.0.as_deref().unwrap_or(meta.target());
            write!(writer, "{} {target}: ", meta.level())?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The `log.target` field of an event that came from the `log` crate.
struct LogTarget(Option<String>);

impl tracing::field::Visit for LogTarget {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "log.target" {
            self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

/// Standard output that goes quiet once its reader has left
/// (`regsim replay --trace | head`): tracing would report each later
/// line's failure on standard error; the result line's own print then
/// ends the command as a closed standard output always does.
struct QuietStdout;

impl std::io::Write for QuietStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::io::stdout().write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match std::io::stdout().flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

pub(super) fn cmd_replay(args: ReplayArgs) -> Result<bool, CliError> {
    let (schedule_file, mut case) = case_on(args.case, args.registry)?;
    case.opts.keep_trace_lines = args.check_determinism;
    print_trace(args.trace)?;
    run::quiet_panics();
    let (sc, schedule, opts) = (&case.sc, &case.schedule, &case.opts);
    let r = run::run_schedule(sc, schedule, opts)?;
    print_result(&r);
    for j in &r.justifications {
        println!("  justified {j}");
    }
    if let Some(knobs) = run::swarm_knobs(sc, schedule) {
        println!("swarm knobs: {knobs}");
    }
    if !r.passed() {
        let replay = case.replay(schedule_file.as_ref(), r.seed);
        println!("{}", super::report::printed_replay("", sc, &replay));
    }
    let mut ok = r.passed();
    if args.check_determinism {
        let again = run::run_schedule(sc, schedule, opts)?;
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
