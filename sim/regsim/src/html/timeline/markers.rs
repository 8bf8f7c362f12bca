//! The verdicts on the timeline: a dashed line per violation and finding
//! across every lane, a ring on the node it names, and a label above the
//! lanes; each links to its explanation below the timeline.
//!
//! Verdicts cluster in time (a bug shows on every replica within
//! milliseconds), so the labels are laid out before anything is drawn:
//! markers a few pixels apart share one label ("V3–V8"), and each label
//! takes the first row where it overlaps no other, up to [`MAX_ROWS`]
//! rows; one that fits nowhere is left out (its line still links and
//! hovers). Labels are set in a monospace face, so their widths are known
//! here, and drawn after every line, over a white box.

use maud::{html, Markup};

use super::{Timeline, LABEL_W, PLOT_W};
use crate::html::text::{secs, short, who, Px};
use writer_registry_sim::run::RunResult;

/// Most violation and finding markers a timeline draws: past this many
/// they only clutter, and the list below has them all.
const MAX_MARKERS: usize = 40;
/// Rows of labels above the lanes, at most; the space above the lanes
/// always has room for two.
const MAX_ROWS: usize = 4;
const MIN_ROWS: usize = 2;
/// A label row's height, where the first row's lines begin, and the
/// first row's text baseline (an 11 px label spans about 10 px above it).
const ROW_H: f64 = 16.0;
const ROWS_TOP: f64 = 8.0;
const BASELINE: f64 = 13.0;
/// The widest character of the labels' monospace face at 11 px (0.6 em
/// in the usual faces), with room to spare.
pub(super) const CHAR_PX: f64 = 7.0;
/// From a marker's line to its label's text, and the box's margin.
const OFFSET: f64 = 3.0;
const MARGIN: f64 = 1.5;
/// Least space between two labels on one row.
const GAP: f64 = 2.0;
/// Markers closer than this share a label: at the page's scale their
/// lines are one.
const STACK_PX: f64 = 4.0;
/// Labels end before this, else they turn to the left of their line.
const RIGHT_EDGE: f64 = LABEL_W + PLOT_W + 20.0;

/// One verdict on the timeline, in the list's order (violations, then
/// findings).
struct Marker<'a> {
    class: &'static str,
    /// `V3`: its letter and its number in its list.
    id: String,
    number: usize,
    name: &'a str,
    at: u64,
    node: Option<u8>,
    detail: &'a str,
}

fn markers(r: &RunResult) -> Vec<Marker<'_>> {
    let violations = r.violations.iter().enumerate().map(|(i, v)| Marker {
        class: "violation",
        id: format!("V{}", i + 1),
        number: i + 1,
        name: &v.oracle,
        at: v.at_us,
        node: v.node,
        detail: &v.detail,
    });
    let findings = r.findings.iter().enumerate().map(|(i, f)| Marker {
        class: "finding",
        id: format!("F{}", i + 1),
        number: i + 1,
        name: &f.signature,
        at: f.at_us,
        node: f.node,
        detail: &f.detail,
    });
    violations.chain(findings).take(MAX_MARKERS).collect()
}

/// A label above the lanes: the text of a stack of markers, on a row,
/// spanning `from..to` (its box).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Label {
    /// The marker whose group draws it: the stack's first in the list.
    pub(super) owner: usize,
    pub(super) text: String,
    pub(super) row: usize,
    from: f64,
    to: f64,
    /// Left of its line (near the plot's right edge).
    leftward: bool,
    /// Its line's x.
    x: f64,
}

/// The labels of the timeline's verdicts, and the rows they take.
#[derive(Debug, Clone, Default)]
pub(super) struct Layout {
    pub(super) labels: Vec<Label>,
    /// Per marker: the row its line starts at.
    rows_of: Vec<usize>,
    pub(super) rows: usize,
}

impl Layout {
    /// The layout of `r`'s markers on `t`'s time axis.
    pub(super) fn of(t: &Timeline, r: &RunResult) -> Layout {
        let marks = markers(r);
        let xs: Vec<f64> = marks.iter().map(|m| t.x(m.at)).collect();
        let names: Vec<(&str, &str)> = marks.iter().map(|m| (m.id.as_str(), m.name)).collect();
        layout(&xs, &names)
    }

