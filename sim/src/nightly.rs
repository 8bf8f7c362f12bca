//! What the nightly job (and a merge of its shards) decides from results:
//! which failure signatures are already known, and whether each
//! scenario's required coverage marks were hit across all its runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::corpus::{Expect, SeedEntry};
use crate::results::{MarkCheck, Record, Source};
use crate::run::Runtime;
use crate::scenario::Scenario;

/// A scenario file to sweep.
pub struct Target {
    /// As replay commands name it (relative when given relative).
    pub path: PathBuf,
    pub scenario: Scenario,
}

/// The scenario files (`*.toml`) in `dir`, in name order.
pub fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Loads every `*.toml` under `dir`, in name order.
pub fn targets(dir: &Path) -> Result<Vec<Target>, String> {
    let paths = scenario_files(dir)?;
    if paths.is_empty() {
        return Err(format!("{}: no scenario files (*.toml)", dir.display()));
    }
    paths
        .into_iter()
        .map(|path| {
            let (scenario, _) = Scenario::load(&path).map_err(|e| e.to_string())?;
            let path = path
                .strip_prefix("./")
                .map(Path::to_path_buf)
                .unwrap_or(path);
            Ok(Target { path, scenario })
        })
        .collect()
}

/// The failure groups the project already carries: each still-failing
/// corpus entry's `group`, for its mutant (or the unmutated build). A
/// failure whose group no entry carries is new. Findings a scenario allows
/// never fail its runs, so they need no entry; a finding one scenario
/// allows is still new when it fails another.
#[derive(Debug, Default)]
pub struct Known {
    groups: BTreeSet<(String, Option<String>)>,
}

impl Known {
    /// Reads `seeds_dir`'s entries (an entry that does not parse carries
    /// nothing here; the corpus test reports it).
    pub fn load(seeds_dir: &Path) -> Known {
        let mut known = Known::default();
        let Ok(dir) = std::fs::read_dir(seeds_dir) else {
            return known;
        };
        for e in dir.flatten() {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if let Ok(entry) = SeedEntry::parse(&text, &path.display().to_string()) {
                if let (Expect::StillFailing, Some(group)) = (entry.expect, entry.group) {
                    known.groups.insert((group, entry.mutant));
                }
            }
        }
        known
    }

    /// True when a failing record's group is carried by an entry of the
    /// same mutant.
    pub fn knows(&self, r: &Record) -> bool {
        r.signature
            .as_ref()
            .is_some_and(|sig| self.groups.contains(&(sig.clone(), r.mutant.clone())))
    }
}

