//! One run as a self-contained HTML page (`regsim report`): a header with
//! the verdict and the command that replays the run, an SVG timeline with
//! one lane per node (roles and terms, down periods, faults, applies and
//! registrations, halts and refusals) with every violation and finding
//! marked, what each one means, and each node's registry rows at the first
//! violation, decoded and in the hex `regsim inspect row` takes.
//!
//! The page needs nothing but itself: inline CSS, inline SVG, no script,
//! no external reference (a hover shows an SVG `<title>`). It is built
//! from the events a run keeps ([`crate::run::RunOptions::keep_events`]);
//! a run without them still renders, with empty lanes.

use std::collections::BTreeMap;
use std::fmt::Write;

use writer_registry::hex;
use writer_registry::ids::full_node_id;
use writer_registry::registry::{RowKey, RowValue};

use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::store::RegistryKind;
use crate::trace::kinds::{self, Kind};
use crate::trace::{Event, ROWS};

/// What the page says about where its run came from.
#[derive(Debug, Clone)]
pub struct Meta<'a> {
    /// The file the run came from (a scenario, a schedule or a seeds/ entry).
    pub source: &'a str,
    /// The command that replays the run, shown as given.
    pub replay: &'a str,
    /// The mutant the run ran, if any.
    pub mutant: Option<&'a str>,
    /// The registry the run used (on the native runtime).
    pub registry: RegistryKind,
}

/// Escapes text for HTML element content and attribute values (quoted
/// with `"` or `'`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page of one run. `sc` is the scenario as the run saw it (for a
/// swarm seed or a shrunk schedule, as `Schedule::scenario_of` makes it);
/// lanes are added for any node the events or verdicts name beyond it.
/// `result` should carry its events ([`crate::run::RunOptions::keep_events`]).
pub fn render(meta: &Meta, sc: &Scenario, result: &RunResult) -> String {
    let timeline = Timeline::build(sc, result);
    let mut page = String::with_capacity(64 * 1024);
    let verdict = if result.passed() { "pass" } else { "FAIL" };
    let title = format!("regsim report: {} seed {}: {verdict}", sc.name, result.seed);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    header(&mut page, meta, sc, result, &title);
    let _ = write!(
        page,
        "<h2>Timeline</h2>\n<div class=\"timeline\">\n{}</div>\n",
        timeline.svg(result)
    );
    page.push_str(&legend());
    verdicts(&mut page, result);
    rows_section(&mut page, &timeline, result);
    justifications(&mut page, result);
    page.push_str("</body>\n</html>\n");
    page
}

