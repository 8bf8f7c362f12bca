//! `summary.md`: the human summary of a sweep, a nightly job or merged
//! shards, in Markdown fit for a CI step summary; and the failure groups
//! and coverage checks it reports.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{Outcome, Record, Source};

/// The runs that failed the same way.
#[derive(Debug, Clone)]
pub struct Group {
    pub signature: String,
    pub runs: u64,
    /// The such run with the lowest seed.
    pub first: Record,
    pub scenarios: BTreeSet<String>,
    /// No corpus entry and no scenario's allowed findings carry it.
    pub new: bool,
    /// Where the first run's shrunk corpus entry was written.
    pub corpus_entry: Option<String>,
}

/// Failures grouped by signature, new ones first, then the most common.
#[derive(Debug, Clone, Default)]
pub struct Groups(pub Vec<Group>);

impl Groups {
    /// Groups the failing records; `known` says whether a failure's
    /// signature is already carried by the corpus or a scenario.
    pub fn of(source: Source, known: &dyn Fn(&Record) -> bool) -> Result<Groups, String> {
        let mut by: BTreeMap<String, Group> = BTreeMap::new();
        source.each(&mut |r| {
            if !r.outcome.is_failure() {
                return;
            }
            let sig = r
                .signature
                .clone()
                .unwrap_or_else(|| format!("{:?}", r.outcome));
            let g = by.entry(sig.clone()).or_insert_with(|| Group {
                signature: sig,
                runs: 0,
                first: r.clone(),
                scenarios: BTreeSet::new(),
                new: !known(r),
                corpus_entry: None,
            });
            g.runs += 1;
            g.scenarios.insert(r.scenario.clone());
            // The lowest seed, not the first to finish: the same results
            // pick the same run to shrink and draw.
            if (r.seed, &r.scenario) < (g.first.seed, &g.first.scenario) {
                g.first = r.clone();
            }
        })?;
        let mut groups: Vec<Group> = by.into_values().collect();
        groups.sort_by(|a, b| b.new.cmp(&a.new).then(b.runs.cmp(&a.runs)));
        Ok(Groups(groups))
    }

    pub fn new_ones(&self) -> impl Iterator<Item = &Group> {
        self.0.iter().filter(|g| g.new)
    }
}

/// A scenario's required coverage marks against the runs it had.
#[derive(Debug, Clone)]
pub struct MarkCheck {
    pub scenario: String,
    pub runs: u64,
    /// Enforced: the runs reached the scenario's `marks.min_seeds`.
    pub enforced: bool,
    pub missing: Vec<String>,
    /// Findings the scenario expects that no run showed.
    pub missing_findings: Vec<String>,
}

impl MarkCheck {
    pub fn failed(&self) -> bool {
        self.enforced && !(self.missing.is_empty() && self.missing_findings.is_empty())
    }
}

/// Where `summary.md` sends a reader for a report it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Links {
    /// A relative link: it works where the summary is opened beside its
    /// files (a local sweep's directory, a downloaded artifact).
    Relative,
    /// A GitHub Actions run's page, where its artifacts are: a step
    /// summary is shown away from the files, so a relative link is dead
    /// there. The report is named by its path inside the artifact.
    Run {
        url: String,
        /// The artifact that holds the summary's directory
        /// (`REGSIM_ARTIFACT`).
        artifact: String,
    },
}

