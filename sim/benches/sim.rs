//! Criterion view of `regsim bench`: one seed of the shipped default
//! scenario per iteration, with each registry, oracles on and off, and on
//! the turmoil runtime.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use writer_registry_sim::run::{run_seed, RunOptions, Runtime};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::store::RegistryKind;

fn default_scenario(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/default.toml");
    let (sc, _) = Scenario::load(&path).expect("shipped default scenario");
    let mut group = c.benchmark_group("default-seed");
    group.sample_size(20);
    for (name, runtime, registry, oracles) in [
        ("memory", Runtime::Native, RegistryKind::Memory, true),
        ("fjall", Runtime::Native, RegistryKind::Fjall, true),
        (
            "memory-no-oracles",
            Runtime::Native,
            RegistryKind::Memory,
            false,
        ),
        ("turmoil", Runtime::Turmoil, RegistryKind::Memory, true),
    ] {
        let mut opts = RunOptions::for_scenario(&sc);
        opts.runtime = runtime;
        opts.registry = registry;
        opts.oracles = oracles;
        let mut seed = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                seed += 1;
                run_seed(&sc, seed % 64, &opts).expect("the shipped default runs")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, default_scenario);
criterion_main!(benches);
