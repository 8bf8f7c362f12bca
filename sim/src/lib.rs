//! The writer-registry simulator: a seeded, single-threaded discrete-event
//! simulation of a Raft cluster running the writer-registry state machine.

pub mod inspect;
