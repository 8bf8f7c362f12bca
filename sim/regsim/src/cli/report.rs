//! Printing shared by the commands: a run's result line with its
//! violations and findings, the command that replays a run, and where two
//! traces first differ.

use std::path::Path;

use writer_registry_sim::command::{Case, Replay};
use writer_registry_sim::run::{RunOptions, RunResult};
use writer_registry_sim::scenario::Scenario;

/// The replay of the schedule `file` under the scenario at `path`.
pub(super) fn schedule_replay<'a>(
    path: &'a Path,
    file: &'a Path,
    sc: &Scenario,
    opts: &RunOptions,
    mutant: Option<&'a str>,
) -> Replay<'a> {
    let case = Case::Schedule {
        scenario: path,
        file,
    };
    replay(case, sc, opts, mutant)
}

/// The replay of `seed` of the scenario at `path`.
pub(super) fn seed_replay<'a>(
    path: &'a Path,
    sc: &Scenario,
    seed: u64,
    opts: &RunOptions,
    mutant: Option<&'a str>,
) -> Replay<'a> {
    let case = Case::Seed {
        scenario: path,
        seed,
    };
    replay(case, sc, opts, mutant)
}

/// The command that replays `seed` of the scenario at `path`
/// ([`writer_registry_sim::command`]'s `cargo run` form), bare: what a
/// results file records, read on any machine with a clone (a command a
/// shell or `shlex` splits as is; the file's header names the commit).
pub(super) fn bare_replay_command(
    path: &Path,
    sc: &Scenario,
    seed: u64,
    opts: &RunOptions,
    mutant: Option<&str>,
) -> String {
    seed_replay(path, sc, seed, opts, mutant).to_string()
}

/// How a replay is printed for the person who ran it, each line after
/// `indent`: `replay:` and this very binary with the arguments (nothing
/// to build), then the `cargo run` form for anyone else, [`pinned`] to
/// the commit it must be built at; the `cargo run` form alone when this
/// binary is gone.
pub(super) fn printed_replay(indent: &str, sc: &Scenario, replay: &Replay) -> String {
    let portable = replay.to_string();
    match writer_registry_sim::command::this_binary() {
        Some(exe) => format!(
            "{indent}replay: {}\n{indent}or, from a fresh clone: {}",
            replay.on(&exe),
            pinned(sc, &portable)
        ),
        None => format!("{indent}replay: {}", pinned(sc, &portable)),
    }
}

/// A replay command with the scenario's policy and this build's commit
/// as a trailing shell comment, as a person reads it.
pub(super) fn pinned(sc: &Scenario, command: &str) -> String {
    format!(
        "{command}   # policy {:?}, commit {}",
        sc.policy,
        writer_registry_sim::COMMIT
    )
}

fn replay<'a>(
    case: Case<'a>,
    sc: &Scenario,
    opts: &RunOptions,
    mutant: Option<&'a str>,
) -> Replay<'a> {
    Replay {
        case,
        mutant,
        runtime: opts.runtime,
        registry: (opts.registry != sc.registry).then_some(opts.registry),
    }
}

pub(super) fn print_result(r: &RunResult) {
    let s = &r.stats;
    println!(
        "seed {}: {} trace {:016x} | committed {} crashes {} power-losses {} snapshot-installs {} elections {} halts {} refusals {} virtual {:.1}s events {} | {}",
        r.seed,
        if r.passed() { "pass" } else { "FAIL" },
        r.trace_hash,
        s.committed,
        s.crashes,
        s.power_losses,
        s.snapshot_installs,
        s.elections,
        s.halts,
        s.refusals,
        s.virtual_us as f64 / 1e6,
        s.events,
        r.ending
    );
    for v in &r.violations {
        println!("  violation {v}");
    }
    let mut shown: Vec<(&str, &str, usize)> = Vec::new();
    for f in &r.findings {
        match shown
            .iter_mut()
            .find(|(s, d, _)| *s == f.signature && *d == f.detail)
        {
            Some(entry) => entry.2 += 1,
            None => shown.push((&f.signature, &f.detail, 1)),
        }
    }
    for (sig, detail, n) in shown {
        let times = if n > 1 {
            format!(" (x{n}: it recurs at every restart)")
        } else {
            String::new()
        };
        println!("  finding {sig}{times}: {detail}");
    }
}
