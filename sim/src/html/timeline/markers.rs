//! The verdicts on the timeline: a dashed line per violation and finding
//! across every lane, a ring on the node it names, and a label above the
//! lanes; each links to its explanation below the timeline.

use maud::{html, Markup};

use super::{Timeline, LABEL_W, PLOT_W};
use crate::html::text::{secs, short, who, Px};
use crate::run::RunResult;

/// Most violation and finding markers a timeline draws.
const MAX_MARKERS: usize = 40;

pub(super) fn markers(t: &Timeline, r: &RunResult, axis_y: f64) -> Markup {
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
    let xs: Vec<f64> = marks.iter().map(|(_, _, _, m)| t.x(m.1)).collect();
    // Two rows of labels; a label goes where it overlaps none placed
    // before it, long when no later marker is under it, else just its
    // number (the hover and the list below say the rest).
    let mut placed: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    let mut out = Vec::new();
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
        let label = row.map(|row| {
            placed[row].push((a, b));
            let y = 13.0 + 16.0 * row as f64;
            let (tx, anchor) = if a < x {
                (x - 3.0, "end")
            } else {
                (x + 3.0, "start")
            };
            html! {
                text x=(Px(tx)) y=(Px(y)) fill=(colour) font-weight="700" text-anchor=(anchor)
                    stroke="#fff" stroke-width="3" paint-order="stroke" { (text) }
            }
        });
        let top = match row {
            Some(1) => 24.0,
            _ => 8.0,
        };
        let ring = node
            .map(usize::from)
            .filter(|&n| n < t.nodes)
            .map(|n| t.band_mid(n));
        out.push(html! {
            a href={ "#" (class) "-" (i) } {
                g class={ (class) "-marker" } id={ "marker-" (id.to_lowercase()) } {
                    title { (id) " " (name) " at " (secs(at)) " on " (who(node)) ": " (detail) }
                    path d=(format!("M{x:.1},{top:.1}V{axis_y:.1}")) stroke=(colour) stroke-width="2" stroke-dasharray="6 3" {}
                    @if let Some(label) = label { (label) }
                    @if let Some(y) = ring {
                        circle cx=(Px(x)) cy=(Px(y)) r="9" fill="none" stroke=(colour) stroke-width="2.5" {}
                    }
                }
            }
            "\n"
        });
    }
    html! { @for m in &out { (m) } }
}
