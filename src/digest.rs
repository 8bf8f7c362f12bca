//! An order-independent, incrementally maintained digest of a key-value set.
//!
//! Each (space, key, value) maps to a 128-bit element hash; the digest is
//! their wrapping sum, so adding or removing one pair is O(1) and two
//! replicas holding the same pairs agree however they got there. It is a
//! replica-comparison tool, not a cryptographic commitment.

use crate::registry::Space;

/// Digest of the logical state the replicas must agree on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateDigest {
    /// Sum of the element hashes of every registry row.
    pub registry: u128,
    /// Sum of the element hashes of every KV pair.
    pub kv: u128,
}

impl StateDigest {
    /// Adds (`sign = true`) or removes a pair. Meta is not logical state
    /// (its applied index legitimately differs between replicas).
    pub fn update(&mut self, space: Space, key: &[u8], value: &[u8], add: bool) {
        let slot = match space {
            Space::Registry => &mut self.registry,
            Space::Kv => &mut self.kv,
            Space::Meta => return,
        };
        let h = element_hash(space, key, value);
        *slot = if add {
            slot.wrapping_add(h)
        } else {
            slot.wrapping_sub(h)
        };
    }
}

impl std::fmt::Display for StateDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "registry={:032x} kv={:032x}", self.registry, self.kv)
    }
}

fn element_hash(space: Space, key: &[u8], value: &[u8]) -> u128 {
    let lane = |seed: u64| {
        let mut h = seed;
        let mut eat = |bytes: &[u8]| {
            for &b in bytes {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        eat(&[space as u8]);
        eat(&(key.len() as u64).to_le_bytes());
        eat(key);
        eat(value);
        mix64(h)
    };
    (u128::from(lane(0xcbf2_9ce4_8422_2325)) << 64) | u128::from(lane(0x8422_2325_cbf2_9ce4))
}

/// splitmix64's finaliser: spreads FNV's weak low bits over the word.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_independent_and_reversible() {
        let mut a = StateDigest::default();
        a.update(Space::Registry, b"k1", b"v1", true);
        a.update(Space::Registry, b"k2", b"v2", true);
        let mut b = StateDigest::default();
        b.update(Space::Registry, b"k2", b"v2", true);
        b.update(Space::Registry, b"k1", b"v1", true);
        assert_eq!(a, b);
        b.update(Space::Registry, b"k1", b"v1", false);
        assert_ne!(a, b);
        a.update(Space::Registry, b"k1", b"v1", false);
        assert_eq!(a, b);
        assert_ne!(a, StateDigest::default());
    }

    #[test]
    fn key_value_boundary_matters() {
        let mut a = StateDigest::default();
        a.update(Space::Kv, b"ab", b"c", true);
        let mut b = StateDigest::default();
        b.update(Space::Kv, b"a", b"bc", true);
        assert_ne!(a, b);
    }
}
