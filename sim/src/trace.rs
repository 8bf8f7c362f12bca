//! The run's trace (the engine's [`Trace`]) as the writer registry fills
//! it: its kinds ([`kinds`]); the harness's digests of a store are
//! [`crate::store::state_digest`]'s.
//!
//! The hash covers state, not only events: each apply's outcome (insert,
//! advance, no-op, or the halt's kind), the registry row's bytes after
//! each registration, every guard decision and refusal, and a digest of
//! each node's stored bytes whenever it stops or restarts (and so at the
//! end), which the harness computes from the store itself
//! ([`crate::store::state_digest`]), never from the library's own digest. Two runs that
//! leave different data behind have different hashes.
//!
//! A report reads the kept events through [`happened`], which decodes
//! each by its kind, so no page matches a kind's name or a field's
//! position.
//!
//! Recording is numeric so that hashing costs no formatting; text is made
//! only when asked for (`--trace`, `RUST_LOG`, or a determinism check).
//! Every kind and how its line reads is in [`kinds`]: events at tracing
//! level DEBUG, ticks, syncs and messages at TRACE. Only the simulator
//! records here, so fjall's background threads and raft-rs's own logging
//! can never reach the hash.

pub mod happened;
pub mod kinds;

pub use regsim_engine::trace::{Event, Trace, ROWS, TARGET};

#[cfg(test)]
mod tests {
    use super::*;

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
