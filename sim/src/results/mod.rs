//! Results machines can read: `results.jsonl` (a header line, then one
//! line per finished run, appended and flushed the moment the run ends),
//! and what is made from it: failure signatures, `junit.xml` and
//! `summary.md`.
//!
//! A record says what happened to one seed; everything a sweep, the
//! nightly job or a merge of shards reports is computed from records, so a
//! results file is the whole truth of a sweep, and a sweep killed at any
//! point keeps every line it wrote (a reader drops a last line cut short
//! by a kill, and says so).

mod junit;
mod markdown;

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::HarnessError;
use crate::run::{RunResult, Runtime};
use crate::world::Stats;

pub use junit::junit_xml;
pub use markdown::{summary_markdown, Group, Groups, Links, MarkCheck};

/// The results format's name and version, in every file's header line.
pub const SCHEMA: &str = "regsim-results";
pub const VERSION: u32 = 1;

/// The first line of a results file (and of each sweep appended to it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Header {
    pub schema: String,
    pub version: u32,
    /// The commit regsim was built from.
    pub commit: String,
    /// What the sweep ran, as a person would type it.
    #[serde(default)]
    pub command: String,
}

impl Header {
    pub fn new(command: String) -> Self {
        Header {
            schema: SCHEMA.into(),
            version: VERSION,
            commit: crate::COMMIT.into(),
            command,
        }
    }
}

/// How one seed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// No oracle failed.
    Pass,
    /// An oracle failed: a verdict about the system under test.
    Fail,
    /// The run said nothing about the system: bad input, a harness panic,
    /// the machine.
    HarnessError,
    /// The run outlived its wall-clock limit (a harness problem).
    Timeout,
    /// Abandoned by an interrupt before it ended.
    Interrupted,
    /// The same schedule gave another trace when run again: a
    /// nondeterminism bug of the harness.
    Nondeterministic,
}

impl Outcome {
    /// True for outcomes that make a sweep fail.
    pub fn is_failure(self) -> bool {
        !matches!(self, Outcome::Pass | Outcome::Interrupted)
    }
}

/// One oracle's complaint, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Issue {
    pub oracle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u8>,
    pub at_us: u64,
    pub detail: String,
}

/// One finished (or abandoned) seed: one line of `results.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub scenario: String,
    /// The scenario file, as the replay command names it.
    pub scenario_path: String,
    pub seed: u64,
    pub runtime: Runtime,
    /// The native runtime's registry (`memory`, `fjall`); empty otherwise.
    #[serde(default)]
    pub registry: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutant: Option<String>,
    pub outcome: Outcome,
    /// The first failed oracle (or the harness error's kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle: Option<String>,
    /// The failure's group (see [`signature`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Issue>,
    /// Signatures of the findings the scenario allows, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// The harness error, nondeterminism or interruption, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The trace hash (16 hex digits; empty when the run did not end).
    #[serde(default)]
    pub trace_hash: String,
    #[serde(default)]
    pub ending: String,
    #[serde(default)]
    pub stats: Stats,
    #[serde(default)]
    pub justified_halts: u64,
    #[serde(default)]
    pub justified_refusals: u64,
    pub wall_ms: u64,
    #[serde(default)]
    pub marks: BTreeMap<String, u64>,
    /// The command that replays this run from the repository root.
    pub replay: String,
    /// The HTML report of this run, relative to the results file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

/// What a sweep knows of a run besides its result: where it comes from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub scenario: String,
    pub scenario_path: String,
    pub runtime: Runtime,
    pub registry: String,
    pub mutant: Option<String>,
}

impl Origin {
    /// Where runs of `scenario` (file `scenario_path`, as records name it)
    /// under `opts` come from.
    pub fn new(
        scenario: &str,
        scenario_path: String,
        opts: &crate::run::RunOptions,
        mutant: Option<&str>,
    ) -> Origin {
        Origin {
            scenario: scenario.to_string(),
            scenario_path,
            runtime: opts.runtime,
            // The registry is the native runtime's choice only.
            registry: match opts.runtime {
                Runtime::Native => opts.registry.name().to_string(),
                _ => String::new(),
            },
            mutant: mutant.map(str::to_owned),
        }
    }