    /// How far down the lanes start: below the rows the labels took.
    pub(super) fn top(&self) -> f64 {
        ROWS_TOP + ROW_H * self.rows.max(MIN_ROWS) as f64
    }
}

/// Lays out labels for markers at `xs` named `(id, name)` (in the list's
/// order, the first being the run's first verdict).
fn layout(xs: &[f64], names: &[(&str, &str)]) -> Layout {
    // Stacks: markers in x order, a new one wherever the gap to the
    // stack's first exceeds STACK_PX; each stack's members in list order.
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]).then(a.cmp(&b)));
    let mut stacks: Vec<Vec<usize>> = Vec::new();
    for k in order {
        match stacks.last_mut() {
            Some(s) if xs[k] - xs[s[0]] <= STACK_PX => s.push(k),
            _ => stacks.push(vec![k]),
        }
    }
    for s in &mut stacks {
        s.sort_unstable();
    }
    // The stack with the run's first verdict is placed first and always
    // says what failed; the others follow in list order.
    stacks.sort_by_key(|s| s[0]);
    let stack_xs: Vec<f64> = stacks.iter().map(|s| xs[s[0]]).collect();
    let mut placed: Vec<Vec<(f64, f64)>> = vec![Vec::new(); MAX_ROWS];
    let mut out = Layout {
        labels: Vec::new(),
        rows_of: vec![0; xs.len()],
        rows: 0,
    };
    for (n, stack) in stacks.iter().enumerate() {
        let x = stack_xs[n];
        let first = stack[0];
        let members: Vec<&str> = stack.iter().map(|&k| names[k].0).collect();
        let mut long = format!("{} {}", members[0], short(names[first].1, 60));
        if members.len() > 1 {
            long = format!("{long}, {}", ids(&members[1..]));
        }
        let ids = ids(&members);
        // A long label over another stack's line would hide which line
        // it names: there the ids alone.
        let covers = |(a, b): (f64, f64)| {
            stack_xs
                .iter()
                .enumerate()
                .any(|(o, &ox)| o != n && ox > a && ox < b)
        };
        let candidates = if n == 0 || !covers(extent(x, &long).0) {
            vec![long, ids]
        } else {
            vec![ids]
        };
        let spot = candidates.into_iter().find_map(|text| {
            let ((a, b), leftward) = extent(x, &text);
            (0..MAX_ROWS)
                .find(|&row| {
                    placed[row]
                        .iter()
                        .all(|&(p, q)| b + GAP <= p || a >= q + GAP)
                })
                .map(|row| (text, row, a, b, leftward))
        });
        if let Some((text, row, from, to, leftward)) = spot {
            placed[row].push((from, to));
            out.rows = out.rows.max(row + 1);
            for &k in stack {
                out.rows_of[k] = row;
            }
            out.labels.push(Label {
                owner: first,
                text,
                row,
                from,
                to,
                leftward,
                x,
            });
        }
    }
    out
}

/// `V1 V2 V3 V5 F1` as `V1–V3 V5 F1`: the ids of a stack, runs of
/// consecutive numbers as ranges.
fn ids(ids: &[&str]) -> String {
    let split = |id: &str| -> (char, usize) {
        let mut chars = id.chars();
        let letter = chars.next().unwrap_or('?');
        (letter, chars.as_str().parse().unwrap_or(0))
    };
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let (letter, from) = split(ids[i]);
        let mut j = i;
        while j + 1 < ids.len() && split(ids[j + 1]) == (letter, split(ids[j]).1 + 1) {
            j += 1;
        }
        parts.push(match j - i {
            0 => ids[i].to_string(),
            1 => format!("{} {}", ids[i], ids[j]),
            _ => format!("{letter}{from}\u{2013}{}", ids[j]),
        });
        i = j + 1;
    }
    parts.join(" ")
}

/// The box of `text` as a label of the line at `x`, and whether it lies
/// left of the line (when it would cross the plot's right edge).
fn extent(x: f64, text: &str) -> ((f64, f64), bool) {
    let w = OFFSET + text.chars().count() as f64 * CHAR_PX + MARGIN;
    if x + w > RIGHT_EDGE {
        ((x - w, x), true)
    } else {
        ((x, x + w), false)
    }
}

