//! Catching a run's panics and deciding whose bug each one is.
//!
//! A panic inside the system under test (the `writer-registry` library,
//! raft-rs, the node core that drives them) is a verdict: the run violated
//! the `panic` oracle. A panic anywhere else in the simulator (the engine,
//! the schedule, the disk model, the oracles) is a harness bug and ends the
//! run with a [`HarnessError::Panic`](crate::error::HarnessError), never
//! with a violation. The blame goes by where the panic happened: the file
//! of its location, which `#[track_caller]` makes the caller's for
//! `unwrap`, indexing and the like.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// A panic caught by [`guarded`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caught {
    pub message: String,
    /// The location's file, as the compiler names it (`sim/src/x.rs`,
    /// an absolute path for a dependency), or empty when unknown.
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Caught {
    pub fn location(&self) -> String {
        if self.file.is_empty() {
            "an unknown location".into()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// Whose bug a panic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The system under test: a `panic` violation.
    System,
    /// The harness: a harness error.
    Harness,
}

/// The files of this crate that belong to the system under test: the node
/// core, which drives raft-rs and the library's FSM as a user's node would.
const SYSTEM_FILES: [&str; 1] = ["node.rs"];

/// This crate's source directory as the compiler names its files.
fn own_src_dir() -> &'static str {
    let me = file!();
    &me[..me.len() - "panics.rs".len()]
}

/// Whose bug a panic at `file` is: harness code is this crate's sources
/// other than the node core; everything else (the library, raft-rs, std
/// with no caller location) stays the system's, as a violation.
pub fn blame(file: &str) -> Blame {
    let dir = own_src_dir();
    match file.strip_prefix(dir) {
        Some(rest) if !SYSTEM_FILES.contains(&rest) => Blame::Harness,
        _ => Blame::System,
    }
}

thread_local! {
    /// `Some` while this thread runs [`guarded`] code: where its panic goes.
    static CAPTURE: RefCell<Option<Option<Caught>>> = const { RefCell::new(None) };
}

/// Installs (once per process) a panic hook that keeps the panics of
/// [`guarded`] code for their run's report instead of printing them (a
/// sweep runs on many threads), and prints every other panic as usual.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let kept = CAPTURE.with(|c| {
                let mut c = c.borrow_mut();
                match c.as_mut() {
                    Some(slot) => {
                        let message = info
                            .payload()
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| info.payload().downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "non-string panic payload".into());
                        let (file, line, column) =
                            info.location().map_or((String::new(), 0, 0), |l| {
                                (l.file().to_string(), l.line(), l.column())
                            });
                        slot.get_or_insert(Caught {
                            message,
                            file,
                            line,
                            column,
                        });
                        true
                    }
                    None => false,
                }
            });
            if !kept {
                default(info);
            }
        }));
    });
}

/// Runs `f`, catching a panic with its message and location.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, Caught> {
    install_hook();
    let outer = CAPTURE.with(|c| c.borrow_mut().replace(None));
    let result = catch_unwind(AssertUnwindSafe(f));
    let caught = CAPTURE.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    result.map_err(|payload| {
        caught.flatten().unwrap_or_else(|| Caught {
            message: payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".into()),
            file: String::new(),
            line: 0,
            column: 0,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_harness_code_is_the_harness_s() {
        let caught = guarded(|| -> u8 { panic!("boom") }).unwrap_err();
        assert_eq!(caught.message, "boom");
        assert!(caught.file.ends_with("panics.rs"), "{caught:?}");
        assert_eq!(blame(&caught.file), Blame::Harness);
    }

    #[test]
    fn the_library_raft_rs_and_the_node_core_are_the_system_s() {
        assert_eq!(blame("src/fsm.rs"), Blame::System);
        assert_eq!(
            blame("/root/.cargo/registry/src/index.crates.io-0/raft-0.7.0/src/raft_log.rs"),
            Blame::System
        );
        assert_eq!(blame(&format!("{}node.rs", own_src_dir())), Blame::System);
        assert_eq!(
            blame(&format!("{}sim/faults.rs", own_src_dir())),
            Blame::Harness
        );
        assert_eq!(blame(""), Blame::System);
    }

    #[test]
    fn nested_guards_keep_their_own_panics() {
        let outer = guarded(|| -> () {
            let inner = guarded(|| -> u8 { panic!("inner") }).unwrap_err();
            assert_eq!(inner.message, "inner");
            panic!("outer")
        })
        .unwrap_err();
        assert_eq!(outer.message, "outer");
    }
}
