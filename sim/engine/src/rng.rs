//! Seeded randomness: one ChaCha8 stream family per subsystem.
//!
//! Decisions made while the run executes (a message's fate, a sync's
//! latency, a tick's jitter) are keyed by (seed, subsystem, key, sequence):
//! the key selects a ChaCha stream (`set_stream`) and the sequence number a
//! fixed-size window in it (`set_word_pos`), so no decision's value depends
//! on how many other decisions were drawn before it. Removing an event from
//! a schedule therefore leaves every unrelated draw unchanged.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The independent sources of randomness of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subsystem {
    /// Message fates and delays.
    Network = 1,
    /// Fault injection.
    Faults = 2,
    /// Client commands.
    Workload = 3,
    /// Disk latency and what a power loss keeps.
    Storage = 4,
    /// Tick jitter and election timeouts.
    Timing = 5,
}

/// 32-bit words each keyed decision consumes (four u64 values).
const WORDS_PER_DRAW: u128 = 8;

/// The stream factory of one seed.
#[derive(Debug, Clone, Copy)]
pub struct Streams {
    seed: u64,
}

impl Streams {
    /// The streams of run seed `seed`.
    pub fn new(seed: u64) -> Self {
        Streams { seed }
    }

    fn base(&self, sub: Subsystem) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8] = sub as u8;
        key[9..16].copy_from_slice(b"regsim\x01");
        ChaCha8Rng::from_seed(key)
    }

    /// A sequential generator, for expanding the seed into a schedule.
    pub fn sequential(&self, sub: Subsystem) -> ChaCha8Rng {
        self.base(sub)
    }

    /// The keyed stream `key` of a subsystem (for example a link).
    pub fn keyed(&self, sub: Subsystem, key: u64) -> KeyedRng {
        let mut rng = self.base(sub);
        rng.set_stream(key.wrapping_add(1));
        KeyedRng { rng, next: 0 }
    }

    /// `count` keyed streams of a subsystem, keys `first..first + count`
    /// (one per node, or per link): stream `i` is `keyed(sub, first + i)`.
    pub fn family(&self, sub: Subsystem, first: u64, count: usize) -> Vec<KeyedRng> {
        (0..count as u64)
            .map(|i| self.keyed(sub, first + i))
            .collect()
    }
}

/// A stream whose `seq`-th draw is fixed whatever was drawn before.
#[derive(Debug, Clone)]
pub struct KeyedRng {
    rng: ChaCha8Rng,
    next: u64,
}

impl KeyedRng {
    /// The `seq`-th draw of this stream.
    #[inline]
    pub fn draw(&mut self, seq: u64) -> Draw {
        if seq != self.next {
            self.rng.set_word_pos(u128::from(seq) * WORDS_PER_DRAW);
        }
        self.next = seq + 1;
        Draw([
            self.rng.next_u64(),
            self.rng.next_u64(),
            self.rng.next_u64(),
            self.rng.next_u64(),
        ])
    }
}

/// Four independent 64-bit values for one decision.
#[derive(Debug, Clone, Copy)]
pub struct Draw(pub [u64; 4]);

impl Draw {
    /// Value `i` as a float in [0, 1).
    #[inline]
    pub fn unit(&self, i: usize) -> f64 {
        (self.0[i] >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Value `i` uniformly in `lo..=hi`.
    #[inline]
    pub fn range(&self, i: usize, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.0[i] % (hi - lo + 1)
    }
}

/// Uniform in `lo..=hi` from a sequential generator.
pub fn between(rng: &mut ChaCha8Rng, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    lo + rng.next_u64() % (hi - lo + 1)
}

/// True with probability `p`.
pub fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_draws_do_not_depend_on_earlier_draws() {
        let s = Streams::new(7);
        let mut a = s.keyed(Subsystem::Network, 3);
        let all: Vec<_> = (0..5).map(|i| a.draw(i).0).collect();
        let mut b = s.keyed(Subsystem::Network, 3);
        assert_eq!(b.draw(4).0, all[4]);
        assert_eq!(b.draw(2).0, all[2]);
        let mut c = s.keyed(Subsystem::Network, 4);
        assert_ne!(c.draw(0).0, all[0]);
        let mut d = s.keyed(Subsystem::Timing, 3);
        assert_ne!(d.draw(0).0, all[0]);
        let mut e = Streams::new(8).keyed(Subsystem::Network, 3);
        assert_ne!(e.draw(0).0, all[0]);
    }
}
