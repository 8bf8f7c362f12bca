//! The regression corpus in `seeds/`: failing or remarkable schedules kept
//! with what they must keep showing, replayed by `cargo test`.
//!
//! An entry pins the scenario's content hash and the schedule format: when
//! either changed since it was recorded, the entry is *stale*, since its
//! schedule may no longer mean the same run. A corpus check
//! ([`check_corpus`]) fails on a stale entry as on one that no longer
//! holds, saying how to refresh it: a stale entry checks nothing until it
//! is refreshed, and a check that only prints that would go unread.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::HarnessError;
use crate::run::{run_schedule, RunOptions, RunResult, Runtime};
use crate::scenario::Scenario;
use crate::schedule::{Schedule, FORMAT_VERSION};

/// What a corpus entry must keep showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// A known bug not fixed yet: the run must still fail on `signature`.
    StillFailing,
    /// A bug that was fixed: the run must pass.
    Fixed,
    /// A finding the scenario allows: the run passes and shows `signature`.
    ExpectedFinding,
}

/// One file in `seeds/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeedEntry {
    /// Scenario path: relative to the workspace root (the scenario lay
    /// under it when recorded), or absolute (it did not).
    pub scenario: String,
    /// [`Scenario::content_hash`] of the scenario file when recorded, hex.
    pub scenario_hash: String,
    pub expect: Expect,
    /// The violated oracle (still-failing) or finding signature.
    #[serde(default)]
    pub signature: String,
    #[serde(default)]
    pub note: String,
    /// The failure group it stands for (the signature `results.jsonl` and
    /// the nightly job give the failure): a still-failing entry with a
    /// group makes that group known, not new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The mutant the entry runs (kebab-case name), if any: such an entry
    /// records that the harness keeps catching that mutant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutant: Option<String>,
    /// The runtime the entry runs on (absent: the native engine).
    #[serde(default, skip_serializing_if = "is_native")]
    pub runtime: Runtime,
    pub schedule: Schedule,
}

fn is_native(r: &Runtime) -> bool {
    *r == Runtime::Native
}

/// The result of replaying an entry.
#[derive(Debug)]
pub enum Verdict {
    Holds(Box<RunResult>),
    /// The scenario or schedule format changed since recording.
    Stale(String),
    /// The entry no longer shows what it records.
    Broken(String),
    /// The entry runs a mutant and this build has no mutants.
    NeedsMutants,
    /// The entry could not be run at all: it does not fit its scenario,
    /// or the harness failed. It says nothing about the system, and the
    /// corpus check fails until the entry or the harness is fixed.
    Harness(HarnessError),
}

/// The mutant slot for an entry's mutant name: `Ok(None)` when the entry
/// needs mutants this build lacks.
fn mutant_slot(name: Option<&str>) -> Result<Option<writer_registry::MutantSlot>, String> {
    #[cfg(feature = "mutants")]
    {
        match name {
            None => Ok(Some(None)),
            Some(n) => writer_registry::mutants::Mutant::from_name(n)
                .map(|m| Some(Some(m)))
                .ok_or_else(|| format!("unknown mutant {n:?}")),
        }
    }
    #[cfg(not(feature = "mutants"))]
    {
        Ok(name.is_none().then_some(()))
    }
}

pub fn hash_hex(text: &str) -> String {
    format!("{:016x}", Scenario::content_hash(text))
}

