//! The writer-registry simulator: a seeded, single-threaded discrete-event
//! simulation of a Raft cluster running the writer-registry state machine.
//!
//! Data flows one way:
//!
//! ```text
//!  seed ──> schedule ──> world ────────────> observations ──> checkers ──> verdict ──> report
//!  (rng)   (schedule,   (the engine's        (oracle::checkers::  (oracle::*)  (run)     (sweep, regsim)
//!           faults:      regsim_engine::      Observation, and
//!           one file     world, generic over  Injected records,
//!           per event    the System under     through world::
//!           kind)        test; driven by sim: observe's Observer)
//!                        the engine's clock,
//!                        network, in-flight
//!                        rule; or hosted:
//!                        turmoil, madsim;
//!                        the writer registry
//!                        plugged in by
//!                        registry: its node
//!                        core app, disk,
//!                        store, books)
//!                          ^        |
//!                          |        v
//!                       faults::* (what each event kind means, for every
//!                       runtime, through world::target's Target) and
//!                       world::injector (what it armed inside the nodes;
//!                       asked at each crash point)
//! ```
//!
//! - [`schedule`] expands a seed (with [`rng`]'s keyed streams) into
//!   explicit timed events of the kinds in [`faults`], one file each;
//!   [`scenario`] bounds what a run may ask for.
//! - The world is the engine's (`regsim_engine::world`, re-exported in
//!   [`world`]): a node's life (start, owed proposals, stop) and a call
//!   into its core, each written once over the `Files` and `Runtime`
//!   traits a runtime implements and the `System` trait a state machine
//!   implements. `registry` is the writer registry's `System`: its hooks
//!   and its books on a run (the observer and the members' books, the
//!   fault injector, the clients, all in [`world`] beside the `Target`
//!   seam the event kinds act through). [`sim`] is the native runtime:
//!   the virtual clock and event queue, the node cores (the engine's
//!   `regsim_engine::node`, sans-IO over raft-rs, running
//!   [`node::Registry`]: the library's FSM and start sequence, persisting
//!   through the [`node::storage`] traits that [`disk`] and [`store`]
//!   implement), its transport and its disks, each owning its state. It
//!   records every decision and what it did to state in the [`trace`]
//!   (hashed with the harness's own [`fnv`], never the library's id code).
//! - [`oracle`]'s checkers own every oracle's state and see the world only
//!   through observations and the injector's records.
//! - [`run`] turns one run into a verdict (or a [`error::HarnessError`]
//!   when it says nothing about the system; [`panics`] decides whose a
//!   panic is); [`sweep`], [`shrink`], [`corpus`] and `mutants` (a
//!   feature) run many; [`results`] writes what they found, and
//!   [`command`] is the one form of the command that replays a run.
//! - The `regsim` command line (its commands, progress bars, Ctrl-C's
//!   handler, the HTML report page, `regsim bench`) is a crate of its own,
//!   `sim/regsim`, on top of this one: nothing here parses arguments,
//!   draws or takes over a process's signals.

// Without the `mutants` feature a mutant slot is `()` by design (nothing
// to select), and it is still handed along so both builds share one path.
#![cfg_attr(
    not(feature = "mutants"),
    allow(clippy::unit_arg, clippy::let_unit_value)
)]

/// The commit this build was made from (`build.rs`; `unknown` outside a
/// git checkout), as results files and printed replay commands name it.
pub const COMMIT: &str = env!("REGSIM_COMMIT");

pub use regsim_engine::cancel;
pub mod command;
pub mod corpus;
pub mod crash_copy;
pub mod disk;
pub mod faults;
pub use regsim_engine::error;
pub use regsim_engine::fnv;
pub mod fsync_witness;
pub(crate) mod hosted;
pub mod inspect;
pub mod interrupt;
#[cfg(madsim)]
pub mod madsim_runtime;
pub mod marks;
#[cfg(feature = "mutants")]
pub mod mutants;
pub mod nightly;
pub mod node;
pub mod oracle;
pub mod panics;
pub mod proposal_order;
pub(crate) mod registry;
pub mod results;
pub use regsim_engine::rng;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod shrink;
pub mod sim;
pub mod store;
pub mod sweep;
pub use regsim_engine::tempdirs;
pub mod toml_error;
pub mod trace;
pub mod turmoil_fs;
pub mod turmoil_runtime;
pub mod world;
