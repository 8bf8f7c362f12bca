//! Each node's registry rows at the first violation (else the first
//! finding, else the run's end), folded from the trace's row events:
//! decoded, in the hex `regsim inspect row` takes, with the rows the
//! verdict quotes highlighted and the nodes that hold other bytes named.

use std::collections::BTreeMap;

use maud::{html, Markup};
use writer_registry::hex;
use writer_registry::ids::full_node_id;
use writer_registry::registry::{RowKey, RowValue};

use super::text::secs;
use writer_registry_sim::run::RunResult;
use writer_registry_sim::trace::happened::Happened;
use writer_registry_sim::trace::Event;

/// The rows section: `nodes` tables at the first verdict's time, or at
/// `end_us` when the run has none; `has_row_events` says whether the run
/// kept any row events at all.
pub(super) fn section(nodes: usize, end_us: u64, has_row_events: bool, r: &RunResult) -> Markup {
    let (at, why) = if let Some(v) = r.violations.first() {
        (v.at_us, format!("at the first violation (V1 {})", v.oracle))
    } else if let Some(f) = r.findings.first() {
        (
            f.at_us,
            format!("at the first finding (F1 {})", f.signature),
        )
    } else {
        (end_us, "at the end of the run".to_string())
    };
    let heading = html! { h2 #rows { "Registry rows " (why) ", " (secs(at)) } "\n" };
    if !has_row_events {
        return html! {
            (heading)
            p.note { "This run kept no row events: no rows to show." } "\n"
        };
    }
    let named = r
        .violations
        .first()
        .map(|v| v.detail.as_str())
        .or(r.findings.first().map(|f| f.detail.as_str()))
        .unwrap_or("");
    let blamed = r
        .violations
        .first()
        .map(|v| v.node)
        .or(r.findings.first().map(|f| f.node))
        .flatten()
        .map(usize::from);
    let all: Vec<_> = (0..nodes)
        .map(|node| rows_at(&r.events, node as u8, at))
        .collect();
    html! {
        (heading)
        p.note {
            "Each node's registry space as its store held it at that moment (the last scan at a stop, reopen or restore, and every registration since). Beside each node, the index it had applied by then (its last apply or replay that did not halt, snapshot restored, or the durable index it started from), as the trace recorded it. Rows the verdict's text names are highlighted; the last column names the nodes that hold other bytes for the same key. Hover a row for the command that decodes it: "
            code { "regsim inspect row KEY VALUE" } "."
        }
        "\n"
        @for (node, rows) in all.iter().enumerate() {
            h3 {
                "n" (node + 1) " "
                span.note {
                    "(" (rows.len()) " row" (if rows.len() == 1 { "" } else { "s" })
                    "; " (NodeAt::fold(&r.events, node as u8, at, r.stats.virtual_us))
                    @if blamed == Some(node) { "; the node the verdict names" }
                    ")"
                }
            }
            "\n"
            @if rows.is_empty() {
                p.note id={ "rows-n" (node + 1) } { "no rows" } "\n"
            } @else {
                table.rows id={ "rows-n" (node + 1) } {
                    "\n"
                    tr {
                        th { "dek" } th { "node16" } th { "owner (full node id)" }
                        th { "first_seen" } th { "last_seen" } th { "key hex" }
                        th { "value hex" } th { "other bytes on" }
                    }
                    "\n"
                    @for (key, value) in rows {
                        (row_line(key, value, nodes, named, &differs(&all, node, key, value))) "\n"
                    }
                }
                "\n"
            }
        }
    }
}

/// The other nodes whose bytes for `key` are not `value`, each with its
/// own ("n2: 08b3..." or "n2: no row").
fn differs(
    all: &[BTreeMap<Vec<u8>, Vec<u8>>],
    node: usize,
    key: &[u8],
    value: &[u8],
) -> Vec<String> {
    all.iter()
        .enumerate()
        .filter(|&(other, theirs)| {
            other != node && theirs.get(key).map(Vec::as_slice) != Some(value)
        })
        .map(|(other, theirs)| {
            let bytes = theirs
                .get(key)
                .map_or("no row".to_string(), |v| hex::encode(v));
            format!("n{}: {bytes}", other + 1)
        })
        .collect()
}

/// The Raft id whose production full id is `full`, among `nodes` members.
fn owner_name(full: u64, nodes: usize) -> Option<String> {
    (1..=nodes)
        .map(|k| format!("n{k}"))
        .find(|name| full_node_id(name) == full)
}

/// One row: decoded, in hex, highlighted when `named` (the verdict's
/// text) quotes its bytes, and with the nodes that hold other bytes.
fn row_line(key: &[u8], value: &[u8], nodes: usize, named: &str, differs: &[String]) -> Markup {
    let (kh, vh) = (hex::encode(key), hex::encode(value));
    let highlighted = named.contains(&kh) || named.contains(&vh);
    html! {
        tr title={ "regsim inspect row " (kh) " " (vh) } class=[highlighted.then_some("named")] {
            (decoded(key, value, &kh, &vh, nodes))
            td.hex { (kh) }
            td.hex { (vh) }
            @if differs.is_empty() {
                td.note { "-" }
            } @else {
                td.bad title=(differs.join("; ")) {
                    (differs.iter().filter_map(|d| d.split(':').next()).collect::<Vec<_>>().join(" "))
                }
            }
        }
    }
}

/// A row's fields as five cells, or one cell saying why it does not
/// decode.
fn decoded(key: &[u8], value: &[u8], kh: &str, vh: &str, nodes: usize) -> Markup {
    let (k, v) = match (RowKey::decode(key), RowValue::decode(value)) {
        (Ok(k), Ok(v)) => (k, v),
        (key_result, value_result) => {
            let mut errors = Vec::new();
            if let Err(e) = key_result {
                errors.push(format!("key: {e}"));
            }
            if let Err(e) = value_result {
                errors.push(format!("value: {e}"));
            }
            return html! {
                td colspan="5" class="bad" { "malformed row: " (errors.join("; ")) }
            };
        }
    };
    let owner = owner_name(v.full_node_id, nodes);
    // The inspector's warnings (a broken invariant) say more than the
    // fields: show them with the fields they concern.
    let warnings: Vec<String> = writer_registry_sim::inspect::row(kh, vh)
        .map(|text| {
            text.lines()
                .filter_map(|l| l.strip_prefix("warning: "))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    html! {
        td { (k.dek) }
        td { (format!("{:#06x}", k.node16)) }
        td.hex {
            (format!("{:#018x}", v.full_node_id))
            @if let Some(n) = owner { " (" (n) ")" }
        }
        @if warnings.is_empty() {
            td { (v.first_seen) }
            td { (v.last_seen) }
        } @else {
            td.bad { (v.first_seen) }
            td.bad title=(warnings.join("; ")) { (v.last_seen) " \u{26a0}" }
        }
    }
}

/// What the trace says of a node at a moment, beside its rows: replicas
/// whose rows differ are often at different applied indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NodeAt {
    /// `None` before its first start.
    applied: Option<u64>,
    up: bool,
}

impl NodeAt {
    /// `node` as its events up to `at_us` leave it. The run's end (at
    /// `run_end_us`) stops every node still up: that stop leaves it up
    /// here, as the timeline draws no crash there.
    pub(super) fn fold(events: &[Event], node: u8, at_us: u64, run_end_us: u64) -> NodeAt {
        let mut now = NodeAt {
            applied: None,
            up: false,
        };
        for e in events
            .iter()
            .take_while(|e| e.at_us <= at_us)
            .filter(|e| e.node == Some(node))
        {
            match Happened::of(e) {
                Happened::Start { .. } => now.up = true,
                stop @ Happened::Stop { .. } => now.up &= stop.is_run_end_stop(e.at_us, run_end_us),
                // Where a start begins, what a restore or an apply that
                // did not halt reached.
                Happened::Durable { applied: index }
                | Happened::SnapshotRestored { index, .. }
                | Happened::Applied { index, .. } => now.applied = Some(index),
                _ => {}
            }
        }
        now
    }
}

impl std::fmt::Display for NodeAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.applied {
            Some(index) => write!(f, "applied index {index}")?,
            None => f.write_str("nothing applied")?,
        }
        if !self.up {
            f.write_str(", down")?;
        }
        Ok(())
    }
}

