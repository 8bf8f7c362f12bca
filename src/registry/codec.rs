//! Registry row key and value bytes (see the spec's "Registry row").

/// ASCII `!encryption|writers|`: the first 20 bytes of every row key.
pub const KEY_PREFIX: &[u8; 20] = b"!encryption|writers|";
/// Exact length of a row key.
pub const KEY_LEN: usize = 27;
/// Exact length of a row value.
pub const VALUE_LEN: usize = 12;
const KEY_SEPARATOR: u8 = b'|';

/// A row key or value of the wrong shape: corruption, never "row missing".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedRow {
    #[error("row key is {found} bytes, expected exactly {KEY_LEN}")]
    KeyLength { found: usize },
    #[error("row key byte {offset} is {found:#04x}, outside the `!encryption|writers|` prefix")]
    KeyPrefix { offset: usize, found: u8 },
    #[error("row key byte 24 is {found:#04x}, expected the separator 0x7c")]
    KeySeparator { found: u8 },
    #[error("row value is {found} bytes, expected exactly {VALUE_LEN}")]
    ValueLength { found: usize },
}

/// A registry slot: (dek, node16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    pub dek: u32,
    pub node16: u16,
}

impl RowKey {
    pub fn encode(&self) -> [u8; KEY_LEN] {
        let mut out = [0u8; KEY_LEN];
        out[..20].copy_from_slice(KEY_PREFIX);
        out[20..24].copy_from_slice(&self.dek.to_be_bytes());
        out[24] = KEY_SEPARATOR;
        out[25..27].copy_from_slice(&self.node16.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, MalformedRow> {
        let raw: &[u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| MalformedRow::KeyLength { found: bytes.len() })?;
        if let Some(offset) = (0..KEY_PREFIX.len()).find(|&i| raw[i] != KEY_PREFIX[i]) {
            return Err(MalformedRow::KeyPrefix {
                offset,
                found: raw[offset],
            });
        }
        if raw[24] != KEY_SEPARATOR {
            return Err(MalformedRow::KeySeparator { found: raw[24] });
        }
        Ok(RowKey {
            dek: u32::from_be_bytes([raw[20], raw[21], raw[22], raw[23]]),
            node16: u16::from_be_bytes([raw[25], raw[26]]),
        })
    }
}

/// Who owns a slot and which epochs it has used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowValue {
    pub full_node_id: u64,
    pub first_seen: u16,
    pub last_seen: u16,
}

impl RowValue {
    pub fn encode(&self) -> [u8; VALUE_LEN] {
        let mut out = [0u8; VALUE_LEN];
        out[..8].copy_from_slice(&self.full_node_id.to_be_bytes());
        out[8..10].copy_from_slice(&self.first_seen.to_be_bytes());
        out[10..12].copy_from_slice(&self.last_seen.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, MalformedRow> {
        let raw: &[u8; VALUE_LEN] = bytes
            .try_into()
            .map_err(|_| MalformedRow::ValueLength { found: bytes.len() })?;
        let mut full = [0u8; 8];
        full.copy_from_slice(&raw[..8]);
        Ok(RowValue {
            full_node_id: u64::from_be_bytes(full),
            first_seen: u16::from_be_bytes([raw[8], raw[9]]),
            last_seen: u16::from_be_bytes([raw[10], raw[11]]),
        })
    }
}