const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;margin:16px 24px;max-width:1360px}
h1{font-size:20px;margin:0 0 8px}
h2{font-size:16px;margin:20px 0 6px;border-bottom:1px solid #d0d7de;padding-bottom:2px}
h3{font-size:14px;margin:12px 0 4px}
.verdict{display:inline-block;padding:1px 8px;border-radius:4px;color:#fff;font-weight:600}
.verdict.pass{background:#1a7f37}.verdict.fail{background:#cf222e}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
dl.meta dt{color:#57606a}dl.meta dd{margin:0}
code,.hex{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
code.cmd{display:block;background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;padding:4px 8px;white-space:pre-wrap;overflow-wrap:anywhere}
.timeline{overflow-x:auto;border:1px solid #d0d7de;border-radius:4px;background:#fff}
svg text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:8px 0;font-size:12px;color:#424a53}
.legend span{display:inline-flex;align-items:center;gap:4px}
ol.verdicts li{margin:4px 0}
ol.verdicts .what{color:#57606a}
li.violation b{color:#cf222e}li.finding b{color:#bc4c00}
table.rows{border-collapse:collapse;margin:4px 0 10px;font-size:12px}
table.rows th,table.rows td{border:1px solid #d0d7de;padding:2px 6px;text-align:left;vertical-align:top}
table.rows th{background:#f6f8fa}
td.bad{color:#cf222e}
tr.named td{background:#fff8c5}
.note{color:#57606a;font-size:12px}
";

fn header(page: &mut String, meta: &Meta, sc: &Scenario, r: &RunResult, title: &str) {
    let s = &r.stats;
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
    let _ = writeln!(page, "<h1>{}</h1>", escape(title));
    let _ = writeln!(page, "<dl class=\"meta\">");
    let mut item = |name: &str, value: String| {
        let _ = writeln!(page, "<dt>{name}</dt><dd>{value}</dd>");
    };
    item(
        "verdict",
        format!(
            "<span class=\"verdict {class}\">{}</span>",
            escape(&verdict)
        ),
    );
    let description = sc.description.split_whitespace().collect::<Vec<_>>();
    item(
        "scenario",
        format!(
            "<b>{}</b> (run from {}){}",
            escape(&sc.name),
            escape(meta.source),
            if description.is_empty() {
                String::new()
            } else {
                format!(
                    "<br><span class=\"note\">{}</span>",
                    escape(&description.join(" "))
                )
            }
        ),
    );
    item("seed", r.seed.to_string());
    item(
        "runtime",
        format!(
            "{}, {} registry, {:?} policy, {} nodes{}",
            r.runtime.name(),
            meta.registry.name(),
            sc.policy,
            sc.nodes,
            meta.mutant
                .map(|m| format!(", mutant <b>{}</b>", escape(m)))
                .unwrap_or_default()
        )
        .to_lowercase(),
    );
    item("trace hash", format!("<code>{:016x}</code>", r.trace_hash));
    item("ending", escape(&r.ending));
    item(
        "stats",
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
        ),
    );
    item(
        "replay",
        format!("<code class=\"cmd\">{}</code>", escape(meta.replay)),
    );
    let _ = writeln!(page, "</dl>");
}

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

fn verdicts(page: &mut String, r: &RunResult) {
    if r.violations.is_empty() && r.findings.is_empty() {
        page.push_str("<h2>Verdict</h2>\n<p>Every oracle passed and no finding showed.</p>\n");
        return;
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
    verdict_list(
        page,
        "Violations",
        "violation",
        'V',
        &violations,
        oracle_meaning,
    );
    verdict_list(
        page,
        "Findings (allowed by the scenario)",
        "finding",
        'F',
        &findings,
        |_| "a purpose failure while every node conformed; this scenario allows the signature",
    );
}

/// A violation or finding: its oracle or signature, time, node, detail.
type Verdict<'a> = (&'a str, u64, Option<u8>, &'a str);

/// One list item per run of equal verdicts (a finding recurs at every
/// restart with the same words): the first in full, the others by time,
/// each still the target of its marker's link.
fn verdict_list(
    page: &mut String,
    heading: &str,
    class: &str,
    letter: char,
    list: &[Verdict],
    meaning: fn(&str) -> &'static str,
) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h2>{heading}</h2>\n<ol class=\"verdicts\" id=\"{class}s\">"
    );
    let mut i = 0;
    while i < list.len() {
        let (name, at, node, detail) = list[i];
        let same = list[i..]
            .iter()
            .take_while(|&&(n, _, w, d)| n == name && w == node && d == detail)
            .count();
        let _ = write!(
            page,
            "<li class=\"{class}\" id=\"{class}-{}\" value=\"{}\"><b>{letter}{} {}</b> at {} on {}: {}",
            i + 1,
            i + 1,
            i + 1,
            escape(name),
            secs(at),
            who(node),
            escape(detail)
        );
        if same > 1 {
            let again: Vec<String> = (i + 1..i + same)
                .map(|k| {
                    format!(
                        "<a id=\"{class}-{}\" href=\"#marker-{}{}\">{letter}{} {}</a>",
                        k + 1,
                        letter.to_ascii_lowercase(),
                        k + 1,
                        k + 1,
                        secs(list[k].1)
                    )
                })
                .collect();
            let _ = write!(
                page,
                "<br>the same again {} time{}: {}",
                same - 1,
                if same == 2 { "" } else { "s" },
                again.join(", ")
            );
        }
        let _ = writeln!(
            page,
            "<br><span class=\"what\">{}</span></li>",
            escape(meaning(name))
        );
        i += same;
    }
    page.push_str("</ol>\n");
}

fn justifications(page: &mut String, r: &RunResult) {
    if r.justifications.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h2>Expected halts and refusals</h2>\n<details><summary>{} justified by the injected cause behind each</summary>\n<ul>",
        r.justifications.len()
    );
    for j in &r.justifications {
        let _ = writeln!(page, "<li>{}</li>", escape(j));
    }
    page.push_str("</ul>\n</details>\n");
}

fn secs(at_us: u64) -> String {
    format!("{:.6} s", at_us as f64 / 1e6)
}

fn who(node: Option<u8>) -> String {
    node.map_or_else(
        || "the cluster".to_string(),
        |n| format!("n{}", u32::from(n) + 1),
    )
}

/// The Raft id whose production full id is `full`, among `nodes` members.
fn owner_name(full: u64, nodes: usize) -> Option<String> {
    (1..=nodes)
        .map(|k| format!("n{k}"))
        .find(|name| full_node_id(name) == full)
}

fn rows_section(page: &mut String, t: &Timeline, r: &RunResult) {
    let (at, why) = if let Some(v) = r.violations.first() {
        (v.at_us, format!("at the first violation (V1 {})", v.oracle))
    } else if let Some(f) = r.findings.first() {
        (
            f.at_us,
            format!("at the first finding (F1 {})", f.signature),
        )
    } else {
        (t.end_us, "at the end of the run".to_string())
    };
    let _ = writeln!(
        page,
        "<h2 id=\"rows\">Registry rows {}, {}</h2>",
        escape(&why),
        secs(at)
    );
    if !t.has_row_events {
        page.push_str("<p class=\"note\">This run kept no row events: no rows to show.</p>\n");
        return;
    }
    page.push_str("<p class=\"note\">Each node's registry space as its store held it at that moment (the last scan at a stop, reopen or restore, and every registration since). Rows the verdict's text names are highlighted; the last column names the nodes that hold other bytes for the same key. Hover a row for the command that decodes it: <code>regsim inspect row KEY VALUE</code>.</p>\n");
    let named = r
        .violations
        .first()
        .map(|v| v.detail.as_str())
        .or(r.findings.first().map(|f| f.detail.as_str()))
        .unwrap_or("");
    let blamed = r
        .violations
        .first()
        .map(|v| v.node)
        .or(r.findings.first().map(|f| f.node))
        .flatten()
        .map(usize::from);
    let all: Vec<_> = (0..t.nodes)
        .map(|node| rows_at(&r.events, node as u8, at))
        .collect();
    for (node, rows) in all.iter().enumerate() {
        let _ = writeln!(
            page,
            "<h3>n{} <span class=\"note\">({} row{}{})</span></h3>",
            node + 1,
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            if blamed == Some(node) {
                "; the node the verdict names"
            } else {
                ""
            }
        );
        if rows.is_empty() {
            let _ = writeln!(
                page,
                "<p class=\"note\" id=\"rows-n{}\">no rows</p>",
                node + 1
            );
            continue;
        }
        let _ = writeln!(
            page,
            "<table class=\"rows\" id=\"rows-n{}\">\n<tr><th>dek</th><th>node16</th><th>owner (full node id)</th><th>first_seen</th><th>last_seen</th><th>key hex</th><th>value hex</th><th>other bytes on</th></tr>",
            node + 1
        );
        for (key, value) in rows {
            let differs: Vec<String> = all
                .iter()
                .enumerate()
                .filter(|&(other, theirs)| other != node && theirs.get(key) != Some(value))
                .map(|(other, theirs)| {
                    let bytes = theirs
                        .get(key)
                        .map_or("no row".to_string(), |v| hex::encode(v));
                    format!("n{}: {bytes}", other + 1)
                })
                .collect();
            row_line(page, key, value, t.nodes, named, &differs);
        }
        page.push_str("</table>\n");
    }
}

/// One row: decoded, in hex, highlighted when `named` (the verdict's
/// text) quotes its bytes, and with the nodes that hold other bytes.
fn row_line(
    page: &mut String,
    key: &[u8],
    value: &[u8],
    nodes: usize,
    named: &str,
    differs: &[String],
) {
    let (kh, vh) = (hex::encode(key), hex::encode(value));
    let decoded = match (RowKey::decode(key), RowValue::decode(value)) {
        (Ok(k), Ok(v)) => {
            let owner = owner_name(v.full_node_id, nodes)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let mut cells = format!(
                "<td>{}</td><td>{:#06x}</td><td class=\"hex\">{:#018x}{owner}</td>",
                k.dek, k.node16, v.full_node_id
            );
            // The inspector's warnings (a broken invariant) say more than
            // the fields: show them with the fields they concern.
            let warnings: Vec<String> = crate::inspect::row(&kh, &vh)
                .map(|text| {
                    text.lines()
                        .filter_map(|l| l.strip_prefix("warning: "))
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            if warnings.is_empty() {
                let _ = write!(cells, "<td>{}</td><td>{}</td>", v.first_seen, v.last_seen);
            } else {
                let _ = write!(
                    cells,
                    "<td class=\"bad\">{}</td><td class=\"bad\" title=\"{}\">{} &#9888;</td>",
                    v.first_seen,
                    escape(&warnings.join("; ")),
                    v.last_seen
                );
            }
            cells
        }
        (key_result, value_result) => {
            let mut errors = Vec::new();
            if let Err(e) = key_result {
                errors.push(format!("key: {e}"));
            }
            if let Err(e) = value_result {
                errors.push(format!("value: {e}"));
            }
            format!(
                "<td colspan=\"5\" class=\"bad\">malformed row: {}</td>",
                escape(&errors.join("; "))
            )
        }
    };
    let class = if named.contains(&kh) || named.contains(&vh) {
        " class=\"named\""
    } else {
        ""
    };
    let elsewhere = if differs.is_empty() {
        "<td class=\"note\">-</td>".to_string()
    } else {
        let who: Vec<&str> = differs.iter().filter_map(|d| d.split(':').next()).collect();
        format!(
            "<td class=\"bad\" title=\"{}\">{}</td>",
            escape(&differs.join("; ")),
            who.join(" ")
        )
    };
    let _ = writeln!(
        page,
        "<tr title=\"regsim inspect row {kh} {vh}\"{class}>{decoded}<td class=\"hex\">{kh}</td><td class=\"hex\">{vh}</td>{elsewhere}</tr>"
    );
}

/// A node's registry rows (key to value) at `at_us`: its last full scan
/// (a `rows` event) at or before then, with every row change since.
pub fn rows_at(events: &[Event], node: u8, at_us: u64) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut rows = BTreeMap::new();
    for e in events
        .iter()
        .take_while(|e| e.at_us <= at_us)
        .filter(|e| e.node == Some(node))
    {
        if e.kind == ROWS {
            rows.clear();
            for pair in e.bytes.chunks(2) {
                if let [k, v] = pair {
                    rows.insert(k.clone(), v.clone());
                }
            }
        } else if e.kind == kinds::ROW.name() || e.kind == kinds::ROW_CORRUPTED.name() {
            match e.bytes.as_slice() {
                [k, v] => {
                    rows.insert(k.clone(), v.clone());
                }
                [k] => {
                    rows.remove(k);
                }
                _ => {}
            }
        }
    }
    rows
}

// ---------------------------------------------------------------- timeline

/// Why a node was down: the trace's reason codes
/// (`regsim_engine::process::DownReason::code`).
const DOWN: [(&str, &str); 4] = [
    ("crashed", "#adb5bd"),
    ("halted", "#f4a261"),
    ("refused", "#9d4edd"),
    ("broken", "#343a40"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Glyph {
    Restart,
    Crash,
    PowerLoss,
    Snapshot,
    Insert,
    Advance,
    NoOp,
    Halt,
    Refusal,
    Rollback,
    Corrupted,
    Injected,
}

impl Glyph {
    const ALL: [(Glyph, &'static str); 12] = [
        (Glyph::Restart, "start / restart"),
        (Glyph::Crash, "crash"),
        (Glyph::PowerLoss, "power loss"),
        (Glyph::Snapshot, "snapshot restored"),
        (Glyph::Insert, "registration: insert"),
        (Glyph::Advance, "registration: advance"),
        (Glyph::NoOp, "registration: no-op"),
        (Glyph::Halt, "halt"),
        (Glyph::Refusal, "start refused"),
        (Glyph::Rollback, "epoch file rolled back"),
        (Glyph::Corrupted, "row damaged"),
        (
            Glyph::Injected,
            "injected entry / store fault / epoch preset",
        ),
    ];

    /// The glyph's SVG centred on (x, y), with `tip` as its hover text.
    fn draw(self, x: f64, y: f64, tip: &str) -> String {
        let shape = match self {
            Glyph::Restart => format!(
                "<path d=\"M{x:.1},{:.1}l5,9h-10z\" fill=\"#2b9348\"/>",
                y - 5.0
            ),
            Glyph::Crash => format!(
                "<path d=\"M{:.1},{:.1}l8,8m0,-8l-8,8\" stroke=\"#c1121f\" stroke-width=\"2.2\"/>",
                x - 4.0,
                y - 4.0
            ),
            Glyph::PowerLoss => format!(
                "<path d=\"M{:.1},{:.1}l-5,8h4l-2,7l7,-9h-4l2,-6z\" fill=\"#ffd60a\" stroke=\"#7f5539\" stroke-width=\"0.8\"/>",
                x + 1.0,
                y - 8.0
            ),
            Glyph::Snapshot => format!(
                "<path d=\"M{x:.1},{:.1}l5,6l-5,6l-5,-6z\" fill=\"#0096c7\"/>",
                y - 6.0
            ),
            Glyph::Insert | Glyph::Advance | Glyph::NoOp => {
                let colour = match self {
                    Glyph::Insert => "#2b9348",
                    Glyph::Advance => "#1d4ed8",
                    _ => "#868e96",
                };
                format!(
                    "<path d=\"M{x:.1},{:.1}v13\" stroke=\"{colour}\" stroke-width=\"1.6\"/><circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"2.6\" fill=\"{colour}\"/>",
                    y - 4.0,
                    y - 5.0
                )
            }
            Glyph::Halt => format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"9\" height=\"9\" fill=\"#d62828\" stroke=\"#fff\" stroke-width=\"0.8\"/>",
                x - 4.5,
                y - 4.5
            ),
            Glyph::Refusal => format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"9\" height=\"9\" fill=\"#7b2cbf\" stroke=\"#fff\" stroke-width=\"0.8\" transform=\"rotate(45 {x:.1} {y:.1})\"/>",
                x - 4.5,
                y - 4.5
            ),
            Glyph::Rollback => format!(
                "<path d=\"M{x:.1},{:.1}l5,-9h-10z\" fill=\"#8d5524\"/>",
                y + 5.0
            ),
            Glyph::Corrupted => format!(
                "<path d=\"M{:.1},{y:.1}h10M{x:.1},{:.1}v10M{:.1},{:.1}l7,7m0,-7l-7,7\" stroke=\"#d63384\" stroke-width=\"1.6\"/>",
                x - 5.0,
                y - 5.0,
                x - 3.5,
                y - 3.5
            ),
            Glyph::Injected => format!(
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#fff\" stroke=\"#000\" stroke-width=\"1.6\"/>"
            ),
        };
        if tip.is_empty() {
            shape
        } else {
            format!("<g><title>{}</title>{shape}</g>", escape(tip))
        }
    }
}

/// An interval of a lane, with its hover text.
#[derive(Debug, Clone)]
struct Span {
    from: u64,
    to: u64,
    /// Down: the reason code; leader: the term.
    code: u64,
    tip: String,
    /// Drawn inside the span when it fits (a cut's sides).
    label: String,
}

#[derive(Debug, Clone)]
struct Mark {
    at: u64,
    glyph: Glyph,
    tip: String,
}

/// Applies that are not registrations, counted per time bin: thousands
/// of KV applies would otherwise be thousands of SVG elements.
#[derive(Debug, Clone, Default)]
struct Bin {
    kv: u64,
    empty: u64,
    replays: u64,
    first_index: u64,
    last_index: u64,
}

#[derive(Debug, Clone, Default)]
struct Lane {
    down: Vec<Span>,
    paused: Vec<Span>,
    leader: Vec<Span>,
    marks: Vec<Mark>,
    bins: BTreeMap<u64, Bin>,
}

/// The run's events folded into what the lanes draw.
struct Timeline {
    nodes: usize,
    end_us: u64,
    lanes: Vec<Lane>,
    /// Cluster-wide spans: partitions and one-way cuts until they heal.
    links: Vec<Span>,
    end_of_faults: Option<u64>,
    has_row_events: bool,
    /// Time per apply bin.
    bin_us: u64,
    /// Where the lanes start.
    top: f64,
}

/// Width of the time axis, in pixels, and of one apply bin.
const PLOT_W: f64 = 1200.0;
const LABEL_W: f64 = 56.0;
const BIN_PX: f64 = 6.0;
/// Above the lanes: room for the verdict markers' labels, when any.
const TOP: f64 = 40.0;
const TOP_BARE: f64 = 8.0;
const CLUSTER_H: f64 = 22.0;
const LANE_H: f64 = 60.0;
const LANE_GAP: f64 = 8.0;
/// A node lane, top to bottom: the leader strip, the state band with the
/// marks on it, the apply bars.
const BAND_TOP: f64 = 17.0;
const BAND_H: f64 = 26.0;

impl Timeline {
    fn build(sc: &Scenario, r: &RunResult) -> Timeline {
        let named = r
            .events
            .iter()
            .filter_map(|e| e.node)
            .chain(r.violations.iter().filter_map(|v| v.node))
            .chain(r.findings.iter().filter_map(|f| f.node))
            .map(|n| usize::from(n) + 1)
            .max()
            .unwrap_or(0);
        let nodes = usize::from(sc.nodes).max(named);
        let end_us = r
            .stats
            .virtual_us
            .max(r.events.last().map_or(0, |e| e.at_us))
            .max(r.violations.iter().map(|v| v.at_us).max().unwrap_or(0))
            .max(1);
        let bin_us = ((end_us as f64 * BIN_PX / PLOT_W) as u64).max(1);
        let t = Timeline {
            nodes,
            end_us,
            lanes: vec![Lane::default(); nodes],
            links: Vec::new(),
            end_of_faults: None,
            has_row_events: false,
            bin_us,
            top: if r.violations.is_empty() && r.findings.is_empty() {
                TOP_BARE
            } else {
                TOP
            },
        };
        let mut b = Builder {
            t,
            events: &r.events,
            run_end_us: r.stats.virtual_us,
            down_since: vec![None; nodes],
            paused_since: vec![None; nodes],
            leading: None,
            cut: None,
            last_crash_cause: vec![String::new(); nodes],
            last_halt: vec![None; nodes],
        };
        for (i, e) in r.events.iter().enumerate() {
            match e.node.map(usize::from) {
                None => b.cluster_event(e),
                Some(n) if n < nodes => b.node_event(i, e, n),
                Some(_) => {}
            }
        }
        b.finish()
    }

    fn x(&self, at_us: u64) -> f64 {
        LABEL_W + at_us.min(self.end_us) as f64 / self.end_us as f64 * PLOT_W
    }

    fn lane_y(&self, node: usize) -> f64 {
        self.top + CLUSTER_H + LANE_GAP + node as f64 * (LANE_H + LANE_GAP)
    }

    fn svg(&self, r: &RunResult) -> String {
        let axis_y = self.lane_y(self.nodes);
        let height = axis_y + 26.0;
        let width = LABEL_W + PLOT_W + 24.0;
        let mut s = String::with_capacity(32 * 1024);
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-size=\"11\">"
        );
        let _ = writeln!(
            s,
            "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fff3bf\"/><path d=\"M0,0v6\" stroke=\"#e0b000\" stroke-width=\"2\"/></pattern></defs>"
        );
        self.axis(&mut s, axis_y);
        self.cluster_lane(&mut s);
        for node in 0..self.nodes {
            self.lane(&mut s, node);
        }
        self.verdict_markers(&mut s, r, axis_y);
        s.push_str("</svg>\n");
        s
    }

    fn axis(&self, s: &mut String, axis_y: f64) {
        let step = nice_step(self.end_us);
        let _ = writeln!(s, "<g id=\"axis\" fill=\"#57606a\" stroke=\"none\">");
        let mut at = 0;
        while at <= self.end_us {
            let x = self.x(at);
            let _ = writeln!(
                s,
                "<path d=\"M{x:.1},{:.1}V{:.1}\" stroke=\"#eaeef2\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                self.top,
                axis_y,
                axis_y + 14.0,
                seconds_label(at, step)
            );
            at += step;
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">virtual time (s)</text>",
            LABEL_W + PLOT_W,
            axis_y + 24.0
        );
        if let Some(end) = self.end_of_faults {
            let x = self.x(end);
            let _ = writeln!(
                s,
                "<g><title>end of the fault phase at {}: the network heals, every node resumes and restarts; liveness is owed from here</title><path d=\"M{x:.1},{:.1}V{axis_y:.1}\" stroke=\"#57606a\" stroke-dasharray=\"2 3\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{}\">end of faults</text></g>",
                secs(end),
                self.top,
                if x > LABEL_W + PLOT_W - 80.0 { x - 3.0 } else { x + 3.0 },
                self.top + CLUSTER_H - 7.0,
                if x > LABEL_W + PLOT_W - 80.0 { "end" } else { "start" }
            );
        }
        s.push_str("</g>\n");
    }

    fn cluster_lane(&self, s: &mut String) {
        let y = self.top;
        let _ = writeln!(
            s,
            "<g id=\"lane-cluster\" class=\"lane cluster\"><text x=\"4\" y=\"{:.1}\" font-weight=\"600\">network</text><rect x=\"{LABEL_W}\" y=\"{y:.1}\" width=\"{PLOT_W}\" height=\"{CLUSTER_H}\" fill=\"#f6f8fa\"/>",
            y + 15.0
        );
        for span in &self.links {
            let (x0, x1) = (self.x(span.from), self.x(span.to));
            let _ = writeln!(
                s,
                "<g class=\"cut\"><title>{}</title><rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ffc9c9\" stroke=\"#e03131\" stroke-width=\"0.6\"/>",
                escape(&span.tip),
                y + 3.0,
                (x1 - x0).max(1.5),
                CLUSTER_H - 6.0
            );
            if x1 - x0 >= span.label.chars().count() as f64 * 6.0 + 6.0 {
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#a61e1e\" font-size=\"10\">{}</text>",
                    x0 + 3.0,
                    y + 14.5,
                    escape(&span.label)
                );
            }
            s.push_str("</g>\n");
        }
        s.push_str("</g>\n");
    }

    fn lane(&self, s: &mut String, node: usize) {
        let lane = &self.lanes[node];
        let y = self.lane_y(node);
        let band_y = y + BAND_TOP;
        let mid = self.band_mid(node);
        let _ = writeln!(
            s,
            "<g id=\"lane-n{}\" class=\"lane node\" data-node=\"{}\">",
            node + 1,
            node + 1
        );
        let _ = writeln!(
            s,
            "<path d=\"M0,{:.1}H{:.1}\" stroke=\"#d0d7de\"/><text x=\"8\" y=\"{:.1}\" font-size=\"15\" font-weight=\"700\">n{}</text><rect x=\"{LABEL_W}\" y=\"{band_y:.1}\" width=\"{PLOT_W}\" height=\"{BAND_H}\" fill=\"#e7f5ff\"/>",
            y - LANE_GAP / 2.0,
            LABEL_W + PLOT_W + 24.0,
            mid + 5.0,
            node + 1
        );
        for span in &lane.paused {
            self.band(s, span, band_y, "url(#hatch)", "paused");
        }
        for span in &lane.down {
            let colour = DOWN.get(span.code as usize).map_or("#000", |d| d.1);
            let class = DOWN.get(span.code as usize).map_or("down", |d| d.0);
            self.band(s, span, band_y, colour, class);
        }
        for span in &lane.leader {
            let (x0, x1) = (self.x(span.from), self.x(span.to));
            let w = (x1 - x0).max(1.5);
            let _ = write!(
                s,
                "<g class=\"leader\"><title>{}</title><rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"12\" fill=\"#1c7ed6\" rx=\"2\"/>",
                escape(&span.tip),
                y + 3.0
            );
            let label = format!("T{}", span.code);
            if w >= label.len() as f64 * 6.0 + 6.0 {
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#fff\" font-size=\"10\" font-weight=\"600\">{label}</text>",
                    x0 + 3.0,
                    y + 12.5
                );
            }
            s.push_str("</g>\n");
        }
        // Applies that are not registrations: one bar per bin, its height
        // growing with the count.
        let strip_bottom = y + LANE_H - 2.0;
        // Bars are the page's most numerous element: the fill is the
        // group's and the hover text short.
        s.push_str("<g class=\"applies\" fill=\"#74808c\">\n");
        for (bin, b) in &lane.bins {
            let count = b.kv + b.empty;
            let h = (2.0 + (count as f64).log2() * 2.0).min(12.0);
            let at = bin * self.bin_us;
            let x = self.x(at);
            let fill = if b.replays == count {
                " fill=\"#74c0fc\""
            } else {
                ""
            };
            let replays = if b.replays > 0 {
                format!(", {} replayed", b.replays)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{}\" height=\"{h:.1}\"{fill}><title>n{}: {count} appl{} from {:.3} s, index {}..{} ({} kv, {} empty{replays})</title></rect>",
                strip_bottom - h,
                BIN_PX - 1.0,
                node + 1,
                if count == 1 { "y" } else { "ies" },
                at as f64 / 1e6,
                b.first_index,
                b.last_index,
                b.kv,
                b.empty,
            );
        }
        s.push_str("</g>\n");
        for m in &lane.marks {
            s.push_str(&m.glyph.draw(self.x(m.at), mid, &m.tip));
            s.push('\n');
        }
        s.push_str("</g>\n");
    }

    /// The vertical middle of a node's state band, where its marks sit.
    fn band_mid(&self, node: usize) -> f64 {
        self.lane_y(node) + BAND_TOP + BAND_H / 2.0
    }

    fn band(&self, s: &mut String, span: &Span, y: f64, fill: &str, class: &str) {
        let (x0, x1) = (self.x(span.from), self.x(span.to));
        let _ = writeln!(
            s,
            "<g class=\"{class}\"><title>{}</title><rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAND_H}\" fill=\"{fill}\"/></g>",
            escape(&span.tip),
            (x1 - x0).max(1.0)
        );
    }

    fn verdict_markers(&self, s: &mut String, r: &RunResult, axis_y: f64) {
        let violations = r
            .violations
            .iter()
            .map(|v| (&v.oracle, v.at_us, v.node, &v.detail));
        let findings = r
            .findings
            .iter()
            .map(|f| (&f.signature, f.at_us, f.node, &f.detail));
        // Markers past this many only clutter: the list below has them all.
        let marks = violations
            .enumerate()
            .map(|(i, m)| ("violation", 'V', i + 1, m))
            .chain(
                findings
                    .enumerate()
                    .map(|(i, m)| ("finding", 'F', i + 1, m)),
            )
            .take(MAX_MARKERS)
            .collect::<Vec<_>>();
        let xs: Vec<f64> = marks.iter().map(|(_, _, _, m)| self.x(m.1)).collect();
        // Two rows of labels; a label goes where it overlaps none placed
        // before it, long when no later marker is under it, else just its
        // number (the hover and the list below say the rest).
        let mut placed: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
        for (k, &(class, letter, i, (name, at, node, detail))) in marks.iter().enumerate() {
            let x = xs[k];
            let colour = if class == "violation" {
                "#cf222e"
            } else {
                "#bc4c00"
            };
            let id = format!("{letter}{i}");
            let long = format!("{id} {}", short(name, 60));
            let width = |text: &str| text.chars().count() as f64 * 6.6 + 4.0;
            let right_edge = LABEL_W + PLOT_W + 20.0;
            let extent = |w: f64| {
                if x + w > right_edge {
                    (x - w, x)
                } else {
                    (x, x + w)
                }
            };
            let crowded = |(a, b): (f64, f64)| xs[k + 1..].iter().any(|&o| o > a && o < b);
            // The first marker always says what failed: its label has a
            // halo, so it stays readable over the lines it crosses.
            let text = if k > 0 && crowded(extent(width(&long))) {
                id.clone()
            } else {
                long
            };
            let (a, b) = extent(width(&text));
            let row = (0..2).find(|&row| placed[row].iter().all(|&(p, q)| b <= p || a >= q));
            let _ = write!(
                s,
                "<a href=\"#{class}-{i}\"><g class=\"{class}-marker\" id=\"marker-{}\"><title>{id} {} at {} on {}: {}</title><path d=\"M{x:.1},{:.1}V{axis_y:.1}\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>",
                id.to_lowercase(),
                escape(name),
                secs(at),
                who(node),
                escape(detail),
                match row {
                    Some(1) => 24.0,
                    _ => 8.0,
                },
            );
            if let Some(row) = row {
                placed[row].push((a, b));
                let y = 13.0 + 16.0 * row as f64;
                let (tx, anchor) = if a < x {
                    (x - 3.0, "end")
                } else {
                    (x + 3.0, "start")
                };
                let _ = write!(
                    s,
                    "<text x=\"{tx:.1}\" y=\"{y:.1}\" fill=\"{colour}\" font-weight=\"700\" text-anchor=\"{anchor}\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
                    escape(&text)
                );
            }
            if let Some(n) = node.map(usize::from).filter(|&n| n < self.nodes) {
                let y = self.band_mid(n);
                let _ = write!(
                    s,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"9\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\"/>"
                );
            }
            s.push_str("</g></a>\n");
        }
    }
}

/// Folds a run's events, in order, into a [`Timeline`]: what is open on
/// each lane (down, paused, leading, a cut) until the event that closes it.
struct Builder<'a> {
    t: Timeline,
    events: &'a [Event],
    /// The run's end: the stops there end the run, not a crash.
    run_end_us: u64,
    /// Per node: since when down (reason code, hover text).
    down_since: Vec<Option<(u64, u64, String)>>,
    paused_since: Vec<Option<u64>>,
    /// The leader: (node, since, term).
    leading: Option<(usize, u64, u64)>,
    /// The links cut since when, as text.
    cut: Option<(u64, Vec<String>)>,
    last_crash_cause: Vec<String>,
    last_halt: Vec<Option<(u64, &'a str)>>,
}

impl<'a> Builder<'a> {
    /// Partitions, one-way cuts, heals and the end of the fault phase.
    fn cluster_event(&mut self, e: &Event) {
        let nodes = self.t.nodes;
        let is = |k: &Kind| e.kind == k.name();
        if is(&kinds::PARTITION) {
            let side: Vec<String> = (0..nodes)
                .filter(|k| e.a >> k & 1 == 1)
                .map(|k| format!("n{}", k + 1))
                .collect();
            let rest: Vec<String> = (0..nodes)
                .filter(|k| e.a >> k & 1 == 0)
                .map(|k| format!("n{}", k + 1))
                .collect();
            let text = format!("{} | {}", side.join(" "), rest.join(" "));
            self.cut.get_or_insert((e.at_us, Vec::new())).1.push(text);
        } else if is(&kinds::ONE_WAY) {
            let text = format!("n{} -/-> n{}", e.a + 1, e.b + 1);
            self.cut.get_or_insert((e.at_us, Vec::new())).1.push(text);
        } else if is(&kinds::HEAL) || is(&kinds::END_OF_FAULTS) {
            if let Some((from, parts)) = self.cut.take() {
                self.t.links.push(link_span(from, e.at_us, &parts));
            }
            if is(&kinds::END_OF_FAULTS) {
                self.t.end_of_faults = Some(e.at_us);
            }
        }
    }

    /// The `i`-th event, on node `n`'s lane.
    fn node_event(&mut self, i: usize, e: &'a Event, n: usize) {
        let name = format!("n{}", n + 1);
        let is = |k: &Kind| e.kind == k.name();
        if is(&kinds::START) {
            self.started(i, e, n, &name);
        } else if is(&kinds::ARMED_CRASH_FIRED) {
            self.last_crash_cause[n] = format!(
                "an armed crash point fired{}",
                if e.a == 1 { " with power loss" } else { "" }
            );
        } else if is(&kinds::STOP) || is(&kinds::START_FAILED) {
            self.stopped(e, n, &name);
        } else if is(&kinds::POWER_LOSS) {
            let kept = self.events[i + 1..]
                .iter()
                .take(4)
                .find(|x| x.node == e.node && x.kind == kinds::POWER_LOSS_KEPT.name())
                .map(|k| format!(": kept {} of {} unsynced store batches", k.a, k.b))
                .unwrap_or_default();
            let tip = format!("{name} loses power at {}{kept}", secs(e.at_us));
            self.mark(n, e.at_us, Glyph::PowerLoss, tip);
        } else if is(&kinds::PAUSE) {
            self.paused_since[n].get_or_insert(e.at_us);
        } else if is(&kinds::RESUME) {
            if let Some(since) = self.paused_since[n].take() {
                self.t.lanes[n]
                    .paused
                    .push(paused_span(&name, since, e.at_us));
            }
        } else if is(&kinds::LEADER) {
            if let Some((leader, from, term)) = self.leading.take() {
                let span = leader_span(&format!("n{}", leader + 1), from, e.at_us, term);
                self.t.lanes[leader].leader.push(span);
            }
            self.leading = Some((n, e.at_us, e.a));
        } else if is(&kinds::SNAPSHOT_RESTORED) {
            let whose = if e.b == 1 {
                " (its own, at start)"
            } else {
                " (installed from the leader)"
            };
            let tip = format!(
                "{name} restores a snapshot at index {} at {}{whose}",
                e.a,
                secs(e.at_us)
            );
            self.mark(n, e.at_us, Glyph::Snapshot, tip);
        } else if is(&kinds::APPLY) || is(&kinds::REPLAY) {
            self.applied(i, e, n, &name);
        } else {
            self.registry_event(i, e, n, &name);
        }
    }

    /// The writer registry's own events: refusals, rollbacks, damaged and
    /// injected rows, injected entries and store faults.
    fn registry_event(&mut self, i: usize, e: &Event, n: usize, name: &str) {
        let is = |k: &Kind| e.kind == k.name();
        if is(&kinds::GUARD_REFUSED) {
            let next = self.events.get(i + 1);
            let refusal = next.filter(|x| x.node == e.node).map_or("?", |x| x.kind);
            let tip = format!(
                "{name} refuses to start: {refusal} ({} guard, epoch {}) at {}",
                if e.a == 1 { "after-replay" } else { "first" },
                e.b,
                secs(e.at_us)
            );
            self.mark(n, e.at_us, Glyph::Refusal, tip);
        } else if is(&kinds::EPOCH_ROLLBACK) {
            let tip = format!(
                "{name}'s epoch file rolled back to {} at {}",
                e.a,
                secs(e.at_us)
            );
            self.mark(n, e.at_us, Glyph::Rollback, tip);
        } else if e.kind == kinds::ROW_CORRUPTED.name() {
            self.t.has_row_events = true;
            let tip = format!(
                "{name}'s registry row damaged at {}{}",
                secs(e.at_us),
                row_text(&e.bytes)
            );
            self.mark(n, e.at_us, Glyph::Corrupted, tip);
        } else if let Some(what) = injected(e) {
            let tip = format!("{name} {what} at {}", secs(e.at_us));
            self.mark(n, e.at_us, Glyph::Injected, tip);
        } else if e.kind == ROWS || e.kind == kinds::ROW.name() {
            self.t.has_row_events = true;
        }
    }

    fn mark(&mut self, n: usize, at: u64, glyph: Glyph, tip: String) {
        self.t.lanes[n].marks.push(Mark { at, glyph, tip });
    }

    /// A start: the down period before it ends; the restart mark says
    /// its incarnation, election timeout and epoch bump.
    fn started(&mut self, i: usize, e: &Event, n: usize, name: &str) {
        if let Some((from, code, tip)) = self.down_since[n].take() {
            self.t.lanes[n].down.push(Span {
                from,
                to: e.at_us,
                code,
                tip,
                label: String::new(),
            });
        }
        let mut tip = format!(
            "{name} starts at {} (incarnation {}, election timeout {} ticks)",
            secs(e.at_us),
            e.a,
            e.b
        );
        // The start's epoch bump follows it in the trace.
        if let Some(bump) = self.events[i + 1..]
            .iter()
            .take(8)
            .find(|x| x.node == e.node && x.kind == kinds::EPOCH_BUMP.name())
        {
            let _ = write!(tip, "; local epoch {} -> {}", bump.a, bump.b);
        }
        self.mark(n, e.at_us, Glyph::Restart, tip);
    }

    /// A stop or a failed start: pause and leadership end, a down period
    /// begins (a crash mark unless the run's end stopped it).
    fn stopped(&mut self, e: &Event, n: usize, name: &str) {
        let reason = DOWN.get(e.a as usize).map_or("down", |d| d.0);
        if let Some(since) = self.paused_since[n].take() {
            self.t.lanes[n]
                .paused
                .push(paused_span(name, since, e.at_us));
        }
        if let Some((leader, from, term)) = self.leading {
            if leader == n {
                let span = leader_span(name, from, e.at_us, term);
                self.t.lanes[n].leader.push(span);
                self.leading = None;
            }
        }
        let cause = std::mem::take(&mut self.last_crash_cause[n]);
        let mut tip = format!("{name} {reason} at {}", secs(e.at_us));
        if e.kind == kinds::START_FAILED.name() {
            tip.push_str(" (its start failed)");
        }
        if let Some((index, kind)) = self.last_halt[n].filter(|_| e.a == 1) {
            let _ = write!(tip, ": halt {kind} at index {index}");
        }
        if !cause.is_empty() {
            let _ = write!(tip, ": {cause}");
        }
        // The run's end stops every node that is still up: no crash to
        // draw there.
        let final_stop = e.at_us >= self.run_end_us && e.a == 0;
        if e.a == 0 && !final_stop {
            self.mark(n, e.at_us, Glyph::Crash, tip.clone());
        }
        self.down_since[n] = Some((e.at_us, e.a, tip));
    }

    /// An apply or a replay: counted in its bin, or a glyph for a
    /// registration or a halt (its outcome is the next event).
    fn applied(&mut self, i: usize, e: &Event, n: usize, name: &str) {
        let next = self.events.get(i + 1);
        let outcome = next.filter(|x| x.node == e.node).map_or("?", |x| x.kind);
        let replay = e.kind == kinds::REPLAY.name();
        let verb = if replay { "replays" } else { "applies" };
        let glyph = match outcome {
            "insert" => Some(Glyph::Insert),
            "advance" => Some(Glyph::Advance),
            "no-op" => Some(Glyph::NoOp),
            "kv" | "empty" => None,
            _ => Some(Glyph::Halt),
        };
        match glyph {
            None => {
                let bin_us = self.t.bin_us;
                let bin = self.t.lanes[n].bins.entry(e.at_us / bin_us).or_default();
                if bin.kv + bin.empty == 0 {
                    bin.first_index = e.a;
                }
                bin.last_index = e.a;
                if outcome == "kv" {
                    bin.kv += 1;
                } else {
                    bin.empty += 1;
                }
                bin.replays += u64::from(replay);
            }
            Some(Glyph::Halt) => {
                self.last_halt[n] = Some((e.a, outcome));
                let tip = format!(
                    "{name} halts: {outcome} at index {} (term {}) at {}{}",
                    e.a,
                    e.b,
                    secs(e.at_us),
                    if replay {
                        ", in its startup replay"
                    } else {
                        ""
                    }
                );
                self.mark(n, e.at_us, Glyph::Halt, tip);
            }
            Some(glyph) => {
                let row = self
                    .events
                    .get(i + 2)
                    .filter(|x| x.node == e.node && x.kind == kinds::ROW.name())
                    .map(|x| row_text(&x.bytes))
                    .unwrap_or_default();
                let tip = format!(
                    "{name} {verb} a registration at index {} (term {}): {outcome} at {}{row}",
                    e.a,
                    e.b,
                    secs(e.at_us)
                );
                self.mark(n, e.at_us, glyph, tip);
            }
        }
    }

    /// Closes what is still open at the run's end.
    fn finish(mut self) -> Timeline {
        let end_us = self.t.end_us;
        for n in 0..self.t.nodes {
            let name = format!("n{}", n + 1);
            if let Some((from, code, tip)) = self.down_since[n].take() {
                self.t.lanes[n].down.push(Span {
                    from,
                    to: end_us,
                    code,
                    tip,
                    label: String::new(),
                });
            }
            if let Some(since) = self.paused_since[n].take() {
                self.t.lanes[n]
                    .paused
                    .push(paused_span(&name, since, end_us));
            }
        }
        if let Some((leader, from, term)) = self.leading {
            let span = leader_span(&format!("n{}", leader + 1), from, end_us, term);
            self.t.lanes[leader].leader.push(span);
        }
        if let Some((from, parts)) = self.cut {
            self.t.links.push(link_span(from, end_us, &parts));
        }
        self.t
    }
}

/// What an injected fault did, for its mark's hover text (`None`: not an
/// injection).
fn injected(e: &Event) -> Option<String> {
    let is = |k: &Kind| e.kind == k.name();
    Some(if is(&kinds::INJECT_COLLISION) {
        format!(
            "proposes a colliding registration (full id {:#018x}, dek {})",
            e.a, e.b
        )
    } else if is(&kinds::INJECT_MALFORMED) {
        format!("proposes a malformed entry (variant {})", e.a)
    } else if is(&kinds::INJECT_EXOTIC) {
        format!("proposes an entry with opcode {:#04x}", e.a)
    } else if is(&kinds::EPOCH_PRESET) {
        format!("has its epoch file preset to {:#06x}", e.a)
    } else if is(&kinds::STORE_FAULT_FIRED) {
        format!(
            "store fault fires on a {}",
            if e.a == 1 { "sync" } else { "write" }
        )
    } else {
        return None;
    })
}

/// Most violation and finding markers a timeline draws.
const MAX_MARKERS: usize = 40;

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('\u{2026}');
    out
}

fn link_span(from: u64, to: u64, parts: &[String]) -> Span {
    Span {
        from,
        to,
        code: 0,
        tip: format!(
            "network cut from {} to {}: {}",
            secs(from),
            secs(to),
            parts.join("; ")
        ),
        label: parts.join("; "),
    }
}

fn paused_span(name: &str, from: u64, to: u64) -> Span {
    Span {
        from,
        to,
        code: 0,
        tip: format!("{name} paused from {} to {}", secs(from), secs(to)),
        label: String::new(),
    }
}

fn leader_span(name: &str, from: u64, to: u64, term: u64) -> Span {
    Span {
        from,
        to,
        code: term,
        tip: format!(
            "{name} leader in term {term} from {} (until the next election or its stop, {})",
            secs(from),
            secs(to)
        ),
        label: String::new(),
    }
}

fn row_text(bytes: &[Vec<u8>]) -> String {
    match bytes {
        [k, v] => format!("; row {} {}", hex::encode(k), hex::encode(v)),
        [k] => format!("; no row at {}", hex::encode(k)),
        _ => String::new(),
    }
}

/// A tick step for the axis: 1, 2 or 5 times a power of ten, about ten
/// ticks over the run.
fn nice_step(end_us: u64) -> u64 {
    let rough = (end_us / 10).max(1);
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= rough {
                return step * m;
            }
        }
        step *= 10;
    }
}

fn seconds_label(at_us: u64, step: u64) -> String {
    let decimals = match step {
        s if s >= 1_000_000 => 0,
        s if s >= 100_000 => 1,
        s if s >= 10_000 => 2,
        _ => 3,
    };
    format!("{:.*}", decimals, at_us as f64 / 1e6)
}

/// The page's glyphs and bands, each named.
fn legend() -> String {
    let mut s = String::from("<div class=\"legend\" id=\"legend\">\n");
    let swatch = |fill: &str, extra: &str| {
        format!("<svg width=\"18\" height=\"12\"><rect width=\"18\" height=\"12\" fill=\"{fill}\"{extra}/></svg>")
    };
    let mut item = |svg: String, name: &str| {
        let _ = writeln!(s, "<span>{svg}{}</span>", escape(name));
    };
    item(swatch("#e7f5ff", ""), "up");
    item(swatch("#1c7ed6", " rx=\"2\""), "leader (term)");
    item(
        "<svg width=\"18\" height=\"12\"><defs><pattern id=\"hatch-legend\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fff3bf\"/><path d=\"M0,0v6\" stroke=\"#e0b000\" stroke-width=\"2\"/></pattern></defs><rect width=\"18\" height=\"12\" fill=\"url(#hatch-legend)\"/></svg>".into(),
        "paused",
    );
    for (name, colour) in DOWN {
        item(swatch(colour, ""), &format!("down: {name}"));
    }
    item(swatch("#ffc9c9", " stroke=\"#e03131\""), "network cut");
    item(
        "<svg width=\"18\" height=\"12\"><rect x=\"2\" y=\"4\" width=\"2.4\" height=\"8\" fill=\"#74808c\"/><rect x=\"6\" y=\"1\" width=\"2.4\" height=\"11\" fill=\"#74808c\"/><rect x=\"11\" y=\"6\" width=\"2.4\" height=\"6\" fill=\"#a5d8ff\"/></svg>".into(),
        "applies (kv, empty; light: replay), taller = more",
    );
    for (glyph, name) in Glyph::ALL {
        item(
            format!(
                "<svg width=\"18\" height=\"18\">{}</svg>",
                glyph.draw(9.0, 9.0, "")
            ),
            name,
        );
    }
    item(
        "<svg width=\"18\" height=\"14\"><path d=\"M9,0V14\" stroke=\"#cf222e\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/></svg>".into(),
        "violation",
    );
    item(
        "<svg width=\"18\" height=\"14\"><path d=\"M9,0V14\" stroke=\"#bc4c00\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/></svg>".into(),
        "finding",
    );
    s.push_str("<span>hover any mark for its details</span>\n</div>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain n1 0x1f"), "plain n1 0x1f");
    }

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(nice_step(40_000_000), 5_000_000);
        assert_eq!(nice_step(20_000_000), 2_000_000);
        assert_eq!(nice_step(9), 1);
        assert_eq!(seconds_label(2_500_000, 500_000), "2.5");
    }

    #[test]
    fn rows_fold_scans_and_changes() {
        let ev = |at_us, kind, bytes: Vec<Vec<u8>>| Event {
            at_us,
            node: Some(0),
            kind,
            a: 0,
            b: 0,
            bytes,
        };
        let events = vec![
            ev(
                1,
                "rows",
                vec![b"a".to_vec(), b"1".to_vec(), b"b".to_vec(), b"2".to_vec()],
            ),
            ev(2, "row", vec![b"a".to_vec(), b"3".to_vec()]),
            ev(3, "row", vec![b"b".to_vec()]),
            ev(4, "rows", vec![]),
        ];
        let at = |t| rows_at(&events, 0, t).into_iter().collect::<Vec<_>>();
        assert_eq!(at(0), vec![]);
        assert_eq!(at(1).len(), 2);
        assert_eq!(at(2)[0], (b"a".to_vec(), b"3".to_vec()));
        assert_eq!(at(3), vec![(b"a".to_vec(), b"3".to_vec())]);
        assert_eq!(at(4), vec![]);
        assert!(rows_at(&events, 1, 9).is_empty());
    }
}
