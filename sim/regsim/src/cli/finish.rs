//! The second half of every sweep (`regsim run`, `regsim nightly`,
//! `regsim merge`) and of the mutant hunt: failures grouped by signature,
//! each new group's first failure drawn as a report and shrunk into a
//! corpus entry, `summary.md` and `junit.xml` written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::case::entry_for;
use super::{find_root, mutant_slot, CliError};
use writer_registry_sim::cancel::Cancel;
use writer_registry_sim::corpus::Expect;
use writer_registry_sim::nightly::{mark_checks, Known};
use writer_registry_sim::results::{self, Group, Groups, Outcome, Record, Source};
use writer_registry_sim::run::{self, RunOptions};
use writer_registry_sim::scenario::Scenario;

/// Failure groups drawn (and, when new, shrunk) per job.
const FOLLOW_UPS: usize = 20;
/// Wall time for all of a job's shrinking together, and for one.
const FOLLOW_UP_TIME: std::time::Duration = std::time::Duration::from_secs(600);
const SHRINK_TIME: std::time::Duration = std::time::Duration::from_secs(120);

/// The second half of a sweep, a nightly job or a merge: groups,
/// follow-ups (reports, shrinking), `summary.md`, `junit.xml`.
pub(super) struct Finish<'a> {
    pub(super) out: &'a Path,
    pub(super) title: &'a str,
    pub(super) files: &'a [PathBuf],
    pub(super) scenarios: &'a BTreeMap<String, Scenario>,
    /// Shrink new groups' first failures into corpus entries.
    pub(super) shrink: bool,
    /// Print the Markdown summary too.
    pub(super) shout: bool,
    /// More Markdown for the summary (the mutant hunt).
    pub(super) extra_md: &'a str,
}

/// What the second half of a sweep found, for the command's verdict.
pub(super) struct Finished {
    /// Runs recorded, and how many of them failed.
    pub(super) runs: u64,
    pub(super) failed: u64,
    /// What calls for a person, one phrase each: a new signature, an
    /// enforced required mark or expected finding missing, a run that
    /// gave no verdict (nondeterministic, a harness error, a timeout).
    /// None: the sweep passes.
    pub(super) reasons: Vec<String>,
    /// The first run of the first failure group (new signatures first),
    /// with its report once drawn.
    pub(super) first: Option<Record>,
}

impl Finish<'_> {
    /// Groups, shrinks, reports and summarises `files` into `out`.
    pub(super) fn run(&self, notes: &[String]) -> Result<Finished, CliError> {
        let Finish {
            out,
            title,
            files,
            scenarios,
            shrink,
            shout,
            extra_md,
        } = *self;
        let source = Source::Files(files);
        let root = find_root()?;
        let known = Known::load(&root.join("seeds"));
        let mut groups = Groups::of(source, &|r| known.knows(r))?;
        let mut notes = notes.to_vec();
        // Follow-ups are bounded: the first groups (new ones come first), a
        // shared deadline for shrinking, nothing after an interrupt.
        let deadline = std::time::Instant::now() + FOLLOW_UP_TIME;
        let followed = groups.0.len().min(FOLLOW_UPS);
        if followed < groups.0.len() {
            notes.push(format!(
            "{} more failure groups were neither drawn nor shrunk (the first {FOLLOW_UPS} were)",
            groups.0.len() - followed
        ));
        }
        for g in groups.0.iter_mut().take(followed) {
            if writer_registry_sim::interrupt::stopping() {
                notes.push("interrupted: failure groups were not all drawn or shrunk".into());
                break;
            }
            let shrink = shrink && g.new && std::time::Instant::now() < deadline;
            if let Err(e) = follow_up(&root, out, g, shrink) {
                notes.push(format!("{}: {e}", g.signature));
            }
        }
        let marks = mark_checks(source, scenarios)?;
        let md =
            results::summary_markdown(title, source, &groups, &marks, &notes, &links())? + extra_md;
        let junit = results::junit_xml(source)?;
        for (name, text) in [("summary.md", &md), ("junit.xml", &junit)] {
            let p = out.join(name);
            std::fs::write(&p, text).map_err(|e| format!("{}: cannot write: {e}", p.display()))?;
        }
        if let Some(step) = std::env::var_os("GITHUB_STEP_SUMMARY") {
            let _ = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(step)
                .and_then(|mut f| std::io::Write::write_all(&mut f, md.as_bytes()));
        }
        if shout {
            println!("{md}");
        }
        let written: Vec<&str> = [
            "results.jsonl",
            "junit.xml",
            "summary.md",
            "reports/",
            "corpus/",
        ]
        .into_iter()
        .filter(|f| out.join(f).exists())
        .collect();
        println!("wrote {}: {}", out.display(), written.join(", "));
        let mut counts: BTreeMap<Outcome, u64> = BTreeMap::new();
        source.each(&mut |r| *counts.entry(r.outcome).or_default() += 1)?;
        let mut reasons: Vec<String> = groups
            .new_ones()
            .map(|g| format!("new signature {}", g.signature))
            .collect();
        for m in marks.iter().filter(|m| m.failed()) {
            for mark in &m.missing {
                reasons.push(format!("{}: required mark never hit: {mark}", m.scenario));
            }
            for finding in &m.missing_findings {
                reasons.push(format!(
                    "{}: expected finding never showed: {finding}",
                    m.scenario
                ));
            }
        }
        for (o, what) in [
            (Outcome::Nondeterministic, "nondeterministic"),
            (Outcome::HarnessError, "ended in a harness error"),
            (Outcome::Timeout, "timed out"),
        ] {
            if let Some(n) = counts.get(&o) {
                reasons.push(format!("{n} runs {what}"));
            }
        }
        Ok(Finished {
            runs: counts.values().sum(),
            failed: counts.get(&Outcome::Fail).copied().unwrap_or(0),
            reasons,
            first: groups.0.first().map(|g| g.first.clone()),
        })
    }
}

