//! `regsim bench`: speed of the shipped scenarios, single-threaded (per
//! core), with the memory and the fjall registry, oracles on and off, and
//! (with `--runtime turmoil`) the same seeds on the turmoil runtime.

use std::time::{Duration, Instant};

use writer_registry_sim::error::HarnessError;
use writer_registry_sim::run::{run_seed, RunOptions, Runtime};
use writer_registry_sim::scenario::Scenario;
use writer_registry_sim::store::RegistryKind;

/// One configuration's measurement.
#[derive(Debug, Clone)]
pub struct Measure {
    pub label: &'static str,
    pub seeds: u64,
    pub events: u64,
    pub virtual_us: u64,
    pub wall: Duration,
}

impl Measure {
    pub fn seeds_per_sec(&self) -> f64 {
        self.seeds as f64 / self.wall.as_secs_f64()
    }
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.wall.as_secs_f64()
    }
    /// Simulated seconds per wall second.
    pub fn speedup(&self) -> f64 {
        self.virtual_us as f64 / 1e6 / self.wall.as_secs_f64()
    }
}

/// Runs `seeds` seeds of `sc` one after another under one configuration.
pub fn measure(
    sc: &Scenario,
    label: &'static str,
    runtime: Runtime,
    registry: RegistryKind,
    oracles: bool,
    seeds: u64,
) -> Result<Measure, HarnessError> {
    let mut opts = RunOptions::for_scenario(sc);
    opts.runtime = runtime;
    opts.registry = registry;
    opts.oracles = oracles;
    let start = Instant::now();
    let (mut events, mut virtual_us) = (0, 0);
    for seed in 0..seeds {
        let r = run_seed(sc, seed, &opts)?;
        events += r.stats.events;
        virtual_us += r.stats.virtual_us;
    }
    Ok(Measure {
        label,
        seeds,
        events,
        virtual_us,
        wall: start.elapsed(),
    })
}

/// The full report: three configurations and the two ratios.
pub struct Report {
    pub memory: Measure,
    pub fjall: Measure,
    pub memory_no_oracles: Measure,
    /// The same seeds on the turmoil runtime (oracles on), when asked for.
    pub turmoil: Option<Measure>,
}

impl Report {
    pub fn run(sc: &Scenario, seeds: u64, turmoil: bool) -> Result<Report, HarnessError> {
        let native = |label, registry, oracles| {
            measure(sc, label, Runtime::Native, registry, oracles, seeds)
        };
        // Warm the allocator and page cache so the first measured
        // configuration is not charged for them.
        measure(
            sc,
            "warm-up",
            Runtime::Native,
            RegistryKind::Fjall,
            true,
            2.min(seeds),
        )?;
        Ok(Report {
            memory: native("memory, oracles on", RegistryKind::Memory, true)?,
            fjall: native("fjall, oracles on", RegistryKind::Fjall, true)?,
            memory_no_oracles: native("memory, oracles off", RegistryKind::Memory, false)?,
            turmoil: if turmoil {
                Some(measure(
                    sc,
                    "turmoil, oracles on",
                    Runtime::Turmoil,
                    RegistryKind::Memory,
                    true,
                    seeds,
                )?)
            } else {
                None
            },
        })
    }

    pub fn fjall_over_memory(&self) -> f64 {
        self.fjall.wall.as_secs_f64() / self.memory.wall.as_secs_f64()
    }

    pub fn oracles_on_over_off(&self) -> f64 {
        self.memory.wall.as_secs_f64() / self.memory_no_oracles.wall.as_secs_f64()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<22} {:>8} {:>10} {:>12} {:>14}",
            "configuration", "seeds/s", "events/s", "sim s/wall s", "wall"
        )?;
        for m in [&self.memory, &self.fjall, &self.memory_no_oracles]
            .into_iter()
            .chain(&self.turmoil)
        {
            writeln!(
                f,
                "{:<22} {:>8.1} {:>10.0} {:>12.0} {:>13.2}s",
                m.label,
                m.seeds_per_sec(),
                m.events_per_sec(),
                m.speedup(),
                m.wall.as_secs_f64()
            )?;
        }
        let check = |ok: bool| if ok { "ok" } else { "MISSED" };
        let (fm, oo) = (self.fjall_over_memory(), self.oracles_on_over_off());
        writeln!(
            f,
            "memory events/s per core: {:.0} (target >= 500000: {})",
            self.memory.events_per_sec(),
            check(self.memory.events_per_sec() >= 500_000.0)
        )?;
        writeln!(
            f,
            "fjall / memory time:      {fm:.2} (target <= 1.5: {})",
            check(fm <= 1.5)
        )?;
        writeln!(
            f,
            "oracles on / off time:    {oo:.2} (target <= 1.5: {})",
            check(oo <= 1.5)
        )?;
        write!(
            f,
            "fjall sim s / wall s:     {:.0} (target >= 1000: {})",
            self.fjall.speedup(),
            check(self.fjall.speedup() >= 1000.0)
        )?;
        if let Some(t) = &self.turmoil {
            // Seeds/s ratios on the same seeds: a figure, not a gate.
            let over = |m: &Measure| m.seeds_per_sec() / t.seeds_per_sec();
            write!(
                f,
                "\nnative / turmoil seeds/s: memory {:.2}, fjall {:.2} (the issue's figure: >= 10)",
                over(&self.memory),
                over(&self.fjall)
            )?;
        }
        Ok(())
    }
}
