//! Registrations applied per second through the applier, on each store.
//! Every apply is an insert or an advance, so every one writes and syncs.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use writer_registry::ids::full_node_id;
use writer_registry::registry::WriterRegistryStore;
use writer_registry::wire::Registration;
use writer_registry::{Applier, FjallRegistry, MemoryRegistry};

const EPOCHS_PER_DEK: u64 = 60_000;

fn nth(i: u64, full: u64) -> Registration {
    Registration {
        dek: (i / EPOCHS_PER_DEK) as u32,
        full_node_id: full,
        local_epoch: (i % EPOCHS_PER_DEK) as u16 + 1,
    }
}

fn bench_store<S: WriterRegistryStore>(c: &mut Criterion, name: &str, mut store: S) {
    let full = full_node_id("n1");
    let mut group = c.benchmark_group("applier");
    group.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    group.bench_function(name, |b| {
        b.iter(|| {
            Applier::new(&mut store)
                .apply(&nth(i, full))
                .expect("insert or advance");
            i += 1;
        })
    });
    group.finish();
}

fn applier(c: &mut Criterion) {
    bench_store(c, "memory", MemoryRegistry::new());

    let disk = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir under target/");
    bench_store(
        c,
        "fjall-disk",
        FjallRegistry::open(disk.path()).expect("open fjall"),
    );

    if Path::new("/dev/shm").is_dir() {
        let shm = tempfile::tempdir_in("/dev/shm").expect("temp dir in /dev/shm");
        bench_store(
            c,
            "fjall-shm",
            FjallRegistry::open(shm.path()).expect("open fjall"),
        );
    }
}

criterion_group!(benches, applier);
criterion_main!(benches);
