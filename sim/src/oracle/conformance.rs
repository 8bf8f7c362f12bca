//! `conformance`, `durability` and `conformance-state`: each node against
//! its independent model ([`super::model`], kept by the reference). Every
//! apply's outcome and the row it touched are what the model expects; a
//! reopened store (`durability`) and a stopped one (`conformance-state`)
//! lie in the model's allowed set, which only the model can say (it must,
//! to know what it adopts), so it hands over where a store lies outside
//! and this checker reports it.

use regsim_engine::oracle::checker::Checker;
use writer_registry::{Halt, Outcome};

use super::model::Expected;
use super::observation::Observation;
use super::reference::{Found, Shown};
use super::Violations;
use crate::node::ApplyRecord;

/// Judges each apply, each start's reopened store and each stop. Keeps no
/// state (the reference's models are the state).
#[derive(Debug, Default)]
pub struct Conformance;

impl Checker<Shown<'_>> for Conformance {
    fn observe(&mut self, at_us: u64, shown: &Shown<'_>, v: &mut Violations) {
        match (shown.what, shown.found) {
            (
                &Observation::Applied {
                    node, rec, outcome, ..
                },
                &Found::Apply(expected),
            ) => applied(shown, (v, at_us, node), rec, outcome, expected),
            (&Observation::Started { node, .. }, Found::Store(Some(diff))) => v.push(
                "durability",
                Some(node),
                at_us,
                format!("reopened store outside what its acknowledged writes allow: {diff}"),
            ),
            (&Observation::Stopped { node, .. }, Found::Store(Some(diff))) => v.push(
                "conformance-state",
                Some(node),
                at_us,
                format!("store at stop differs from the model: {diff}"),
            ),
            _ => {}
        }
    }
}

/// The node did `actual` applying `rec`; the model expected `expected`
/// and now holds the row the apply should have left.
fn applied(
    shown: &Shown<'_>,
    (v, at_us, node): (&mut Violations, u64, u8),
    rec: &ApplyRecord,
    actual: &'static str,
    expected: Expected,
) {
    if !expected.admits(actual) {
        let detail = format!(
            "entry {} ({}): node did {actual}{}, model expects {}",
            rec.index,
            wire_summary(&rec.data),
            halt_suffix(&rec.result),
            expected.name()
        );
        v.push("conformance", Some(node), at_us, detail);
    } else if let Some((key, model_row)) = shown
        .reference
        .model(node)
        .row_for(&rec.data)
        .filter(|_| expected != Expected::Halt("store"))
    {
        // After a store error the row may hold the failed sync's write
        // or not: the whole-state check at the stop judges it.
        let actual_row = rec
            .row
            .as_ref()
            .filter(|(k, _)| *k == key)
            .and_then(|(_, v)| v.clone());
        if actual_row != model_row {
            let detail = format!(
                "entry {}: row bytes {} but model holds {}",
                rec.index,
                super::model::shown(actual_row.as_deref()),
                super::model::shown(model_row.as_deref())
            );
            v.push("conformance", Some(node), at_us, detail);
        }
    }
}

fn halt_suffix(r: &Result<Outcome, Halt>) -> String {
    match r {
        Err(h) => format!(" ({h})"),
        Ok(_) => String::new(),
    }
}

fn wire_summary(data: &[u8]) -> String {
    use writer_registry::wire;
    match wire::decode_entry(data) {
        Ok(wire::Entry::Empty) => "empty".into(),
        Ok(wire::Entry::Proposal {
            command: wire::Command::Registration(r),
            ..
        }) => {
            format!(
                "registration dek {} full {:#018x} epoch {}",
                r.dek, r.full_node_id, r.local_epoch
            )
        }
        Ok(wire::Entry::Proposal { .. }) => "proposal".into(),
        Err(e) => format!("undecodable: {e}"),
    }
}
