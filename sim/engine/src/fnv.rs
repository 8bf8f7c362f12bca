//! 64-bit FNV-1a, the harness's one copy: the trace hash, the state
//! digests, the hashes by which the checkers recognise an entry's or a
//! snapshot's bytes, a scenario file's content hash and turmoil's record
//! checksums all use it.
//!
//! It is deliberately not a system's own copy (the writer registry's
//! `fnv1a64` derives the node ids it uses): what the harness checks must
//! not rest on the code it checks. Both implement the same published
//! function, so every value is bit-identical.

/// The FNV-1a 64-bit offset basis: the hash of no bytes.
pub const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

const PRIME: u64 = 0x0000_0100_0000_01b3;

/// An FNV-1a 64 hash fed piece by piece; [`Fnv::value`] is the hash of
/// everything fed so far, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}

impl Fnv {
    /// The hash of nothing yet.
    pub const fn new() -> Self {
        Fnv(OFFSET)
    }

    #[inline]
    /// Feeds `bytes`.
    pub fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(PRIME);
        }
    }

    /// Feeds `v` as its 8 little-endian bytes.
    #[inline]
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    /// The hash of everything fed so far.
    #[inline]
    pub fn value(self) -> u64 {
        self.0
    }
}

/// The FNV-1a 64 hash of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = Fnv::new();
    h.bytes(bytes);
    h.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv, fnv64a).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        // The spec's ID-1 example: full_node_id("n1").
        assert_eq!(fnv1a64(b"n1"), 0x08b3_7b07_b558_d4c0);
    }

    #[test]
    fn pieces_hash_as_their_concatenation() {
        let mut h = Fnv::new();
        h.bytes(b"foo");
        h.bytes(b"");
        h.bytes(b"bar");
        assert_eq!(h.value(), fnv1a64(b"foobar"));
        let mut h = Fnv::default();
        h.u64(0x0102_0304_0506_0708);
        assert_eq!(h.value(), fnv1a64(&[8, 7, 6, 5, 4, 3, 2, 1]));
    }
}