/// Each scenario's required marks and expected findings against every
/// run of it in `source`
/// (`scenarios` by name; records of unknown scenarios are skipped). A
/// scenario's marks are enforced once its runs with a verdict reach its
/// `marks.min_seeds`; its turmoil-only marks when any run was on turmoil.
pub fn mark_checks(
    source: Source,
    scenarios: &BTreeMap<String, Scenario>,
) -> Result<Vec<MarkCheck>, String> {
    #[derive(Default)]
    struct Seen {
        runs: u64,
        turmoil: bool,
        marks: BTreeSet<String>,
        findings: BTreeSet<String>,
    }
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    source.each(&mut |r| {
        if !matches!(
            r.outcome,
            crate::results::Outcome::Pass | crate::results::Outcome::Fail
        ) || r.mutant.is_some()
        {
            return;
        }
        let s = seen.entry(r.scenario.clone()).or_default();
        s.runs += 1;
        s.turmoil |= r.runtime == Runtime::Turmoil;
        s.marks.extend(
            r.marks
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(m, _)| m.clone()),
        );
        s.findings.extend(r.findings.iter().cloned());
    })?;
    Ok(seen
        .into_iter()
        .filter_map(|(name, s)| {
            let sc = scenarios.get(&name)?;
            let turmoil = sc.marks.turmoil_required.iter().filter(|_| s.turmoil);
            let missing = sc
                .marks
                .required
                .iter()
                .chain(turmoil)
                .filter(|m| !s.marks.contains(*m))
                .cloned()
                .collect();
            let missing_findings = sc
                .findings
                .expected
                .iter()
                .filter(|f| !s.findings.contains(*f))
                .cloned()
                .collect();
            Some(MarkCheck {
                scenario: name,
                runs: s.runs,
                enforced: s.runs >= sc.marks.min_seeds,
                missing,
                missing_findings,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HarnessError;
    use crate::results::{Origin, Outcome};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn failing(signature: &str, mutant: Option<&str>) -> Record {
        let origin = Origin {
            scenario: "restart-storm".into(),
            scenario_path: "scenarios/restart-storm.toml".into(),
            runtime: Runtime::Native,
            registry: "memory".into(),
            mutant: mutant.map(str::to_owned),
        };
        let mut r = origin.harness_error(1, &HarnessError::Interrupted, 0, String::new());
        r.outcome = Outcome::Fail;
        r.oracle = Some("durability".into());
        r.signature = Some(signature.into());
        r
    }

    #[test]
    fn only_a_still_failing_entry_of_the_same_group_and_mutant_makes_a_failure_known() {
        let dir = tempfile::tempdir().unwrap();
        let text =
            std::fs::read_to_string(root().join("seeds/restart-storm-0-shrunk.toml")).unwrap();
        let base = SeedEntry::parse(&text, "base").unwrap();
        let write = |name: &str, expect: Expect, group: &str, mutant: Option<&str>| {
            let mut e = base.clone();
            e.expect = expect;
            e.signature = "durability".into();
            e.group = Some(group.into());
            e.mutant = mutant.map(str::to_owned);
            std::fs::write(dir.path().join(name), e.to_toml()).unwrap();
        };
        write(
            "a.toml",
            Expect::StillFailing,
            "durability: row # lost",
            None,
        );
        write("b.toml", Expect::Fixed, "durability: row # kept", None);
        write(
            "c.toml",
            Expect::StillFailing,
            "durability: row # torn",
            Some("halt-ignored"),
        );
        let known = Known::load(dir.path());
        assert!(known.knows(&failing("durability: row # lost", None)));
        // Same oracle, another group: new.
        assert!(!known.knows(&failing("durability: row # gone", None)));
        // A fixed bug's group is not known: it would hide its regression.
        assert!(!known.knows(&failing("durability: row # kept", None)));
        // A mutant's entry knows only that mutant's failures.
        assert!(!known.knows(&failing("durability: row # torn", None)));
        assert!(known.knows(&failing("durability: row # torn", Some("halt-ignored"))));
    }

    #[test]
    fn marks_and_expected_findings_are_checked_over_all_runs_once_there_are_enough() {
        let (sc, _) = Scenario::load(&root().join("scenarios/restart-storm.toml")).unwrap();
        let scenarios: BTreeMap<String, Scenario> = [(sc.name.clone(), sc.clone())].into();
        let run = |marks: &[&str], finding: bool| {
            let mut r = failing("x", None);
            r.outcome = Outcome::Pass;
            r.marks = marks.iter().map(|m| (m.to_string(), 1)).collect();
            if finding {
                r.findings = sc.findings.expected.clone();
            }
            r
        };
        let required: Vec<&str> = sc.marks.required.iter().map(String::as_str).collect();
        let (first, rest) = required.split_at(1);
        // Shards: one run hits the first mark, the others the rest.
        let mut records = vec![run(first, false)];
        records.extend((1..sc.marks.min_seeds).map(|_| run(rest, true)));
        let checks = mark_checks(Source::Memory(&records), &scenarios).unwrap();
        assert_eq!(checks.len(), 1);
        assert!(!checks[0].failed(), "{:?}", checks[0]);
        // Without the first run, its mark is missing and, enough runs
        // given, enforced.
        let checks = mark_checks(Source::Memory(&records[1..]), &scenarios).unwrap();
        assert_eq!(checks[0].missing, vec![first[0].to_string()]);
        assert!(!checks[0].enforced && !checks[0].failed(), "one run short");
        let mut more = records[1..].to_vec();
        more.push(run(rest, false));
        let checks = mark_checks(Source::Memory(&more), &scenarios).unwrap();
        assert!(checks[0].enforced && checks[0].failed());
        // An expected finding no run showed fails too.
        let none: Vec<Record> = (0..sc.marks.min_seeds)
            .map(|_| run(&required, false))
            .collect();
        let checks = mark_checks(Source::Memory(&none), &scenarios).unwrap();
        assert_eq!(checks[0].missing_findings, sc.findings.expected);
        assert!(checks[0].failed());
    }
}
