//! How a run can end without a verdict: a harness error.
//!
//! A run ends either with a verdict about the system under test (it passed,
//! broke a rule, or showed a finding) or with
//! a [`HarnessError`]: the input was bad, the harness itself panicked, or
//! the machine could not host the run. A harness error says nothing about
//! the system: `regsim` exits 2 with its one line, never records it as a
//! corpus entry and never counts it as catching a mutant.

use std::fmt;

/// A run that ended without a verdict about the system under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HarnessError {
    /// A scenario, schedule or corpus file (or a value built in code) that
    /// the harness cannot run. The message names the file and field.
    BadInput(String),
    /// A panic in harness code (the engine, the schedule, the oracles):
    /// a bug of the harness, not of the system under test.
    Panic {
        /// What the panic said.
        message: String,
        /// `file:line` of the panic.
        location: String,
    },
    /// The machine could not host the run (too many open files, a full or
    /// missing temp directory, out of memory).
    Environment(String),
    /// The run took longer than its wall-clock limit (`--timeout`): a
    /// stuck or pathologically slow run of the harness, no verdict.
    Timeout(std::time::Duration),
    /// The sweep was interrupted (a second Ctrl-C) while this run was in
    /// flight: it was abandoned, no verdict.
    Interrupted,
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the message held.
        let one = |s: &str| s.trim_end().replace('\n', " ");
        match self {
            HarnessError::BadInput(m) => write!(f, "{}", one(m)),
            HarnessError::Panic { message, location } => write!(
                f,
                "harness bug: panic at {location}: {} (a bug of regsim, not of the system under test)",
                one(message)
            ),
            HarnessError::Environment(m) => write!(f, "environment: {}", one(m)),
            HarnessError::Timeout(limit) => write!(
                f,
                "timeout: the run took longer than {:?} of wall time (raise --timeout if the scenario is that slow)",
                limit
            ),
            HarnessError::Interrupted => write!(f, "interrupted: abandoned by a second Ctrl-C"),
        }
    }
}

impl std::error::Error for HarnessError {}

impl HarnessError {
    /// A short name of the kind, for summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            HarnessError::BadInput(_) => "bad input",
            HarnessError::Panic { .. } => "harness panic",
            HarnessError::Environment(_) => "environment",
            HarnessError::Timeout(_) => "timeout",
            HarnessError::Interrupted => "interrupted",
        }
    }
}

/// The environment problem an I/O error message reports, if it is one: a
/// resource of the machine ran out, which no behaviour of the system under
/// test explains. Matched on the OS error number, in either of the forms
/// messages carry it: std's `(os error 24)` and the `Os { code: 24, .. }`
/// of a debug-printed `io::Error` (as fjall's errors show it).
pub fn environment_cause(message: &str) -> Option<&'static str> {
    const CAUSES: [(i32, &str); 6] = [
        (24, "too many open files (raise `ulimit -n`)"),
        (23, "the system's open-file table is full"),
        (
            28,
            "no space left on the device holding the run's data (/dev/shm or the temp dir)",
        ),
        (122, "disk quota exceeded"),
        (12, "out of memory"),
        (30, "the run's data directory is on a read-only file system"),
    ];
    CAUSES
        .iter()
        .find(|(code, _)| {
            message.contains(&format!("(os error {code})"))
                || message.contains(&format!("Os {{ code: {code},"))
        })
        .map(|(_, cause)| *cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_of_exhausted_resources_are_environment_problems() {
        let emfile = std::io::Error::from_raw_os_error(24).to_string();
        assert!(environment_cause(&format!("open: {emfile}")).is_some());
        let enospc = std::io::Error::from_raw_os_error(28).to_string();
        assert!(environment_cause(&enospc).unwrap().contains("no space"));
        let debug = format!("{:?}", std::io::Error::from_raw_os_error(24));
        assert!(
            environment_cause(&format!("Storage(Io({debug}))")).is_some(),
            "{debug}"
        );
        // A missing file or a corrupt record is no machine problem.
        let enoent = std::io::Error::from_raw_os_error(2).to_string();
        assert_eq!(environment_cause(&enoent), None);
        assert_eq!(environment_cause("corrupt row value"), None);
    }

    #[test]
    fn every_kind_displays_as_one_line() {
        for e in [
            HarnessError::BadInput("a.toml: key `nodes`:\nexpected 3 to 9".into()),
            HarnessError::Panic {
                message: "index out of bounds\n".into(),
                location: "sim/src/x.rs:1:1".into(),
            },
            HarnessError::Environment("no space\n".into()),
        ] {
            assert_eq!(e.to_string().lines().count(), 1, "{e}");
        }
    }
}
