//! `docs/scenarios.md` against the code: every key the `Scenario` type
//! has, each with its real default, and every coverage mark, with the
//! shipped scenarios that require it. A new knob, a changed default, a new
//! mark or a scenario's new `marks.required` fails here until the
//! reference says so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use writer_registry_sim::marks::all_marks;
use writer_registry_sim::scenario::Scenario;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn reference() -> String {
    let path = root().join("docs/scenarios.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of the reference's tables, by section: `""` for `## Top
/// level`, `"faults"` for ``## `[faults]` ``, `"marks:"` for `## Coverage
/// marks`. A row is its first cell (backticks stripped) and its cells.
fn rows(doc: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut section: Option<String> = None;
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            section = match heading.trim() {
                "Top level" => Some(String::new()),
                "Coverage marks" => Some("marks:".into()),
                h => h
                    .strip_prefix("`[")
                    .and_then(|h| h.strip_suffix("]`"))
                    .map(str::to_string),
            };
            continue;
        }
        let (Some(section), Some(row)) = (&section, line.strip_prefix("| `")) else {
            continue;
        };
        let cells: Vec<String> = format!("`{row}")
            .trim_end_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_string())
            .collect();
        let key = cells[0].trim_matches('`').to_string();
        let old = out.entry(section.clone()).or_default().insert(key, cells);
        assert!(
            old.is_none(),
            "docs/scenarios.md lists a row twice in {section:?}"
        );
    }
    out
}

/// Every key a scenario file may set, by table (`""`: the top level), from
/// the type itself: `Scenario`'s serialization writes every field, an
/// unset `Option` as null, so a field added to any of its structs shows up
/// here without a list to keep.
fn code_keys(sc: &Scenario) -> BTreeMap<String, BTreeMap<String, Value>> {
    let Value::Object(top) = serde_json::to_value(sc).unwrap() else {
        panic!("a scenario serializes as an object");
    };
    let mut out: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    out.insert(String::new(), BTreeMap::new());
    for (key, value) in top {
        match value {
            Value::Object(table) => {
                out.insert(key, table.into_iter().collect());
            }
            v => {
                out.get_mut("").unwrap().insert(key, v);
            }
        }
    }
    out
}

fn default_scenario_table() -> toml::Table {
    let text = std::fs::read_to_string(root().join("scenarios/default.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

/// What an absent key means, from the code: `scenarios/default.toml` with
/// that one key removed, deserialized (a missing required key is an
/// error: `None`), the field's value in the result.
fn absent_means(section: &str, key: &str) -> Option<Value> {
    let mut table = default_scenario_table();
    if section.is_empty() {
        table.remove(key);
    } else if let Some(toml::Value::Table(t)) = table.get_mut(section) {
        t.remove(key);
    }
    let sc: Scenario = toml::Value::Table(table).try_into().ok()?;
    let keys = code_keys(&sc);
    Some(keys[section][key].clone())
}

/// A default cell's meaning: `required`, `none` (null), or a backticked
/// TOML literal.
fn documented_default(cell: &str) -> Result<Option<Value>, String> {
    match cell {
        "required" => Ok(None),
        "none" => Ok(Some(Value::Null)),
        c if c.len() > 2 && c.starts_with('`') && c.ends_with('`') => {
            let literal = &c[1..c.len() - 1];
            let t: toml::Table = toml::from_str(&format!("v = {literal}"))
                .map_err(|e| format!("{literal} is not a TOML value: {e}"))?;
            Ok(Some(serde_json::to_value(&t["v"]).unwrap()))
        }
        c => Err(format!(
            "{c:?}: a default is `required`, `none` or a backticked TOML value"
        )),
    }
}

/// JSON equality with numbers compared as numbers (`0.0` in the code is
/// `0.0` or `0` in the reference).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        _ => a == b,
    }
}

#[test]
fn every_scenario_key_is_in_the_reference_with_its_default() {
    let doc = rows(&reference());
    let (sc, _) = Scenario::load(&root().join("scenarios/default.toml")).unwrap();
    let code = code_keys(&sc);
    let mut problems = Vec::new();
    for (section, keys) in &code {
        let shown = if section.is_empty() {
            "## Top level".to_string()
        } else {
            format!("## `[{section}]`")
        };
        let documented = doc.get(section).cloned().unwrap_or_default();
        for key in keys.keys() {
            let Some(cells) = documented.get(key) else {
                problems.push(format!("`{key}` has no row under {shown}"));
                continue;
            };
            let Some(cell) = cells.get(2) else {
                problems.push(format!("`{key}` under {shown}: no default column"));
                continue;
            };
            match documented_default(cell) {
                Err(e) => problems.push(format!("`{key}` under {shown}: {e}")),
                Ok(said) => {
                    let real = absent_means(section, key);
                    let agree = match (&said, &real) {
                        (Some(s), Some(r)) => same(s, r),
                        (None, None) => true,
                        _ => false,
                    };
                    if !agree {
                        let show = |v: &Option<Value>| {
                            v.as_ref().map_or("required".to_string(), |v| v.to_string())
                        };
                        problems.push(format!(
                            "`{key}` under {shown}: the reference says the default is {}, the code {}",
                            show(&said),
                            show(&real)
                        ));
                    }
                }
            }
        }
        for key in documented.keys().filter(|k| !keys.contains_key(*k)) {
            problems.push(format!(
                "`{key}` under {shown} is not a key of the Scenario type"
            ));
        }
    }
    for section in doc
        .keys()
        .filter(|s| *s != "marks:" && !code.contains_key(*s))
    {
        problems.push(format!(
            "## `[{section}]` is not a table of the Scenario type"
        ));
    }
    assert!(
        problems.is_empty(),
        "docs/scenarios.md is stale:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_mark_is_in_the_reference_with_the_scenarios_that_require_it() {
    let doc = rows(&reference());
    let documented = doc.get("marks:").cloned().unwrap_or_default();
    let mut requiring: BTreeMap<&str, BTreeSet<String>> = all_marks()
        .into_iter()
        .map(|m| (m, BTreeSet::new()))
        .collect();
    let dir = root().join("scenarios");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let (sc, _) = Scenario::load(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        for mark in sc.marks.required.iter().chain(&sc.marks.turmoil_required) {
            requiring
                .get_mut(mark.as_str())
                .unwrap()
                .insert(file.clone());
        }
    }
    let mut problems = Vec::new();
    for (mark, files) in &requiring {
        let Some(cells) = documented.get(*mark) else {
            problems.push(format!("mark `{mark}` has no row under ## Coverage marks"));
            continue;
        };
        let listed: BTreeSet<String> = cells
            .last()
            .unwrap()
            .split('`')
            .filter(|s| s.ends_with(".toml"))
            .map(str::to_string)
            .collect();
        if &listed != files {
            problems.push(format!(
                "mark `{mark}`: the reference says required by {listed:?}, the scenarios {files:?}"
            ));
        }
    }
    for mark in documented
        .keys()
        .filter(|m| !requiring.contains_key(m.as_str()))
    {
        problems.push(format!("mark `{mark}` in the reference is not a mark"));
    }
    assert!(
        problems.is_empty(),
        "docs/scenarios.md is stale:\n{}",
        problems.join("\n")
    );
}
