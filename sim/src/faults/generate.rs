//! A seed's events: the workload from its own stream, then every fault
//! generator from one faults stream in a fixed order (the order is part
//! of what a seed means: a generator added later draws after every older
//! one, so old seeds keep their schedules).

use rand_chacha::ChaCha8Rng;

use super::draw::Generator;
use super::{
    between_deks_crash, collision, corrupt_row, crash, epoch_preset, epoch_rollback, exotic,
    first_registrations, kv, malformed, partition, pause, power_loss, ready_crash, registry_crash,
    snapshot, store_error, Action,
};
use crate::rng::{Streams, Subsystem};
use crate::scenario::Scenario;

/// A fault generator: draws its events from the faults stream.
pub(crate) type Generate = fn(&mut Generator<'_>, &mut ChaCha8Rng);

/// Every fault generator, in the order they draw.
pub(crate) const GENERATORS: &[Generate] = &[
    crash::crashes,
    power_loss::generate,
    pause::generate,
    crash::storms,
    ready_crash::generate,
    between_deks_crash::generate,
    store_error::generate,
    registry_crash::generate,
    epoch_rollback::generate,
    corrupt_row::generate,
    epoch_preset::generate,
    collision::generate,
    malformed::generate,
    exotic::generate,
    partition::partitions,
    partition::one_ways,
    snapshot::generate,
    first_registrations::generate,
];

/// The events a seed draws under a scenario (already the seed's own, for
/// a swarm), before the end of the fault phase is added: each at its
/// virtual time in microseconds, in generation order.
pub(crate) fn events(sc: &Scenario, streams: &Streams) -> Vec<(u64, Action)> {
    let mut g = Generator::new(sc);
    kv::generate(&mut g, &mut streams.sequential(Subsystem::Workload));
    let mut r = streams.sequential(Subsystem::Faults);
    for generate in GENERATORS {
        generate(&mut g, &mut r);
    }
    let span = g.span;
    let mut events = g.into_events();
    // Storms can run past the fault phase: only the events that bring
    // nodes back may land after it.
    events.retain(|(at, action)| *at < span || action.restores());
    events
}
