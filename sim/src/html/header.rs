//! The page's head: the verdict, where the run came from, how it ran,
//! what it counted, and the command that replays it.

use maud::{html, Markup};

use super::Meta;
use crate::run::RunResult;
use crate::scenario::Scenario;

pub(super) fn header(meta: &Meta, sc: &Scenario, r: &RunResult, title: &str) -> Markup {
    let (class, verdict) = if r.passed() {
        ("pass", "pass".to_string())
    } else {
        (
            "fail",
            format!(
                "FAIL: {} violation{} ({})",
                r.violations.len(),
                if r.violations.len() == 1 { "" } else { "s" },
                r.failed_oracles().join(", ")
            ),
        )
    };
    // The description is TOML text wrapped at will: one paragraph here.
    let description = sc.description.split_whitespace().collect::<Vec<_>>();
    html! {
        h1 { (title) } "\n"
        dl.meta {
            "\n"
            dt { "verdict" } dd { span.verdict.(class) { (verdict) } } "\n"
            dt { "scenario" }
            dd {
                b { (sc.name) } " (run from " (meta.source) ")"
                @if !description.is_empty() {
                    br; span.note { (description.join(" ")) }
                }
            } "\n"
            dt { "seed" } dd { (r.seed) } "\n"
            dt { "runtime" } dd { (runtime(meta, sc, r)) } "\n"
            dt { "trace hash" } dd { code { (format!("{:016x}", r.trace_hash)) } } "\n"
            dt { "ending" } dd { (r.ending) } "\n"
            dt { "stats" } dd { (stats(r)) } "\n"
            dt { "replay" } dd { code.cmd { (meta.replay) } } "\n"
        }
    }
}

/// Runtime, registry, policy and cluster size, in lower case as the
/// command line names them; the mutant's name stands out.
fn runtime(meta: &Meta, sc: &Scenario, r: &RunResult) -> Markup {
    let how = format!(
        "{}, {} registry, {:?} policy, {} nodes",
        r.runtime.name(),
        meta.registry.name(),
        sc.policy,
        sc.nodes
    )
    .to_lowercase();
    html! {
        (how)
        @if let Some(m) = meta.mutant {
            ", mutant " b { (m) }
        }
    }
}

fn stats(r: &RunResult) -> String {
    let s = &r.stats;
    format!(
        "virtual {:.3} s, committed {}, kv proposed {} and applied {} times (all replicas), elections {}, crashes {}, power losses {}, restarts {}, snapshots {} taken / {} installed, halts {} ({} justified), refusals {} ({} justified), messages {}, events {}",
        s.virtual_us as f64 / 1e6,
        s.committed,
        s.kv_proposed,
        s.kv_applied,
        s.elections,
        s.crashes,
        s.power_losses,
        s.restarts,
        s.snapshots_taken,
        s.snapshot_installs,
        s.halts,
        r.justified_halts,
        s.refusals,
        r.justified_refusals,
        s.messages,
        s.events
    )
}