/// A node's registry rows (key to value) at `at_us`: its last full scan
/// (a `rows` event) at or before then, with every row change since.
pub fn rows_at(events: &[Event], node: u8, at_us: u64) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut rows = BTreeMap::new();
    for e in events
        .iter()
        .take_while(|e| e.at_us <= at_us)
        .filter(|e| e.node == Some(node))
    {
        match Happened::of(e) {
            Happened::Rows { bytes } => {
                rows.clear();
                for pair in bytes.chunks(2) {
                    if let [k, v] = pair {
                        rows.insert(k.clone(), v.clone());
                    }
                }
            }
            Happened::Row { bytes } | Happened::RowCorrupted { bytes } => match bytes {
                [k, v] => {
                    rows.insert(k.clone(), v.clone());
                }
                [k] => {
                    rows.remove(k);
                }
                _ => {}
            },
            _ => {}
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use writer_registry_sim::trace::kinds::{self, Kind};

    #[test]
    fn rows_fold_scans_and_changes() {
        let ev = |at_us, kind, bytes: Vec<Vec<u8>>| Event {
            at_us,
            node: Some(0),
            kind,
            a: 0,
            b: 0,
            bytes,
        };
        let events = vec![
            ev(
                1,
                "rows",
                vec![b"a".to_vec(), b"1".to_vec(), b"b".to_vec(), b"2".to_vec()],
            ),
            ev(2, "row", vec![b"a".to_vec(), b"3".to_vec()]),
            ev(3, "row", vec![b"b".to_vec()]),
            ev(4, "rows", vec![]),
        ];
        let at = |t| rows_at(&events, 0, t).into_iter().collect::<Vec<_>>();
        assert_eq!(at(0), vec![]);
        assert_eq!(at(1).len(), 2);
        assert_eq!(at(2)[0], (b"a".to_vec(), b"3".to_vec()));
        assert_eq!(at(3), vec![(b"a".to_vec(), b"3".to_vec())]);
        assert_eq!(at(4), vec![]);
        assert!(rows_at(&events, 1, 9).is_empty());
    }

    #[test]
    fn the_applied_index_is_the_last_that_did_not_halt() {
        let ev = |at_us, kind: &Kind, a| Event {
            at_us,
            node: Some(0),
            kind: kind.name(),
            a,
            b: 0,
            bytes: vec![],
        };
        let events = vec![
            ev(1, &kinds::START, 0),
            ev(1, &kinds::DURABLE, 3),
            ev(2, &kinds::REPLAY, 4),
            ev(2, &kinds::APPLIED_INSERT, 4),
            ev(3, &kinds::APPLY, 5),
            ev(3, &kinds::APPLIED_KV, 5),
            ev(4, &kinds::APPLY, 6),
            ev(4, &kinds::HALTED_ROLLBACK, 6),
            ev(4, &kinds::STOP, 1),
            ev(5, &kinds::START, 1),
            ev(5, &kinds::SNAPSHOT_RESTORED, 9),
            ev(7, &kinds::STOP, 0),
        ];
        let at = |t| NodeAt::fold(&events, 0, t, 7).to_string();
        assert_eq!(at(0), "nothing applied, down");
        assert_eq!(at(1), "applied index 3");
        assert_eq!(at(2), "applied index 4");
        assert_eq!(at(3), "applied index 5");
        assert_eq!(at(4), "applied index 5, down");
        assert_eq!(at(5), "applied index 9");
        // Stopped by the run's end, not down; a crash before it is.
        assert_eq!(at(7), "applied index 9");
        assert_eq!(
            NodeAt::fold(&events, 0, 7, 8).to_string(),
            "applied index 9, down"
        );
        assert_eq!(
            NodeAt::fold(&events, 1, 9, 7).to_string(),
            "nothing applied, down"
        );
    }
}
