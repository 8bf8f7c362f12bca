//! The schedule: a seed expanded into an explicit, printable list of timed
//! fault and workload events. The run executes the schedule; a schedule
//! file replays without the seed's expansion, which is what shrinking edits.

use serde::Serialize;

use crate::faults::draw::ms;
use crate::faults::end_of_faults::EndOfFaults;
pub use crate::faults::Action;
use crate::rng::Streams;
use crate::scenario::{Scenario, MAX_SCHEDULED_EVENTS};

/// Bumped whenever the meaning of a schedule file changes.
pub const FORMAT_VERSION: u32 = 1;

/// Latest time an event may have, in virtual microseconds (about 285
/// years): far past any scenario, and far enough below `u64::MAX` that
/// the engine's sums on event times cannot overflow.
pub const MAX_AT_US: u64 = 1 << 53;

/// Scheduled events at one instant may use at most this fraction of the
/// per-instant watchdog (each starts more work at the same time).
pub const INSTANT_HEADROOM: u64 = 10;

/// Largest schedule or corpus file read, in bytes: a million events fit.
pub const MAX_FILE_BYTES: u64 = 128 << 20;

/// An action at a virtual time (microseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timed {
    pub at_us: u64,
    #[serde(flatten)]
    pub action: Action,
}

/// The explicit schedule of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub format: u32,
    #[serde(serialize_with = "seed_field::serialize")]
    pub seed: u64,
    /// Cluster size override (a shrunk schedule may need fewer nodes than
    /// its scenario); absent means the scenario's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u8>,
    pub events: Vec<Timed>,
}

impl Schedule {
    /// The scenario this schedule runs under: `sc` as its seed draws it
    /// (a swarm seed's knobs), with the schedule's node count.
    pub fn scenario_of(&self, sc: &Scenario) -> Scenario {
        sc.for_seed(self.seed).with_nodes(self.nodes)
    }

    /// Expands `seed` under `scenario`. Faults and workload draw from
    /// their own streams, so changing one's rates leaves the other alone.
    pub fn generate(scenario: &Scenario, seed: u64) -> Schedule {
        let scenario = &scenario.for_seed(seed);
        let mut events: Vec<Timed> = crate::faults::generate::events(scenario, &Streams::new(seed))
            .into_iter()
            .map(|(at_us, action)| Timed { at_us, action })
            .collect();
        events.push(Timed {
            at_us: ms(scenario.duration_ms).max(1),
            action: EndOfFaults {}.into(),
        });
        // Stable: equal times keep generation order.
        events.sort_by_key(|e| e.at_us);
        Schedule {
            format: FORMAT_VERSION,
            seed,
            nodes: None,
            events,
        }
    }

