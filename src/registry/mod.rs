//! The registry's storage: row codecs, the store seam the FSM writes
//! through, and two stores (in memory and on fjall).
//!
//! A store holds three spaces: the registry rows, the opaque KV data of
//! ordinary commands, and the FSM's metadata (its applied index). Keys and
//! values are raw bytes at this level on purpose: a row of the wrong shape
//! must be representable so that corruption is reported as corruption and
//! not as "row missing".

mod codec;
mod fjall;
mod memory;

pub use self::codec::{MalformedRow, RowKey, RowValue, KEY_LEN, KEY_PREFIX, VALUE_LEN};
pub use self::fjall::FjallRegistry;
pub use self::memory::MemoryRegistry;

use std::path::PathBuf;

/// One of the store's key spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Space {
    /// Writer registry rows (27-byte keys, 12-byte values).
    Registry,
    /// Opaque data written by ordinary KV commands.
    Kv,
    /// FSM metadata such as the durable applied index.
    Meta,
}

impl Space {
    /// Every space, in a fixed order (used for scans and snapshots).
    pub const ALL: [Space; 3] = [Space::Registry, Space::Kv, Space::Meta];

    /// Stable name, also the fjall keyspace name.
    pub fn name(self) -> &'static str {
        match self {
            Space::Registry => "registry",
            Space::Kv => "kv",
            Space::Meta => "meta",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// One change in a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put {
        space: Space,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// Only restore and the simulator's power-loss undo delete; the applier
    /// never does.
    Delete { space: Space, key: Vec<u8> },
}

impl Op {
    pub fn space(&self) -> Space {
        match self {
            Op::Put { space, .. } | Op::Delete { space, .. } => *space,
        }
    }

    pub fn key(&self) -> &[u8] {
        match self {
            Op::Put { key, .. } | Op::Delete { key, .. } => key,
        }
    }
}

/// A set of changes a store applies atomically: all or none are visible.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, space: Space, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::Put {
            space,
            key: key.into(),
            value: value.into(),
        });
    }

    pub fn delete(&mut self, space: Space, key: impl Into<Vec<u8>>) {
        self.ops.push(Op::Delete {
            space,
            key: key.into(),
        });
    }

    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }
}

/// Key-value pairs in key order, as a scan returns them.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Key in [`Space::Meta`] of the durable applied index (u64 BE).
pub const APPLIED_INDEX_KEY: &[u8] = b"applied_index";

/// A store failure. Every variant says where (path or operation), so a
/// halt caused by it can be read without a debugger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("registry database at {} is locked by another open handle", path.display())]
    Locked { path: PathBuf },
    #[error("cannot open registry database at {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    #[error("registry store {op} failed: {message}")]
    Io { op: &'static str, message: String },
    #[error("corrupt {what} in registry store: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

/// The seam between the FSM and durable storage.
///
/// Contract:
/// - [`get`](Self::get) and [`scan`](Self::scan) see every batch written so
///   far, synced or not (a process never loses its own writes).
/// - [`write`](Self::write) applies a batch atomically but need not make it
///   durable; [`sync`](Self::sync) makes every batch written so far durable.
///   The two are separate so a simulator can crash a node between them; the
///   FSM always syncs before an apply returns.
/// - Errors propagate; a store never panics on bad bytes it reads back.
pub trait WriterRegistryStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every pair in `space`, in key order.
    fn scan(&self, space: Space) -> Result<Pairs, StoreError>;
    fn write(&mut self, batch: &Batch) -> Result<(), StoreError>;
    fn sync(&mut self) -> Result<(), StoreError>;

    /// The raw bytes of a registry row.
    fn get_row(&self, key: &RowKey) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(Space::Registry, &key.encode())
    }

    /// The durable applied index, or `None` if none was ever written.
    fn applied_index(&self) -> Result<Option<u64>, StoreError> {
        match self.get(Space::Meta, APPLIED_INDEX_KEY)? {
            None => Ok(None),
            Some(bytes) => match <[u8; 8]>::try_from(bytes.as_slice()) {
                Ok(raw) => Ok(Some(u64::from_be_bytes(raw))),
                Err(_) => Err(StoreError::Corrupt {
                    what: "applied index",
                    detail: format!("{} bytes, expected 8", bytes.len()),
                }),
            },
        }
    }
}

impl<S: WriterRegistryStore + ?Sized> WriterRegistryStore for Box<S> {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(space, key)
    }
    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        (**self).scan(space)
    }
    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        (**self).write(batch)
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        (**self).sync()
    }
}
