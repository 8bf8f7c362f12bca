//! How the page writes times, nodes and coordinates, in one place so that
//! every section says them alike.

use std::fmt::Write;

use maud::Render;

/// A virtual time in seconds, to the microsecond the trace keeps.
pub(super) fn secs(at_us: u64) -> String {
    format!("{:.6} s", at_us as f64 / 1e6)
}

/// The node a verdict names, or the cluster when it names none.
pub(super) fn who(node: Option<u8>) -> String {
    node.map_or_else(
        || "the cluster".to_string(),
        |n| format!("n{}", u32::from(n) + 1),
    )
}

/// `text` cut to `max` characters with an ellipsis: a label must not run
/// across the timeline (the hover and the list have it whole).
pub(super) fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('\u{2026}');
    out
}

/// An SVG coordinate or length, to a tenth of a pixel: finer would only
/// grow the page, and a fixed precision keeps it byte-identical per run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Px(pub f64);

impl Render for Px {
    fn render_to(&self, buffer: &mut String) {
        let _ = write!(buffer, "{:.1}", self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_labels_are_fixed_width() {
        assert_eq!(
            maud::html! { (Px(2.26)) " " (Px(10.0)) }.into_string(),
            "2.3 10.0"
        );
        assert_eq!(short("abcdef", 4), "abc\u{2026}");
        assert_eq!(short("abc", 4), "abc");
        assert_eq!(who(None), "the cluster");
        assert_eq!(who(Some(2)), "n3");
        assert_eq!(secs(1_500_000), "1.500000 s");
    }
}
