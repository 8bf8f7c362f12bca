//! The timeline: an SVG with the network's lane (cuts and heals) above
//! one lane per node, each a leader strip, a state band with the node's
//! marks on it, and its applies as bars; the verdicts are dashed lines
//! across them all, labelled above ([`markers`]). The events become lanes
//! in [`fold`]; this module draws them.

mod fold;
mod glyph;
mod markers;

use std::collections::BTreeMap;

use maud::{html, Markup};

pub(super) use glyph::legend;
use glyph::{Glyph, DOWN};

use super::text::{secs, Px};
use writer_registry_sim::run::RunResult;
use writer_registry_sim::scenario::Scenario;

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
pub(super) struct Timeline {
    pub(super) nodes: usize,
    pub(super) end_us: u64,
    lanes: Vec<Lane>,
    /// Cluster-wide spans: partitions and one-way cuts until they heal.
    links: Vec<Span>,
    end_of_faults: Option<u64>,
    pub(super) has_row_events: bool,
    /// Time per apply bin.
    bin_us: u64,
    /// Where the lanes start: below the verdicts' labels.
    top: f64,
    labels: markers::Layout,
}

/// Width of the time axis, in pixels, and of one apply bin.
const PLOT_W: f64 = 1200.0;
const LABEL_W: f64 = 56.0;
const BIN_PX: f64 = 6.0;
/// Above the lanes when no verdict needs a label.
const TOP_BARE: f64 = 8.0;
const CLUSTER_H: f64 = 22.0;
const LANE_H: f64 = 60.0;
const LANE_GAP: f64 = 8.0;
/// A node lane, top to bottom: the leader strip, the state band with the
/// marks on it, the apply bars.
const BAND_TOP: f64 = 17.0;
const BAND_H: f64 = 26.0;

impl Timeline {
    pub(super) fn build(sc: &Scenario, r: &RunResult) -> Timeline {
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
        let mut t = Timeline {
            nodes,
            end_us,
            lanes: vec![Lane::default(); nodes],
            links: Vec::new(),
            end_of_faults: None,
            has_row_events: false,
            bin_us,
            top: TOP_BARE,
            labels: markers::Layout::default(),
        };
        // The labels' rows decide where the lanes start.
        if !r.violations.is_empty() || !r.findings.is_empty() {
            t.labels = markers::Layout::of(&t, r);
            t.top = t.labels.top();
        }
        fold::fold(t, r)
    }

    fn x(&self, at_us: u64) -> f64 {
        LABEL_W + at_us.min(self.end_us) as f64 / self.end_us as f64 * PLOT_W
    }

    fn lane_y(&self, node: usize) -> f64 {
        self.top + CLUSTER_H + LANE_GAP + node as f64 * (LANE_H + LANE_GAP)
    }

    /// The vertical middle of a node's state band, where its marks sit.
    fn band_mid(&self, node: usize) -> f64 {
        self.lane_y(node) + BAND_TOP + BAND_H / 2.0
    }

    pub(super) fn svg(&self, r: &RunResult) -> Markup {
        let axis_y = self.lane_y(self.nodes);
        let height = axis_y + 26.0;
        let width = LABEL_W + PLOT_W + 24.0;
        let size = |v: f64| format!("{v:.0}");
        html! {
            svg xmlns="http://www.w3.org/2000/svg" id="timeline" width=(size(width)) height=(size(height))
                viewBox={ "0 0 " (size(width)) " " (size(height)) } font-size="11" {
                "\n"
                defs { (glyph::hatch("hatch")) } "\n"
                (self.axis(axis_y)) "\n"
                (self.cluster_lane()) "\n"
                @for node in 0..self.nodes {
                    (self.lane(node)) "\n"
                }
                (markers::draw(self, r, axis_y))
            }
            "\n"
        }
    }