impl SeedEntry {
    /// Parses a corpus entry; `path` names it in errors, which give the
    /// field and the real cause (a schedule from a newer harness, an
    /// unknown `expect`, an event out of range).
    pub fn parse(text: &str, path: &str) -> Result<SeedEntry, String> {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| crate::toml_error::describe(path, text, &e))?;
        let mut string = |key: &str, required: bool| -> Result<Option<String>, String> {
            match table.remove(key) {
                None if required => Err(format!("{path}: `{key}`: missing")),
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s)),
                Some(v) => Err(format!(
                    "{path}: `{key}`: expected a string, found {}",
                    v.type_str()
                )),
            }
        };
        let scenario = string("scenario", true)?.unwrap_or_default();
        let scenario_hash = string("scenario_hash", true)?.unwrap_or_default();
        let expect = string("expect", true)?.unwrap_or_default();
        let signature = string("signature", false)?.unwrap_or_default();
        let note = string("note", false)?.unwrap_or_default();
        let mutant = string("mutant", false)?;
        let group = string("group", false)?;
        let runtime = match string("runtime", false)?.as_deref() {
            None | Some("native") => Runtime::Native,
            Some("turmoil") => Runtime::Turmoil,
            Some("madsim") => {
                return Err(format!(
                    "{path}: `runtime`: madsim entries are not replayed from seeds/ (madsim runs only inside its own #[madsim::test]s)"
                ))
            }
            Some(other) => {
                return Err(format!(
                    "{path}: `runtime`: unknown value {other:?} (known: native, turmoil)"
                ))
            }
        };
        let expect = match expect.as_str() {
            "still-failing" => Expect::StillFailing,
            "fixed" => Expect::Fixed,
            "expected-finding" => Expect::ExpectedFinding,
            other => {
                return Err(format!(
                    "{path}: `expect`: unknown value {other:?} (known: still-failing, fixed, expected-finding)"
                ))
            }
        };
        if scenario_hash.len() != 16 || !scenario_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{path}: `scenario_hash`: expected 16 hex digits, found {scenario_hash:?}"
            ));
        }
        if expect != Expect::Fixed && signature.is_empty() {
            return Err(format!(
                "{path}: `signature`: an entry that expects a failure or a finding names it"
            ));
        }
        let schedule = match table.remove("schedule") {
            Some(toml::Value::Table(t)) => Schedule::from_table(t, path, "schedule.")?,
            Some(v) => {
                return Err(format!(
                    "{path}: `schedule`: expected a table, found {}",
                    v.type_str()
                ))
            }
            None => return Err(format!("{path}: `schedule`: missing")),
        };
        if let Some(key) = table.keys().next() {
            return Err(format!(
                "{path}: `{key}`: unknown field (known: scenario, scenario_hash, expect, signature, note, group, mutant, runtime, schedule)"
            ));
        }
        Ok(SeedEntry {
            scenario,
            scenario_hash,
            expect,
            signature,
            note,
            group,
            mutant,
            runtime,
            schedule,
        })
    }

    /// Whether `text` is a corpus entry rather than a bare schedule: an
    /// entry has a `schedule` table, a schedule has `events`.
    pub fn is_entry(text: &str) -> bool {
        toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("schedule"))
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("an entry always serialises")
    }

    /// Replays the entry with its scenario: `root` joined with a relative
    /// `scenario`, an absolute one as it is.
    pub fn check(&self, root: &Path) -> Verdict {
        let path = root.join(&self.scenario);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            // A scenario that is gone or misnamed is no change of meaning:
            // the entry cannot be checked, so it does not hold.
            Err(e) => return Verdict::Broken(format!("scenario {}: {e}", path.display())),
        };
        if hash_hex(&text) != self.scenario_hash {
            return Verdict::Stale(format!(
                "scenario {} changed since recording (hash {} now {})",
                self.scenario,
                self.scenario_hash,
                hash_hex(&text)
            ));
        }
        if self.schedule.format != FORMAT_VERSION {
            return Verdict::Stale(format!(
                "schedule format {} (harness reads {FORMAT_VERSION})",
                self.schedule.format
            ));
        }
        let sc = match Scenario::parse(&text, &path.display().to_string()) {
            Ok(sc) => sc,
            Err(e) => return Verdict::Broken(e.to_string()),
        };
        let mut opts = RunOptions::for_scenario(&sc);
        opts.runtime = self.runtime;
        match mutant_slot(self.mutant.as_deref()) {
            Ok(Some(slot)) => opts.mutant = slot,
            Ok(None) => return Verdict::NeedsMutants,
            Err(e) => return Verdict::Broken(e),
        }
        if let Err(e) = self.schedule.validate_in(&sc, "the entry", "schedule.") {
            return Verdict::Harness(HarnessError::BadInput(e));
        }
        let r = match run_schedule(&sc, &self.schedule, &opts) {
            Ok(r) => r,
            Err(e) => return Verdict::Harness(e),
        };
        let shows = r.findings.iter().any(|f| f.signature == self.signature)
            || r.violations.iter().any(|v| v.oracle == self.signature);
        let problem = match self.expect {
            Expect::StillFailing if r.passed() => Some("passes now: mark it fixed".to_string()),
            Expect::StillFailing if !shows => Some(format!(
                "fails, but no longer on {}: {:?}",
                self.signature,
                r.failed_oracles()
            )),
            Expect::Fixed if !r.passed() => Some(format!("fails again: {:?}", r.failed_oracles())),
            Expect::ExpectedFinding if !r.passed() => {
                Some(format!("fails: {:?}", r.failed_oracles()))
            }
            Expect::ExpectedFinding if !shows => {
                Some(format!("no longer shows {}", self.signature))
            }
            _ => None,
        };
        match problem {
            Some(p) => Verdict::Broken(p),
            None => Verdict::Holds(Box::new(r)),
        }
    }
}

