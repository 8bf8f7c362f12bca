//! The production-shaped store: one fjall database per node, one keyspace
//! per [`Space`].

use std::path::{Path, PathBuf};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use super::{Batch, Op, Pairs, Space, StoreError, WriterRegistryStore};

/// A registry on a fjall database in a directory of its own.
///
/// `write` commits a fjall batch (visible, handed to the OS, not fsynced);
/// `sync` is `persist(PersistMode::SyncAll)`. Dropping the value (or
/// [`close`](Self::close)) releases every handle and the directory lock, so
/// the same path can be reopened at once.
pub struct FjallRegistry {
    path: PathBuf,
    // Field order matters: keyspaces hold database handles and must go first.
    keyspaces: [Keyspace; 3],
    db: Database,
    mutant: crate::MutantSlot,
}

impl std::fmt::Debug for FjallRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FjallRegistry")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Small: a registry is a few rows per node, and a simulator opens many.
const CACHE_BYTES: u64 = 1 << 20;

impl FjallRegistry {
    /// Opens (creating if needed) the database in `path`.
    ///
    /// A directory another handle holds open is [`StoreError::Locked`]; an
    /// unreadable or corrupt one is [`StoreError::Open`]; both name the path.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, Default::default())
    }

    /// [`FjallRegistry::open`] for a driver that carries a run context:
    /// `mutant` is the run's mutant with the `mutants` feature (see
    /// `crate::mutants`) and `()` without it.
    pub fn open_with(
        path: impl AsRef<Path>,
        mutant: crate::MutantSlot,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let open_error = |e: fjall::Error| match e {
            fjall::Error::Locked => StoreError::Locked { path: path.clone() },
            other => StoreError::Open {
                path: path.clone(),
                message: describe(&other),
            },
        };
        // fjall panics rather than errors on some non-directory paths, so
        // check the shape up front.
        if path.exists() && !path.is_dir() {
            return Err(StoreError::Open {
                path: path.clone(),
                message: "not a directory".into(),
            });
        }
        let db = Database::builder(&path)
            .worker_threads(1)
            .cache_size(CACHE_BYTES)
            // The mutant's store keeps its journal writes in fjall's
            // user-space buffer until it persists, and never does.
            .manual_journal_persist(crate::mutated!(mutant, FjallSyncSkipped))
            .open()
            .map_err(open_error)?;
        let open_space = |space: Space| {
            db.keyspace(space.name(), KeyspaceCreateOptions::default)
                .map_err(open_error)
        };
        let keyspaces = [
            open_space(Space::Registry)?,
            open_space(Space::Kv)?,
            open_space(Space::Meta)?,
        ];
        Ok(FjallRegistry {
            path,
            keyspaces,
            db,
            mutant,
        })
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// No flush or compaction is running or queued: the directory's files
    /// change only by journal appends. A harness that copies the directory
    /// as a killed process would leave it needs this to hold.
    pub fn quiescent(&self) -> bool {
        self.db.outstanding_flushes() == 0 && self.db.active_compactions() == 0
    }

    /// Syncs, then releases every handle and the directory lock.
    pub fn close(mut self) -> Result<(), StoreError> {
        self.sync()
    }

    fn keyspace(&self, space: Space) -> &Keyspace {
        &self.keyspaces[space.index()]
    }
}

fn describe(e: &fjall::Error) -> String {
    match e {
        fjall::Error::Io(io) => io.to_string(),
        other => format!("{other:?}"),
    }
}

fn io_error(op: &'static str) -> impl Fn(fjall::Error) -> StoreError {
    move |e| StoreError::Io {
        op,
        message: describe(&e),
    }
}

impl WriterRegistryStore for FjallRegistry {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.keyspace(space)
            .get(key)
            .map(|v| v.map(|slice| slice.to_vec()))
            .map_err(io_error("get"))
    }

    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        self.keyspace(space)
            .iter()
            .map(|guard| {
                guard
                    .into_inner()
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(io_error("scan"))
            })
            .collect()
    }

    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut fb = self.db.batch();
        for op in batch.ops() {
            let ks = self.keyspace(op.space());
            match op {
                Op::Put { key, value, .. } => fb.insert(ks, key.as_slice(), value.as_slice()),
                Op::Delete { key, .. } => fb.remove(ks, key.as_slice()),
            }
        }
        fb.commit().map_err(io_error("batch commit"))
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        if crate::mutated!(self.mutant, FjallSyncSkipped) {
            return Ok(());
        }
        let mode = if crate::mutated!(self.mutant, FjallSyncBufferOnly) {
            PersistMode::Buffer
        } else {
            PersistMode::SyncAll
        };
        self.db.persist(mode).map_err(io_error("persist"))
    }
}
