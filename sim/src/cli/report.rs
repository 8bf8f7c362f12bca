//! Printing shared by the commands: a run's result line with its
//! violations and findings, the command that replays a run, and where two
//! traces first differ.

use std::path::Path;

use crate::command::{Case, Replay};
use crate::run::{RunOptions, RunResult};
use crate::scenario::Scenario;

/// The command that replays the schedule `file` under the scenario at
/// `path`, [`pinned`].
pub(super) fn replay_schedule_command(
    path: &Path,
    file: &Path,
    sc: &Scenario,
    opts: &RunOptions,
    mutant: Option<&str>,
) -> String {
    let case = Case::Schedule {
        scenario: path,
        file,
    };
    pinned(sc, &command(case, sc, opts, mutant))
}

/// The command that replays `seed` of the scenario at `path`
/// ([`crate::command`]'s one form), bare: what a results file records (a command a shell or `shlex` splits as is;
/// the file's header names the commit).
pub(super) fn bare_replay_command(
    path: &Path,
    sc: &Scenario,
    seed: u64,
    opts: &RunOptions,
    mutant: Option<&str>,
) -> String {
    let case = Case::Seed {
        scenario: path,
        seed,
    };
    command(case, sc, opts, mutant)
}

/// A replay command with the scenario's policy and this build's commit
/// as a trailing shell comment, as a person reads it.
pub(super) fn pinned(sc: &Scenario, command: &str) -> String {
    format!(
        "{command}   # policy {:?}, commit {}",
        sc.policy,
        env!("REGSIM_COMMIT")
    )
}

fn command(case: Case, sc: &Scenario, opts: &RunOptions, mutant: Option<&str>) -> String {
    Replay {
        case,
        mutant,
        runtime: opts.runtime,
        registry: (opts.registry != sc.registry).then_some(opts.registry),
    }
    .to_string()
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
