//! Printing shared by the commands: a run's result line with its
//! violations and findings, the command that replays a run, and where two
//! traces first differ.

use std::path::Path;

use crate::run::RunResult;
use crate::scenario::Scenario;

pub(super) fn replay_command(
    path: &Path,
    sc: &Scenario,
    seed: u64,
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
        seed,
        sc.policy,
        env!("REGSIM_COMMIT")
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
