//! Conformance: an independent model of one node's state machine.
//!
//! Written from the spec, not from the library: its own entry decoding,
//! its own row layout, its own rule order. It is reset from the node's
//! actual durable state at every start (and after a snapshot install) and
//! then fed every apply and guard decision the node makes; node and model
//! must agree on each outcome and on the registry bytes.

use std::collections::BTreeMap;

/// What the model expects an entry to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Empty,
    Kv,
    Insert,
    Advance,
    NoOp,
    /// A halt of the named kind (library `HaltKind::name`s).
    Halt(&'static str),
    /// Bootstrap or rotation: the stub halts, or the body is malformed.
    KekOrMalformed,
}

impl Expected {
    pub fn name(self) -> &'static str {
        match self {
            Expected::Empty => "empty",
            Expected::Kv => "kv",
            Expected::Insert => "insert",
            Expected::Advance => "advance",
            Expected::NoOp => "no-op",
            Expected::Halt(k) => k,
            Expected::KekOrMalformed => "kek-not-configured|malformed",
        }
    }

    /// Does the node's outcome (named the same way) match?
    pub fn admits(self, actual: &str) -> bool {
        match self {
            Expected::KekOrMalformed => actual == "kek-not-configured" || actual == "malformed",
            other => other.name() == actual,
        }
    }
}

enum Cmd {
    Empty,
    Kv,
    Reg { dek: u32, full: u64, epoch: u16 },
    Malformed,
    KekOrMalformed,
    Unknown,
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, &b| acc << 8 | u64::from(b))
}

fn decode(data: &[u8]) -> Cmd {
    if data.is_empty() {
        return Cmd::Empty;
    }
    if data[0] != 1 || data.len() < 10 {
        return Cmd::Malformed;
    }
    let body = &data[10..];
    match data[9] {
        3 if body.len() == 15 && body[0] == 1 => Cmd::Reg {
            dek: be(&body[1..5]) as u32,
            full: be(&body[5..13]),
            epoch: be(&body[13..15]) as u16,
        },
        3 => Cmd::Malformed,
        4 | 5 => Cmd::KekOrMalformed,
        6 | 7 => Cmd::Unknown,
        _ => Cmd::Kv,
    }
}

fn key(dek: u32, slot: u16) -> Vec<u8> {
    let mut k = b"!encryption|writers|".to_vec();
    k.extend(dek.to_be_bytes());
    k.push(b'|');
    k.extend(slot.to_be_bytes());
    k
}

fn value(full: u64, first: u16, last: u16) -> Vec<u8> {
    let mut v = full.to_be_bytes().to_vec();
    v.extend(first.to_be_bytes());
    v.extend(last.to_be_bytes());
    v
}

/// A stored row as the model reads it: (full, first, last), or corrupt.
fn parse(v: &[u8]) -> Option<(u64, u16, u16)> {
    (v.len() == 12).then(|| (be(&v[..8]), be(&v[8..10]) as u16, be(&v[10..12]) as u16))
}

/// The model of one node.
#[derive(Debug, Default, Clone)]
pub struct NodeModel {
    rows: BTreeMap<Vec<u8>, Vec<u8>>,
    applied: u64,
}

impl NodeModel {
    /// Resets to the node's actual durable state.
    pub fn reset(&mut self, rows: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>, applied: u64) {
        self.rows = rows.into_iter().collect();
        self.applied = applied;
    }

    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// The row bytes the model holds for a registration's slot.
    pub fn row_for(&self, data: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
        match decode(data) {
            Cmd::Reg { dek, full, .. } => {
                let k = key(dek, (full & 0xFFFF) as u16);
                let v = self.rows.get(&k).cloned();
                Some((k, v))
            }
            _ => None,
        }
    }

    /// Applies entry `index` and says what should have happened. A halt
    /// leaves the model where it was.
    pub fn apply(&mut self, index: u64, data: &[u8]) -> Expected {
        if index != self.applied + 1 {
            return Expected::Halt("out-of-order");
        }
        let expected = match decode(data) {
            Cmd::Empty => Expected::Empty,
            Cmd::Kv => Expected::Kv,
            Cmd::Malformed => Expected::Halt("malformed"),
            Cmd::KekOrMalformed => Expected::KekOrMalformed,
            Cmd::Unknown => Expected::Halt("unknown-opcode"),
            Cmd::Reg { dek, full, epoch } => {
                let k = key(dek, (full & 0xFFFF) as u16);
                match self.rows.get(&k).map(|v| parse(v)) {
                    None => {
                        self.rows.insert(k, value(full, epoch, epoch));
                        Expected::Insert
                    }
                    Some(None) => Expected::Halt("corrupt-row"),
                    Some(Some((owner, _, _))) if owner != full => Expected::Halt("collision"),
                    Some(Some((_, _, last))) if epoch == last => Expected::NoOp,
                    Some(Some((_, _, last))) if epoch < last => Expected::Halt("rollback"),
                    Some(Some((owner, first, _))) => {
                        self.rows.insert(k, value(owner, first, epoch));
                        Expected::Advance
                    }
                }
            }
        };
        if !matches!(expected, Expected::Halt(_) | Expected::KekOrMalformed) {
            self.applied = index;
        }
        expected
    }

    /// The startup guard's expected decision: `None` to start, or the
    /// refusal's name. `strict` is the after-replay check.
    pub fn guard(&self, own: u64, deks: &[u32], epoch: u16, strict: bool) -> Option<&'static str> {
        if epoch == 0xFFFF && !strict {
            return Some("epochs-exhausted");
        }
        for &dek in deks {
            let Some(v) = self.rows.get(&key(dek, (own & 0xFFFF) as u16)) else {
                continue;
            };
            let Some((owner, _, last)) = parse(v) else {
                return Some("corrupt-row");
            };
            if owner != own {
                return Some("foreign-owner");
            }
            if last > epoch || (strict && last == epoch) {
                return Some("epoch-not-ahead");
            }
        }
        None
    }
}
