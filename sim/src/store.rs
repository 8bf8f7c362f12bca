//! The FSM's store as the simulator sees it: the real registry (fjall or
//! memory) behind a journal that knows which writes reached a sync.
//!
//! fjall never loses data in-process, so power loss is modelled here: the
//! journal keeps the durable image and the writes since the last sync, and
//! on power loss writes the durable image back over them. It is also where
//! a crash between a registry write and its sync is injected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use writer_registry::registry::{Batch, Op, Pairs, Space, StoreError, WriterRegistryStore};
use writer_registry::{FjallRegistry, MemoryRegistry};

/// Which registry implementation a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryKind {
    Fjall,
    Memory,
}

impl RegistryKind {
    pub fn name(self) -> &'static str {
        match self {
            RegistryKind::Fjall => "fjall",
            RegistryKind::Memory => "memory",
        }
    }
}

/// The open registry of a running node.
#[derive(Debug)]
pub enum SimStore {
    Memory(MemoryRegistry),
    Fjall(FjallRegistry),
}

impl WriterRegistryStore for SimStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            SimStore::Memory(s) => s.get(space, key),
            SimStore::Fjall(s) => s.get(space, key),
        }
    }
    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        match self {
            SimStore::Memory(s) => s.scan(space),
            SimStore::Fjall(s) => s.scan(space),
        }
    }
    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        match self {
            SimStore::Memory(s) => s.write(batch),
            SimStore::Fjall(s) => s.write(batch),
        }
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        match self {
            SimStore::Memory(s) => s.sync(),
            SimStore::Fjall(s) => s.sync(),
        }
    }
}

/// A closed registry: where it lives while its node is down.
pub enum ClosedStore {
    Memory(MemoryRegistry),
    Fjall(PathBuf),
}

impl ClosedStore {
    pub fn new(kind: RegistryKind, dir: &Path) -> Self {
        match kind {
            RegistryKind::Memory => ClosedStore::Memory(MemoryRegistry::new()),
            RegistryKind::Fjall => ClosedStore::Fjall(dir.to_path_buf()),
        }
    }

    /// Opens it; for fjall this really opens the database directory.
    pub fn open(self) -> Result<SimStore, StoreError> {
        Ok(match self {
            ClosedStore::Memory(m) => SimStore::Memory(m),
            ClosedStore::Fjall(path) => SimStore::Fjall(FjallRegistry::open(path)?),
        })
    }
}

impl SimStore {
    /// Closes it, releasing every fjall handle and the directory lock.
    pub fn close(self) -> ClosedStore {
        match self {
            SimStore::Memory(m) => ClosedStore::Memory(m),
            SimStore::Fjall(f) => {
                let path = f.path().to_path_buf();
                drop(f);
                ClosedStore::Fjall(path)
            }
        }
    }
}

/// Every (space, key) -> value a store holds.
pub type Image = BTreeMap<(Space, Vec<u8>), Vec<u8>>;

/// A registry row change that reached a sync, for the invariant oracle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedRowChange {
    pub key: Vec<u8>,
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
}

/// What survives between incarnations: the durable image and the writes
/// since the last sync.
#[derive(Debug, Default, Clone)]
pub struct Journal {
    synced: Image,
    unsynced: Vec<Batch>,
}

impl Journal {
    /// The image a process crash keeps: durable plus written.
    pub fn written_image(&self) -> Image {
        let mut image = self.synced.clone();
        for batch in &self.unsynced {
            apply(&mut image, batch);
        }
        image
    }

    pub fn synced_image(&self) -> &Image {
        &self.synced
    }

    /// The digest of what reached a sync (see [`crate::trace::image_digest`]).
    pub fn synced_digest(&self) -> (u64, u64) {
        crate::trace::image_digest(&self.synced)
    }

    /// Batches written since the last sync (some may be a dead
    /// incarnation's, still in the page cache).
    pub fn unsynced_batches(&self) -> usize {
        self.unsynced.len()
    }