    fn axis(&self, axis_y: f64) -> Markup {
        let step = nice_step(self.end_us);
        let ticks = (0..=self.end_us / step).map(|k| k * step);
        html! {
            g #axis fill="#57606a" stroke="none" {
                "\n"
                @for at in ticks {
                    @let x = self.x(at);
                    path d=(format!("M{x:.1},{:.1}V{axis_y:.1}", self.top)) stroke="#eaeef2" {}
                    text x=(Px(x)) y=(Px(axis_y + 14.0)) text-anchor="middle" { (seconds_label(at, step)) }
                    "\n"
                }
                text x=(Px(LABEL_W + PLOT_W)) y=(Px(axis_y + 24.0)) text-anchor="end" { "virtual time (s)" }
                "\n"
                @if let Some(end) = self.end_of_faults {
                    (self.end_of_faults_line(end, axis_y)) "\n"
                }
            }
        }
    }

    /// The dashed line where liveness starts being owed, its label on
    /// whichever side has room.
    fn end_of_faults_line(&self, end: u64, axis_y: f64) -> Markup {
        let x = self.x(end);
        let near_right = x > LABEL_W + PLOT_W - 80.0;
        let (tx, anchor) = if near_right {
            (x - 3.0, "end")
        } else {
            (x + 3.0, "start")
        };
        html! {
            g {
                title {
                    "end of the fault phase at " (secs(end))
                    ": the network heals, every node resumes and restarts; liveness is owed from here"
                }
                path d=(format!("M{x:.1},{:.1}V{axis_y:.1}", self.top)) stroke="#57606a" stroke-dasharray="2 3" {}
                text x=(Px(tx)) y=(Px(self.top + CLUSTER_H - 7.0)) text-anchor=(anchor) { "end of faults" }
            }
        }
    }

    fn cluster_lane(&self) -> Markup {
        let y = self.top;
        html! {
            g #lane-cluster class="lane cluster" {
                text x="4" y=(Px(y + 15.0)) font-weight="600" { "network" }
                rect x=(LABEL_W) y=(Px(y)) width=(PLOT_W) height=(CLUSTER_H) fill="#f6f8fa" {}
                "\n"
                @for span in &self.links {
                    @let (x0, x1) = (self.x(span.from), self.x(span.to));
                    g.cut {
                        title { (span.tip) }
                        rect x=(Px(x0)) y=(Px(y + 3.0)) width=(Px((x1 - x0).max(1.5))) height=(Px(CLUSTER_H - 6.0))
                            fill="#ffc9c9" stroke="#e03131" stroke-width="0.6" {}
                        @if x1 - x0 >= span.label.chars().count() as f64 * 6.0 + 6.0 {
                            text x=(Px(x0 + 3.0)) y=(Px(y + 14.5)) fill="#a61e1e" font-size="10" { (span.label) }
                        }
                    }
                    "\n"
                }
            }
        }
    }

    fn lane(&self, node: usize) -> Markup {
        let lane = &self.lanes[node];
        let y = self.lane_y(node);
        let band_y = y + BAND_TOP;
        let mid = self.band_mid(node);
        html! {
            g id={ "lane-n" (node + 1) } class="lane node" data-node=(node + 1) {
                "\n"
                path d=(format!("M0,{:.1}H{:.1}", y - LANE_GAP / 2.0, LABEL_W + PLOT_W + 24.0)) stroke="#d0d7de" {}
                text x="8" y=(Px(mid + 5.0)) font-size="15" font-weight="700" { "n" (node + 1) }
                rect x=(LABEL_W) y=(Px(band_y)) width=(PLOT_W) height=(BAND_H) fill="#e7f5ff" {}
                "\n"
                @for span in &lane.paused {
                    (self.band(span, band_y, "url(#hatch)", "paused")) "\n"
                }
                @for span in &lane.down {
                    @let down = DOWN.get(span.code as usize);
                    (self.band(span, band_y, down.map_or("#000", |d| d.1), down.map_or("down", |d| d.0))) "\n"
                }
                @for span in &lane.leader {
                    (self.leader(span, y)) "\n"
                }
                (self.applies(node, y + LANE_H - 2.0)) "\n"
                @for m in &lane.marks {
                    (m.glyph.draw(self.x(m.at), mid, &m.tip)) "\n"
                }
            }
        }
    }

    /// A leadership on the strip at the lane's top, its term inside when
    /// it fits.
    fn leader(&self, span: &Span, y: f64) -> Markup {
        let (x0, x1) = (self.x(span.from), self.x(span.to));
        let w = (x1 - x0).max(1.5);
        let label = format!("T{}", span.code);
        html! {
            g.leader {
                title { (span.tip) }
                rect x=(Px(x0)) y=(Px(y + 3.0)) width=(Px(w)) height="12" fill="#1c7ed6" rx="2" {}
                @if w >= label.len() as f64 * 6.0 + 6.0 {
                    text x=(Px(x0 + 3.0)) y=(Px(y + 12.5)) fill="#fff" font-size="10" font-weight="600" { (label) }
                }
            }
        }
    }

    /// Applies that are not registrations: one bar per bin standing on
    /// `bottom`, its height growing with the count. Bars are the page's
    /// most numerous element: the fill is the group's and the hover text
    /// short.
    fn applies(&self, node: usize, bottom: f64) -> Markup {
        html! {
            g.applies fill="#74808c" {
                "\n"
                @for (bin, b) in &self.lanes[node].bins {
                    @let count = b.kv + b.empty;
                    @let h = (2.0 + (count as f64).log2() * 2.0).min(12.0);
                    @let at = bin * self.bin_us;
                    rect x=(Px(self.x(at))) y=(Px(bottom - h)) width=(BIN_PX - 1.0) height=(Px(h))
                        fill=[(b.replays == count).then_some("#74c0fc")] {
                        title {
                            "n" (node + 1) ": " (count) " appl" (if count == 1 { "y" } else { "ies" })
                            " from " (format!("{:.3}", at as f64 / 1e6)) " s, index "
                            (b.first_index) ".." (b.last_index) " (" (b.kv) " kv, " (b.empty) " empty"
                            @if b.replays > 0 { ", " (b.replays) " replayed" }
                            ")"
                        }
                    }
                    "\n"
                }
            }
        }
    }

    fn band(&self, span: &Span, y: f64, fill: &str, class: &str) -> Markup {
        let (x0, x1) = (self.x(span.from), self.x(span.to));
        html! {
            g class=(class) {
                title { (span.tip) }
                rect x=(Px(x0)) y=(Px(y)) width=(Px((x1 - x0).max(1.0))) height=(BAND_H) fill=(fill) {}
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(nice_step(40_000_000), 5_000_000);
        assert_eq!(nice_step(20_000_000), 2_000_000);
        assert_eq!(nice_step(9), 1);
        assert_eq!(seconds_label(2_500_000, 500_000), "2.5");
    }
}
