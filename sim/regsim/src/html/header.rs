//! The page's head: the verdict, where the run came from, how it ran,
//! what it counted, and the command that replays it.

use std::collections::BTreeMap;

use maud::{html, Markup};

use super::Meta;
use writer_registry_sim::run::RunResult;
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::schedule::{Action, Schedule};

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
    let shape = Shape::of(meta.schedule, sc, r);
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
                    br;
                    span.note {
                        @if let Some(nominal) = shape.other_than {
                            "Of the scenario's " (nominal) " s runs (not this one): "
                        }
                        (description.join(" "))
                    }
                }
            } "\n"
            dt { "seed" } dd { (r.seed) } "\n"
            dt { "schedule" } dd { (shape.line) } "\n"
            dt { "runtime" } dd { (runtime(meta, sc, r)) } "\n"
            dt { "trace hash" } dd { code { (format!("{:016x}", r.trace_hash)) } } "\n"
            dt { "ending" } dd { (r.ending) } "\n"
            dt { "stats" } dd { (stats(r)) } "\n"
            dt { "replay" } dd { code.cmd { (meta.replay) } } "\n"
        }
    }
}

/// The run as its schedule had it, not as its scenario describes runs:
/// a shrunk schedule keeps a few of the seed's events and ends its fault
/// phase early.
struct Shape {
    /// How many events of which kinds, and where faults and the run ended.
    line: String,
    /// The scenario's fault phase, in seconds, when this schedule's ends
    /// elsewhere (a shrunk or edited schedule).
    other_than: Option<String>,
}

impl Shape {
    fn of(schedule: &Schedule, sc: &Scenario, r: &RunResult) -> Shape {
        let seconds = |us: u64| format!("{:.3}", us as f64 / 1e6);
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &schedule.events {
            *kinds.entry(e.action.kind()).or_default() += 1;
        }
        // Most frequent first; equal counts by name, so the line is the
        // same for the same schedule.
        let mut kinds: Vec<(&str, usize)> = kinds.into_iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let end_of_faults = schedule
            .events
            .iter()
            .find(|e| matches!(e.action, Action::EndOfFaults(_)))
            .map(|e| e.at_us);
        let nominal_us = sc.duration_ms * 1_000;
        let other_than = end_of_faults
            .is_some_and(|at| at != nominal_us)
            .then(|| seconds(nominal_us));
        let mut line = format!(
            "{} event{} ({}); ",
            schedule.events.len(),
            if schedule.events.len() == 1 { "" } else { "s" },
            kinds.join(", ")
        );
        match end_of_faults {
            Some(at) => line.push_str(&format!("faults end at {} s", seconds(at))),
            None => line.push_str("no end of faults"),
        }
        line.push_str(&format!(", the run at {} s", seconds(r.stats.virtual_us)));
        if let Some(nominal) = &other_than {
            line.push_str(&format!(
                " (a shrunk or edited schedule: the scenario's fault phase is {nominal} s)"
            ));
        }
        Shape { line, other_than }
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
