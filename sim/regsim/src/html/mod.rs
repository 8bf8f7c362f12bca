//! One run as a self-contained HTML page (`regsim report`): a header with
//! the verdict and the command that replays the run ([`header`]), an SVG
//! timeline with one lane per node (roles and terms, down periods, faults,
//! applies and registrations, halts and refusals) with every violation and
//! finding marked ([`timeline`]), what each one means ([`verdicts`]), and
//! each node's registry rows at the first violation, decoded and in the
//! hex `regsim inspect row` takes ([`rows`]).
//!
//! The page needs nothing but itself: inline CSS, inline SVG, no script,
//! no external reference (a hover shows an SVG `<title>`). It is built
//! from the events a run keeps
//! ([`writer_registry_sim::run::RunOptions::keep_events`]); a run without
//! them still renders, with empty lanes. Markup is written
//! with maud's `html!`, which escapes every value it splices: text from a
//! run (a verdict's detail, an oracle's name) cannot become markup.

mod header;
mod rows;
mod text;
mod timeline;
mod verdicts;

use maud::{html, PreEscaped, DOCTYPE};

pub use rows::rows_at;

use timeline::Timeline;
use writer_registry_sim::run::RunResult;
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::schedule::Schedule;
use writer_registry_sim::store::RegistryKind;

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
    /// The schedule the run ran: a seed's expansion, or a schedule file's
    /// (a shrunk one can be far shorter than its scenario says).
    pub schedule: &'a Schedule,
}

/// The page of one run. `sc` is the scenario as the run saw it (for a
/// swarm seed or a shrunk schedule, as `Schedule::scenario_of` makes it);
/// lanes are added for any node the events or verdicts name beyond it.
/// `result` should carry its events
/// ([`writer_registry_sim::run::RunOptions::keep_events`]).
pub fn render(meta: &Meta, sc: &Scenario, result: &RunResult) -> String {
    let timeline = Timeline::build(sc, result);
    let verdict = if result.passed() { "pass" } else { "FAIL" };
    let title = format!("regsim report: {} seed {}: {verdict}", sc.name, result.seed);
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                // Our own constant, and CSS is not HTML text: escaping
                // would change it.
                style { (PreEscaped(CSS)) }
            }
            "\n"
            body {
                (header::header(meta, sc, result, &title)) "\n"
                h2 { "Timeline" }
                div.timeline { (timeline.svg(result)) } "\n"
                (timeline::legend()) "\n"
                (verdicts::verdicts(result)) "\n"
                (rows::section(timeline.nodes, timeline.end_us, timeline.has_row_events, result)) "\n"
                (verdicts::justifications(result))
            }
        }
        "\n"
    };
    page.into_string()
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
svg text.label{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
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
