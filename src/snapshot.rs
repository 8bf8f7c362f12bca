//! The FSM snapshot: every registry row, every KV pair and the applied
//! index, with a byte format so it can travel in a Raft snapshot.
//!
//! Format: `magic "WRS1" | applied u64 | rows | kv`, where each section is
//! `count u32 | count x (klen u32 | key | vlen u32 | value)`. Rows travel as
//! raw bytes: a snapshot reproduces state, it does not judge it.

use crate::wire::{DecodeError, Problem};

const MAGIC: &[u8; 4] = b"WRS1";

pub use crate::registry::Pairs;

/// A point-in-time copy of the FSM's logical state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub applied_index: u64,
    /// Registry rows in key order.
    pub rows: Pairs,
    /// KV pairs in key order.
    pub kv: Pairs,
}

impl Snapshot {
    pub fn encode(&self) -> Vec<u8> {
        let size = |pairs: &Pairs| {
            pairs
                .iter()
                .map(|(k, v)| 8 + k.len() + v.len())
                .sum::<usize>()
        };
        let mut out = Vec::with_capacity(20 + size(&self.rows) + size(&self.kv));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.applied_index.to_be_bytes());
        for pairs in [&self.rows, &self.kv] {
            out.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
            for (k, v) in pairs {
                for part in [k, v] {
                    out.extend_from_slice(&(part.len() as u32).to_be_bytes());
                    out.extend_from_slice(part);
                }
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut pos = 0usize;
        let take = |pos: &mut usize, n: usize, field: &'static str| -> Result<&[u8], DecodeError> {
            let available = bytes.len() - *pos;
            if available < n {
                return Err(DecodeError::Malformed {
                    offset: *pos,
                    field,
                    problem: Problem::Truncated {
                        needed: n,
                        available,
                    },
                });
            }
            let out = &bytes[*pos..*pos + n];
            *pos += n;
            Ok(out)
        };
        let u32_at = |pos: &mut usize, field| -> Result<u32, DecodeError> {
            let raw = take(pos, 4, field)?;
            Ok(u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]))
        };
        let magic = take(&mut pos, 4, "snapshot magic")?;
        if let Some(offset) = (0..MAGIC.len()).find(|&i| magic[i] != MAGIC[i]) {
            return Err(DecodeError::Malformed {
                offset,
                field: "snapshot magic",
                problem: Problem::BadValue {
                    found: magic[offset],
                },
            });
        }
        let mut applied = [0u8; 8];
        applied.copy_from_slice(take(&mut pos, 8, "snapshot applied index")?);
        let mut sections = [Pairs::new(), Pairs::new()];
        for section in &mut sections {
            let count = u32_at(&mut pos, "snapshot pair count")?;
            for _ in 0..count {
                let klen = u32_at(&mut pos, "snapshot key length")? as usize;
                let key = take(&mut pos, klen, "snapshot key")?.to_vec();
                let vlen = u32_at(&mut pos, "snapshot value length")? as usize;
                let value = take(&mut pos, vlen, "snapshot value")?.to_vec();
                section.push((key, value));
            }
        }
        if pos != bytes.len() {
            return Err(DecodeError::Malformed {
                offset: pos,
                field: "snapshot",
                problem: Problem::TrailingBytes {
                    count: bytes.len() - pos,
                },
            });
        }
        let [rows, kv] = sections;
        Ok(Snapshot {
            applied_index: u64::from_be_bytes(applied),
            rows,
            kv,
        })
    }
}
