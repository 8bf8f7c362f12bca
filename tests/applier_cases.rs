//! The original's applier unit cases, by meaning, on the memory store and
//! on a store whose get or write fails.

use writer_registry::ids::{full_node_id, node16};
use writer_registry::registry::{
    Batch, Pairs, RowKey, RowValue, Space, StoreError, WriterRegistryStore,
};
use writer_registry::wire::{Bootstrap, Command, Purpose, Registration, Rotation, RotationKind};
use writer_registry::{Applied, Applier, Halt, HaltKind, MemoryRegistry};

fn reg(dek: u32, full: u64, epoch: u16) -> Registration {
    Registration {
        dek,
        full_node_id: full,
        local_epoch: epoch,
    }
}

fn row_bytes(store: &MemoryRegistry, dek: u32, full: u64) -> Option<Vec<u8>> {
    store
        .get_row(&RowKey {
            dek,
            node16: node16(full),
        })
        .unwrap()
}

fn all_rows(store: &MemoryRegistry) -> Vec<(Vec<u8>, Vec<u8>)> {
    store.scan(Space::Registry).unwrap()
}

#[test]
fn insert_writes_first_and_last() {
    let n1 = full_node_id("n1");
    let mut store = MemoryRegistry::new();
    let applied = Applier::new(&mut store).apply(&reg(7, n1, 3)).unwrap();
    let row = RowValue {
        full_node_id: n1,
        first_seen: 3,
        last_seen: 3,
    };
    assert_eq!(applied, Applied::Inserted(row));
    assert_eq!(row_bytes(&store, 7, n1).unwrap(), row.encode());
}

#[test]
fn advance_keeps_first_seen() {
    let n1 = full_node_id("n1");
    let mut store = MemoryRegistry::new();
    Applier::new(&mut store).apply(&reg(7, n1, 3)).unwrap();
    let applied = Applier::new(&mut store).apply(&reg(7, n1, 5)).unwrap();
    let row = RowValue {
        full_node_id: n1,
        first_seen: 3,
        last_seen: 5,
    };
    assert_eq!(applied, Applied::Advanced { from: 3, row });
    assert_eq!(row_bytes(&store, 7, n1).unwrap(), row.encode());
}

#[test]
fn equal_epoch_is_a_byte_identical_no_op() {
    let n1 = full_node_id("n1");
    let mut store = MemoryRegistry::new();
    Applier::new(&mut store).apply(&reg(7, n1, 3)).unwrap();
    Applier::new(&mut store).apply(&reg(7, n1, 5)).unwrap();
    let before = all_rows(&store);
    assert_eq!(
        Applier::new(&mut store).apply(&reg(7, n1, 5)).unwrap(),
        Applied::Unchanged
    );
    assert_eq!(all_rows(&store), before);
}

#[test]
fn lower_epoch_halts_and_writes_nothing() {
    let n1 = full_node_id("n1");
    let mut store = MemoryRegistry::new();
    Applier::new(&mut store).apply(&reg(7, n1, 5)).unwrap();
    let before = all_rows(&store);
    let halt = Applier::new(&mut store).apply(&reg(7, n1, 4)).unwrap_err();
    assert_eq!(
        halt,
        Halt::Rollback {
            dek: 7,
            node16: 0xd4c0,
            full_node_id: n1,
            epoch: 4,
            last_seen: 5
        }
    );
    assert_eq!(all_rows(&store), before);
    let msg = halt.to_string();
    for needle in ["dek 7", "0x08b37b07b558d4c0", "epoch 4", "last_seen 5"] {
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    }
}

#[test]
fn collision_halts_before_the_epoch_comparison_and_writes_nothing() {
    let a = 0x0000_0000_0000_1234;
    let b = 0xDEAD_BEEF_0000_1234;
    let mut store = MemoryRegistry::new();
    Applier::new(&mut store).apply(&reg(2, a, 5)).unwrap();
    let before = all_rows(&store);
    // Equal, lower and higher epochs all report the collision, never a
    // rollback or a no-op: the owner check comes first.
    for epoch in [5, 4, 6] {
        let halt = Applier::new(&mut store)
            .apply(&reg(2, b, epoch))
            .unwrap_err();
        assert_eq!(halt.kind(), HaltKind::Collision, "epoch {epoch}: {halt}");
        assert_eq!(
            halt,
            Halt::Collision {
                dek: 2,
                node16: 0x1234,
                existing: a,
                incoming: b,
                epoch,
                first_seen: 5,
                last_seen: 5
            }
        );
        assert_eq!(all_rows(&store), before);
    }
    let msg = Applier::new(&mut store)
        .apply(&reg(2, b, 1))
        .unwrap_err()
        .to_string();
    for needle in [
        "dek 2",
        "0x0000000000001234",
        "0xdeadbeef00001234",
        "epoch 1",
    ] {
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    }
}

