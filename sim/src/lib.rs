//! The writer-registry simulator: a seeded, single-threaded discrete-event
//! simulation of a Raft cluster running the writer-registry state machine.
//!
//! Data flows one way: seed -> [`schedule`] -> [`sim`] (cluster of
//! [`node`] cores over [`disk`] and [`store`]) -> [`trace`] and
//! [`oracle`]s -> [`run`] report. A run that cannot say anything about
//! the system ends in a [`error::HarnessError`] instead.
//! [`cli`] is the `regsim` command line.

// Without the `mutants` feature a mutant slot is `()` by design (nothing
// to select), and it is still handed along so both builds share one path.
#![cfg_attr(
    not(feature = "mutants"),
    allow(clippy::unit_arg, clippy::let_unit_value)
)]

pub mod bench;
pub mod cli;
pub mod corpus;
pub mod disk;
pub mod error;
pub mod inspect;
#[cfg(feature = "mutants")]
pub mod mutants;
pub mod node;
pub mod oracle;
pub mod panics;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod shrink;
pub mod sim;
pub mod store;
pub mod sweep;
pub mod trace;
