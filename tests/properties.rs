//! Property tests: the applier against an independent reference model on
//! both stores, decoders against arbitrary bytes, and fjall durability
//! across close and reopen.

use std::collections::BTreeMap;

use proptest::prelude::*;
use writer_registry::registry::{RowKey, RowValue, Space, WriterRegistryStore};
use writer_registry::snapshot::Snapshot;
use writer_registry::wire::{self, Bootstrap, Registration, Rotation};
use writer_registry::{Applied, Applier, FjallRegistry, Halt, MemoryRegistry};

/// The spec's rules over a plain map, written without the library's
/// applier or codecs: slot = (dek, low 16 bits), value = (full, first, last).
#[derive(Default)]
struct Model {
    rows: BTreeMap<(u32, u16), (u64, u16, u16)>,
}

#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Insert,
    Advance,
    NoOp,
    Rollback,
    Collision,
}

impl Model {
    fn apply(&mut self, dek: u32, full: u64, epoch: u16) -> Expect {
        let slot = (dek, (full % 65536) as u16);
        match self.rows.get(&slot).copied() {
            None => {
                self.rows.insert(slot, (full, epoch, epoch));
                Expect::Insert
            }
            Some((owner, _, _)) if owner != full => Expect::Collision,
            Some((_, _, last)) if epoch == last => Expect::NoOp,
            Some((_, _, last)) if epoch < last => Expect::Rollback,
            Some((owner, first, _)) => {
                self.rows.insert(slot, (owner, first, epoch));
                Expect::Advance
            }
        }
    }

    /// The rows as the spec lays them out, built by hand.
    fn bytes(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.rows
            .iter()
            .map(|(&(dek, n16), &(full, first, last))| {
                let mut key = b"!encryption|writers|".to_vec();
                key.extend(dek.to_be_bytes());
                key.push(b'|');
                key.extend(n16.to_be_bytes());
                let mut value = full.to_be_bytes().to_vec();
                value.extend(first.to_be_bytes());
                value.extend(last.to_be_bytes());
                (key, value)
            })
            .collect()
    }
}

fn classify(result: &Result<Applied, Halt>) -> Expect {
    match result {
        Ok(Applied::Inserted(_)) => Expect::Insert,
        Ok(Applied::Advanced { .. }) => Expect::Advance,
        Ok(Applied::Unchanged) => Expect::NoOp,
        Err(Halt::Rollback { .. }) => Expect::Rollback,
        Err(Halt::Collision { .. }) => Expect::Collision,
        Err(other) => panic!("unexpected halt {other}"),
    }
}

/// Small pools so that advances, replays, rollbacks and collisions all
/// happen: ids 0x..1234 and 0x..abcd share low bits with other ids.
fn registration() -> impl Strategy<Value = (u32, u64, u16)> {
    let ids = prop::sample::select(vec![
        0x0000_0000_0000_1234u64,
        0xDEAD_BEEF_0000_1234,
        0x08b3_7b07_b558_d4c0,
        0x1111_2222_3333_abcd,
        0x9999_8888_7777_abcd,
    ]);
    (1u32..=3, ids, 0u16..8)
}

