//! # writer-registry
//!
//! A faithful re-implementation of a Raft state machine's writer registry
//! applier (see `shared/spec/writer-registry.md`): the wire formats of the
//! Raft log, the registry row codecs, the seven-step applier, a halting
//! state machine with two applied-index persistence policies, and two
//! stores (in memory and on fjall) behind one write/sync seam.
//!
//! Data flows one way: entry bytes -> [`wire`] -> [`applier`] (deciding)
//! -> [`fsm`] (batching, syncing, halting) -> [`registry`] (storing).

pub mod applier;
pub mod digest;
pub mod fsm;
pub mod hex;
pub mod ids;
pub mod registry;
pub mod snapshot;
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
