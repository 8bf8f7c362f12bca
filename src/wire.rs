//! Byte formats of the Raft log: the entry envelope, opcode dispatch and the
//! three encryption bodies (registration, bootstrap, rotation).
//!
//! Every decoder is total: any input yields a value or a typed
//! [`DecodeError`] naming the byte offset (counted from the start of the
//! buffer handed to the outermost decoder) and the field. No decoder panics
//! and none allocates from a length field before checking that the bytes are
//! there, so a hostile entry costs at most its own size.

use std::fmt;

/// Version byte that starts every Raft entry envelope.
pub const ENVELOPE_VERSION: u8 = 0x01;
/// Version byte that starts every encryption body.
pub const BODY_VERSION: u8 = 0x01;
/// Envelope header length: version byte and the big-endian proposal id.
pub const ENVELOPE_HEADER_LEN: usize = 9;

/// Opcode of a writer registration.
pub const OP_REGISTRATION: u8 = 0x03;
/// Opcode of the bootstrap batch.
pub const OP_BOOTSTRAP: u8 = 0x04;
/// Opcode of a DEK rotation or envelope enablement.
pub const OP_ROTATION: u8 = 0x05;
/// Reserved encryption opcodes: applying one halts ("unknown encryption opcode").
pub const OP_RESERVED: [u8; 2] = [0x06, 0x07];

/// Exact length of a registration body.
pub const REGISTRATION_BODY_LEN: usize = 15;
/// Largest row count a bootstrap body may announce.
pub const BOOTSTRAP_MAX_ROWS: u32 = 16_384;
/// Length of one bootstrap row: dek u32, full id u64, epoch u16.
const BOOTSTRAP_ROW_LEN: usize = 14;

/// What is wrong with a malformed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The buffer ends before the field does.
    Truncated { needed: usize, available: usize },
    /// The whole structure has a fixed length and this is not it.
    WrongLength { expected: usize, found: usize },
    /// Bytes remain after the last field.
    TrailingBytes { count: usize },
    /// A count exceeds its cap (checked before any length arithmetic).
    TooLarge { cap: u64, found: u64 },
    /// A byte that must come from a closed set does not.
    BadValue { found: u8 },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, {available} left")
            }
            Problem::WrongLength { expected, found } => {
                write!(f, "length {found}, expected exactly {expected}")
            }
            Problem::TrailingBytes { count } => write!(f, "{count} trailing bytes"),
            Problem::TooLarge { cap, found } => write!(f, "{found} exceeds the cap of {cap}"),
            Problem::BadValue { found } => write!(f, "invalid value {found:#04x}"),
        }
    }
}

/// A decode failure. Offsets count from the start of the buffer given to the
/// outermost decoder (the whole entry for [`decode_entry`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes do not have the shape of the structure.
    #[error("malformed {field} at byte {offset}: {problem}")]
    Malformed {
        offset: usize,
        field: &'static str,
        problem: Problem,
    },
    /// A version byte other than the one this code speaks.
    #[error("unsupported {what} version {found:#04x} at byte {offset} (expected {expected:#04x})")]
    BadVersion {
        what: &'static str,
        offset: usize,
        found: u8,
        expected: u8,
    },
    /// A rotation subtag that is reserved or unknown.
    #[error("{} rotation subtag {found:#04x} at byte {offset}", if *.reserved { "reserved" } else { "unknown" })]
    BadSubtag {
        offset: usize,
        found: u8,
        reserved: bool,
    },
}

impl DecodeError {
    /// Byte offset the error points at.
    pub fn offset(&self) -> usize {
        match self {
            DecodeError::Malformed { offset, .. }
            | DecodeError::BadVersion { offset, .. }
            | DecodeError::BadSubtag { offset, .. } => *offset,
        }
    }
}

/// Bounds-checked big-endian cursor. `base` is the absolute offset of
/// `buf[0]`, so errors from nested decoders point into the whole entry.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Malformed {
                offset: self.offset(),
                field,
                problem: Problem::Truncated {
                    needed: n,
                    available: self.remaining(),
                },
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.array(field).map(u16::from_be_bytes)
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.array(field).map(u32::from_be_bytes)
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        self.array(field).map(u64::from_be_bytes)
    }

    /// A `len u32 | bytes` field; the length is checked against what is
    /// left before anything is allocated.
    fn len_prefixed(&mut self, field: &'static str) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32(field)? as usize;
        Ok(self.take(len, field)?.to_vec())
    }

    fn version(&mut self, what: &'static str, expected: u8) -> Result<(), DecodeError> {
        let offset = self.offset();
        let found = self.u8(what)?;
        if found != expected {
            return Err(DecodeError::BadVersion {
                what,
                offset,
                found,
                expected,
            });
        }
        Ok(())
    }

    fn finish(&self, field: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::Malformed {
                offset: self.offset(),
                field,
                problem: Problem::TrailingBytes { count },
            }),
        }
    }
}