/// The markers' lines and rings, then their labels over them.
pub(super) fn draw(t: &Timeline, r: &RunResult, axis_y: f64) -> Markup {
    let marks = markers(r);
    html! {
        @for (k, m) in marks.iter().enumerate() {
            @let x = t.x(m.at);
            @let colour = colour(m.class);
            @let top = ROWS_TOP + ROW_H * t.labels.rows_of[k] as f64;
            a href={ "#" (m.class) "-" (m.number) } {
                g class={ (m.class) "-marker" } id={ "marker-" (m.id.to_lowercase()) } {
                    title { (m.id) " " (m.name) " at " (secs(m.at)) " on " (who(m.node)) ": " (m.detail) }
                    path d=(format!("M{x:.1},{top:.1}V{axis_y:.1}")) stroke=(colour) stroke-width="2" stroke-dasharray="6 3" {}
                    @if let Some(n) = m.node.map(usize::from).filter(|&n| n < t.nodes) {
                        circle cx=(Px(x)) cy=(Px(t.band_mid(n))) r="9" fill="none" stroke=(colour) stroke-width="2.5" {}
                    }
                }
            }
            "\n"
        }
        @if !t.labels.labels.is_empty() {
            g.marker-labels {
                @for l in &t.labels.labels {
                    @let m = &marks[l.owner];
                    @let baseline = BASELINE + ROW_H * l.row as f64;
                    @let (tx, anchor) = if l.leftward { (l.x - OFFSET, "end") } else { (l.x + OFFSET, "start") };
                    a href={ "#" (m.class) "-" (m.number) } {
                        rect x=(Px(l.from)) y=(Px(baseline - 10.0)) width=(Px(l.to - l.from)) height="13" fill="#fff" fill-opacity="0.85" {}
                        text.label x=(Px(tx)) y=(Px(baseline)) fill=(colour(m.class)) font-weight="700" text-anchor=(anchor) { (l.text) }
                    }
                    "\n"
                }
            }
            "\n"
        }
    }
}

fn colour(class: &str) -> &'static str {
    if class == "violation" {
        "#cf222e"
    } else {
        "#bc4c00"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes_overlap(l: &Layout) -> Option<(String, String)> {
        for (i, a) in l.labels.iter().enumerate() {
            for b in &l.labels[i + 1..] {
                if a.row == b.row && a.from < b.to + GAP && b.from < a.to + GAP {
                    return Some((a.text.clone(), b.text.clone()));
                }
            }
        }
        None
    }

    #[test]
    fn close_markers_get_labels_that_do_not_overlap() {
        let names: Vec<(String, &str)> =
            (1..=6).map(|i| (format!("V{i}"), "conformance")).collect();
        let names: Vec<(&str, &str)> = names.iter().map(|(i, n)| (i.as_str(), *n)).collect();
        // V1 far left; V2..V6 six pixels apart: too far to share a label,
        // too close for labels side by side.
        let xs = [100.0, 600.0, 606.0, 612.0, 618.0, 624.0];
        let l = layout(&xs, &names);
        assert_eq!(boxes_overlap(&l), None, "{l:?}");
        let texts: Vec<&str> = l.labels.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts[0], "V1 conformance");
        for id in ["V2", "V3", "V4", "V5", "V6"] {
            assert!(
                texts.iter().any(|t| t.split(' ').any(|w| w == id)),
                "{id} in {texts:?}"
            );
        }
        assert!(l.rows <= MAX_ROWS);
        // The same input, the same layout.
        assert_eq!(layout(&xs, &names).labels, l.labels);
    }

    #[test]
    fn markers_on_one_line_share_a_label() {
        let names = [
            ("V1", "a"),
            ("V2", "b"),
            ("V3", "c"),
            ("V4", "d"),
            ("F1", "e"),
        ];
        let l = layout(&[500.0, 501.0, 500.5, 502.0, 503.0], &names);
        assert_eq!(l.labels.len(), 1, "{l:?}");
        assert_eq!(l.labels[0].text, "V1 a, V2\u{2013}V4 F1");
        assert_eq!(
            ids(&["V1", "V2", "V4", "V5", "V6", "F2"]),
            "V1 V2 V4\u{2013}V6 F2"
        );
    }

    #[test]
    fn a_label_at_the_right_edge_turns_left() {
        let l = layout(&[RIGHT_EDGE - 5.0], &[("V1", "liveness")]);
        assert!(
            l.labels[0].leftward && l.labels[0].to <= RIGHT_EDGE,
            "{l:?}"
        );
    }
}
