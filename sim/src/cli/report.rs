//! Printing shared by the commands: a run's result line with its
//! violations and findings, the command that replays a run, and where two
//! traces first differ.

use std::path::Path;

use crate::run::RunResult;
use crate::scenario::Scenario;

pub(super) fn replay_command(
    path: &Path,
    sc: &Scenario,
    r: &RunResult,
    opts: &crate::run::RunOptions,
    mutant: Option<&str>,
) -> String {
    let backend = match opts.runtime {
        crate::run::Runtime::Native => format!("--registry {}", opts.registry.name()),
        runtime => format!("--runtime {}", runtime.name()),
    };
    let (features, mutant) = match mutant {
        Some(m) => (" --features mutants", format!(" --mutant {m}")),
        None => ("", String::new()),
    };
    format!(
        "cargo run --release -p writer-registry-sim{features} --bin regsim -- replay --scenario {} --seed {} {backend}{mutant}   # policy {:?}, commit {}",
        path.display(),
        r.seed,
        sc.policy,
        env!("REGSIM_COMMIT")
    )
}

/// The command that replays a run named by its schedule file (a bare
/// schedule or a seeds/ entry, which names its own scenario).
pub(super) fn replay_schedule_command(
    file: &Path,
    mutant: Option<&str>,
    runtime: crate::run::Runtime,
) -> String {
    format!(
        "regsim replay --schedule {}{}{}",
        file.display(),
        mutant.map(|m| format!(" --mutant {m}")).unwrap_or_default(),
        match runtime {
            crate::run::Runtime::Native => String::new(),
            other => format!(" --runtime {}", other.name()),
        }
    )
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

pub(super) fn first_difference(a: &[String], b: &[String]) -> Option<(usize, String, String)> {
    let n = a.len().max(b.len());
    (0..n).find_map(|i| {
        let (x, y) = (a.get(i), b.get(i));
        (x != y).then(|| {
            (
                i,
                x.cloned().unwrap_or_else(|| "<end>".into()),
                y.cloned().unwrap_or_else(|| "<end>".into()),
            )
        })
    })
}