    /// The record of a seed that ended with a verdict or a harness error.
    pub fn ended(
        &self,
        seed: u64,
        result: &Result<RunResult, HarnessError>,
        wall_ms: u64,
        replay: String,
    ) -> Record {
        match result {
            Ok(r) => self.verdict(r, wall_ms, replay),
            Err(e) => self.harness_error(seed, e, wall_ms, replay),
        }
    }

    fn record(&self, seed: u64, outcome: Outcome, wall_ms: u64, replay: String) -> Record {
        Record {
            scenario: self.scenario.clone(),
            scenario_path: self.scenario_path.clone(),
            seed,
            runtime: self.runtime,
            registry: self.registry.clone(),
            mutant: self.mutant.clone(),
            outcome,
            oracle: None,
            signature: None,
            violations: Vec::new(),
            findings: Vec::new(),
            error: None,
            trace_hash: String::new(),
            ending: String::new(),
            stats: Stats::default(),
            justified_halts: 0,
            justified_refusals: 0,
            wall_ms,
            marks: BTreeMap::new(),
            replay,
            report: None,
        }
    }

    /// The record of a verdict.
    pub fn verdict(&self, r: &RunResult, wall_ms: u64, replay: String) -> Record {
        let outcome = if r.passed() {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        let mut rec = self.record(r.seed, outcome, wall_ms, replay);
        rec.violations = r
            .violations
            .iter()
            .map(|v| Issue {
                oracle: v.oracle.clone(),
                node: v.node,
                at_us: v.at_us,
                detail: v.detail.clone(),
            })
            .collect();
        if let Some(first) = rec.violations.first() {
            rec.oracle = Some(first.oracle.clone());
            rec.signature = Some(signature(&first.oracle, &first.detail));
        }
        let findings: std::collections::BTreeSet<&str> =
            r.findings.iter().map(|f| f.signature.as_str()).collect();
        rec.findings = findings.into_iter().map(String::from).collect();
        rec.trace_hash = format!("{:016x}", r.trace_hash);
        rec.ending = r.ending.clone();
        rec.stats = r.stats.clone();
        rec.justified_halts = r.justified_halts;
        rec.justified_refusals = r.justified_refusals;
        rec.marks = r.marks.clone();
        rec
    }

    /// The record of a seed that ended without a verdict.
    pub fn harness_error(
        &self,
        seed: u64,
        e: &HarnessError,
        wall_ms: u64,
        replay: String,
    ) -> Record {
        let outcome = match e {
            HarnessError::Timeout(_) => Outcome::Timeout,
            HarnessError::Interrupted => Outcome::Interrupted,
            _ => Outcome::HarnessError,
        };
        let mut rec = self.record(seed, outcome, wall_ms, replay);
        rec.oracle = Some(e.kind().to_string());
        if outcome != Outcome::Interrupted {
            rec.signature = Some(signature(&format!("harness:{}", e.kind()), &e.to_string()));
        }
        rec.error = Some(e.to_string());
        rec
    }

    /// The record of a seed whose second run gave another trace.
    pub fn nondeterministic(
        &self,
        first: &RunResult,
        again: u64,
        detail: String,
        wall_ms: u64,
        replay: String,
    ) -> Record {
        let mut rec = self.verdict(first, wall_ms, replay);
        rec.outcome = Outcome::Nondeterministic;
        rec.oracle = Some("nondeterminism".into());
        rec.signature = Some("nondeterminism: the same schedule gave another trace".into());
        rec.error = Some(format!(
            "trace {} then {again:016x} from the same schedule (a bug of the harness){detail}",
            rec.trace_hash
        ));
        rec
    }
}

/// A failure's group: its oracle and its detail with what differs from
/// one occurrence to the next taken out (numbers, node names, hex), so
/// that the same bug on other seeds, nodes and indices lands in one group.
pub fn signature(oracle: &str, detail: &str) -> String {
    let mut out = String::with_capacity(detail.len());
    let chars: Vec<char> = detail.chars().collect();
    let mut i = 0;
    let boundary = |i: usize| i == 0 || !chars[i - 1].is_ascii_alphanumeric();
    // The hex-digit token at `i` is a whole word with a digit in it: a
    // number or hex (`dead` and `cafe` stay words).
    let whole_token = |i: usize| {
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_hexdigit() {
            j += 1;
        }
        let token = &chars[i..j];
        let word_ends = j == chars.len() || !chars[j].is_ascii_alphanumeric();
        word_ends && token.iter().any(char::is_ascii_digit)
    };
    while i < chars.len() {
        let c = chars[i];
        let run_end = |from: usize, f: &dyn Fn(char) -> bool| {
            let mut j = from;
            while j < chars.len() && f(chars[j]) {
                j += 1;
            }
            j
        };
        if c == '0' && chars.get(i + 1) == Some(&'x') && boundary(i) {
            i = run_end(i + 2, &|c| c.is_ascii_hexdigit());
            out.push('#');
        } else if c == 'n' && boundary(i) && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            let j = run_end(i + 1, &|c| c.is_ascii_digit());
            if j == chars.len() || !chars[j].is_ascii_alphanumeric() {
                out.push_str("n#");
                i = j;
            } else {
                out.push(c);
                i += 1;
            }
        } else if c.is_ascii_hexdigit() && boundary(i) && whole_token(i) {
            // A number or a long hex word: the token goes.
            out.push('#');
            i = run_end(i, &|c| c.is_ascii_hexdigit());
        } else if c.is_ascii_digit() {
            // Digits glued to a unit or inside a word (`5us`, `epoch2`).
            out.push('#');
            i = run_end(i, &|c| c.is_ascii_digit());
        } else {
            out.push(c);
            i += 1;
        }
    }
    // How many more of the same a detail mentions, and the length of a
    // printed list, vary with the seed, not the bug.
    while let Some(at) = out.find("(and # more") {
        match out[at..].find(')') {
            Some(end) => out.replace_range(at..at + end + 1, ""),
            None => break,
        }
    }
    while out.contains("#, #") {
        out = out.replace("#, #", "#");
    }
    let mut words = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.len() > 160 {
        let cut = (0..=160)
            .rev()
            .find(|&i| words.is_char_boundary(i))
            .unwrap_or(0);
        words.truncate(cut);
        words.push('…');
    }
    format!("{oracle}: {words}")
}