/// A writer registration: "writer `full_node_id` uses `local_epoch` under `dek`".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Registration {
    pub dek: u32,
    pub full_node_id: u64,
    pub local_epoch: u16,
}

impl Registration {
    /// The 15-byte body: `01 | dek u32 | full u64 | epoch u16`.
    pub fn encode_body(&self) -> [u8; REGISTRATION_BODY_LEN] {
        let mut out = [0u8; REGISTRATION_BODY_LEN];
        out[0] = BODY_VERSION;
        out[1..5].copy_from_slice(&self.dek.to_be_bytes());
        out[5..13].copy_from_slice(&self.full_node_id.to_be_bytes());
        out[13..15].copy_from_slice(&self.local_epoch.to_be_bytes());
        out
    }

    /// The FSM payload: opcode 0x03 then the body.
    pub fn encode_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + REGISTRATION_BODY_LEN);
        out.push(OP_REGISTRATION);
        out.extend_from_slice(&self.encode_body());
        out
    }

    /// Decodes a body. Length is checked before the version byte, as the
    /// original does: a 14-byte body is malformed even if its version is wrong.
    pub fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_body_at(body, 0)
    }

    fn decode_body_at(body: &[u8], base: usize) -> Result<Self, DecodeError> {
        if body.len() != REGISTRATION_BODY_LEN {
            return Err(DecodeError::Malformed {
                offset: base,
                field: "registration body",
                problem: Problem::WrongLength {
                    expected: REGISTRATION_BODY_LEN,
                    found: body.len(),
                },
            });
        }
        let mut r = Reader::new(body, base);
        r.version("registration body", BODY_VERSION)?;
        Ok(Registration {
            dek: r.u32("dek")?,
            full_node_id: r.u64("full node id")?,
            local_epoch: r.u16("local epoch")?,
        })
    }

    fn write_row(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.dek.to_be_bytes());
        out.extend_from_slice(&self.full_node_id.to_be_bytes());
        out.extend_from_slice(&self.local_epoch.to_be_bytes());
    }

    fn read_row(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Registration {
            dek: r.u32("bootstrap row dek")?,
            full_node_id: r.u64("bootstrap row full node id")?,
            local_epoch: r.u16("bootstrap row local epoch")?,
        })
    }
}

/// The bootstrap batch: two wrapped DEKs and the founding registrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    pub storage_dek: u32,
    pub storage_wrapped: Vec<u8>,
    pub raft_dek: u32,
    pub raft_wrapped: Vec<u8>,
    pub registrations: Vec<Registration>,
}

impl Bootstrap {
    /// Encodes the body. Panics if more than [`BOOTSTRAP_MAX_ROWS`] rows or a
    /// wrapped key longer than `u32::MAX` are given: such a body could never
    /// be decoded, so producing one is a caller bug.
    pub fn encode_body(&self) -> Vec<u8> {
        assert!(self.registrations.len() <= BOOTSTRAP_MAX_ROWS as usize);
        let mut out = Vec::with_capacity(
            21 + self.storage_wrapped.len()
                + self.raft_wrapped.len()
                + BOOTSTRAP_ROW_LEN * self.registrations.len(),
        );
        out.push(BODY_VERSION);
        out.extend_from_slice(&self.storage_dek.to_be_bytes());
        push_len_prefixed(&mut out, &self.storage_wrapped);
        out.extend_from_slice(&self.raft_dek.to_be_bytes());
        push_len_prefixed(&mut out, &self.raft_wrapped);
        out.extend_from_slice(&(self.registrations.len() as u32).to_be_bytes());
        for reg in &self.registrations {
            reg.write_row(&mut out);
        }
        out
    }

    /// The FSM payload: opcode 0x04 then the body.
    pub fn encode_payload(&self) -> Vec<u8> {
        prefixed(OP_BOOTSTRAP, self.encode_body())
    }