    /// Human-readable TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a schedule always serialises")
    }

    /// Parses a schedule file; `path` names it in errors, which give the
    /// field (`events[3].node`) and the real cause. Checks the format
    /// first, so that a file from a newer harness says so.
    pub fn from_toml(text: &str, path: &str) -> Result<Schedule, String> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| crate::toml_error::describe(path, text, &e))?;
        Schedule::from_table(table, path, "")
    }

    /// Reads a schedule from a parsed TOML table (a schedule file, or the
    /// `schedule` table of a corpus entry, whose fields `prefix` names).
    pub fn from_table(
        mut table: toml::Table,
        path: &str,
        prefix: &str,
    ) -> Result<Schedule, String> {
        let field = |name: &str| format!("{path}: `{prefix}{name}`");
        let format = match table.remove("format") {
            None => {
                return Err(format!(
                    "{}: missing (this harness reads format {FORMAT_VERSION})",
                    field("format")
                ))
            }
            Some(toml::Value::Integer(v)) => u32::try_from(v)
                .map_err(|_| format!("{}: expected a format number, found {v}", field("format")))?,
            Some(other) => {
                return Err(format!(
                    "{}: expected an integer, found {}",
                    field("format"),
                    other.type_str()
                ))
            }
        };
        if format > FORMAT_VERSION {
            return Err(format!(
                "{}: format {format} is newer than this harness understands ({FORMAT_VERSION}): update regsim",
                field("format")
            ));
        }
        // An older format still parses where it can: a corpus entry in one
        // is reported stale rather than failed, and [`Schedule::validate`]
        // refuses to run it.
        let seed = match table.remove("seed") {
            None => return Err(format!("{}: missing", field("seed"))),
            Some(v) => seed_of(&v).ok_or_else(|| {
                format!(
                    "{}: expected a seed from 0 to {}, found {v}",
                    field("seed"),
                    u64::MAX
                )
            })?,
        };
        let nodes =
            match table.remove("nodes") {
                None => None,
                Some(toml::Value::Integer(v)) => Some(u8::try_from(v).map_err(|_| {
                    format!("{}: expected a cluster size, found {v}", field("nodes"))
                })?),
                Some(other) => {
                    return Err(format!(
                        "{}: expected an integer, found {}",
                        field("nodes"),
                        other.type_str()
                    ))
                }
            };
        let raw = match table.remove("events") {
            None => return Err(format!("{}: missing", field("events"))),
            Some(toml::Value::Array(a)) => a,
            Some(other) => {
                return Err(format!(
                    "{}: expected an array of tables, found {}",
                    field("events"),
                    other.type_str()
                ))
            }
        };
        if let Some(key) = table.keys().next() {
            return Err(format!(
                "{}: unknown field (known: format, seed, nodes, events)",
                field(key)
            ));
        }
        let events = raw
            .into_iter()
            .enumerate()
            .map(|(i, value)| event_from_toml(value, path, &format!("{prefix}events[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Schedule {
            format,
            seed,
            nodes,
            events,
        })
    }

    /// Checks that the schedule fits `scenario`: a cluster size it allows,
    /// every node index inside the cluster, known DEKs, sane values and one
    /// end of the fault phase. `path` names the schedule in errors.
    pub fn validate(&self, scenario: &Scenario, path: &str) -> Result<(), String> {
        self.validate_in(scenario, path, "")
    }

    /// [`Schedule::validate`] for a schedule inside a larger file (a
    /// corpus entry's `schedule` table), whose fields `prefix` names.
    pub fn validate_in(&self, scenario: &Scenario, path: &str, prefix: &str) -> Result<(), String> {
        let field = |name: &str| format!("{path}: `{prefix}{name}`");
        if self.format != FORMAT_VERSION {
            return Err(format!(
                "{}: {} (this harness reads {FORMAT_VERSION})",
                field("format"),
                self.format
            ));
        }
        let sc = scenario.for_seed(self.seed);
        let drawn = sc.nodes;
        let n = match self.nodes {
            Some(n) if !(3..=drawn).contains(&n) => {
                return Err(format!(
                    "{}: expected 3 to {drawn} (scenario {:?} runs {drawn} nodes{}), found {n}",
                    field("nodes"),
                    scenario.name,
                    if scenario.swarm { " for this seed" } else { "" }
                ))
            }
            Some(n) => n,
            None => drawn,
        };
        if self.events.len() as u64 > MAX_SCHEDULED_EVENTS {
            return Err(format!(
                "{}: {} events, more than the {MAX_SCHEDULED_EVENTS} a run may schedule",
                field("events"),
                self.events.len()
            ));
        }
        let ends: Vec<u64> = self
            .events
            .iter()
            .filter(|e| e.action.ends_faults())
            .map(|e| e.at_us)
            .collect();
        let [end_at] = ends[..] else {
            return Err(format!(
                "{}: expected exactly one end-of-faults event (it ends the fault phase and starts the liveness check), found {}",
                field("events"),
                ends.len()
            ));
        };
        let span_us = sc.duration_ms * 1000;
        if end_at > span_us {
            return Err(format!(
                "{}: end-of-faults at {end_at} us, after the scenario's fault phase of {span_us} us (duration_ms)",
                field("events")
            ));
        }
        // Many events at one instant trip the watchdog for events at one
        // instant: that would blame the system for the schedule.
        let mut per_instant: std::collections::BTreeMap<u64, u64> = Default::default();
        for e in &self.events {
            *per_instant.entry(e.at_us).or_default() += 1;
        }
        let most = sc.limits.max_events_per_instant / INSTANT_HEADROOM;
        if let Some((at, count)) = per_instant.into_iter().find(|(_, c)| *c > most) {
            return Err(format!(
                "{}: {count} events at {at} us, more than {most} at one instant (a tenth of limits.max_events_per_instant)",
                field("events")
            ));
        }
        for (i, e) in self.events.iter().enumerate() {
            let at =
                |name: &str| format!("{path}: `{prefix}events[{i}].{name}` ({})", e.action.kind());
            // Only what brings nodes back may follow the fault phase.
            if e.at_us > end_at && !e.action.restores() {
                return Err(format!(
                    "{}: at {} us, after end-of-faults ({end_at} us); only {} may come after it",
                    at("at_us"),
                    e.at_us,
                    Action::restoring_kinds()
                        .into_iter()
                        .filter(|k| *k != "end-of-faults")
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if e.at_us > MAX_AT_US {
                return Err(format!(
                    "{}: expected at most {MAX_AT_US}, found {}",
                    at("at_us"),
                    e.at_us
                ));
            }
            e.action.check(n, &scenario.deks, &at)?;
        }
        Ok(())
    }
}

/// Reads a schedule or corpus file, refusing one too large to hold.
pub fn read_file(path: &std::path::Path) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    if meta.is_dir() {
        return Err(format!("{shown}: is a directory, not a schedule file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{shown}: {} bytes, larger than the {MAX_FILE_BYTES} a schedule file may be",
            meta.len()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))
}

/// A seed: a TOML integer, or a string for seeds above `i64::MAX` (TOML
/// integers are signed 64-bit).
fn seed_of(v: &toml::Value) -> Option<u64> {
    match v {
        toml::Value::Integer(i) => u64::try_from(*i).ok(),
        toml::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A seed in a file: a TOML integer up to `i64::MAX`, a decimal string
/// above it (TOML integers are signed 64-bit); [`seed_of`] reads both.
mod seed_field {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(seed: &u64, s: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(*seed) {
            Ok(v) => s.serialize_i64(v),
            Err(_) => s.serialize_str(&seed.to_string()),
        }
    }
}

/// One event of a schedule file; `at` names it (`events[3]`) in errors.
fn event_from_toml(value: toml::Value, path: &str, at: &str) -> Result<Timed, String> {
    let toml::Value::Table(mut t) = value else {
        return Err(format!("{path}: `{at}`: expected a table"));
    };
    let at_us = match t.remove("at_us") {
        Some(toml::Value::Integer(v)) if v >= 0 => v as u64,
        Some(v) => {
            return Err(format!(
                "{path}: `{at}.at_us`: expected a time in microseconds, found {v}"
            ))
        }
        None => return Err(format!("{path}: `{at}.at_us`: missing")),
    };
    let kind = match t.get("kind") {
        Some(toml::Value::String(k)) => k.clone(),
        Some(v) => return Err(format!("{path}: `{at}.kind`: expected a string, found {v}")),
        None => return Err(format!("{path}: `{at}.kind`: missing")),
    };
    if !Action::KINDS.contains(&kind.as_str()) {
        return Err(format!(
            "{path}: `{at}.kind`: unknown event kind {kind:?} (known: {})",
            Action::KINDS.join(", ")
        ));
    }
    for (key, value) in &t {
        check_field(value, key).map_err(|why| format!("{path}: `{at}.{key}` ({kind}): {why}"))?;
    }
    let action: Action =
        toml::Value::Table(t.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                format!(
                    "{path}: `{at}` ({kind}): {}",
                    e.message().trim_end().replace('\n', " ")
                )
            })?;
    // Serde skips fields a kind does not take: name them instead.
    let known = toml::Table::try_from(&action).unwrap_or_default();
    if let Some(extra) = t.keys().find(|k| !known.contains_key(*k)) {
        let takes: Vec<&String> = known.keys().filter(|k| *k != "kind").collect();
        return Err(format!(
            "{path}: `{at}.{extra}` ({kind}): unknown field (a {kind} event takes {takes:?} besides at_us)"
        ));
    }
    Ok(Timed { at_us, action })
}

/// The type and range of one event field, checked by name so that an
/// error names the field (serde's own message does not).
fn check_field(value: &toml::Value, key: &str) -> Result<(), String> {
    let int = |lo: i64, hi: i64| match value {
        toml::Value::Integer(v) if (lo..=hi).contains(v) => Ok(()),
        other => Err(format!(
            "expected an integer from {lo} to {hi}, found {other}"
        )),
    };
    let node = || match value {
        toml::Value::Integer(i) => crate::faults::node_field::one::Spelled::Index(*i)
            .index()
            .map(drop),
        toml::Value::String(name) => crate::faults::node_field::one::Spelled::Name(name.clone())
            .index()
            .map(drop),
        other => Err(format!(
            "expected a node name such as \"n1\", found {other}"
        )),
    };
    match key {
        "node" | "via" | "victim" | "from" | "to" | "target" => node(),
        "variant" | "opcode" => int(0, 255),
        "epoch" => int(0, i64::from(u16::MAX)),
        "dek" => int(0, i64::from(u32::MAX)),
        "high_bits" => int(0, i64::MAX),
        "power_loss" => match value {
            toml::Value::Boolean(_) => Ok(()),
            other => Err(format!("expected true or false, found {other}")),
        },
        "kind" | "step" | "op" | "errno" | "mode" => match value {
            toml::Value::String(_) => Ok(()),
            other => Err(format!("expected a string, found {other}")),
        },
        "side" => match value {
            toml::Value::Array(a) => a.iter().try_for_each(|v| check_field(v, "node")),
            other => Err(format!("expected an array of node names, found {other}")),
        },
        // Left to the kind's own fields check.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_past_i64_max_round_trip_through_a_file() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/default.toml"
        ))
        .unwrap();
        let sc = Scenario::parse(&text, "default.toml").unwrap();
        for seed in [0, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
            let s = Schedule::generate(&sc, seed);
            let back = Schedule::from_toml(&s.to_toml(), "s.toml").unwrap();
            assert_eq!(back, s);
            back.validate(&sc, "s.toml").unwrap();
        }
    }

    #[test]
    fn nodes_are_written_by_name_and_read_by_name_or_old_index() {
        let by_name = "format = 1\nseed = 0\n[[events]]\nat_us = 0\nkind = \"partition\"\nside = [\"n1\", \"n3\"]\n[[events]]\nat_us = 1\nkind = \"crash\"\nnode = \"n2\"\n";
        let by_index = "format = 1\nseed = 0\n[[events]]\nat_us = 0\nkind = \"partition\"\nside = [0, 2]\n[[events]]\nat_us = 1\nkind = \"crash\"\nnode = 1\n";
        let named = Schedule::from_toml(by_name, "s.toml").unwrap();
        assert_eq!(named, Schedule::from_toml(by_index, "s.toml").unwrap());
        assert_eq!(named.events[1].action.node_fields(), vec![("node", 1)]);
        let written = named.to_toml();
        assert!(
            written.contains("side = [\"n1\", \"n3\"]") && written.contains("node = \"n2\""),
            "{written}"
        );
        for bad in [
            "\"n0\"", "\"x1\"", "\"n257\"", "\"n01\"", "\"n+1\"", "-1", "true",
        ] {
            let text = by_name.replace("\"n2\"", bad);
            let err = Schedule::from_toml(&text, "s.toml").unwrap_err();
            assert!(
                err.contains("`events[1].node` (crash)") && err.contains("n1"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_field_a_kind_does_not_take_is_named_even_on_a_kind_without_fields() {
        for kind in ["heal", "end-of-faults", "crash"] {
            let text = format!(
                "format = 1\nseed = 0\n[[events]]\nat_us = 0\nkind = \"{kind}\"\nnode = 0\nsurplus = 1\n"
            );
            let err = Schedule::from_toml(&text, "s.toml").unwrap_err();
            let named =
                ["node", "surplus"].map(|f| format!("`events[0].{f}` ({kind}): unknown field"));
            assert!(named.iter().any(|n| err.contains(n.as_str())), "{err}");
        }
    }
}