impl Links {
    /// The run's page when `var` has GitHub Actions' variables
    /// (`GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`, `GITHUB_RUN_ID`) and the
    /// workflow names the artifact it uploads the summary's directory in
    /// (`REGSIM_ARTIFACT`); else relative links (a CI job that uploads
    /// nothing has no artifact to point at). `var` is the environment's
    /// lookup, passed in so that a test needs no process environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Links {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        match (
            set("GITHUB_SERVER_URL"),
            set("GITHUB_REPOSITORY"),
            set("GITHUB_RUN_ID"),
            set("REGSIM_ARTIFACT"),
        ) {
            (Some(server), Some(repo), Some(run), Some(artifact)) => Links::Run {
                url: format!("{}/{repo}/actions/runs/{run}", server.trim_end_matches('/')),
                artifact,
            },
            _ => Links::Relative,
        }
    }

    /// A Markdown reference to the report at `path` (relative to the
    /// summary's directory, which is the artifact's root).
    pub fn report(&self, path: &str) -> String {
        match self {
            Links::Relative => format!("[html]({path})"),
            // The relative link too: it works where the summary is read
            // beside its files (the artifact, unpacked).
            Links::Run { url, artifact } => {
                format!("[html]({path}) (`{path}` in [artifact {artifact}]({url}))")
            }
        }
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// One row of the summary's table: a scenario on a runtime (and mutant).
#[derive(Default)]
struct Row {
    runs: usize,
    outcomes: BTreeMap<Outcome, usize>,
    lo: u64,
    hi: u64,
    findings: BTreeMap<String, usize>,
    ms: u64,
}

/// The Markdown summary of the records in `source`. `notes` are lines
/// worth a reader's eye (a truncated results line, a fallback of the
/// temp directory); `links` says where a report's link points.
pub fn summary_markdown(
    title: &str,
    source: Source,
    groups: &Groups,
    marks: &[MarkCheck],
    notes: &[String],
    links: &Links,
) -> Result<String, String> {
    let mut per: BTreeMap<(String, &'static str, Option<String>), Row> = BTreeMap::new();
    let mut all = Row::default();
    let mut read_notes = source.each(&mut |r| {
        for row in [
            per.entry((r.scenario.clone(), r.runtime.name(), r.mutant.clone()))
                .or_insert_with(|| Row {
                    lo: u64::MAX,
                    ..Default::default()
                }),
            &mut all,
        ] {
            row.runs += 1;
            *row.outcomes.entry(r.outcome).or_default() += 1;
            row.lo = row.lo.min(r.seed);
            row.hi = row.hi.max(r.seed);
            for f in &r.findings {
                *row.findings.entry(f.clone()).or_default() += 1;
            }
            row.ms += r.wall_ms;
        }
    })?;
    let mut m = String::new();
    let count = |o: Outcome| all.outcomes.get(&o).copied().unwrap_or(0);
    let new = groups.new_ones().count();
    let marks_failed = marks.iter().filter(|c| c.failed()).count();
    let troubled = [
        Outcome::Nondeterministic,
        Outcome::HarnessError,
        Outcome::Timeout,
    ]
    .iter()
    .any(|o| count(*o) > 0);
    let ok = new == 0 && marks_failed == 0 && !troubled;
    let _ = writeln!(m, "# regsim: {title}\n");
    let _ = writeln!(
        m,
        "**{}**: {} runs, {} failed, {} harness errors, {} timeouts, {} nondeterministic, {} interrupted; {} failure signatures, {new} of them new; {marks_failed} scenarios missing required marks.\n",
        if ok { "PASS" } else { "FAIL" },
        all.runs,
        count(Outcome::Fail),
        count(Outcome::HarnessError),
        count(Outcome::Timeout),
        count(Outcome::Nondeterministic),
        count(Outcome::Interrupted),
        groups.0.len(),
    );
    scenario_table(&mut m, &per);
    failure_groups(&mut m, groups, links);
    missing_marks(&mut m, marks);
    read_notes.extend(notes.iter().cloned());
    if !read_notes.is_empty() {
        m.push_str("\n## Notes\n\n");
        for n in &read_notes {
            let _ = writeln!(m, "- {n}");
        }
    }
    Ok(m)
}

/// One row per scenario, runtime and mutant.
fn scenario_table(m: &mut String, per: &BTreeMap<(String, &'static str, Option<String>), Row>) {
    m.push_str(
        "| scenario | runtime | runs | failed | without verdict | seeds | findings | wall s |\n",
    );
    m.push_str("| --- | --- | ---: | ---: | ---: | --- | --- | ---: |\n");
    for ((scenario, runtime, mutant), row) in per {
        let failed = row.outcomes.get(&Outcome::Fail).copied().unwrap_or(0);
        let pass = row.outcomes.get(&Outcome::Pass).copied().unwrap_or(0);
        let findings: Vec<String> = row
            .findings
            .iter()
            .map(|(f, n)| format!("{f} ×{n}"))
            .collect();
        let name = match mutant {
            Some(mu) => format!("{scenario} (mutant {mu})"),
            None => scenario.clone(),
        };
        let _ = writeln!(
            m,
            "| {} | {runtime} | {} | {failed} | {} | {}..={} | {} | {:.1} |",
            cell(&name),
            row.runs,
            row.runs - pass - failed,
            row.lo,
            row.hi,
            cell(&findings.join(", ")),
            row.ms as f64 / 1000.0
        );
    }
}

/// Failures grouped by signature, and the command that replays each
/// group's first run.
fn failure_groups(m: &mut String, groups: &Groups, links: &Links) {
    if !groups.0.is_empty() {
        m.push_str("\n## Failures by signature\n\n");
        m.push_str("| | signature | runs | scenarios | first run | corpus entry | report |\n");
        m.push_str("| --- | --- | ---: | --- | --- | --- | --- |\n");
        for g in &groups.0 {
            let report = g
                .first
                .report
                .as_deref()
                .map(|p| links.report(p))
                .unwrap_or_default();
            let _ = writeln!(
                m,
                "| {} | `{}` | {} | {} | seed {} | {} | {} |",
                if g.new { "**new**" } else { "known" },
                cell(&g.signature),
                g.runs,
                cell(&g.scenarios.iter().cloned().collect::<Vec<_>>().join(", ")),
                g.first.seed,
                g.corpus_entry.as_deref().map(cell).unwrap_or_default(),
                cell(&report),
            );
        }
        m.push_str("\nReplay the first run of each group (from the repository root):\n\n```sh\n");
        for g in &groups.0 {
            let _ = writeln!(m, "{}", g.first.replay);
        }
        m.push_str("```\n");
    }
}

/// Scenarios whose required marks or expected findings never showed.
fn missing_marks(m: &mut String, marks: &[MarkCheck]) {
    let missing: Vec<&MarkCheck> = marks
        .iter()
        .filter(|c| !(c.missing.is_empty() && c.missing_findings.is_empty()))
        .collect();
    if !missing.is_empty() {
        m.push_str("\n## Required coverage marks and expected findings never shown\n\n");
        for c in missing {
            let what: Vec<String> = c
                .missing
                .iter()
                .map(|mark| format!("mark {mark}"))
                .chain(c.missing_findings.iter().map(|f| format!("finding {f}")))
                .collect();
            let _ = writeln!(
                m,
                "- {} ({} runs{}): {}",
                c.scenario,
                c.runs,
                if c.enforced {
                    ""
                } else {
                    ", fewer than its marks.min_seeds: not enforced"
                },
                what.join(", ")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HarnessError;

    #[test]
    fn a_group_is_led_by_its_lowest_seed_whatever_order_runs_finished_in() {
        let origin = crate::results::tests::default_origin();
        let failing = |seed: u64, sig: &str| {
            let mut r = origin.harness_error(seed, &HarnessError::Interrupted, 0, String::new());
            r.outcome = Outcome::Fail;
            r.signature = Some(sig.into());
            r
        };
        let records = [
            failing(5, "a"),
            failing(2, "a"),
            failing(9, "a"),
            failing(7, "b"),
        ];
        let groups = Groups::of(Source::Memory(&records), &|r| r.seed == 7).unwrap();
        assert_eq!(groups.0.len(), 2);
        // The new group comes first, then the known one.
        assert_eq!(
            (groups.0[0].signature.as_str(), groups.0[0].new),
            ("a", true)
        );
        assert_eq!((groups.0[0].runs, groups.0[0].first.seed), (3, 2));
        assert_eq!(
            (groups.0[1].signature.as_str(), groups.0[1].new),
            ("b", false)
        );
    }

    #[test]
    fn a_report_is_linked_beside_the_summary_or_on_the_actions_run_page() {
        let origin = crate::results::tests::default_origin();
        let mut r = origin.harness_error(4, &HarnessError::Interrupted, 0, "replay".into());
        r.outcome = Outcome::Fail;
        r.signature = Some("a".into());
        let records = [r];
        let source = Source::Memory(&records);
        let mut groups = Groups::of(source, &|_| false).unwrap();
        groups.0[0].first.report = Some("reports/default-4.html".into());
        let render = |links: &Links| summary_markdown("t", source, &groups, &[], &[], links);
        let env = |vars: &[(&str, &str)]| {
            let vars = vars.to_vec();
            Links::from_vars(move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        let actions = [
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_RUN_ID", "42"),
        ];
        let page = "https://github.com/o/r/actions/runs/42";

        // Outside Actions, or with a variable missing: beside the summary.
        assert_eq!(env(&[]), Links::Relative);
        assert_eq!(env(&actions[..2]), Links::Relative);
        let md = render(&env(&[])).unwrap();
        assert!(md.contains(" | [html](reports/default-4.html) |"), "{md}");

        // In Actions with no artifact named (ci.yml uploads none): no
        // link to an artifact that does not exist.
        assert_eq!(env(&actions), Links::Relative);
        // With one: the run's page and the path inside the artifact,
        // beside the link that works where the artifact is unpacked.
        let named = [&actions[..], &[("REGSIM_ARTIFACT", "merged")]].concat();
        let md = render(&env(&named)).unwrap();
        assert!(
            md.contains(&format!(
                " | [html](reports/default-4.html) (`reports/default-4.html` in [artifact merged]({page})) |"
            )),
            "{md}"
        );
    }
}
