//! Human-readable decoding of the bytes a failing trace shows: Raft
//! entries, registry rows, node ids. Each function returns the text to
//! print or a one-line error naming the byte offset or field.

use std::fmt::Write;

use writer_registry::hex;
use writer_registry::ids::{full_node_id, node16};
use writer_registry::registry::{RowKey, RowValue};
use writer_registry::wire::{self, Bootstrap, Command, Entry, Registration, Rotation};

/// A bad argument: the text is the whole one-line message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InspectError(pub String);

fn parse_hex(what: &str, text: &str) -> Result<Vec<u8>, InspectError> {
    hex::decode(text).map_err(|e| InspectError(format!("{what}: {e}")))
}

fn full_id(full: u64) -> String {
    format!("{full:#018x} (node16 {:#06x})", node16(full))
}

fn registration_lines(out: &mut String, indent: &str, r: &Registration) {
    let _ = writeln!(out, "{indent}dek: {} ({:#010x})", r.dek, r.dek);
    let _ = writeln!(out, "{indent}full node id: {}", full_id(r.full_node_id));
    let _ = writeln!(out, "{indent}local epoch: {}", r.local_epoch);
}

/// Decodes a Raft entry's data given as hex.
pub fn entry(text: &str) -> Result<String, InspectError> {
    let bytes = parse_hex("entry", text)?;
    let decoded = wire::decode_entry(&bytes).map_err(|e| InspectError(format!("entry: {e}")))?;
    let mut out = String::new();
    let Entry::Proposal {
        proposal_id,
        command,
    } = decoded
    else {
        out.push_str("empty entry (leader no-op)\n");
        return Ok(out);
    };
    let _ = writeln!(
        out,
        "envelope: version {:#04x}, proposal id {proposal_id}",
        wire::ENVELOPE_VERSION
    );
    match command {
        Command::Registration(r) => {
            let _ = writeln!(
                out,
                "opcode: 0x03 registration (body version {:#04x})",
                wire::BODY_VERSION
            );
            registration_lines(&mut out, "  ", &r);
        }
        Command::Bootstrap(b) => bootstrap_lines(&mut out, &b),
        Command::Rotation(r) => rotation_lines(&mut out, &r),
        Command::Reserved { opcode, body } => {
            let _ = writeln!(
                out,
                "opcode: {opcode:#04x} reserved (applying it halts: unknown encryption opcode)"
            );
            let _ = writeln!(out, "  body: {} bytes {}", body.len(), hex::encode(body));
        }
        Command::Kv(payload) => {
            let _ = writeln!(
                out,
                "opcode: {:#04x} ordinary KV command (opaque)",
                payload[0]
            );
            let _ = writeln!(
                out,
                "  payload: {} bytes {}",
                payload.len(),
                hex::encode(payload)
            );
        }
    }
    Ok(out)
}

fn bootstrap_lines(out: &mut String, b: &Bootstrap) {
    let _ = writeln!(
        out,
        "opcode: 0x04 bootstrap (body version {:#04x})",
        wire::BODY_VERSION
    );
    for (name, dek, wrapped) in [
        ("storage", b.storage_dek, &b.storage_wrapped),
        ("raft", b.raft_dek, &b.raft_wrapped),
    ] {
        let (len, bytes) = (wrapped.len(), hex::encode(wrapped));
        let _ = writeln!(out, "  {name} dek: {dek} wrapped {len} bytes {bytes}");
    }
    let _ = writeln!(out, "  registrations: {}", b.registrations.len());
    for (i, r) in b.registrations.iter().enumerate() {
        let _ = writeln!(out, "  [{i}]");
        registration_lines(out, "    ", r);
    }
}

fn rotation_lines(out: &mut String, r: &Rotation) {
    let _ = writeln!(
        out,
        "opcode: 0x05 rotation (body version {:#04x})",
        wire::BODY_VERSION
    );
    let _ = writeln!(out, "  subtag: {:#04x} {:?}", r.kind.subtag(), r.kind);
    let _ = writeln!(out, "  dek: {} purpose: {:?}", r.dek, r.purpose);
    let _ = writeln!(
        out,
        "  wrapped: {} bytes {}",
        r.wrapped.len(),
        hex::encode(&r.wrapped)
    );
    let _ = writeln!(out, "  proposer:");
    registration_lines(out, "    ", &r.proposer);
}

/// Decodes a registry row given as key hex and value hex.
pub fn row(key_text: &str, value_text: &str) -> Result<String, InspectError> {
    let key_bytes = parse_hex("row key", key_text)?;
    let value_bytes = parse_hex("row value", value_text)?;
    let key = RowKey::decode(&key_bytes).map_err(|e| InspectError(format!("row key: {e}")))?;
    let value =
        RowValue::decode(&value_bytes).map_err(|e| InspectError(format!("row value: {e}")))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "key: dek {} ({:#010x}) node16 {:#06x}",
        key.dek, key.dek, key.node16
    );
    let _ = writeln!(out, "owner: {}", full_id(value.full_node_id));
    let _ = writeln!(
        out,
        "first_seen: {} last_seen: {}",
        value.first_seen, value.last_seen
    );
    if node16(value.full_node_id) != key.node16 {
        let _ = writeln!(
            out,
            "warning: owner's node16 {:#06x} differs from the key's {:#06x} (invariant 1 broken)",
            node16(value.full_node_id),
            key.node16
        );
    }
    if value.first_seen > value.last_seen {
        let _ = writeln!(out, "warning: first_seen > last_seen (invariant 3 broken)");
    }
    Ok(out)
}

/// The production full id and node16 of a Raft id string.
pub fn node_id(raft_id: &str) -> String {
    format!(
        "raft id {raft_id:?}: full node id {}\n",
        full_id(full_node_id(raft_id))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_registration_entry() {
        let out = entry("01 000000000000002a 03 01 00000007 08b37b07b558d4c0 0005").unwrap();
        assert!(out.contains("proposal id 42"), "{out}");
        assert!(out.contains("0x08b37b07b558d4c0 (node16 0xd4c0)"), "{out}");
        assert!(out.contains("local epoch: 5"), "{out}");
    }

    #[test]
    fn spec_row() {
        let out = row(
            "21656e6372797074696f6e7c777269746572737c000000077cd4c0",
            "08b37b07b558d4c000030005",
        )
        .unwrap();
        assert!(out.contains("dek 7"), "{out}");
        assert!(out.contains("first_seen: 3 last_seen: 5"), "{out}");
        assert!(!out.contains("warning"), "{out}");
    }

    #[test]
    fn errors_name_offsets() {
        assert_eq!(
            entry("01 zz").unwrap_err().0,
            "entry: invalid hex character 'z' at character 3"
        );
        assert!(entry("02").unwrap_err().0.contains("at byte 0"));
        assert!(row("00", "08b37b07b558d4c000030005")
            .unwrap_err()
            .0
            .contains("1 bytes"));
    }
}
