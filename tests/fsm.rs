//! The FSM: sticky halts, the two persistence policies across close and
//! reopen on fjall, snapshots, and the store's open errors.

use writer_registry::ids::full_node_id;
use writer_registry::registry::{Space, StoreError, WriterRegistryStore};
use writer_registry::wire::{encode_entry, Registration};
use writer_registry::{
    Applied, FjallRegistry, Fsm, Halt, HaltKind, MemoryRegistry, Outcome, PersistPolicy, Snapshot,
};

fn reg_entry(id: u64, dek: u32, full: u64, epoch: u16) -> Vec<u8> {
    encode_entry(
        id,
        &Registration {
            dek,
            full_node_id: full,
            local_epoch: epoch,
        }
        .encode_payload(),
    )
}

fn kv_entry(id: u64, payload: &[u8]) -> Vec<u8> {
    encode_entry(id, payload)
}

#[test]
fn halt_is_sticky_and_applied_index_stays_before_it() {
    let n1 = full_node_id("n1");
    let mut fsm = Fsm::open(MemoryRegistry::new(), PersistPolicy::Atomic).unwrap();
    fsm.apply(1, &reg_entry(1, 7, n1, 5)).unwrap();
    let digest = fsm.digest();
    let halt = fsm.apply(2, &reg_entry(2, 7, n1, 4)).unwrap_err();
    assert_eq!(halt.kind(), HaltKind::Rollback);
    // A perfectly good entry after the halt is refused with the same halt.
    assert_eq!(fsm.apply(3, &kv_entry(3, b"\x01kv")).unwrap_err(), halt);
    assert_eq!(fsm.apply(2, &reg_entry(2, 7, n1, 9)).unwrap_err(), halt);
    assert_eq!(fsm.applied_index(), 1);
    assert_eq!(fsm.halted().unwrap().index, 2);
    assert_eq!(fsm.digest(), digest);
    assert_eq!(fsm.store().applied_index().unwrap(), Some(1));
}

#[test]
fn malformed_and_out_of_order_entries_halt() {
    let mut fsm = Fsm::open(MemoryRegistry::new(), PersistPolicy::Faithful).unwrap();
    assert_eq!(fsm.apply(1, &[]).unwrap(), Outcome::Empty);
    let halt = fsm.apply(2, &[0x01, 0, 0]).unwrap_err();
    assert_eq!(halt.kind(), HaltKind::Malformed);
    assert!(halt.to_string().contains("byte 1"), "{halt}");
    let mut fsm = Fsm::open(MemoryRegistry::new(), PersistPolicy::Faithful).unwrap();
    assert_eq!(
        fsm.apply(2, &[]).unwrap_err(),
        Halt::OutOfOrder {
            expected: 1,
            got: 2
        }
    );
}

/// Applies: 1 registration, 2 KV, 3 registration (advance), 4 no-op entry,
/// 5 equal-epoch registration. Returns the in-memory applied index.
fn run_mixed(fsm: &mut Fsm<FjallRegistry>) -> u64 {
    let n1 = full_node_id("n1");
    assert!(matches!(
        fsm.apply(1, &reg_entry(1, 7, n1, 1)).unwrap(),
        Outcome::Registration(Applied::Inserted(_))
    ));
    assert_eq!(
        fsm.apply(2, &kv_entry(2, b"\x01put")).unwrap(),
        Outcome::Kv { proposal_id: 2 }
    );
    assert!(matches!(
        fsm.apply(3, &reg_entry(3, 7, n1, 2)).unwrap(),
        Outcome::Registration(Applied::Advanced { .. })
    ));
    assert_eq!(fsm.apply(4, &[]).unwrap(), Outcome::Empty);
    assert_eq!(
        fsm.apply(5, &reg_entry(5, 7, n1, 2)).unwrap(),
        Outcome::Registration(Applied::Unchanged)
    );
    fsm.applied_index()
}

fn open_fjall(dir: &std::path::Path, policy: PersistPolicy) -> Fsm<FjallRegistry> {
    Fsm::open(FjallRegistry::open(dir).unwrap(), policy).unwrap()
}

/// Runs [`run_mixed`] under `policy`, closes, reopens: the reopened FSM
/// must hold the same digest; returns its applied index.
fn applied_index_after_reopen(policy: PersistPolicy) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let mut fsm = open_fjall(dir.path(), policy);
    assert_eq!(run_mixed(&mut fsm), 5);
    let digest = fsm.digest();
    fsm.into_store().close().unwrap();
    let fsm = open_fjall(dir.path(), policy);
    assert_eq!(fsm.digest(), digest);
    fsm.applied_index()
}

#[test]
fn faithful_persists_the_applied_index_only_with_kv_commands() {
    // The replay window: rows reflect entry 3, the durable index says 2.
    assert_eq!(applied_index_after_reopen(PersistPolicy::Faithful), 2);
}

#[test]
fn atomic_persists_the_applied_index_with_every_entry() {
    assert_eq!(applied_index_after_reopen(PersistPolicy::Atomic), 5);
}

#[test]
fn faithful_snapshot_moves_the_durable_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut fsm = open_fjall(dir.path(), PersistPolicy::Faithful);
    run_mixed(&mut fsm);
    let snap = fsm.snapshot().unwrap();
    assert_eq!(snap.applied_index, 5);
    fsm.into_store().close().unwrap();
    let fsm = open_fjall(dir.path(), PersistPolicy::Faithful);
    assert_eq!(fsm.applied_index(), 5);
}

