//! What the lanes draw with: the colour of each reason a node was down,
//! a glyph per kind of mark, and the legend that names them all.

use maud::{html, Markup};

use crate::html::text::Px;

/// Why a node was down: the trace's reason codes
/// (`regsim_engine::process::DownReason::code`).
pub(super) const DOWN: [(&str, &str); 4] = [
    ("crashed", "#adb5bd"),
    ("halted", "#f4a261"),
    ("refused", "#9d4edd"),
    ("broken", "#343a40"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Glyph {
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
    pub(super) fn draw(self, x: f64, y: f64, tip: &str) -> Markup {
        if tip.is_empty() {
            self.shape(x, y)
        } else {
            html! { g { title { (tip) } (self.shape(x, y)) } }
        }
    }

    fn shape(self, x: f64, y: f64) -> Markup {
        match self {
            Glyph::Restart => html! {
                path d=(format!("M{x:.1},{:.1}l5,9h-10z", y - 5.0)) fill="#2b9348" {}
            },
            Glyph::Crash => html! {
                path d=(format!("M{:.1},{:.1}l8,8m0,-8l-8,8", x - 4.0, y - 4.0))
                    stroke="#c1121f" stroke-width="2.2" {}
            },
            Glyph::PowerLoss => html! {
                path d=(format!("M{:.1},{:.1}l-5,8h4l-2,7l7,-9h-4l2,-6z", x + 1.0, y - 8.0))
                    fill="#ffd60a" stroke="#7f5539" stroke-width="0.8" {}
            },
            Glyph::Snapshot => html! {
                path d=(format!("M{x:.1},{:.1}l5,6l-5,6l-5,-6z", y - 6.0)) fill="#0096c7" {}
            },
            Glyph::Insert | Glyph::Advance | Glyph::NoOp => {
                let colour = match self {
                    Glyph::Insert => "#2b9348",
                    Glyph::Advance => "#1d4ed8",
                    _ => "#868e96",
                };
                html! {
                    path d=(format!("M{x:.1},{:.1}v13", y - 4.0)) stroke=(colour) stroke-width="1.6" {}
                    circle cx=(Px(x)) cy=(Px(y - 5.0)) r="2.6" fill=(colour) {}
                }
            }
            Glyph::Halt => html! {
                rect x=(Px(x - 4.5)) y=(Px(y - 4.5)) width="9" height="9"
                    fill="#d62828" stroke="#fff" stroke-width="0.8" {}
            },
            Glyph::Refusal => html! {
                rect x=(Px(x - 4.5)) y=(Px(y - 4.5)) width="9" height="9"
                    fill="#7b2cbf" stroke="#fff" stroke-width="0.8"
                    transform={ "rotate(45 " (Px(x)) " " (Px(y)) ")" } {}
            },
            Glyph::Rollback => html! {
                path d=(format!("M{x:.1},{:.1}l5,-9h-10z", y + 5.0)) fill="#8d5524" {}
            },
            Glyph::Corrupted => html! {
                path d=(format!(
                    "M{:.1},{y:.1}h10M{x:.1},{:.1}v10M{:.1},{:.1}l7,7m0,-7l-7,7",
                    x - 5.0,
                    y - 5.0,
                    x - 3.5,
                    y - 3.5
                )) stroke="#d63384" stroke-width="1.6" {}
            },
            Glyph::Injected => html! {
                circle cx=(Px(x)) cy=(Px(y)) r="4" fill="#fff" stroke="#000" stroke-width="1.6" {}
            },
        }
    }
}

/// The page's glyphs and bands, each named.
pub(in crate::html) fn legend() -> Markup {
    let swatch = |fill: &str| {
        html! { svg width="18" height="12" { rect width="18" height="12" fill=(fill) {} } }
    };
    let dashed = |colour: &str| {
        html! {
            svg width="18" height="14" {
                path d="M9,0V14" stroke=(colour) stroke-width="2" stroke-dasharray="4 2" {}
            }
        }
    };
    let mut items: Vec<(Markup, String)> = vec![
        (swatch("#e7f5ff"), "up".into()),
        (
            html! { svg width="18" height="12" { rect width="18" height="12" fill="#1c7ed6" rx="2" {} } },
            "leader (term)".into(),
        ),
        (
            html! {
                svg width="18" height="12" {
                    defs { (hatch("hatch-legend")) }
                    rect width="18" height="12" fill="url(#hatch-legend)" {}
                }
            },
            "paused".into(),
        ),
    ];
    for (name, colour) in DOWN {
        items.push((swatch(colour), format!("down: {name}")));
    }
    items.push((
        html! { svg width="18" height="12" { rect width="18" height="12" fill="#ffc9c9" stroke="#e03131" {} } },
        "network cut".into(),
    ));
    items.push((
        html! {
            svg width="18" height="12" {
                rect x="2" y="4" width="2.4" height="8" fill="#74808c" {}
                rect x="6" y="1" width="2.4" height="11" fill="#74808c" {}
                rect x="11" y="6" width="2.4" height="6" fill="#a5d8ff" {}
            }
        },
        "applies (kv, empty; light: replay), taller = more".into(),
    ));
    for (glyph, name) in Glyph::ALL {
        items.push((
            html! { svg width="18" height="18" { (glyph.draw(9.0, 9.0, "")) } },
            name.into(),
        ));
    }
    items.push((dashed("#cf222e"), "violation".into()));
    items.push((dashed("#bc4c00"), "finding".into()));
    html! {
        div.legend #legend {
            "\n"
            @for (svg, name) in &items {
                span { (svg) (name) } "\n"
            }
            span { "hover any mark for its details" } "\n"
        }
    }
}

/// The diagonal stripes of a paused period, as a pattern named `id`.
pub(super) fn hatch(id: &str) -> Markup {
    html! {
        pattern id=(id) width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
            rect width="6" height="6" fill="#fff3bf" {}
            path d="M0,0v6" stroke="#e0b000" stroke-width="2" {}
        }
    }
}
