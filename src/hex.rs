//! Hex text for the inspect tools and traces. ASCII whitespace, `_` and
//! `:` between digits are ignored so that spaced byte examples paste as-is.

use std::fmt::Write;

/// A hex string that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("invalid hex character {found:?} at character {offset}")]
    BadChar { offset: usize, found: char },
    #[error("odd number of hex digits ({digits}): the last byte is incomplete")]
    OddLength { digits: usize },
}

/// Decodes hex text into bytes.
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    let mut digits = 0;
    for (offset, c) in text.chars().enumerate() {
        if c.is_ascii_whitespace() || c == '_' || c == ':' {
            continue;
        }
        let nibble = c
            .to_digit(16)
            .ok_or(HexError::BadChar { offset, found: c })? as u8;
        digits += 1;
        match high.take() {
            None => high = Some(nibble),
            Some(h) => out.push(h << 4 | nibble),
        }
    }
    if high.is_some() {
        return Err(HexError::OddLength { digits });
    }
    Ok(out)
}

/// Lower-case hex of `bytes`, no separators.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_separators() {
        assert_eq!(decode("01 0a_FF:10").unwrap(), vec![0x01, 0x0a, 0xff, 0x10]);
        assert_eq!(encode(&[0x01, 0x0a, 0xff]), "010aff");
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(
            decode("01zz"),
            Err(HexError::BadChar {
                offset: 2,
                found: 'z'
            })
        );
        assert_eq!(decode("012"), Err(HexError::OddLength { digits: 3 }));
    }
}
