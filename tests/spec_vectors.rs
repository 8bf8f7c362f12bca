//! Every byte example of `docs/spec.md` (ROW-5..ROW-10, WIRE-6, WIRE-8, WIRE-10, ID-1), both directions.

use writer_registry::hex;
use writer_registry::ids::{full_node_id, node16};
use writer_registry::registry::{RowKey, RowValue};
use writer_registry::wire::{
    decode_entry, decode_payload, encode_entry, Bootstrap, Command, DecodeError, Entry, Problem,
    Purpose, Registration, Rotation, RotationKind,
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

const PREFIX_HEX: &str = "21656e6372797074696f6e7c777269746572737c";

#[test]
fn key_prefix_is_the_ascii_string() {
    assert_eq!(h(PREFIX_HEX), b"!encryption|writers|");
}

#[test]
fn row_key_examples() {
    let cases = [
        (
            RowKey {
                dek: 0xAABB_CCDD,
                node16: 0xEEFF,
            },
            "aabbccdd 7c eeff",
        ),
        (
            RowKey {
                dek: 7,
                node16: node16(full_node_id("n1")),
            },
            "00000007 7c d4c0",
        ),
        (
            RowKey {
                dek: 2,
                node16: node16(0x0000_0000_0000_1234),
            },
            "00000002 7c 1234",
        ),
        (
            RowKey {
                dek: 2,
                node16: node16(0xDEAD_BEEF_0000_1234),
            },
            "00000002 7c 1234",
        ),
    ];
    for (key, tail) in cases {
        let bytes = h(&format!("{PREFIX_HEX}{tail}"));
        assert_eq!(bytes.len(), 27);
        assert_eq!(key.encode().to_vec(), bytes);
        assert_eq!(RowKey::decode(&bytes).unwrap(), key);
    }
}

#[test]
fn row_value_examples() {
    let n1 = full_node_id("n1");
    let cases = [
        (
            RowValue {
                full_node_id: 0x0102_0304_0506_0708,
                first_seen: 0x090a,
                last_seen: 0x0b0c,
            },
            "0102030405060708 090a 0b0c",
        ),
        (
            RowValue {
                full_node_id: n1,
                first_seen: 3,
                last_seen: 3,
            },
            "08b37b07b558d4c0 0003 0003",
        ),
        (
            RowValue {
                full_node_id: n1,
                first_seen: 3,
                last_seen: 5,
            },
            "08b37b07b558d4c0 0003 0005",
        ),
    ];
    for (value, text) in cases {
        let bytes = h(text);
        assert_eq!(value.encode().to_vec(), bytes);
        assert_eq!(RowValue::decode(&bytes).unwrap(), value);
    }
}

#[test]
fn registration_example() {
    let reg = Registration {
        dek: 7,
        full_node_id: full_node_id("n1"),
        local_epoch: 5,
    };
    let body = h("01 00000007 08b37b07b558d4c0 0005");
    let payload = h("03 01 00000007 08b37b07b558d4c0 0005");
    let entry = h("01 000000000000002a 03 01 00000007 08b37b07b558d4c0 0005");
    assert_eq!(reg.encode_body().to_vec(), body);
    assert_eq!(reg.encode_payload(), payload);
    assert_eq!(encode_entry(42, &payload), entry);
    assert_eq!(Registration::decode_body(&body).unwrap(), reg);
    assert_eq!(
        decode_payload(&payload).unwrap(),
        Command::Registration(reg)
    );
    assert_eq!(
        decode_entry(&entry).unwrap(),
        Entry::Proposal {
            proposal_id: 42,
            command: Command::Registration(reg)
        }
    );
}

#[test]
fn registration_length_is_checked_before_version() {
    // 14 bytes with a wrong version byte: the length error wins.
    let short = h("02 00000007 08b37b07b558d4c0 00");
    assert_eq!(
        Registration::decode_body(&short),
        Err(DecodeError::Malformed {
            offset: 0,
            field: "registration body",
            problem: Problem::WrongLength {
                expected: 15,
                found: 14
            }
        })
    );
    let wrong_version = h("02 00000007 08b37b07b558d4c0 0005");
    assert!(matches!(
        Registration::decode_body(&wrong_version),
        Err(DecodeError::BadVersion {
            offset: 0,
            found: 2,
            expected: 1,
            ..
        })
    ));
    // Inside an entry the offsets point into the whole entry.
    let entry = h("01 000000000000002a 03 02 00000007 08b37b07b558d4c0 0005");
    assert!(matches!(
        decode_entry(&entry),
        Err(DecodeError::BadVersion {
            offset: 10,
            found: 2,
            ..
        })
    ));
}

#[test]
fn bootstrap_example() {
    let boot = Bootstrap {
        storage_dek: 1,
        storage_wrapped: h("aaaaaaaa"),
        raft_dek: 2,
        raft_wrapped: h("bbbbbb"),
        registrations: vec![Registration {
            dek: 1,
            full_node_id: full_node_id("n1"),
            local_epoch: 0,
        }],
    };
    let body = h("01 00000001 00000004 aaaaaaaa 00000002 00000003 bbbbbb 00000001 00000001 08b37b07b558d4c0 0000");
    assert_eq!(body.len(), 42);
    assert_eq!(boot.encode_body(), body);
    assert_eq!(Bootstrap::decode_body(&body).unwrap(), boot);
}

#[test]
fn bootstrap_count_cap_is_checked_before_length() {
    // count = 16385 with no rows following: "too large", not "truncated".
    let body = h("01 00000001 00000000 00000002 00000000 00004001");
    assert_eq!(
        Bootstrap::decode_body(&body),
        Err(DecodeError::Malformed {
            offset: 17,
            field: "bootstrap row count",
            problem: Problem::TooLarge {
                cap: 16384,
                found: 16385
            }
        })
    );
    // count = 16384 with no rows: truncated.
    let body = h("01 00000001 00000000 00000002 00000000 00004000");
    assert!(matches!(
        Bootstrap::decode_body(&body),
        Err(DecodeError::Malformed {
            offset: 21,
            problem: Problem::Truncated { .. },
            ..
        })
    ));
    // A trailing byte is malformed.
    let mut body = h("01 00000001 00000004 aaaaaaaa 00000002 00000003 bbbbbb 00000001 00000001 08b37b07b558d4c0 0000");
    body.push(0);
    assert!(matches!(
        Bootstrap::decode_body(&body),
        Err(DecodeError::Malformed {
            offset: 42,
            problem: Problem::TrailingBytes { count: 1 },
            ..
        })
    ));
}

#[test]
fn rotation_example() {
    let rot = Rotation {
        kind: RotationKind::EnableStorageEnvelope,
        dek: 9,
        purpose: Purpose::Storage,
        wrapped: vec![],
        proposer: Registration {
            dek: 9,
            full_node_id: full_node_id("n1"),
            local_epoch: 2,
        },
    };
    let body = h("01 04 00000009 01 00000000 00000009 08b37b07b558d4c0 0002");
    assert_eq!(body.len(), 25);
    assert_eq!(rot.encode_body(), body);
    assert_eq!(Rotation::decode_body(&body).unwrap(), rot);
}

#[test]
fn rotation_subtags_and_purpose() {
    let with = |subtag: u8, purpose: u8| {
        let mut body = h("01 04 00000009 01 00000000 00000009 08b37b07b558d4c0 0002");
        body[1] = subtag;
        body[6] = purpose;
        Rotation::decode_body(&body)
    };
    assert_eq!(with(0x01, 2).unwrap().kind, RotationKind::RotateDek);
    assert_eq!(with(0x05, 2).unwrap().purpose, Purpose::Raft);
    for (subtag, reserved) in [
        (0x02, true),
        (0x03, true),
        (0x00, false),
        (0x06, false),
        (0xff, false),
    ] {
        assert_eq!(
            with(subtag, 1),
            Err(DecodeError::BadSubtag {
                offset: 1,
                found: subtag,
                reserved
            })
        );
    }
    for purpose in [0u8, 3, 0xff] {
        assert_eq!(
            with(0x04, purpose),
            Err(DecodeError::Malformed {
                offset: 6,
                field: "rotation purpose",
                problem: Problem::BadValue { found: purpose }
            })
        );
    }
}

#[test]
fn opcode_dispatch() {
    assert_eq!(decode_entry(&[]).unwrap(), Entry::Empty);
    assert!(matches!(
        decode_payload(&h("06 0102")).unwrap(),
        Command::Reserved {
            opcode: 6,
            body: [1, 2]
        }
    ));
    assert!(matches!(
        decode_payload(&h("07")).unwrap(),
        Command::Reserved { opcode: 7, .. }
    ));
    for op in [0x00u8, 0x01, 0x02, 0x08, 0xff] {
        let payload = [op, 0xaa, 0xbb];
        assert_eq!(decode_payload(&payload).unwrap(), Command::Kv(&payload));
    }
    // An envelope with no payload has no opcode.
    assert!(matches!(
        decode_entry(&h("01 000000000000002a")),
        Err(DecodeError::Malformed {
            offset: 9,
            field: "opcode",
            ..
        })
    ));
    assert!(matches!(
        decode_entry(&h("02")),
        Err(DecodeError::BadVersion {
            offset: 0,
            found: 2,
            ..
        })
    ));
    assert!(matches!(
        decode_entry(&h("01 0000")),
        Err(DecodeError::Malformed {
            offset: 1,
            field: "proposal id",
            ..
        })
    ));
}

#[test]
fn the_registration_an_entry_carries() {
    // WIRE-6's entry carries dek 7, "n1", epoch 5; nothing else carries one.
    let entry = h("01 000000000000002a 03 01 00000007 08b37b07b558d4c0 0005");
    let r = writer_registry::wire::registration_of(&entry).expect("a registration");
    assert_eq!(
        (r.dek, r.full_node_id, r.local_epoch),
        (7, 0x08b3_7b07_b558_d4c0, 5)
    );
    for other in [
        Vec::new(),
        h("01 000000000000002a 10 00"),
        h("01 000000000000002a 03 02 00000007 08b37b07b558d4c0 0005"),
        entry[..entry.len() - 1].to_vec(),
    ] {
        assert_eq!(writer_registry::wire::registration_of(&other), None);
    }
}