fn check_against_model<S: WriterRegistryStore>(
    store: &mut S,
    steps: &[(u32, u64, u16)],
) -> Result<(), TestCaseError> {
    let mut model = Model::default();
    for (i, &(dek, full, epoch)) in steps.iter().enumerate() {
        let reg = Registration {
            dek,
            full_node_id: full,
            local_epoch: epoch,
        };
        let got = classify(&Applier::new(store).apply(&reg));
        let want = model.apply(dek, full, epoch);
        prop_assert_eq!(got, want, "step {} {:?}", i, reg);
        prop_assert_eq!(
            store.scan(Space::Registry).unwrap(),
            model.bytes(),
            "rows after step {}",
            i
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn memory_registry_agrees_with_the_model(steps in prop::collection::vec(registration(), 1..60)) {
        check_against_model(&mut MemoryRegistry::new(), &steps)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn fjall_registry_agrees_with_the_model(steps in prop::collection::vec(registration(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        check_against_model(&mut FjallRegistry::open(dir.path()).unwrap(), &steps)?;
    }

    #[test]
    fn fjall_keeps_every_synced_row_across_reopen(
        rounds in prop::collection::vec(prop::collection::vec(registration(), 0..15), 1..4)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut model = Model::default();
        for steps in rounds {
            let mut store = FjallRegistry::open(dir.path()).unwrap();
            prop_assert_eq!(store.scan(Space::Registry).unwrap(), model.bytes(), "after reopen");
            for (dek, full, epoch) in steps {
                // Every Ok from the applier was synced before it returned.
                let _ = Applier::new(&mut store).apply(&Registration { dek, full_node_id: full, local_epoch: epoch });
                model.apply(dek, full, epoch);
            }
            drop(store);
        }
        let store = FjallRegistry::open(dir.path()).unwrap();
        prop_assert_eq!(store.scan(Space::Registry).unwrap(), model.bytes());
    }
}

/// A valid registration, bootstrap or rotation payload (opcode included).
fn encryption_payload() -> impl Strategy<Value = Vec<u8>> {
    let reg =
        (any::<u32>(), any::<u64>(), any::<u16>()).prop_map(|(dek, full, epoch)| Registration {
            dek,
            full_node_id: full,
            local_epoch: epoch,
        });
    prop_oneof![
        reg.clone().prop_map(|r| r.encode_payload()),
        (
            any::<u32>(),
            prop::collection::vec(any::<u8>(), 0..6),
            any::<u32>(),
            prop::collection::vec(reg.clone(), 0..4)
        )
            .prop_map(|(d, w, r, regs)| Bootstrap {
                storage_dek: d,
                storage_wrapped: w.clone(),
                raft_dek: r,
                raft_wrapped: w,
                registrations: regs
            }
            .encode_payload()),
        (
            prop::sample::select(vec![1u8, 4, 5]),
            any::<u32>(),
            1u8..=2,
            prop::collection::vec(any::<u8>(), 0..6),
            reg
        )
            .prop_map(|(subtag, dek, purpose, wrapped, proposer)| {
                let mut body = Rotation {
                    kind: wire::RotationKind::RotateDek,
                    dek,
                    purpose: wire::Purpose::Storage,
                    wrapped,
                    proposer,
                }
                .encode_payload();
                body[2] = subtag;
                body[7] = purpose;
                body
            }),
    ]
}

/// Valid encodings of every structure, so that mutations land near the
/// accepting paths and not only on "bad version", and arbitrary bytes.
fn valid_payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        encryption_payload(),
        prop::collection::vec(any::<u8>(), 0..20),
    ]
}

/// A payload every correct decoder accepts: an encryption body, or a KV
/// command (a non-empty payload whose opcode is no encryption opcode).
fn accepted_payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        encryption_payload(),
        (
            any::<u8>().prop_filter("not an encryption opcode", |op| !(0x03..=0x07).contains(op)),
            prop::collection::vec(any::<u8>(), 0..20)
        )
            .prop_map(|(op, rest)| {
                let mut p = vec![op];
                p.extend(rest);
                p
            }),
    ]
}

/// Arbitrary bytes, or a valid entry with one byte changed or cut short.
fn entry_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        (
            any::<u64>(),
            valid_payload(),
            any::<prop::sample::Index>(),
            any::<u8>(),
            any::<bool>()
        )
            .prop_map(|(id, payload, at, byte, cut)| {
                let mut e = wire::encode_entry(id, &payload);
                let i = at.index(e.len());
                if cut {
                    e.truncate(i);
                } else {
                    e[i] = byte;
                }
                e
            }),
        (any::<u64>(), valid_payload()).prop_map(|(id, p)| wire::encode_entry(id, &p)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn entry_decoder_is_total_and_canonical(bytes in entry_bytes()) {
        if let Ok(entry) = wire::decode_entry(&bytes) {
            prop_assert_eq!(entry.encode(), bytes);
        }
    }

    #[test]
    fn valid_entries_are_accepted_and_round_trip(id in any::<u64>(), payload in accepted_payload()) {
        // Acceptance, not only canonicity: a decoder that rejected
        // everything would pass the property above but fails this one.
        let bytes = wire::encode_entry(id, &payload);
        match wire::decode_entry(&bytes) {
            Ok(entry) => prop_assert_eq!(entry.encode(), bytes),
            Err(e) => prop_assert!(false, "valid entry {} rejected: {}", writer_registry::hex::encode(&bytes), e),
        }
        let body_decoded = wire::decode_payload(&payload);
        prop_assert!(body_decoded.is_ok(), "valid payload rejected: {:?}", body_decoded.err());
    }

    #[test]
    fn valid_rows_and_snapshots_are_accepted(
        dek in any::<u32>(), node16 in any::<u16>(), full in any::<u64>(), first in any::<u16>(), last in any::<u16>(),
        applied in any::<u64>(),
        pairs in prop::collection::vec((prop::collection::vec(any::<u8>(), 0..4), prop::collection::vec(any::<u8>(), 0..4)), 0..4),
    ) {
        let key = RowKey { dek, node16 };
        prop_assert_eq!(RowKey::decode(&key.encode()), Ok(key));
        let value = RowValue { full_node_id: full, first_seen: first, last_seen: last };
        prop_assert_eq!(RowValue::decode(&value.encode()), Ok(value));
        let snap = Snapshot { applied_index: applied, rows: pairs.clone(), kv: pairs };
        prop_assert_eq!(Snapshot::decode(&snap.encode()), Ok(snap));
    }

    #[test]
    fn body_decoders_are_total_and_canonical(bytes in entry_bytes()) {
        // Feed the same bytes, and the bytes past an envelope and opcode, to
        // every body decoder.
        for body in [&bytes[..], bytes.get(10..).unwrap_or(&[])] {
            if let Ok(r) = Registration::decode_body(body) {
                prop_assert_eq!(&r.encode_body()[..], body);
            }
            if let Ok(b) = Bootstrap::decode_body(body) {
                prop_assert_eq!(&b.encode_body()[..], body);
            }
            if let Ok(r) = Rotation::decode_body(body) {
                prop_assert_eq!(&r.encode_body()[..], body);
            }
            if let Ok(c) = wire::decode_payload(body) {
                prop_assert_eq!(&c.encode_payload()[..], body);
            }
        }
    }

    #[test]
    fn row_decoders_are_total_and_canonical(
        key in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..32),
            (any::<u32>(), any::<u16>(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(d, n, at, b)| {
                let mut k = RowKey { dek: d, node16: n }.encode().to_vec();
                let i = at.index(k.len());
                k[i] = b;
                k
            }),
        ],
        value in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        if let Ok(k) = RowKey::decode(&key) {
            prop_assert_eq!(&k.encode()[..], &key[..]);
        }
        if let Ok(v) = RowValue::decode(&value) {
            prop_assert_eq!(&v.encode()[..], &value[..]);
        }
    }

    #[test]
    fn snapshot_decoder_is_total_and_canonical(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            (any::<u64>(), prop::collection::vec((prop::collection::vec(any::<u8>(), 0..4), prop::collection::vec(any::<u8>(), 0..4)), 0..4), any::<prop::sample::Index>(), any::<u8>())
                .prop_map(|(applied, pairs, at, b)| {
                    let mut s = Snapshot { applied_index: applied, rows: pairs.clone(), kv: pairs }.encode();
                    let i = at.index(s.len());
                    s[i] = b;
                    s
                }),
        ]
    ) {
        if let Ok(s) = Snapshot::decode(&bytes) {
            prop_assert_eq!(s.encode(), bytes);
        }
    }
}

/// What the removed proptest regression seeds recorded, written out: the
/// same registration applied twice is a no-op (APPLY-5). Seeds from an
/// older strategy no longer replay their case; an explicit case does.
#[test]
fn the_same_registration_twice_agrees_with_the_model() {
    for (dek, full, epoch) in [(2, 11068027678940965837, 1), (2, 626980046172116160, 2)] {
        let mut store = MemoryRegistry::new();
        let steps = vec![(dek, full, epoch); 2];
        check_against_model(&mut store, &steps).unwrap();
    }
}