/// An I/O failure's message, marked as the machine's problem when an
/// exhausted resource caused it.
fn io_error(message: String) -> String {
    match crate::error::environment_cause(&message) {
        Some(cause) => HarnessError::Environment(format!("{message}: {cause}")).to_string(),
        None => message,
    }
}

/// Appends records to a results file, each flushed to the OS the moment
/// it is written, from any thread.
pub struct Writer {
    path: PathBuf,
    /// The file and its length after the last whole line.
    file: Mutex<(File, u64)>,
}

impl Writer {
    /// Creates `path` afresh (a sweep's own results) with a header line.
    pub fn create(path: &Path, header: &Header) -> Result<Writer, String> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("{}: cannot replace: {e}", path.display()))
            }
            _ => Writer::append(path, header),
        }
    }

    /// Opens (creating or appending to) `path` and writes a header line.
    pub fn append(path: &Path, header: &Header) -> Result<Writer, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                io_error(format!(
                    "{}: cannot open for appending: {e}",
                    path.display()
                ))
            })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let w = Writer {
            path: path.to_path_buf(),
            file: Mutex::new((file, len)),
        };
        w.line(&serde_json::to_string(header).expect("a header serializes"))?;
        Ok(w)
    }

    /// Writes one record as one line and flushes it.
    pub fn write(&self, rec: &Record) -> Result<(), String> {
        self.line(&serde_json::to_string(rec).expect("a record serializes"))
    }

    fn line(&self, json: &str) -> Result<(), String> {
        // One write call per line: a kill leaves at most the last line cut.
        let mut bytes = Vec::with_capacity(json.len() + 1);
        bytes.extend_from_slice(json.as_bytes());
        bytes.push(b'\n');
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let (f, len) = &mut *guard;
        match f.write_all(&bytes).and_then(|_| f.flush()) {
            Ok(()) => {
                *len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut a partly written line off, so the next one does not
                // land on it (a full disk may free up).
                let _ = f.set_len(*len);
                Err(io_error(format!(
                    "{}: cannot write a result: {e}",
                    self.path.display()
                )))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Where records are read from: memory, or results files read line by
/// line (a sweep's reports are made without holding its records).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Memory(&'a [Record]),
    Files(&'a [PathBuf]),
}

impl Source<'_> {
    /// Calls `f` on every record in order; returns the notes of last
    /// lines cut short, or the first error naming a file and line.
    pub fn each(&self, f: &mut dyn FnMut(&Record)) -> Result<Vec<String>, String> {
        match self {
            Source::Memory(records) => {
                records.iter().for_each(f);
                Ok(Vec::new())
            }
            Source::Files(paths) => {
                let mut notes = Vec::new();
                for p in *paths {
                    notes.extend(each_in(p, &mut *f)?);
                }
                Ok(notes)
            }
        }
    }
}

/// What a results file held.
#[derive(Debug, Default)]
pub struct Read {
    pub headers: Vec<Header>,
    pub records: Vec<Record>,
    /// A last line cut short (a killed writer), dropped: the note says so.
    pub truncated: Option<String>,
}

/// Reads a results file. A last line that does not parse and has no
/// newline is what a kill leaves: dropped with a note. Any other line
/// that does not parse is an error naming the file and line.
pub fn read(path: &Path) -> Result<Read, String> {
    let mut out = Read::default();
    let mut records = Vec::new();
    let mut headers = Vec::new();
    let truncated = scan(path, &mut |h| headers.push(h.clone()), &mut |r| {
        records.push(r.clone())
    })?;
    out.headers = headers;
    out.records = records;
    out.truncated = truncated;
    Ok(out)
}

/// Calls `f` on each record of a results file (see [`read`]).
fn each_in(path: &Path, f: &mut dyn FnMut(&Record)) -> Result<Option<String>, String> {
    scan(path, &mut |_| {}, f)
}

fn scan(
    path: &Path,
    on_header: &mut dyn FnMut(&Header),
    on_record: &mut dyn FnMut(&Record),
) -> Result<Option<String>, String> {
    let file =
        File::open(path).map_err(|e| io_error(format!("{}: cannot read: {e}", path.display())))?;
    let mut truncated = None;
    let mut reader = BufReader::new(file);
    let mut bytes = Vec::new();
    let mut n = 0;
    loop {
        bytes.clear();
        let len = reader
            .read_until(b'\n', &mut bytes)
            .map_err(|e| format!("{}: line {}: cannot read: {e}", path.display(), n + 1))?;
        if len == 0 {
            break;
        }
        n += 1;
        let complete = bytes.ends_with(b"\n");
        // A kill can cut a line inside a character: only a cut last line
        // may be invalid UTF-8 (it is then dropped below).
        let line = String::from_utf8_lossy(&bytes);
        let text = line.trim_end();
        if text.is_empty() {
            continue;
        }
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(text);
        let result = parsed.and_then(|v| {
            if v.get("schema").is_some() {
                serde_json::from_value::<Header>(v).map(Ok)
            } else {
                serde_json::from_value::<Record>(v).map(Err)
            }
        });
        match result {
            Ok(Ok(h)) => {
                if h.schema != SCHEMA || h.version > VERSION {
                    return Err(format!(
                        "{}: line {n}: schema {} version {}, this regsim reads {SCHEMA} up to version {VERSION}",
                        path.display(),
                        h.schema,
                        h.version
                    ));
                }
                on_header(&h);
            }
            Ok(Err(r)) => on_record(&r),
            Err(e) if !complete => {
                truncated = Some(format!(
                    "{}: line {n} was cut short (the writer was killed mid-line) and is left out: {e}",
                    path.display()
                ));
            }
            Err(e) => return Err(format!("{}: line {n}: {e}", path.display())),
        }
    }
    Ok(truncated)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn signatures_group_the_same_bug_across_seeds_nodes_and_indices() {
        let a = signature(
            "durability",
            "n2 at index 17: row 0x00ab key 7f3a9c0e11223344 lost (epoch 3)",
        );
        let b = signature(
            "durability",
            "n5 at index 9: row 0x01 key 0011223344556677 lost (epoch 12)",
        );
        assert_eq!(a, b);
        assert_eq!(a, "durability: n# at index #: row # key # lost (epoch #)");
        // Words that merely look like hex or hold digits stay words.
        assert_eq!(
            signature("x", "dead beef added to cafe at t=5us"),
            "x: dead beef added to cafe at t=#us"
        );
        assert_ne!(
            signature("durability", "lost"),
            signature("start-sequence", "lost")
        );
        assert_ne!(signature("x", "row lost"), signature("x", "row kept"));
        // Short hex, how many more keys differ, and list lengths vary with
        // the seed, not the bug.
        assert_eq!(
            signature("d", "key 0a1b differs (and 5 more keys differ)"),
            signature("d", "key 2c differs")
        );
        assert_eq!(
            signature("raft", "ids [1, 2, 3] vs [4]"),
            signature("raft", "ids [7] vs [8, 9]")
        );
    }

    /// The default scenario's runs on the memory registry.
    pub(crate) fn default_origin() -> Origin {
        Origin {
            scenario: "default".into(),
            scenario_path: "scenarios/default.toml".into(),
            runtime: Runtime::Native,
            registry: "memory".into(),
            mutant: None,
        }
    }

    fn record(seed: u64) -> Record {
        let origin = default_origin();
        origin.harness_error(seed, &HarnessError::Interrupted, 3, "regsim replay".into())
    }

    #[test]
    fn a_results_file_round_trips_and_a_cut_last_line_is_dropped_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r/results.jsonl");
        let w = Writer::append(&path, &Header::new("regsim run".into())).unwrap();
        w.write(&record(1)).unwrap();
        w.write(&record(2)).unwrap();
        drop(w);
        let read_back = read(&path).unwrap();
        assert_eq!(read_back.headers.len(), 1);
        assert_eq!(read_back.records, vec![record(1), record(2)]);
        assert!(read_back.truncated.is_none());
        // A kill mid-line leaves a partial last line without a newline.
        let full = std::fs::read_to_string(&path).unwrap();
        let line = serde_json::to_string(&record(3)).unwrap();
        std::fs::write(&path, format!("{full}{}", &line[..line.len() / 2])).unwrap();
        let cut = read(&path).unwrap();
        assert_eq!(cut.records.len(), 2);
        assert!(cut.truncated.unwrap().contains("line 4"));
        // A kill inside a multi-byte character of the last line.
        let long = {
            let mut r = record(4);
            r.error = Some("cut … here".into());
            serde_json::to_string(&r).unwrap()
        };
        let cut_at = long.find('…').unwrap() + 1;
        let mut bytes = full.clone().into_bytes();
        bytes.extend_from_slice(&long.as_bytes()[..cut_at]);
        std::fs::write(&path, bytes).unwrap();
        let cut = read(&path).unwrap();
        assert_eq!(cut.records.len(), 2);
        assert!(cut.truncated.is_some());
        // A bad line in the middle is corruption, named by line.
        std::fs::write(&path, format!("{full}{{oops\n{line}\n")).unwrap();
        let e = read(&path).unwrap_err();
        assert!(e.contains("line 4"), "{e}");
    }
}