    /// Decodes a body; the row count cap is checked before the remaining
    /// length, so a huge count is "too large", never an allocation.
    pub fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_body_at(body, 0)
    }

    fn decode_body_at(body: &[u8], base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, base);
        r.version("bootstrap body", BODY_VERSION)?;
        let storage_dek = r.u32("storage dek")?;
        let storage_wrapped = r.len_prefixed("storage wrapped key")?;
        let raft_dek = r.u32("raft dek")?;
        let raft_wrapped = r.len_prefixed("raft wrapped key")?;
        let count_offset = r.offset();
        let count = r.u32("bootstrap row count")?;
        if count > BOOTSTRAP_MAX_ROWS {
            return Err(DecodeError::Malformed {
                offset: count_offset,
                field: "bootstrap row count",
                problem: Problem::TooLarge {
                    cap: BOOTSTRAP_MAX_ROWS.into(),
                    found: count.into(),
                },
            });
        }
        let needed = count as usize * BOOTSTRAP_ROW_LEN;
        if r.remaining() < needed {
            return Err(DecodeError::Malformed {
                offset: r.offset(),
                field: "bootstrap rows",
                problem: Problem::Truncated {
                    needed,
                    available: r.remaining(),
                },
            });
        }
        let registrations = (0..count)
            .map(|_| Registration::read_row(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        r.finish("bootstrap body")?;
        Ok(Bootstrap {
            storage_dek,
            storage_wrapped,
            raft_dek,
            raft_wrapped,
            registrations,
        })
    }
}

/// What a rotation entry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationKind {
    /// 0x01: install a new DEK.
    RotateDek,
    /// 0x04: start wrapping storage values in envelopes.
    EnableStorageEnvelope,
    /// 0x05: start wrapping Raft payloads in envelopes.
    EnableRaftEnvelope,
}

impl RotationKind {
    pub fn subtag(self) -> u8 {
        match self {
            RotationKind::RotateDek => 0x01,
            RotationKind::EnableStorageEnvelope => 0x04,
            RotationKind::EnableRaftEnvelope => 0x05,
        }
    }

    fn from_subtag(found: u8, offset: usize) -> Result<Self, DecodeError> {
        match found {
            0x01 => Ok(RotationKind::RotateDek),
            0x04 => Ok(RotationKind::EnableStorageEnvelope),
            0x05 => Ok(RotationKind::EnableRaftEnvelope),
            _ => Err(DecodeError::BadSubtag {
                offset,
                found,
                reserved: matches!(found, 0x02 | 0x03),
            }),
        }
    }
}

/// Which data a DEK protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Storage,
    Raft,
}

impl Purpose {
    pub fn byte(self) -> u8 {
        match self {
            Purpose::Storage => 1,
            Purpose::Raft => 2,
        }
    }
}

/// A rotation body: the DEK change plus the proposer's own registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub kind: RotationKind,
    pub dek: u32,
    pub purpose: Purpose,
    pub wrapped: Vec<u8>,
    pub proposer: Registration,
}

impl Rotation {
    pub fn encode_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(25 + self.wrapped.len());
        out.push(BODY_VERSION);
        out.push(self.kind.subtag());
        out.extend_from_slice(&self.dek.to_be_bytes());
        out.push(self.purpose.byte());
        push_len_prefixed(&mut out, &self.wrapped);
        self.proposer.write_row(&mut out);
        out
    }

    /// The FSM payload: opcode 0x05 then the body.
    pub fn encode_payload(&self) -> Vec<u8> {
        prefixed(OP_ROTATION, self.encode_body())
    }

    pub fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_body_at(body, 0)
    }

    fn decode_body_at(body: &[u8], base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, base);
        r.version("rotation body", BODY_VERSION)?;
        let subtag_offset = r.offset();
        let kind = RotationKind::from_subtag(r.u8("rotation subtag")?, subtag_offset)?;
        let dek = r.u32("rotation dek")?;
        let purpose_offset = r.offset();
        let purpose = match r.u8("rotation purpose")? {
            1 => Purpose::Storage,
            2 => Purpose::Raft,
            found => {
                return Err(DecodeError::Malformed {
                    offset: purpose_offset,
                    field: "rotation purpose",
                    problem: Problem::BadValue { found },
                })
            }
        };
        let wrapped = r.len_prefixed("rotation wrapped key")?;
        let proposer = Registration {
            dek: r.u32("proposer dek")?,
            full_node_id: r.u64("proposer full node id")?,
            local_epoch: r.u16("proposer local epoch")?,
        };
        r.finish("rotation body")?;
        Ok(Rotation {
            kind,
            dek,
            purpose,
            wrapped,
            proposer,
        })
    }
}

