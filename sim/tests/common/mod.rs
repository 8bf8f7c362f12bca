//! Helpers the integration tests share: where the shipped scenarios are,
//! which seeds a run covers (`REGSIM_SEED`, `REGSIM_SEEDS`), and the
//! command that reruns a failing seed. Each test file uses a subset: the
//! simulator's (`sim/tests/`) and, through `#[path]`, the command line's
//! (`sim/regsim/tests/`), so each helper reads the package it was built
//! in from cargo rather than assuming one.
//!
//! Helpers panic with a message that names what was wrong: they are test
//! code, and a panic is how a test says so.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use writer_registry_sim::run::RunResult;
use writer_registry_sim::scenario::Scenario;

/// The workspace root of the checkout these tests were built from (a
/// test binary always runs against its own checkout, unlike `regsim`):
/// the nearest directory above the test's package that holds
/// `scenarios/` (`sim/..` or `sim/regsim/../..`).
pub fn root() -> PathBuf {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    package
        .ancestors()
        .find(|dir| dir.join("scenarios").is_dir())
        .unwrap_or_else(|| panic!("no scenarios/ in {} or above", package.display()))
        .to_path_buf()
}

/// The shipped scenario `name` (`scenarios/<name>.toml`).
pub fn scenario(name: &str) -> Scenario {
    let path = root().join("scenarios").join(format!("{name}.toml"));
    Scenario::load(&path)
        .unwrap_or_else(|e| panic!("scenario {name}: {e}"))
        .0
}

/// The names of every `scenarios/*.toml`, sorted: a new file is tested
/// without an edit here.
pub fn scenario_names() -> Vec<String> {
    let dir = root().join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_else(|| panic!("{}: not a UTF-8 name", p.display()))
                .to_owned()
        })
        .collect();
    names.sort();
    assert!(
        names.iter().any(|n| n == "default"),
        "{}: no default.toml among {names:?}",
        dir.display()
    );
    names
}

/// The seeds a test runs and how it got them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds {
    pub seeds: Vec<u64>,
    /// One seed asked for with `REGSIM_SEED`: a range's expectations
    /// (findings that must show, marks that must fire) do not apply.
    pub single: bool,
    /// What was run and how to change it, for the test's output.
    pub described: String,
}

/// The seeds from `REGSIM_SEED=N` (that seed alone; with `REGSIM_SEEDS=M`
/// too, the M seeds from N, as `MADSIM_TEST_SEED` and `MADSIM_TEST_NUM`
/// combine), else `REGSIM_SEEDS=M` (0..M), else 0..`default_count`. A
/// value that does not parse panics naming the variable and the value: a
/// typo must not quietly run the default seeds.
pub fn seeds(default_count: u64) -> Seeds {
    seeds_from(
        std::env::var("REGSIM_SEED").ok().as_deref(),
        std::env::var("REGSIM_SEEDS").ok().as_deref(),
        default_count,
    )
}

/// [`seeds`] on given values (`None`: the variable is unset).
pub fn seeds_from(seed: Option<&str>, count: Option<&str>, default_count: u64) -> Seeds {
    let first = seed.map(|value| {
        value.trim().parse::<u64>().unwrap_or_else(|e| {
            panic!("REGSIM_SEED={value:?}: not a seed ({e}); expected an unsigned integer, e.g. REGSIM_SEED=17")
        })
    });
    if let (Some(seed), None) = (first, count) {
        return Seeds {
            seeds: vec![seed],
            single: true,
            described: format!("seed {seed} (from REGSIM_SEED)"),
        };
    }
    let (n, how) = match count {
        Some(value) => match value.trim().parse::<u64>() {
            Ok(n) if n > 0 => (n, "from REGSIM_SEEDS"),
            Ok(_) => panic!("REGSIM_SEEDS={value:?}: no seeds; expected a count of at least 1, e.g. REGSIM_SEEDS=64"),
            Err(e) => panic!(
                "REGSIM_SEEDS={value:?}: not a seed count ({e}); expected an unsigned integer, e.g. REGSIM_SEEDS=64"
            ),
        },
        None => (
            default_count,
            "REGSIM_SEEDS=N runs 0..N, REGSIM_SEED=N seed N alone",
        ),
    };
    let (from, how) = match first {
        Some(seed) => (seed, "from REGSIM_SEED and REGSIM_SEEDS"),
        None => (0, how),
    };
    let end = from.checked_add(n).unwrap_or_else(|| {
        panic!("REGSIM_SEED={from} REGSIM_SEEDS={n}: the range passes the largest seed")
    });
    Seeds {
        seeds: (from..end).collect(),
        single: false,
        described: format!("seeds {from}..{end} ({how})"),
    }
}

/// The one seed a test that runs a single seed uses: `REGSIM_SEED`, else
/// `default`; a value that does not parse panics as in [`seeds`].
pub fn one_seed(default: u64) -> u64 {
    match std::env::var("REGSIM_SEED") {
        Ok(value) => seeds_from(Some(&value), None, 1).seeds[0],
        Err(_) => default,
    }
}