#[test]
fn distinct_deks_are_distinct_slots() {
    let n1 = full_node_id("n1");
    let mut store = MemoryRegistry::new();
    Applier::new(&mut store).apply(&reg(1, n1, 5)).unwrap();
    // epoch 1 under dek 2 is an insert, not a rollback against dek 1's row.
    assert!(matches!(
        Applier::new(&mut store).apply(&reg(2, n1, 1)).unwrap(),
        Applied::Inserted(_)
    ));
}

#[test]
fn malformed_row_value_is_corruption_not_missing() {
    let n1 = full_node_id("n1");
    let mut store = MemoryRegistry::new();
    let key = RowKey {
        dek: 7,
        node16: node16(n1),
    };
    let mut batch = Batch::new();
    batch.put(Space::Registry, key.encode(), vec![0u8; 11]);
    store.write(&batch).unwrap();
    let halt = Applier::new(&mut store).apply(&reg(7, n1, 1)).unwrap_err();
    assert_eq!(halt.kind(), HaltKind::CorruptRow);
    assert!(halt.to_string().contains("11 bytes"));
}

/// A store whose operations fail on demand.
struct FailingStore {
    inner: MemoryRegistry,
    fail_get: bool,
    fail_write: bool,
    fail_sync: bool,
}

impl WriterRegistryStore for FailingStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if self.fail_get {
            return Err(StoreError::Io {
                op: "get",
                message: "injected".into(),
            });
        }
        self.inner.get(space, key)
    }
    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        self.inner.scan(space)
    }
    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if self.fail_write {
            return Err(StoreError::Io {
                op: "write",
                message: "injected".into(),
            });
        }
        self.inner.write(batch)
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        if self.fail_sync {
            return Err(StoreError::Io {
                op: "sync",
                message: "injected".into(),
            });
        }
        Ok(())
    }
}

#[test]
fn store_errors_propagate_and_stay_identifiable() {
    let n1 = full_node_id("n1");
    for (get, write, sync, op) in [
        (true, false, false, "get"),
        (false, true, false, "write"),
        (false, false, true, "sync"),
    ] {
        let mut store = FailingStore {
            inner: MemoryRegistry::new(),
            fail_get: get,
            fail_write: write,
            fail_sync: sync,
        };
        let halt = Applier::new(&mut store).apply(&reg(7, n1, 1)).unwrap_err();
        assert_eq!(
            halt,
            Halt::Store(StoreError::Io {
                op,
                message: "injected".into()
            })
        );
        assert_eq!(halt.kind(), HaltKind::Store);
    }
}

#[test]
fn bootstrap_and_rotation_are_kek_stubs() {
    let mut store = MemoryRegistry::new();
    let mut batch = Batch::new();
    let boot = Command::Bootstrap(Bootstrap {
        storage_dek: 1,
        storage_wrapped: vec![1],
        raft_dek: 2,
        raft_wrapped: vec![2],
        registrations: vec![reg(1, full_node_id("n1"), 0)],
    });
    let rot = Command::Rotation(Rotation {
        kind: RotationKind::RotateDek,
        dek: 3,
        purpose: Purpose::Storage,
        wrapped: vec![],
        proposer: reg(3, full_node_id("n1"), 1),
    });
    let boot_halt = Applier::new(&mut store)
        .stage(&boot, &mut batch)
        .unwrap_err();
    assert_eq!(boot_halt, Halt::KekNotConfigured { opcode: 0x04 });
    assert!(boot_halt.to_string().contains("KEK not configured"));
    assert_eq!(
        Applier::new(&mut store)
            .stage(&rot, &mut batch)
            .unwrap_err(),
        Halt::KekNotConfigured { opcode: 0x05 }
    );
    assert!(batch.is_empty());
    assert!(all_rows(&store).is_empty());
    let reserved = Command::Reserved {
        opcode: 0x06,
        body: &[],
    };
    assert_eq!(
        Applier::new(&mut store)
            .stage(&reserved, &mut batch)
            .unwrap_err(),
        Halt::UnknownOpcode { opcode: 0x06 }
    );
}
