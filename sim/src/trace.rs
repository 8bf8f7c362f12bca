//! The run's trace: every simulator decision and what it did to state, as
//! (virtual time, node, kind, two numbers) or (virtual time, node, kind,
//! bytes), folded into a hash that is part of every run result.
//!
//! The hash covers state, not only events: each apply's outcome (insert,
//! advance, no-op, or the halt's kind), the registry row's bytes after
//! each registration, every guard decision and refusal, and a digest of
//! each node's stored bytes whenever it stops or restarts (and so at the
//! end), which the harness computes from the store itself
//! ([`state_digest`]), never from the library's own digest. Two runs that
//! leave different data behind have different hashes.
//!
//! Recording is numeric so that hashing costs no formatting; text is made
//! only when asked for (`--trace`, `RUST_LOG`, or a determinism check).
//! Every kind and how its line reads is in [`kinds`]: events at tracing
//! level DEBUG, ticks, syncs and messages at TRACE. Only the simulator
//! records here, so fjall's background threads and raft-rs's own logging
//! can never reach the hash.

pub mod kinds;

use writer_registry::registry::{Space, StoreError, WriterRegistryStore};

use crate::fnv::Fnv;
use kinds::{BytesKind, Kind, Level};

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
    pub at_us: u64,
    /// 0-based node, `None` for the cluster.
    pub node: Option<u8>,
    pub kind: &'static str,
    pub a: u64,
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

    /// Notes a node's registry rows (key, value) at this moment, for a
    /// report: kept with the events, never hashed (the `state` digests
    /// already put the same bytes in the hash).
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
                kind: "rows",
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
        self.record_numbers(at_us, node, kind, a, b);
        if self.wants_text(kind.level()) {
            self.line(at_us, node, kind.name(), kind.level(), |out| {
                kind.render(a, b, out)
            });
        }
    }

    /// Records one event like [`Trace::record`], and shows `entry` (an
    /// entry's data) in its text line as `entry=<hex>`, the argument
    /// `regsim inspect entry` takes. The bytes are not hashed: the trace
    /// hash is that of [`Trace::record`] (the outcome and row events that
    /// follow an apply put its effect in the hash).
    pub fn record_entry(
        &mut self,
        at_us: u64,
        node: Option<u8>,
        kind: &'static Kind,
        a: u64,
        b: u64,
        entry: &[u8],
    ) {
        self.record_numbers(at_us, node, kind, a, b);
        if self.wants_text(kind.level()) {
            self.line(at_us, node, kind.name(), kind.level(), |out| {
                kind.render(a, b, out);
                if !entry.is_empty() {
                    out.push_str(" entry=");
                    out.push_str(&writer_registry::hex::encode(entry));
                }
            });
        }
    }

    #[inline]
    fn record_numbers(
        &mut self,
        at_us: u64,
        node: Option<u8>,
        kind: &'static Kind,
        a: u64,
        b: u64,
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

    pub fn hash(&self) -> u64 {
        self.hash.value()
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn take_lines(&mut self) -> Vec<String> {
        self.lines.take().unwrap_or_default()
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        self.kept.take().unwrap_or_default()
    }
}

/// A digest of everything a store holds, computed by the harness from the
/// stored bytes (every space, key and value, in key order) and the number
/// of pairs: the trace's view of a node's state. It reads the store the
/// way any client would and trusts nothing the library computes.
pub fn state_digest<S: WriterRegistryStore>(store: &S) -> Result<(u64, u64), StoreError> {
    let mut pairs = Vec::new();
    for space in Space::ALL {
        for (k, v) in store.scan(space)? {
            pairs.push((space, k, v));
        }
    }
    Ok(digest_pairs(
        pairs
            .iter()
            .map(|(s, k, v)| (*s, k.as_slice(), v.as_slice())),
    ))
}

/// [`state_digest`] of a store already scanned into an image (spaces and
/// keys in the same order a scan gives).
pub fn image_digest(image: &crate::store::Image) -> (u64, u64) {
    digest_pairs(
        image
            .iter()
            .map(|((space, k), v)| (*space, k.as_slice(), v.as_slice())),
    )
}

/// The digest of (space, key, value) pairs given in order, and their
/// count; [`state_digest`] and the journal's synced image share it.
pub fn digest_pairs<'a>(pairs: impl Iterator<Item = (Space, &'a [u8], &'a [u8])>) -> (u64, u64) {
    let mut h = Fnv::new();
    let mut count = 0;
    for (space, k, v) in pairs {
        count += 1;
        h.bytes(space.name().as_bytes());
        h.u64(k.len() as u64);
        h.bytes(k);
        h.u64(v.len() as u64);
        h.bytes(v);
    }
    (h.value(), count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use writer_registry::registry::Batch;
    use writer_registry::MemoryRegistry;

    fn store(pairs: &[(Space, &[u8], &[u8])]) -> MemoryRegistry {
        let mut s = MemoryRegistry::new();
        let mut b = Batch::new();
        for (space, k, v) in pairs {
            b.put(*space, k.to_vec(), v.to_vec());
        }
        s.write(&b).unwrap();
        s
    }

    #[test]
    fn the_state_digest_sees_every_byte_and_every_space() {
        let base = state_digest(&store(&[(Space::Registry, b"k", b"v1")])).unwrap();
        assert_eq!(base.1, 1);
        for other in [
            store(&[(Space::Registry, b"k", b"v2")]),
            store(&[(Space::Registry, b"j", b"v1")]),
            store(&[(Space::Kv, b"k", b"v1")]),
            store(&[(Space::Registry, b"k", b"v1"), (Space::Meta, b"a", b"")]),
            store(&[]),
        ] {
            assert_ne!(state_digest(&other).unwrap(), base);
        }
        assert_eq!(
            state_digest(&store(&[(Space::Registry, b"k", b"v1")])).unwrap(),
            base
        );
    }

    #[test]
    fn the_hash_covers_bytes_events_and_their_framing() {
        let run = |parts: &[&[u8]]| {
            let mut t = Trace::new(false);
            t.record_bytes(1, Some(0), &kinds::ROW, parts);
            t.hash()
        };
        assert_ne!(run(&[b"ab", b"c"]), run(&[b"a", b"bc"]));
        assert_ne!(run(&[b"ab"]), run(&[b"ac"]));
        let mut a = Trace::new(true);
        a.record(5, None, &kinds::ONE_WAY, 1, 2);
        a.record_bytes(6, Some(2), &kinds::ROW, &[&[0xab]]);
        assert_eq!(a.events(), 2);
        let lines = a.take_lines();
        assert_eq!(lines[0], "  0.000005s   - one-way from=n2 to=n3");
        assert!(lines[1].ends_with("n3 row key=ab value=-"), "{lines:?}");
    }

    #[test]
    fn an_event_hashes_as_its_time_node_name_and_numbers() {
        // The framing every recorded trace hash rests on (and
        // .ci/trace-hashes.txt pins): labels and text never enter it.
        let mut t = Trace::new(true);
        t.record(7, Some(1), &kinds::APPLY, 5, 2);
        t.record(9, None, &kinds::HEAL, 0, 0);
        let mut h = crate::fnv::Fnv::new();
        for (at, node, name, a, b) in [(7, 1, "apply", 5, 2), (9, u64::MAX, "heal", 0, 0)] {
            h.u64(at);
            h.u64(node);
            h.bytes(name.as_bytes());
            h.u64(a);
            h.u64(b);
        }
        assert_eq!(t.hash(), h.value());
    }

    #[test]
    fn an_entry_shows_in_the_line_for_inspect_and_stays_out_of_the_hash() {
        let entry =
            writer_registry::hex::decode("01000000000000002a03010000000708b37b07b558d4c00005")
                .unwrap();
        let mut with = Trace::new(true);
        with.record_entry(1, Some(0), &kinds::APPLY, 4, 1, &entry);
        let mut without = Trace::new(false);
        without.record(1, Some(0), &kinds::APPLY, 4, 1);
        assert_eq!(with.hash(), without.hash());
        let line = with.take_lines().remove(0);
        let hex = line.split_once(" entry=").expect("an entry field").1;
        let decoded = crate::inspect::entry(hex).unwrap();
        assert!(decoded.contains("local epoch: 5"), "{decoded}");
        // An empty entry (a leader's no-op) shows no field.
        let mut empty = Trace::new(true);
        empty.record_entry(1, Some(0), &kinds::APPLY, 4, 1, &[]);
        assert!(empty.take_lines()[0].ends_with("apply index=4 term=1"));
    }

    #[test]
    fn a_row_line_is_what_inspect_row_takes() {
        let key = writer_registry::RowKey {
            dek: 7,
            node16: 0xd4c0,
        }
        .encode();
        let value = writer_registry::hex::decode("08b37b07b558d4c000030005").unwrap();
        let mut t = Trace::new(true);
        t.record_bytes(1, Some(0), &kinds::ROW, &[&key, &value]);
        let line = t.take_lines().remove(0);
        let (_, fields) = line.split_once(" row ").unwrap();
        let (key_hex, value_hex) = fields
            .strip_prefix("key=")
            .and_then(|f| f.split_once(" value="))
            .unwrap_or_else(|| panic!("{line}"));
        let decoded = crate::inspect::row(key_hex, value_hex).unwrap();
        assert!(decoded.contains("0xd4c0"), "{decoded}");
    }
}