/// Writes `line` to the test's standard error past libtest's output
/// capture (which takes only `print!` and `eprint!`), so that every run
/// says which seeds it covered, passing or not. Once per binary for the
/// same line.
pub fn announce(line: &str) {
    static SAID: OnceLock<std::sync::Mutex<Vec<String>>> = OnceLock::new();
    let said = SAID.get_or_init(Default::default);
    let mut said = said.lock().unwrap_or_else(|e| e.into_inner());
    if !said.iter().any(|l| l == line) {
        said.push(line.to_owned());
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

/// The command that reruns `seed` of test `filter` in test file `test`
/// of the package these tests belong to (`env` holds further `VAR=value`
/// settings to put before it).
pub fn rerun(seed: u64, env: &str, test: &str, filter: &str) -> String {
    let features = if cfg!(feature = "mutants") {
        " --features mutants"
    } else {
        ""
    };
    // The profile the failing test ran in: a rerun in the other one
    // rebuilds everything first (the README's test command is --release).
    let profile = if cfg!(debug_assertions) {
        ""
    } else {
        " --release"
    };
    let env = if env.is_empty() {
        String::new()
    } else {
        format!("{env} ")
    };
    format!(
        "rerun with: REGSIM_SEED={seed} {env}cargo test -p {}{profile}{features} --test {test} {filter}",
        env!("CARGO_PKG_NAME")
    )
}

/// A failing run's violations, short: the first in full, then how many
/// more and of which oracles (the replay shows them all).
pub fn violations(r: &RunResult) -> String {
    let Some(first) = r.violations.first() else {
        return "no violation".into();
    };
    match r.violations.len() - 1 {
        0 => first.to_string(),
        more => format!(
            "{first} (and {more} more; oracles {:?})",
            r.failed_oracles()
        ),
    }
}

/// Tests of the helpers themselves, run once (from scenarios.rs).
pub fn check_seed_parsing() {
    let default = seeds_from(None, None, 8);
    assert_eq!(default.seeds, (0..8).collect::<Vec<_>>());
    assert!(!default.single && default.described.starts_with("seeds 0..8 ("));
    let one = seeds_from(Some("17"), None, 8);
    assert_eq!((one.seeds, one.single), (vec![17], true));
    // Both: the count from the seed on, as madsim's variables combine.
    let from = seeds_from(Some("7"), Some("3"), 8);
    assert_eq!((from.seeds, from.single), (vec![7, 8, 9], false));
    assert!(
        from.described.starts_with("seeds 7..10 ("),
        "{}",
        from.described
    );
    assert_eq!(seeds_from(None, Some("3"), 8).seeds, vec![0, 1, 2]);
    for (seed, count, needles) in [
        (
            Some("seventeen"),
            None,
            ["REGSIM_SEED=\"seventeen\"", "not a seed"],
        ),
        (Some("-1"), None, ["REGSIM_SEED=\"-1\"", "not a seed"]),
        (None, Some("many"), ["REGSIM_SEEDS=\"many\"", "seed count"]),
        (None, Some("0"), ["REGSIM_SEEDS=\"0\"", "no seeds"]),
        (
            Some("7"),
            Some("many"),
            ["REGSIM_SEEDS=\"many\"", "seed count"],
        ),
    ] {
        let err = std::panic::catch_unwind(|| seeds_from(seed, count, 8))
            .expect_err("a bad value must not run the default seeds");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        for n in needles {
            assert!(msg.contains(n), "{msg:?} lacks {n:?}");
        }
    }
    let hint = rerun(5, "REGSIM_SCENARIO=x", "scenarios", "every_shipped");
    // Run from scenarios.rs: the simulator's package.
    assert!(
        hint.starts_with(
            "rerun with: REGSIM_SEED=5 REGSIM_SCENARIO=x cargo test -p writer-registry-sim"
        ) && hint.ends_with("--test scenarios every_shipped"),
        "{hint}"
    );
    assert_eq!(
        hint.contains(" --release "),
        !cfg!(debug_assertions),
        "the rerun is built in the profile that failed: {hint}"
    );
}

/// The trace hash of each seed in `regsim run`'s output, by seed (lines
/// come in the order runs finish, which thread timing decides).
pub fn printed_hashes(out: &str) -> std::collections::BTreeMap<u64, String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("seed "))
        .filter_map(|l| {
            let (seed, rest) = l.split_once(':')?;
            let hash = rest.split(" trace ").nth(1)?;
            Some((seed.parse().ok()?, hash.get(..16)?.to_string()))
        })
        .collect()
}

/// restart-storm with its replay-window finding no longer allowed or
/// expected, written to `dir`: seed 0 fails (a scenario outside
/// `scenarios/`, as a user's own would be).
pub fn strict_restart_storm_file(dir: &Path) -> PathBuf {
    let strict = dir.join("strict.toml");
    let text = std::fs::read_to_string(root().join("scenarios/restart-storm.toml"))
        .unwrap()
        .replace(
            "allowed = [\"unjustified-halt:rollback:replay-window\"]",
            "allowed = []",
        )
        .replace(
            "expected = [\"unjustified-halt:rollback:replay-window\"]",
            "expected = []",
        );
    std::fs::write(&strict, text).unwrap();
    strict
}