    /// Power loss: writes the durable image back over every unsynced key
    /// of the (re-opened) store and syncs.
    /// Returns how many registry rows it undid.
    pub fn power_loss(&mut self, store: &mut SimStore) -> Result<usize, StoreError> {
        let mut undo = Batch::new();
        let mut seen = std::collections::BTreeSet::new();
        for batch in &self.unsynced {
            for op in batch.ops() {
                let id = (op.space(), op.key().to_vec());
                if !seen.insert(id.clone()) {
                    continue;
                }
                match self.synced.get(&id) {
                    Some(v) => undo.put(id.0, id.1, v.clone()),
                    None => undo.delete(id.0, id.1),
                }
            }
        }
        let undone = undo
            .ops()
            .iter()
            .filter(|op| op.space() == Space::Registry)
            .count();
        self.unsynced.clear();
        store.write(&undo)?;
        store.sync()?;
        Ok(undone)
    }

    /// Moves every unsynced write into the durable image; reports the
    /// registry rows that changed into `changes` when given.
    fn synced_now(&mut self, mut changes: Option<&mut Vec<SyncedRowChange>>) {
        for batch in std::mem::take(&mut self.unsynced) {
            for op in batch.ops() {
                let id = (op.space(), op.key().to_vec());
                let old = self.synced.get(&id).cloned();
                let new = match op {
                    Op::Put { value, .. } => Some(value.clone()),
                    Op::Delete { .. } => None,
                };
                if let Some(changes) = changes
                    .as_deref_mut()
                    .filter(|_| id.0 == Space::Registry && old != new)
                {
                    changes.push(SyncedRowChange {
                        key: id.1.clone(),
                        old,
                        new: new.clone(),
                    });
                }
                match new {
                    Some(v) => self.synced.insert(id, v),
                    None => self.synced.remove(&id),
                };
            }
        }
    }
}

fn apply(image: &mut Image, batch: &Batch) {
    for op in batch.ops() {
        match op {
            Op::Put { space, key, value } => {
                image.insert((*space, key.clone()), value.clone());
            }
            Op::Delete { space, key } => {
                image.remove(&(*space, key.clone()));
            }
        }
    }
}

/// The registry rows of an image, in key order (what a scan of the
/// registry space gives).
pub fn registry_rows(image: &Image) -> writer_registry::registry::Pairs {
    image
        .iter()
        .filter(|((space, _), _)| *space == Space::Registry)
        .map(|((_, k), v)| (k.clone(), v.clone()))
        .collect()
}

/// Scans every space of a store into one image.
pub fn scan_image<S: WriterRegistryStore>(store: &S) -> Result<Image, StoreError> {
    let mut image = Image::new();
    for space in Space::ALL {
        for (k, v) in store.scan(space)? {
            image.insert((space, k), v);
        }
    }
    Ok(image)
}

/// The store handed to the FSM: the open registry plus its journal.
#[derive(Debug)]
pub struct TrackedStore {
    pub inner: SimStore,
    pub journal: Journal,
    /// Armed by the fault schedule (the driver keeps a clone): the next
    /// sync fails as if the process died between the write and its fsync.
    pub crash_before_sync: std::rc::Rc<std::cell::Cell<bool>>,
    /// Set when an armed crash fired: the node must die now.
    pub crashed: bool,
    /// Where synced registry row changes go for the invariant oracle
    /// (shared with the driver; `None` when oracles are off).
    pub row_changes: Option<std::rc::Rc<std::cell::RefCell<Vec<SyncedRowChange>>>>,
}

impl crate::node::storage::NodeStore for TrackedStore {
    fn process_died(&self) -> bool {
        self.crashed
    }
    fn unsynced_writes(&self) -> usize {
        self.journal.unsynced_batches()
    }
}

/// The message a simulated crash before sync surfaces through the FSM.
pub const CRASH_BEFORE_SYNC: &str = "simulated process crash before sync";

impl WriterRegistryStore for TrackedStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(space, key)
    }
    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        self.inner.scan(space)
    }
    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.inner.write(batch)?;
        self.journal.unsynced.push(batch.clone());
        Ok(())
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        if self.crash_before_sync.replace(false) {
            self.crashed = true;
            return Err(StoreError::Io {
                op: "sync",
                message: CRASH_BEFORE_SYNC.into(),
            });
        }
        self.inner.sync()?;
        match &self.row_changes {
            Some(sink) => self.journal.synced_now(Some(&mut sink.borrow_mut())),
            None => self.journal.synced_now(None),
        }
        Ok(())
    }
}
