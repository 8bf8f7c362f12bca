//! regsim's engine: the parts of a deterministic simulation of a raft-rs
//! cluster that hold for any state machine.
//!
//! - [`rng`]: keyed randomness, one ChaCha stream family per subsystem, so
//!   that a new draw never shifts an old one.
//! - [`fnv`]: the harness's own FNV-1a (trace hashes, state digests).
//! - [`clock`]: virtual time and the event queue, generic over the event.
//! - [`network`]: the link model (cuts, loss, delay, reorder, duplicates).
//! - [`in_flight`]: what becomes of a message whose sender or receiver
//!   stopped while it was on its way, the same on every runtime.
//! - [`storage`]: what a node core persists of Raft, as traits.
//! - [`disk`]: the simulated Raft disk (written and synced images).
//! - [`node`]: the node core, one raft-rs member running an application
//!   (the system under test's glue, generic over its state machine);
//!   [`mem_log`] drives one by hand.
//! - [`process`]: a member's process (up, paused, down for a reason) and
//!   whether a run converged, judged over them once for every runtime.
//! - [`oracle`]: the [`oracle::checker::Checker`] trait every system's
//!   checkers implement (one per file, shown observations, reporting
//!   through [`oracle::Violations`]), and the Raft oracles, judged from the
//!   engine's ground truth: checkers over any observation with a Raft part
//!   ([`oracle::observation::RaftView`]).
//! - [`trace`]: the run's trace, its hash and its typed kinds.
//! - [`world`]: the world every runtime drives and every system runs in:
//!   the cluster, a node's life, a call into its core, and the seam to
//!   the system under test; [`zone`] marks the calls into that system.
//! - [`error`], [`cancel`], [`tempdirs`]: how a run ends without a verdict,
//!   a run's wall-clock limit and abandonment, run directories.
//!
//! The engine never depends on the system it tests: a state machine plugs
//! in from its own crate.

#![deny(missing_docs)]

pub mod cancel;
pub mod clock;
pub mod disk;
pub mod error;
pub mod fnv;
pub mod in_flight;
pub mod mem_log;
pub mod network;
pub mod node;
pub mod oracle;
pub mod process;
pub mod rng;
pub mod storage;
pub mod tempdirs;
pub mod trace;
pub mod world;
pub mod zone;

/// This crate's source directory as the compiler names its files
/// (`sim/engine/src/` in this workspace): a panic located under it is the
/// harness's, except under [`node::SYSTEM_SUBDIR`] (the node core is the
/// system under test's).
pub fn source_dir() -> &'static str {
    let me = file!();
    &me[..me.len() - "lib.rs".len()]
}
