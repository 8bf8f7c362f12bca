//! The run's trace: every simulator decision and what it did to state, as
//! (virtual time, node, kind, two numbers) or (virtual time, node, kind,
//! bytes), folded into a hash that is part of every run result.
//!
//! Recording is numeric so that hashing costs no formatting; text is made
//! only when asked for (`--trace`, `RUST_LOG`, or a determinism check).
//! Every kind says how its line reads ([`kind`]); the engine's own kinds
//! are in [`kinds`], a system under test declares its own the same way.
//! Events go to tracing at level DEBUG, ticks, syncs and messages at
//! TRACE. Only the simulator records here, so a store's background threads
//! and raft-rs's own logging can never reach the hash.

pub mod kind;
pub mod kinds;

use crate::fnv::Fnv;
use kind::{BytesKind, Kind, Level};

/// The kind name of the rows [`Trace::note_rows`] keeps for a report
/// (never hashed, so no [`Kind`] of its own).
pub const ROWS: &str = "rows";

/// Tracing target of the simulator's events.
pub const TARGET: &str = "regsim";

/// The trace of one run.
#[derive(Debug)]
pub struct Trace {
    hash: Fnv,
    events: u64,
    lines: Option<Vec<String>>,
    kept: Option<Vec<Event>>,
    /// A tracing subscriber wants the events ([`Level::Event`]).
    emit_events: bool,
    /// ... and the noise ([`Level::Noise`]).
    emit_noise: bool,
}

/// One recorded event as data, kept when a report asks for it
/// ([`Trace::keeping_events`]); ticks are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Virtual time, microseconds.
    pub at_us: u64,
    /// 0-based node, `None` for the cluster.
    pub node: Option<u8>,
    /// The kind's name.
    pub kind: &'static str,
    /// The first number, as the kind names it.
    pub a: u64,
    /// The second number.
    pub b: u64,
    /// The bytes of a bytes event (a row's key and value); for a
    /// [`Trace::note_rows`] event, keys and values alternating.
    pub bytes: Vec<Vec<u8>>,
}

impl Trace {
    /// `keep_lines` keeps every event as text (for `--check-determinism`);
    /// events also go to tracing when a subscriber wants the target.
    pub fn new(keep_lines: bool) -> Self {
        Trace {
            hash: Fnv::new(),
            events: 0,
            lines: keep_lines.then(Vec::new),
            kept: None,
            emit_events: tracing::enabled!(target: TARGET, tracing::Level::DEBUG),
            emit_noise: tracing::enabled!(target: TARGET, tracing::Level::TRACE),
        }
    }

    /// Also keeps every event but ticks as an [`Event`] (for reports).
    pub fn keeping_events(mut self, keep: bool) -> Self {
        self.kept = keep.then(Vec::new);
        self
    }

    /// True when events are kept: callers skip work only a report needs.
    pub fn keeps_events(&self) -> bool {
        self.kept.is_some()
    }

