//! # writer-registry
//!
//! A faithful re-implementation of a Raft state machine's writer registry
//! applier (see `docs/spec.md`): the wire formats of the
//! Raft log, the registry row codecs, the seven-step applier, a halting
//! state machine with two applied-index persistence policies, and two
//! stores (in memory and on fjall) behind one write/sync seam.
//!
//! Data flows one way: entry bytes -> [`wire`] -> [`applier`] (deciding)
//! -> [`fsm`] (batching, syncing, halting) -> [`registry`] (storing). A
//! node runs the spec's start sequence through [`start::StartSequence`], a
//! sans-IO step machine over the guards of [`startup`].

// Without the `mutants` feature a mutant slot is `()` by design (nothing
// to select), and it is still handed along so both builds share one path.
#![cfg_attr(
    not(feature = "mutants"),
    allow(clippy::unit_arg, clippy::let_unit_value)
)]

/// `mutated!(slot, Name)`: true when the component's mutant slot holds
/// `Mutant::Name`. Without the `mutants` feature it is the constant
/// `false` and the slot is `()`, so the default build carries no mutant.
#[cfg(feature = "mutants")]
#[macro_export]
macro_rules! mutated {
    ($slot:expr, $m:ident) => {
        $slot == Some($crate::mutants::Mutant::$m)
    };
}

/// See the `mutants`-feature twin: always false here.
#[cfg(not(feature = "mutants"))]
#[macro_export]
macro_rules! mutated {
    ($slot:expr, $m:ident) => {{
        let () = $slot;
        false
    }};
}

/// The mutant a component was built with: `Option<Mutant>` with the
/// `mutants` feature, `()` (nothing to select) without it.
#[cfg(feature = "mutants")]
pub type MutantSlot = Option<mutants::Mutant>;
/// The mutant a component was built with: nothing, in the default build.
///
/// The default build carries no mutant catalogue at all; this doc test
/// proves it on every `cargo test` that builds the library without the
/// `mutants` feature (it must fail to compile):
///
/// ```compile_fail
/// let _ = writer_registry::mutants::Mutant::ALL;
/// ```
///
/// while the slot itself is usable:
///
/// ```
/// let _slot: writer_registry::MutantSlot = ();
/// ```
#[cfg(not(feature = "mutants"))]
pub type MutantSlot = ();

/// `mark!(Name)`: records a hit of `marks::Mark::Name` (the `marks`
/// feature); nothing at all without it.
#[cfg(feature = "marks")]
macro_rules! mark {
    ($m:ident) => {
        $crate::marks::hit($crate::marks::Mark::$m)
    };
}

#[cfg(not(feature = "marks"))]
macro_rules! mark {
    ($m:ident) => {};
}

pub mod applier;
pub mod digest;
pub mod fsm;
pub mod hex;
pub mod ids;
#[cfg(feature = "marks")]
pub mod marks;
#[cfg(feature = "mutants")]
pub mod mutants;
pub mod registry;
pub mod snapshot;
pub mod start;
pub mod startup;
pub mod wire;

pub use applier::{Applied, Applier, Halt, HaltKind};
pub use digest::StateDigest;
pub use fsm::{Fsm, HaltRecord, Outcome, PersistPolicy};
pub use registry::{
    Batch, FjallRegistry, MemoryRegistry, RowKey, RowValue, Space, StoreError, WriterRegistryStore,
};
pub use snapshot::Snapshot;
pub use wire::{decode_entry, Command, DecodeError, Entry, Registration};
