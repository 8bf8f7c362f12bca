//! What the worlds' unit tests share: a world driven call by call on the
//! memory store, and its trace read a few columns at a time.

use std::ops::Range;

use crate::scenario::{RegistryKind, Scenario};
use crate::trace::Trace;

use super::SimOptions;

/// The shipped default scenario, on the memory store.
pub(crate) fn default_scenario() -> Scenario {
    let text = include_str!("../../../scenarios/default.toml");
    let mut sc = Scenario::parse(text, "default.toml").expect("the default scenario parses");
    sc.registry = RegistryKind::Memory;
    sc
}

/// Options for a world driven by hand: the memory store, trace lines
/// kept, no oracles (a test judges what it drives itself).
pub(crate) fn options() -> SimOptions {
    SimOptions {
        registry: RegistryKind::Memory,
        oracles: false,
        keep_trace_lines: true,
        keep_events: false,
        cancel: Default::default(),
        data_dir: Default::default(),
        mutant: Default::default(),
    }
}

/// The trace lines recorded since the last call, each cut to its
/// whitespace-separated `columns` (0 is the time, 1 the node, 2 the kind,
/// then its fields).
pub(crate) fn lines(trace: &mut Trace, columns: Range<usize>) -> Vec<String> {
    trace
        .drain_lines()
        .iter()
        .map(|l| {
            let words = l.split_whitespace().skip(columns.start);
            words.take(columns.len()).collect::<Vec<_>>().join(" ")
        })
        .collect()
}