/// Where `summary.md`'s report links point: the run's page inside GitHub
/// Actions (the summary becomes the step summary, away from its files),
/// else beside the summary.
pub(super) fn links() -> results::Links {
    results::Links::from_vars(|name| std::env::var(name).ok())
}

/// Whether a verdict may name this very binary: not inside GitHub
/// Actions, where the binary is gone with the job and a reader of its log
/// needs the `cargo run` form.
pub(super) fn own_binary_replays() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_none()
}

/// The last line of a sweep: PASS or FAIL with what it ran (`what`), why
/// it failed (`reasons`), and the first failure's seed, signature, replay
/// command and report (under `out`), so that nothing a person needs has
/// scrolled away. `own`: the runs are this process's (not merged
/// shards'), so the replay names this binary, which needs no build.
pub(super) fn verdict(
    ok: bool,
    what: &str,
    reasons: &[String],
    first: Option<&Record>,
    out: &Path,
    own: bool,
) -> String {
    let mut line = format!("{}: {what}", if ok { "PASS" } else { "FAIL" });
    if !reasons.is_empty() {
        line += &format!("; {}", reasons.join("; "));
    }
    if let Some(r) = first.filter(|r| r.outcome == Outcome::Fail) {
        let signature = r.signature.as_deref().unwrap_or("?");
        // Results files written before the field went bare carry the
        // printed comment: the command is what comes before it.
        let replay = r.replay.split("   # ").next().unwrap_or(&r.replay);
        let here = own
            .then(writer_registry_sim::command::this_binary)
            .flatten();
        let replay = here
            .and_then(|exe| writer_registry_sim::command::on_binary(replay, &exe))
            .unwrap_or_else(|| replay.to_string());
        line += &format!(
            "; first failure: {} seed {} [{signature}], replay: {replay}",
            r.scenario, r.seed
        );
        if let Some(report) = &r.report {
            line += &format!(", report: {}", out.join(report).display());
        }
    }
    line
}

