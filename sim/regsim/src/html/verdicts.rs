//! The verdicts in words: each violation and finding with its time, node,
//! detail and what its oracle checks, and the halts and refusals the
//! scenario's injected causes justify.

use maud::{html, Markup};

use super::text::{secs, who};
use writer_registry_sim::run::RunResult;

/// What each oracle checks, for the explanation under a violation.
fn oracle_meaning(oracle: &str) -> &'static str {
    let family = oracle.split(':').next().unwrap_or(oracle);
    match family {
        "conformance" => "an independent model of the node (its own decoder, row layout and rules) disagreed with an apply, a halt or a registry row",
        "conformance-state" | "durability" => "at a stop or a reopen, the node's store was outside what the model allows: what reached a sync plus a whole-batch prefix of what was written since",
        "start-sequence" => "the model ran the spec's START-1..START-5 on its own rows and epoch file and ended the start differently",
        "snapshot-content" | "snapshot-source" => "a snapshot did not carry its taker's model state, or a restore did not become the source's",
        "library-digest" => "the FSM's incremental digest disagreed with its stored bytes",
        "client-visible" => "an acknowledged KV command is missing from a converged replica",
        "replica-agreement" => "two replicas at the same applied index hold different states",
        "sync-before-ack" => "an apply returned before its writes reached a sync",
        "purpose" => "nonce safety or halt justification failed while another oracle also failed",
        "finding-not-allowed" => "a purpose failure (nonce safety, or a halt or refusal without the injected cause of its kind behind it) while every node conformed, with a signature this scenario does not allow",
        "liveness" => "the cluster did not converge within the liveness bound after the fault phase",
        "livelock" => "an event watchdog fired: the run stopped making progress",
        "panic" => "the system under test panicked",
        "store-open" => "a node's store could not be opened, read or written",
        f if f.starts_with("raft-") => "a Raft safety property failed (one leader per term, leader completeness, the same entry at each index)",
        f if f.starts_with("invariant-") => "a synced registry row change broke one of the spec's invariants",
        _ => "see the oracle table in the README",
    }
}

pub(super) fn verdicts(r: &RunResult) -> Markup {
    if r.violations.is_empty() && r.findings.is_empty() {
        return html! {
            h2 { "Verdict" } "\n"
            p { "Every oracle passed and no finding showed." }
        };
    }
    let violations: Vec<Verdict> = r
        .violations
        .iter()
        .map(|v| (v.oracle.as_str(), v.at_us, v.node, v.detail.as_str()))
        .collect();
    let findings: Vec<Verdict> = r
        .findings
        .iter()
        .map(|f| (f.signature.as_str(), f.at_us, f.node, f.detail.as_str()))
        .collect();
    html! {
        (verdict_list(List {
            heading: "Violations",
            class: "violation",
            letter: 'V',
            meaning: oracle_meaning,
        }, &violations))
        (verdict_list(List {
            heading: "Findings (allowed by the scenario)",
            class: "finding",
            letter: 'F',
            meaning: |_| "a purpose failure while every node conformed; this scenario allows the signature",
        }, &findings))
    }
}

/// A violation or finding: its oracle or signature, time, node, detail.
type Verdict<'a> = (&'a str, u64, Option<u8>, &'a str);

/// How one list of verdicts is headed, named and explained.
struct List {
    heading: &'static str,
    /// The items' class, and their ids' stem (`violation-3`).
    class: &'static str,
    /// The markers' letter (`V3`).
    letter: char,
    meaning: fn(&str) -> &'static str,
}

/// One list item per run of equal verdicts (a finding recurs at every
/// restart with the same words): the first in full, the others by time,
/// each still the target of its marker's link.
fn verdict_list(l: List, list: &[Verdict]) -> Markup {
    if list.is_empty() {
        return html! {};
    }
    let mut runs = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let (name, _, node, detail) = list[i];
        let same = list[i..]
            .iter()
            .take_while(|&&(n, _, w, d)| n == name && w == node && d == detail)
            .count();
        runs.push((i, same));
        i += same;
    }
    let (class, letter) = (l.class, l.letter);
    let marker = letter.to_ascii_lowercase();
    html! {
        h2 { (l.heading) } "\n"
        ol.verdicts id={ (class) "s" } {
            "\n"
            @for &(i, same) in &runs {
                @let (name, at, node, detail) = list[i];
                li class=(class) id={ (class) "-" (i + 1) } value=(i + 1) {
                    b { (letter) (i + 1) " " (name) }
                    " at " (secs(at)) " on " (who(node)) ": " (detail)
                    @if same > 1 {
                        br;
                        "the same again " (same - 1) " time" (if same == 2 { "" } else { "s" }) ": "
                        @for k in i + 1..i + same {
                            @if k > i + 1 { ", " }
                            a id={ (class) "-" (k + 1) } href={ "#marker-" (marker) (k + 1) } {
                                (letter) (k + 1) " " (secs(list[k].1))
                            }
                        }
                    }
                    br;
                    span.what { ((l.meaning)(name)) }
                }
                "\n"
            }
        }
    }
}

pub(super) fn justifications(r: &RunResult) -> Markup {
    if r.justifications.is_empty() {
        return html! {};
    }
    html! {
        h2 { "Expected halts and refusals" } "\n"
        details {
            summary { (r.justifications.len()) " justified by the injected cause behind each" } "\n"
            ul {
                "\n"
                @for j in &r.justifications {
                    li { (j) } "\n"
                }
            }
            "\n"
        }
        "\n"
    }
}