    /// Notes a node's rows (key, value) at this moment, as the system
    /// under test shows its state in a report: kept with the events, never
    /// hashed (the `state` digests already put the same bytes in the
    /// hash).
    pub fn note_rows<'a>(
        &mut self,
        at_us: u64,
        node: u8,
        rows: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    ) {
        if let Some(kept) = &mut self.kept {
            let bytes = rows.flat_map(|(k, v)| [k.to_vec(), v.to_vec()]).collect();
            kept.push(Event {
                at_us,
                node: Some(node),
                kind: ROWS,
                a: 0,
                b: 0,
                bytes,
            });
        }
    }

    /// Folds the common head of an event: time, node and kind.
    #[inline]
    fn head(&mut self, at_us: u64, node: Option<u8>, kind: &'static str) {
        self.events += 1;
        self.hash.u64(at_us);
        self.hash.u64(node.map_or(u64::MAX, u64::from));
        self.hash.bytes(kind.as_bytes());
    }

    /// True when an event at `level` is to become text.
    #[inline]
    fn wants_text(&self, level: Level) -> bool {
        self.lines.is_some()
            || match level {
                Level::Event => self.emit_events,
                Level::Noise => self.emit_noise,
            }
    }

    /// Makes the event's text line (`render` appends its fields), keeps
    /// it for a determinism check and hands it to tracing.
    fn line(
        &mut self,
        at_us: u64,
        node: Option<u8>,
        name: &str,
        level: Level,
        render: impl FnOnce(&mut String),
    ) {
        let who = node.map_or_else(|| "-".to_string(), |n| format!("n{}", n + 1));
        let mut line = format!("{:>10.6}s {who:>3} {name}", at_us as f64 / 1e6);
        render(&mut line);
        match level {
            Level::Event if self.emit_events => tracing::debug!(target: TARGET, "{line}"),
            Level::Noise if self.emit_noise => tracing::trace!(target: TARGET, "{line}"),
            _ => {}
        }
        if let Some(lines) = &mut self.lines {
            lines.push(line);
        }
    }

    /// Records one event. `node` is the 0-based node or `None` for the
    /// cluster; `a` and `b` are the event's numbers, as `kind` names them.
    #[inline]
    pub fn record(&mut self, at_us: u64, node: Option<u8>, kind: &'static Kind, a: u64, b: u64) {
        self.record_entry(at_us, node, kind, a, b, &[]);
    }

    /// Records one event like [`Trace::record`], and shows `entry` (an
    /// entry's data) in its text line as `entry=<hex>`, the argument
    /// `regsim inspect entry` takes. The bytes are not hashed: the trace
    /// hash is that of [`Trace::record`] (the outcome and row events that
    /// follow an apply put its effect in the hash).
    #[inline]
    pub fn record_entry(
        &mut self,
        at_us: u64,
        node: Option<u8>,
        kind: &'static Kind,
        a: u64,
        b: u64,
        entry: &[u8],
    ) {
        self.head(at_us, node, kind.name());
        self.hash.u64(a);
        self.hash.u64(b);
        if let Some(kept) = &mut self.kept {
            if kind.name() != "tick" {
                kept.push(Event {
                    at_us,
                    node,
                    kind: kind.name(),
                    a,
                    b,
                    bytes: Vec::new(),
                });
            }
        }
        if self.wants_text(kind.level()) {
            self.line(at_us, node, kind.name(), kind.level(), |out| {
                kind.render(a, b, out);
                if !entry.is_empty() {
                    out.push_str(" entry=");
                    out.push_str(&kind::hex(entry));
                }
            });
        }
    }

    /// Records one event whose content is bytes (a row's key and value),
    /// hashed in full; the text shows them in hex, named as `kind` names
    /// them.
    pub fn record_bytes(
        &mut self,
        at_us: u64,
        node: Option<u8>,
        kind: &'static BytesKind,
        parts: &[&[u8]],
    ) {
        self.head(at_us, node, kind.name());
        for part in parts {
            self.hash.u64(part.len() as u64);
            self.hash.bytes(part);
        }
        if let Some(kept) = &mut self.kept {
            kept.push(Event {
                at_us,
                node,
                kind: kind.name(),
                a: 0,
                b: 0,
                bytes: parts.iter().map(|p| p.to_vec()).collect(),
            });
        }
        if self.wants_text(Level::Event) {
            self.line(at_us, node, kind.name(), Level::Event, |out| {
                kind.render(parts, out)
            });
        }
    }

    /// The hash of everything recorded so far.
    pub fn hash(&self) -> u64 {
        self.hash.value()
    }

    /// How many events were recorded.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The text lines kept (empty unless kept).
    pub fn take_lines(&mut self) -> Vec<String> {
        self.lines.take().unwrap_or_default()
    }

    /// The text lines kept since the last drain (empty unless kept); the
    /// trace goes on keeping them.
    pub fn drain_lines(&mut self) -> Vec<String> {
        self.lines.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The events kept (empty unless kept).
    pub fn take_events(&mut self) -> Vec<Event> {
        self.kept.take().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_hashes_as_its_time_node_name_and_numbers() {
        // The framing every recorded trace hash rests on (and
        // .ci/trace-hashes.txt pins): labels and text never enter it.
        let mut t = Trace::new(true);
        t.record(7, Some(1), &kinds::APPLY, 5, 2);
        t.record(9, None, &kinds::HEAL, 0, 0);
        let mut h = Fnv::new();
        for (at, node, name, a, b) in [(7, 1, "apply", 5, 2), (9, u64::MAX, "heal", 0, 0)] {
            h.u64(at);
            h.u64(node);
            h.bytes(name.as_bytes());
            h.u64(a);
            h.u64(b);
        }
        assert_eq!(t.hash(), h.value());
    }
}