/// A group's first failure drawn as an HTML report under `out/reports/`
/// and, with `shrink` (new signatures), shrunk into a corpus entry under
/// `out/corpus/`.
fn follow_up(root: &Path, out: &Path, g: &mut Group, shrink: bool) -> Result<(), String> {
    let r = &g.first;
    if !matches!(r.outcome, Outcome::Fail) {
        return Ok(());
    }
    // Recorded relative to the root (or absolute).
    let path = root.join(&r.scenario_path);
    let (sc, _) = Scenario::load(&path).map_err(|e| e.to_string())?;
    let mut opts = RunOptions::for_scenario(&sc);
    opts.runtime = r.runtime;
    opts.mutant = mutant_slot(r.mutant.as_deref()).map_err(|CliError(e)| e)?;
    if let Some(registry) = writer_registry_sim::store::RegistryKind::from_name(&r.registry) {
        opts.registry = registry;
    }
    let schedule = run::schedule_for(&sc, r.seed).map_err(|e| e.to_string())?;
    let suffix = r
        .mutant
        .as_deref()
        .map(|m| format!("-{m}"))
        .unwrap_or_default();
    let stem = format!("{}-{}{suffix}", sc.name, r.seed);
    if shrink {
        // A shrink gets its time; what it has by then is kept.
        let mut o = opts.clone();
        o.cancel = Cancel::within(
            Some(SHRINK_TIME),
            Some(writer_registry_sim::interrupt::abandon_flag()),
        );
        let group = |r: &writer_registry_sim::run::RunResult| {
            let v = r.violations.first()?;
            Some(results::signature(&v.oracle, &v.detail))
        };
        if let Some(shrunk) =
            writer_registry_sim::shrink::shrink_by(&sc, &schedule, &o, &|_| {}, &group)
                .map_err(|e| e.to_string())?
        {
            let note = format!(
                "New signature `{}` from the nightly job: shrunk from {} to {} events ({} runs) from seed {}.",
                g.signature,
                shrunk.before,
                shrunk.schedule.events.len(),
                shrunk.runs,
                r.seed
            );
            // The corpus checks an entry by its first oracle.
            let oracle = r.oracle.clone().unwrap_or_default();
            let mut entry = entry_for(
                &path,
                shrunk.schedule,
                Expect::StillFailing,
                oracle,
                note,
                r.mutant.clone(),
                r.runtime,
            )
            .map_err(|CliError(e)| e)?;
            // Committed, it makes this group known to later nights.
            entry.group = Some(g.signature.clone());
            let dir = out.join("corpus");
            let file = dir.join(format!("{stem}-shrunk.toml"));
            std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::write(&file, entry.to_toml()))
                .map_err(|e| format!("{}: {e}", file.display()))?;
            g.corpus_entry = Some(format!("corpus/{stem}-shrunk.toml"));
        }
    }
    let mut o = opts.clone();
    o.cancel = Cancel::within(
        Some(SHRINK_TIME),
        Some(writer_registry_sim::interrupt::abandon_flag()),
    );
    let meta = crate::html::Meta {
        source: &r.scenario_path,
        replay: &r.replay,
        mutant: r.mutant.as_deref(),
        registry: opts.registry,
        schedule: &schedule,
    };
    let name = draw(out, &format!("reports/{stem}.html"), &sc, &o, &meta)?;
    g.first.report = Some(name);
    Ok(())
}

/// Runs `meta`'s schedule again keeping its events and writes its HTML
/// page to `out/name`; returns `name`, as summaries link it.
pub(super) fn draw(
    out: &Path,
    name: &str,
    sc: &Scenario,
    opts: &RunOptions,
    meta: &crate::html::Meta,
) -> Result<String, String> {
    let mut o = opts.clone();
    o.keep_events = true;
    let run = run::run_schedule(sc, meta.schedule, &o).map_err(|e| e.to_string())?;
    let file = out.join(name);
    file.parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|_| std::fs::write(&file, crate::html::render(meta, sc, &run)))
        .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_s_own_verdict_replays_on_this_binary_and_a_merge_s_by_cargo() {
        // The default scenario's runs on the memory registry.
        let origin = writer_registry_sim::results::Origin {
            scenario: "default".into(),
            scenario_path: "scenarios/default.toml".into(),
            runtime: writer_registry_sim::run::Runtime::Native,
            registry: "memory".into(),
            mutant: None,
        };
        let replay =
            writer_registry_sim::command::Replay::of(writer_registry_sim::command::Case::Seed {
                scenario: Path::new("scenarios/default.toml"),
                seed: 4,
            })
            .to_string();
        let mut r = origin.harness_error(
            4,
            &writer_registry_sim::error::HarnessError::Interrupted,
            0,
            replay.clone(),
        );
        r.outcome = Outcome::Fail;
        let line = |own| verdict(false, "1 runs", &[], Some(&r), Path::new("out"), own);
        let merged = line(false);
        assert!(merged.ends_with(&format!("replay: {replay}")), "{merged}");
        let exe = writer_registry_sim::command::this_binary().expect("the test binary");
        let args = replay.split_once(" -- ").unwrap().1;
        let own = line(true);
        assert!(own.ends_with(&format!(" {args}")), "{own}");
        assert!(!own.contains("cargo run"), "{own}");
        let name = exe.file_name().unwrap().to_string_lossy();
        assert!(own.contains(&format!("{name} replay ")), "{own}");
    }
}