/// The FSM payload of an entry, dispatched on its opcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    Registration(Registration),
    Bootstrap(Bootstrap),
    Rotation(Rotation),
    /// 0x06 or 0x07: decodes fine, halts when applied.
    Reserved {
        opcode: u8,
        body: &'a [u8],
    },
    /// Any other opcode: an ordinary KV command, opaque to this crate.
    Kv(&'a [u8]),
}

impl Command<'_> {
    /// Re-encodes the FSM payload.
    pub fn encode_payload(&self) -> Vec<u8> {
        match self {
            Command::Registration(r) => r.encode_payload(),
            Command::Bootstrap(b) => b.encode_payload(),
            Command::Rotation(r) => r.encode_payload(),
            Command::Reserved { opcode, body } => prefixed(*opcode, body.to_vec()),
            Command::Kv(payload) => payload.to_vec(),
        }
    }

    /// True for the opcodes the encryption layer owns (0x03..=0x07).
    pub fn is_encryption(&self) -> bool {
        !matches!(self, Command::Kv(_))
    }
}

/// A decoded Raft entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<'a> {
    /// Empty entry data: the no-op a new leader appends. Not an error.
    Empty,
    /// An enveloped FSM payload.
    Proposal {
        proposal_id: u64,
        command: Command<'a>,
    },
}

impl Entry<'_> {
    /// Re-encodes the entry's data.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Entry::Empty => Vec::new(),
            Entry::Proposal {
                proposal_id,
                command,
            } => encode_entry(*proposal_id, &command.encode_payload()),
        }
    }
}

/// Wraps an FSM payload in the entry envelope.
pub fn encode_entry(proposal_id: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENVELOPE_HEADER_LEN + payload.len());
    out.push(ENVELOPE_VERSION);
    out.extend_from_slice(&proposal_id.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The writer registration an entry's data carries, if it decodes as one.
pub fn registration_of(data: &[u8]) -> Option<Registration> {
    match decode_entry(data) {
        Ok(Entry::Proposal {
            command: Command::Registration(r),
            ..
        }) => Some(r),
        _ => None,
    }
}

/// Decodes a Raft entry's data. An envelope whose FSM payload is empty has
/// no opcode and is malformed (it is neither a no-op nor a KV command).
pub fn decode_entry(data: &[u8]) -> Result<Entry<'_>, DecodeError> {
    if data.is_empty() {
        return Ok(Entry::Empty);
    }
    let mut r = Reader::new(data, 0);
    r.version("entry envelope", ENVELOPE_VERSION)?;
    let proposal_id = r.u64("proposal id")?;
    let payload = &data[ENVELOPE_HEADER_LEN..];
    let command = decode_payload_at(payload, ENVELOPE_HEADER_LEN)?;
    Ok(Entry::Proposal {
        proposal_id,
        command,
    })
}

/// Decodes an FSM payload (opcode and body) on its own; offsets count from
/// the payload's first byte.
pub fn decode_payload(payload: &[u8]) -> Result<Command<'_>, DecodeError> {
    decode_payload_at(payload, 0)
}

fn decode_payload_at(payload: &[u8], base: usize) -> Result<Command<'_>, DecodeError> {
    let Some((&opcode, body)) = payload.split_first() else {
        return Err(DecodeError::Malformed {
            offset: base,
            field: "opcode",
            problem: Problem::Truncated {
                needed: 1,
                available: 0,
            },
        });
    };
    let body_base = base + 1;
    Ok(match opcode {
        OP_REGISTRATION => Command::Registration(Registration::decode_body_at(body, body_base)?),
        OP_BOOTSTRAP => Command::Bootstrap(Bootstrap::decode_body_at(body, body_base)?),
        OP_ROTATION => Command::Rotation(Rotation::decode_body_at(body, body_base)?),
        op if OP_RESERVED.contains(&op) => Command::Reserved { opcode, body },
        _ => Command::Kv(payload),
    })
}

fn push_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("wrapped key longer than u32::MAX");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn prefixed(opcode: u8, body: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + body.len());
    out.push(opcode);
    out.extend_from_slice(&body);
    out
}
