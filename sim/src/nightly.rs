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

/// Loads every `*.toml` under `dir`, in name order.
pub fn targets(dir: &Path) -> Result<Vec<Target>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
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

/// Each scenario's required marks against every run of it in `source`
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
            Some(MarkCheck {
                scenario: name,
                runs: s.runs,
                enforced: s.runs >= sc.marks.min_seeds,
                missing,
            })
        })
        .collect())
}