/// What is wrong with a corpus entry, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The file cannot be read or parsed.
    Unreadable,
    /// Its scenario or the schedule format changed since recording.
    Stale,
    /// It no longer shows what it records.
    Broken,
    /// The harness cannot run it.
    Harness,
}

impl Problem {
    pub fn label(self) -> &'static str {
        match self {
            Problem::Unreadable => "UNREADABLE",
            Problem::Stale => "STALE",
            Problem::Broken => "BROKEN",
            Problem::Harness => "HARNESS",
        }
    }
}

/// One entry's outcome in a check of the whole corpus.
#[derive(Debug)]
pub enum Outcome {
    /// It holds; the run's trace hash.
    Holds(u64),
    /// Not checked: why (it runs a mutant and this build has none).
    Skipped(String),
    /// It fails the check: the kind and the reason, with what to do.
    Failed(Problem, String),
}

/// One checked entry: its file as the user would name it (relative to the
/// root where it lies under it) and its outcome.
#[derive(Debug)]
pub struct EntryCheck {
    pub file: String,
    pub outcome: Outcome,
}

/// Checks every `*.toml` entry in `dir`, in file-name order, with
/// scenarios resolved under `root` (see [`SeedEntry::check`]). One
/// entry's problem, whatever it is, never stops the others from being
/// checked. An error only when `dir` itself cannot be listed.
pub fn check_corpus(root: &Path, dir: &Path) -> Result<Vec<EntryCheck>, String> {
    let listing = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for item in listing {
        let path = item.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().is_some_and(|x| x == "toml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files
        .iter()
        .map(|path| {
            let file = path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string();
            let outcome = check_file(root, path, &file);
            EntryCheck { file, outcome }
        })
        .collect())
}

fn check_file(root: &Path, path: &Path, file: &str) -> Outcome {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Outcome::Failed(Problem::Unreadable, format!("cannot read: {e}")),
    };
    let entry = match SeedEntry::parse(&text, file) {
        Ok(entry) => entry,
        Err(e) => {
            // The parse error names the file first; the report does too.
            let why = e.strip_prefix(&format!("{file}: ")).unwrap_or(&e);
            return Outcome::Failed(Problem::Unreadable, why.to_string());
        }
    };
    match entry.check(root) {
        Verdict::Holds(r) => Outcome::Holds(r.trace_hash),
        Verdict::NeedsMutants => Outcome::Skipped(
            "runs a mutant; replayed by `cargo test -p regsim --features mutants`".into(),
        ),
        Verdict::Stale(why) => Outcome::Failed(
            Problem::Stale,
            format!("{why}; {}", entry.refresh_hint(file)),
        ),
        Verdict::Broken(why) => Outcome::Failed(Problem::Broken, why),
        Verdict::Harness(e) => Outcome::Failed(Problem::Harness, e.to_string()),
    }
}

impl SeedEntry {
    /// How to refresh the stale entry in `file`: re-record its schedule
    /// against the changed scenario, or re-create it from its seed when
    /// the schedule format changed (an old-format schedule does not run).
    pub fn refresh_hint(&self, file: &str) -> String {
        let mutant = self
            .mutant
            .as_ref()
            .map(|m| format!(" --mutant {m}"))
            .unwrap_or_default();
        if self.schedule.format != FORMAT_VERSION {
            format!(
                "its schedule may no longer mean the same run: re-create it from its seed with `regsim shrink --scenario {} --seed {}{mutant} --out {file} --force` (or `regsim record ... --out {file} --force` for an unshrunk entry), or delete it",
                self.scenario, self.schedule.seed
            )
        } else {
            format!(
                "its schedule may no longer mean the same run: replay it (`regsim replay --schedule {file}`), and if it still shows what it records refresh it with `regsim record --schedule {file} --out {file} --force` (which keeps its expect, signature and note); else shrink it anew or delete it"
            )
        }
    }
}

/// The failure message of a corpus check: one line per entry that failed,
/// with its file, the kind of problem and the reason; `None` when every
/// entry held or was skipped.
pub fn failure_report(checks: &[EntryCheck]) -> Option<String> {
    let lines: Vec<String> = checks
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Failed(problem, why) => Some(format!("{} {}: {why}", problem.label(), c.file)),
            _ => None,
        })
        .collect();
    (!lines.is_empty()).then(|| {
        format!(
            "{} of {} corpus entries fail the check:\n{}",
            lines.len(),
            checks.len(),
            lines.join("\n")
        )
    })
}
