//! How schedule files spell a node field of an event: `"n1"`, as the
//! trace, the report page and the CLI name nodes (`#[serde(with = ...)]`
//! on each kind's node fields).

/// A node field of a schedule event as files spell it: `"n1"`, as the
/// trace, the report page and the CLI name nodes. Files written before
/// names (0-based integers, `node = 0` for n1) still read the same.
pub mod one {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Node `i` (0-based) as its name.
    pub fn serialize<S: Serializer>(node: &u8, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("n{}", u16::from(*node) + 1))
    }

    /// `"nK"` (K from 1) or a 0-based integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
        let spelled = Spelled::deserialize(d)?;
        spelled.index().map_err(serde::de::Error::custom)
    }

    /// A node field as a file spells it, before it is checked.
    #[derive(Deserialize)]
    #[serde(untagged)]
    pub(crate) enum Spelled {
        Index(i64),
        Name(String),
    }

    impl Spelled {
        pub(crate) fn index(&self) -> Result<u8, String> {
            match self {
                Spelled::Index(i) => u8::try_from(*i)
                    .map_err(|_| format!("expected a node name n1 to n256, found {i}")),
                Spelled::Name(name) => name
                    .strip_prefix('n')
                    // Digits only, no leading zero: `n01` and `n+1` are
                    // typos, not n1.
                    .filter(|k| k.bytes().all(|b| b.is_ascii_digit()) && !k.starts_with('0'))
                    .and_then(|k| k.parse::<u16>().ok())
                    .and_then(|k| u8::try_from(k.checked_sub(1)?).ok())
                    .ok_or_else(|| format!("expected a node name n1 to n256, found {name:?}")),
            }
        }
    }
}

/// A list of node fields (a partition's side), spelled as [`one`].
pub mod list {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::one::Spelled;

    /// Each node as its name.
    pub fn serialize<S: Serializer>(nodes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(nodes.len()))?;
        for node in nodes {
            seq.serialize_element(&format!("n{}", u16::from(*node) + 1))?;
        }
        seq.end()
    }

    /// Names or 0-based integers.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Vec::<Spelled>::deserialize(d)?
            .iter()
            .map(|n| n.index().map_err(serde::de::Error::custom))
            .collect()
    }
}
