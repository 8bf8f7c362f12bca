//! What a generator draws with: the scenario, the cluster and the fault
//! phase, and the draws every kind makes alike (a time, a node, a down
//! time, a dek).

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use super::Action;
use crate::rng::between;
use crate::scenario::Scenario;

/// What a generator draws with and pushes into.
pub(crate) struct Generator<'a> {
    pub sc: &'a Scenario,
    /// The cluster's size.
    pub n: u8,
    /// The fault phase's length, in microseconds.
    pub span: u64,
    events: Vec<(u64, Action)>,
}

impl<'a> Generator<'a> {
    /// A generator for a scenario (already a seed's own, for a swarm).
    pub(crate) fn new(sc: &'a Scenario) -> Self {
        Generator {
            sc,
            n: sc.nodes,
            span: ms(sc.duration_ms).max(1),
            events: Vec::new(),
        }
    }

    /// The events pushed, in push order.
    pub(crate) fn into_events(self) -> Vec<(u64, Action)> {
        self.events
    }

    pub(crate) fn push(&mut self, at_us: u64, action: impl Into<Action>) {
        self.events.push((at_us, action.into()));
    }

    /// A time within the fault phase.
    pub(crate) fn at(&self, r: &mut ChaCha8Rng) -> u64 {
        r.next_u64() % self.span
    }

    /// A node.
    pub(crate) fn node(&self, r: &mut ChaCha8Rng) -> u8 {
        node(r, self.n)
    }

    /// How long a crashed node stays down.
    pub(crate) fn down(&self, r: &mut ChaCha8Rng) -> u64 {
        let f = &self.sc.faults;
        ms(between(r, f.down_ms[0], f.down_ms[1]))
    }

    /// One of the scenario's deks.
    pub(crate) fn dek(&self, r: &mut ChaCha8Rng) -> u32 {
        self.sc.deks[(r.next_u64() % self.sc.deks.len() as u64) as usize]
    }
}

/// One of `n` nodes.
pub(crate) fn node(r: &mut ChaCha8Rng, n: u8) -> u8 {
    (r.next_u64() % u64::from(n)) as u8
}

/// Milliseconds in microseconds.
pub(crate) fn ms(v: u64) -> u64 {
    v * 1_000
}