#[test]
fn snapshot_restore_gives_the_same_digest_and_replaces_state() {
    let n1 = full_node_id("n1");
    let n2 = full_node_id("n2");
    let mut source = Fsm::open(MemoryRegistry::new(), PersistPolicy::Atomic).unwrap();
    source.apply(1, &reg_entry(1, 7, n1, 1)).unwrap();
    source.apply(2, &kv_entry(2, b"\x01a")).unwrap();
    source.apply(3, &reg_entry(3, 8, n2, 1)).unwrap();
    let snap = source.snapshot().unwrap();
    let bytes = snap.encode();
    assert_eq!(Snapshot::decode(&bytes).unwrap(), snap);

    // The target has a row and a KV pair the snapshot lacks, and one it shares.
    let dir = tempfile::tempdir().unwrap();
    let mut target = open_fjall(dir.path(), PersistPolicy::Faithful);
    target.apply(1, &reg_entry(1, 9, n2, 4)).unwrap();
    target.apply(2, &kv_entry(9, b"\x01other")).unwrap();
    target.apply(3, &reg_entry(3, 7, n1, 1)).unwrap();
    target.restore(&Snapshot::decode(&bytes).unwrap()).unwrap();
    assert_eq!(target.digest(), source.digest());
    assert_eq!(target.applied_index(), 3);
    for space in [Space::Registry, Space::Kv] {
        assert_eq!(
            target.store().scan(space).unwrap(),
            source.store().scan(space).unwrap()
        );
    }
    // The restored state is durable and the digest rebuilt from disk agrees.
    target.into_store().close().unwrap();
    let reopened = open_fjall(dir.path(), PersistPolicy::Faithful);
    assert_eq!(reopened.digest(), source.digest());
    assert_eq!(reopened.applied_index(), 3);
}

#[test]
fn a_second_open_of_a_live_directory_is_locked_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let first = FjallRegistry::open(dir.path()).unwrap();
    let err = FjallRegistry::open(dir.path()).unwrap_err();
    assert_eq!(
        err,
        StoreError::Locked {
            path: dir.path().to_path_buf()
        }
    );
    assert!(err.to_string().contains(&dir.path().display().to_string()));
    drop(first);
    FjallRegistry::open(dir.path()).unwrap();
}

#[test]
fn a_file_where_the_directory_should_be_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-dir");
    std::fs::write(&path, b"x").unwrap();
    let err = FjallRegistry::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"));
}

#[test]
fn a_corrupt_directory_is_an_open_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    drop(FjallRegistry::open(dir.path()).unwrap());
    // Overwrite every regular file fjall left with garbage.
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != "lock" {
                std::fs::write(&p, b"\xffgarbage\x00\x01").unwrap();
            }
        }
    }
    let result = std::panic::catch_unwind(|| FjallRegistry::open(dir.path()));
    let err = result
        .expect("open panicked on a corrupt directory")
        .unwrap_err();
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
}

/// A memory store whose syncs fail once armed (what an EIO on fsync does).
struct SyncFails {
    inner: MemoryRegistry,
    fail: bool,
}

impl WriterRegistryStore for SyncFails {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(space, key)
    }
    fn scan(&self, space: Space) -> Result<writer_registry::registry::Pairs, StoreError> {
        self.inner.scan(space)
    }
    fn write(&mut self, batch: &writer_registry::registry::Batch) -> Result<(), StoreError> {
        self.inner.write(batch)
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        if self.fail {
            return Err(StoreError::Io {
                op: "sync",
                message: "injected".into(),
            });
        }
        Ok(())
    }
}

/// The digest of what a store holds (registry and KV), computed here.
fn digest_of(store: &impl WriterRegistryStore) -> writer_registry::StateDigest {
    let mut d = writer_registry::StateDigest::default();
    for space in [Space::Registry, Space::Kv] {
        for (k, v) in store.scan(space).unwrap() {
            d.update(space, &k, &v, true);
        }
    }
    d
}

/// A restore whose sync fails has still written the snapshot: the FSM's
/// digest describes what its store holds, as after an apply whose sync
/// failed (found by the madsim runtime: a snapshot install met an
/// injected EIO on its sync, and the digest still described the old state).
#[test]
fn a_restore_whose_sync_fails_leaves_a_digest_of_what_the_store_holds() {
    let n1 = full_node_id("n1");
    let store = SyncFails {
        inner: MemoryRegistry::new(),
        fail: false,
    };
    let mut fsm = Fsm::open(store, PersistPolicy::Atomic).unwrap();
    fsm.apply(1, &reg_entry(1, 7, n1, 1)).unwrap();
    fsm.apply(2, &kv_entry(2, b"\x01old")).unwrap();
    let snapshot = Snapshot {
        applied_index: 9,
        rows: vec![],
        kv: vec![(b"k".to_vec(), b"new".to_vec())],
    };
    let mut store = fsm.into_store();
    store.fail = true;
    let mut fsm = Fsm::open(store, PersistPolicy::Atomic).unwrap();
    assert!(fsm.restore(&snapshot).is_err());
    assert_eq!(fsm.digest(), digest_of(fsm.store()));
}
