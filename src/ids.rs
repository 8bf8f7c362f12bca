//! Writer identities: the full node id and the 16-bit slot it occupies.
//!
//! The nonce layout only has room for 16 bits of node identity, so the
//! registry keys rows by the *low* 16 bits of the full id. Two distinct full
//! ids with the same low bits collide on one slot; detecting that is the
//! registry's job, not this module's.

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64-bit hash of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// The production full node id of a Raft id string: FNV-1a 64, with 0
/// replaced by 1 (0 is reserved as "no writer").
pub fn full_node_id(raft_id: &str) -> u64 {
    match fnv1a64(raft_id.as_bytes()) {
        0 => 1,
        id => id,
    }
}

/// The registry slot of a full id: its LOW 16 bits.
pub fn node16(full_node_id: u64) -> u16 {
    (full_node_id & 0xFFFF) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(full_node_id("n1"), 0x08b3_7b07_b558_d4c0);
        assert_eq!(full_node_id("n2"), 0x08b3_7e07_b558_d9d9);
        assert_eq!(full_node_id("n3"), 0x08b3_7d07_b558_d826);
        assert_eq!(node16(full_node_id("n1")), 0xd4c0);
    }

    #[test]
    fn node16_is_low_bits() {
        assert_eq!(node16(0xDEAD_BEEF_0000_1234), 0x1234);
        assert_eq!(node16(0x1234_0000_0000_0000), 0);
    }

    #[test]
    fn empty_string_hashes_to_offset_basis() {
        assert_eq!(fnv1a64(b""), FNV_OFFSET_BASIS);
    }
}
