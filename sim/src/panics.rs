//! Catching a run's panics and deciding whose bug each one is.
//!
//! A panic inside the system under test (the `writer-registry` library,
//! raft-rs, the node core that drives them) is a verdict: the run violated
//! the `panic` oracle. A panic anywhere else in the simulator (the engine,
//! the schedule, the disk model, the oracles) is a harness bug and ends the
//! run with a [`HarnessError::Panic`](crate::error::HarnessError), never
//! with a violation. The blame goes by where the panic happened: the file
//! of its location, which `#[track_caller]` makes the caller's for
//! `unwrap`, indexing and the like. A location inside the standard library
//! (a capacity overflow, say) names no caller; such a panic is blamed by
//! the zone the engine was in, which it marks with [`in_system`] around
//! every call into the node core. A node-core assertion about how its
//! driver must call it says `driver contract:` and is the harness's.

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
    /// The engine was inside the system under test when it panicked.
    pub in_system: bool,
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

/// The directory of this crate that belongs to the system under test: the
/// registry node, the library's FSM and start sequence as the engine's
/// node core runs them.
const SYSTEM_DIR: &str = "node/";

/// This crate's source directory as the compiler names its files.
fn own_src_dir() -> &'static str {
    let me = file!();
    &me[..me.len() - "panics.rs".len()]
}

/// The prefix of a node-core panic that reports its driver's misuse.
pub use regsim_engine::node::DRIVER_CONTRACT;

/// Whose bug a caught panic is: harness code is the engine crate but its
/// node core, this crate's sources other than the registry node, and the
/// node core's own
/// driver-contract checks; the library and raft-rs are the system's. A location in the
/// standard library (or none) is judged by the zone it happened in.
pub fn blame(caught: &Caught) -> Blame {
    let dir = own_src_dir();
    if caught.message.starts_with(DRIVER_CONTRACT) {
        return Blame::Harness;
    }
    let file = caught.file.as_str();
    // The engine crate is harness code, bar its node core: the glue
    // between raft-rs and the application is the system's.
    if let Some(rest) = file.strip_prefix(regsim_engine::source_dir()) {
        return if rest.starts_with(regsim_engine::node::SYSTEM_SUBDIR) {
            Blame::System
        } else {
            Blame::Harness
        };
    }
    if let Some(rest) = file.strip_prefix(dir) {
        return if rest.starts_with(SYSTEM_DIR) {
            Blame::System
        } else {
            Blame::Harness
        };
    }
    let in_std = file.is_empty() || file.starts_with("/rustc/") || file.starts_with("library/");
    match (in_std, caught.in_system) {
        (true, false) => Blame::Harness,
        _ => Blame::System,
    }
}

thread_local! {
    /// `Some` while this thread runs [`guarded`] code: where its panic goes.
    static CAPTURE: RefCell<Option<Option<Caught>>> = const { RefCell::new(None) };
}

/// The zone a panic happened in is the engine's to mark (`zone`): every
/// call into the system under test goes through its `in_system`.
pub use regsim_engine::zone::in_system;
use regsim_engine::zone::inside_system;

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
                        let message = payload_message(info.payload());
                        let (file, line, column) =
                            info.location().map_or((String::new(), 0, 0), |l| {
                                (l.file().to_string(), l.line(), l.column())
                            });
                        slot.get_or_insert(Caught {
                            message,
                            file,
                            line,
                            column,
                            in_system: inside_system(),
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

/// A panic payload as text (`panic!` gives a `&str` or a `String`).
fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// Runs `f`, catching a panic with its message and location.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, Caught> {
    install_hook();
    let outer = CAPTURE.with(|c| c.borrow_mut().replace(None));
    let result = catch_unwind(AssertUnwindSafe(f));
    let caught = CAPTURE.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    result.map_err(|payload| {
        caught.flatten().unwrap_or_else(|| Caught {
            message: payload_message(payload.as_ref()),
            file: String::new(),
            line: 0,
            column: 0,
            in_system: false,
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
        assert!(!caught.in_system);
        assert_eq!(blame(&caught), Blame::Harness);
    }

    fn at(file: &str, message: &str, in_system: bool) -> Caught {
        Caught {
            message: message.into(),
            file: file.into(),
            line: 1,
            column: 1,
            in_system,
        }
    }

    #[test]
    fn the_library_raft_rs_and_the_node_core_are_the_system_s() {
        let node = format!("{}node/mod.rs", own_src_dir());
        let engine = format!("{}sim/faults.rs", own_src_dir());
        let engine_crate = format!("{}oracle/commits.rs", regsim_engine::source_dir());
        let core = format!("{}node/mod.rs", regsim_engine::source_dir());
        assert!(
            regsim_engine::source_dir().ends_with("engine/src/"),
            "{engine_crate}"
        );
        for (c, want) in [
            (at("src/fsm.rs", "x", false), Blame::System),
            (
                at(
                    "/root/.cargo/registry/src/index.crates.io-0/raft-0.7.0/src/raft_log.rs",
                    "x",
                    true,
                ),
                Blame::System,
            ),
            (at(&node, "x", true), Blame::System),
            (at(&engine, "x", false), Blame::Harness),
            // The engine's own file stays the engine's, whatever the zone.
            (at(&engine, "x", true), Blame::Harness),
            // So does every file of the engine crate (its oracles, disk,
            // trace), even inside a call into the system.
            (at(&engine_crate, "x", true), Blame::Harness),
            // But the engine's node core is the system's, as the
            // registry's application glue is.
            (at(&core, "x", true), Blame::System),
            (at(&core, "x", false), Blame::System),
            (
                at(
                    &core,
                    "driver contract: syncs complete in Ready order",
                    true,
                ),
                Blame::Harness,
            ),
            // A driver-contract check in the node core blames the driver.
            (
                at(
                    &node,
                    "driver contract: syncs complete in Ready order",
                    true,
                ),
                Blame::Harness,
            ),
            // No caller location: the zone decides.
            (
                at(
                    "/rustc/abc/library/alloc/src/raw_vec.rs",
                    "capacity overflow",
                    false,
                ),
                Blame::Harness,
            ),
            (
                at(
                    "/rustc/abc/library/alloc/src/raw_vec.rs",
                    "capacity overflow",
                    true,
                ),
                Blame::System,
            ),
            (at("", "x", false), Blame::Harness),
            (at("", "x", true), Blame::System),
        ] {
            assert_eq!(blame(&c), want, "{c:?}");
        }
    }

    #[test]
    fn the_zone_is_seen_by_the_hook_and_restored_after_a_panic() {
        let caught = guarded(|| in_system(|| -> u8 { panic!("deep") })).unwrap_err();
        assert!(caught.in_system, "{caught:?}");
        assert!(!inside_system(), "the zone leaked past the unwind");
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
        // From the hook (with a location), not rebuilt from the payload.
        assert!(outer.file.ends_with("panics.rs"), "{outer:?}");
    }
}
