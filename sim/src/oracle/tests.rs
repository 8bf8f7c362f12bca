//! Sensitivity tests: each oracle is handed a bad observation it must
//! flag, next to the good one it must pass. An oracle that cannot fail
//! here checks nothing.

use regsim_engine::oracle::observation::RaftObservation;
use writer_registry::registry::{Space, APPLIED_INDEX_KEY};
use writer_registry::wire::{encode_entry, Registration};
use writer_registry::{Applied, Outcome, PersistPolicy, StateDigest};

use super::checkers::{Checkers, Observation, StartOutcome};
use super::model::NodeModel;
use crate::node::ApplyRecord;
use crate::store::Image;

const FULL: u64 = 0x08b3_7b07_b558_d4c0;
const DEK: u32 = 7;

fn registration(epoch: u16) -> Vec<u8> {
    let reg = Registration {
        dek: DEK,
        full_node_id: FULL,
        local_epoch: epoch,
    };
    encode_entry(100 + u64::from(epoch), &reg.encode_payload())
}

fn kv(pid: u64) -> Vec<u8> {
    encode_entry(pid, &[0x10, 0xAA])
}

fn record(index: u64, data: Vec<u8>, result: Outcome) -> ApplyRecord {
    ApplyRecord {
        index,
        term: 1,
        data,
        result: Ok(result),
        replay: false,
        digest: StateDigest::default(),
        row: None,
        unsynced: false,
    }
}

/// A registration's apply that left the row (first, last).
fn reg_record(index: u64, epoch: u16, first: u16) -> ApplyRecord {
    let mut rec = record(
        index,
        registration(epoch),
        Outcome::Registration(Applied::Unchanged),
    );
    rec.row = Some((row_key(), Some(row(first, epoch))));
    rec
}

fn row_key() -> Vec<u8> {
    let mut k = b"!encryption|writers|".to_vec();
    k.extend(DEK.to_be_bytes());
    k.push(b'|');
    k.extend(((FULL & 0xFFFF) as u16).to_be_bytes());
    k
}

fn row(first: u16, last: u16) -> Vec<u8> {
    let mut v = FULL.to_be_bytes().to_vec();
    v.extend(first.to_be_bytes());
    v.extend(last.to_be_bytes());
    v
}

fn applied_index(index: u64) -> ((Space, Vec<u8>), Vec<u8>) {
    (
        (Space::Meta, APPLIED_INDEX_KEY.to_vec()),
        index.to_be_bytes().to_vec(),
    )
}

/// Every node's disk synced `rec`'s entry in its own term: it is
/// committed, as an apply needs.
fn commit(c: &mut Checkers, rec: &ApplyRecord) {
    let mut log = crate::disk::LogImage::default();
    log.hard_state.term = rec.term;
    let meta = log.snapshot.mut_metadata();
    meta.index = rec.index - 1;
    meta.term = rec.term;
    log.entries.push(raft::eraftpb::Entry {
        index: rec.index,
        term: rec.term,
        data: rec.data.clone().into(),
        ..Default::default()
    });
    for node in 0..c.nodes() {
        c.observe(
            0,
            Observation::Raft(RaftObservation::Synced { node, log: &log }),
        );
    }
}

fn apply(c: &mut Checkers, node: u8, rec: &ApplyRecord, outcome: &'static str) {
    commit(c, rec);
    c.observe(
        0,
        Observation::Applied {
            node,
            who: (node, 0),
            full: FULL,
            rec,
            outcome,
            window_edge: 0,
        },
    );
}

/// Two started nodes (atomic policy, oracles on), n1 having applied a KV
/// command at index 1.
fn two_nodes_n1_applied_kv() -> Checkers {
    let mut c = Checkers::new(2, PersistPolicy::Atomic, true);
    start(&mut c, 0, &Image::new(), 0);
    start(&mut c, 1, &Image::new(), 0);
    apply(
        &mut c,
        0,
        &record(1, kv(5), Outcome::Kv { proposal_id: 5 }),
        "kv",
    );
    c
}

/// Asserts whether `oracle` is among those that `fired`.
fn assert_fired(fired: &[String], oracle: &str, expected: bool, context: &str) {
    let has = fired.iter().any(|f| f == oracle);
    assert_eq!(has, expected, "{oracle} {context}: {fired:?}");
}

fn oracles(c: Checkers) -> Vec<String> {
    c.finish().0.list.into_iter().map(|v| v.oracle).collect()
}

fn start(c: &mut Checkers, node: u8, store: &Image, epoch: u16) {
    c.observe(
        0,
        Observation::Started {
            node,
            inc: 0,
            full: FULL,
            deks: &[DEK],
            store: Some(store),
            epoch,
            disk_commit: 0,
        },
    );
}

/// Review point 1: the durable applied index must be where the policy
/// puts it; a faithful store that persisted it with a registration is
/// outside the allowed set.
#[test]
fn durability_flags_an_applied_index_the_policy_never_wrote() {
    for (policy, with_index, bad) in [
        (PersistPolicy::Faithful, false, false),
        (PersistPolicy::Faithful, true, true),
        (PersistPolicy::Atomic, true, false),
        (PersistPolicy::Atomic, false, true),
    ] {
        let mut c = Checkers::new(1, policy, true);
        start(&mut c, 0, &Image::new(), 0);
        let rec = reg_record(1, 1, 1);
        apply(&mut c, 0, &rec, "insert");
        let mut store: Image = [((Space::Registry, row_key()), row(1, 1))].into();
        if with_index {
            store.extend([applied_index(1)]);
        }
        start(&mut c, 0, &store, 1);
        let fired = oracles(c);
        assert_fired(
            &fired,
            "durability",
            bad,
            &format!("{policy:?} index {with_index}: {fired:?}"),
        );
    }
}

/// A write cut by a crash may or may not be in the store, but only whole;
/// a kill keeps what reached the store, a power loss may drop any
/// unsynced suffix of batches, and a sync makes everything durable.
#[test]
fn the_allowed_set_is_synced_state_plus_a_whole_batch_prefix() {
    let mut m = NodeModel::new(PersistPolicy::Atomic);
    let entry = registration(1);
    m.write_cut(1, Some(&entry), None);
    let whole: Image = [((Space::Registry, row_key()), row(1, 1)), applied_index(1)].into();
    let half: Image = [applied_index(1)].into();
    assert_eq!(m.clone().check_store(&Image::new()), None);
    assert_eq!(m.clone().check_store(&whole), None);
    assert!(m.clone().check_store(&half).is_some());
    // The store kept the cut batch: a later look (no power loss) must too.
    let mut kept = m.clone();
    assert_eq!(kept.check_store(&whole), None);
    assert!(kept.clone().check_store(&Image::new()).is_some());
    // A power loss may take it back, or keep it whole, never half.
    kept.power_lost();
    assert_eq!(kept.clone().check_store(&whole), None);
    assert!(kept.clone().check_store(&half).is_some());
    assert_eq!(kept.check_store(&Image::new()), None);
    // An apply that syncs makes it durable: a power loss keeps it.
    let mut synced = m;
    assert_eq!(synced.check_store(&whole), None);
    synced.started();
    assert_eq!(synced.apply(2, &kv(9)), super::model::Expected::Kv);
    synced.power_lost();
    let mut after = whole.clone();
    after.insert((Space::Kv, 9u64.to_be_bytes().to_vec()), vec![0x10, 0xAA]);
    after.extend([applied_index(2)]);
    assert_eq!(synced.clone().check_store(&after), None);
    assert!(synced.check_store(&whole).is_some());
}

/// Review point 2: the whole store, not the one row an apply touched.
#[test]
fn conformance_state_flags_a_key_no_apply_wrote() {
    for extra in [false, true] {
        let mut c = Checkers::new(1, PersistPolicy::Atomic, true);
        start(&mut c, 0, &Image::new(), 0);
        let rec = record(1, kv(5), Outcome::Kv { proposal_id: 5 });
        apply(&mut c, 0, &rec, "kv");
        let mut store: Image = [
            ((Space::Kv, 5u64.to_be_bytes().to_vec()), vec![0x10, 0xAA]),
            applied_index(1),
        ]
        .into();
        if extra {
            store.insert((Space::Kv, 6u64.to_be_bytes().to_vec()), vec![1]);
        }
        c.observe(
            0,
            Observation::Stopped {
                node: 0,
                store: &store,
                library_digest: None,
                converged_end: false,
            },
        );
        assert_eq!(oracles(c).contains(&"conformance-state".to_string()), extra);
    }
}

/// The library's incremental digest against the stored bytes, and every
/// acknowledged KV command on a converged replica.
#[test]
fn library_digest_and_client_visible_flag_what_they_guard() {
    let run = |digest_ok: bool, kv_kept: bool| {
        let mut c = Checkers::new(1, PersistPolicy::Atomic, true);
        start(&mut c, 0, &Image::new(), 0);
        let rec = record(1, kv(5), Outcome::Kv { proposal_id: 5 });
        apply(&mut c, 0, &rec, "kv");
        let mut store: Image = [applied_index(1)].into();
        if kv_kept {
            store.insert((Space::Kv, 5u64.to_be_bytes().to_vec()), vec![0x10, 0xAA]);
        }
        let mut digest = StateDigest::default();
        if digest_ok {
            for ((space, k), v) in &store {
                digest.update(*space, k, v, true);
            }
        }
        c.observe(
            0,
            Observation::Stopped {
                node: 0,
                store: &store,
                library_digest: Some(digest),
                converged_end: true,
            },
        );
        oracles(c)
    };
    assert!(run(true, true).is_empty(), "{:?}", run(true, true));
    assert!(run(false, true).contains(&"library-digest".to_string()));
    assert!(run(true, false).contains(&"client-visible".to_string()));
}

/// Review point 6: a restore becomes its source's state; a snapshot's
/// bytes must carry the taker's model state; a snapshot nobody took is
/// flagged.
#[test]
fn snapshots_are_judged_against_their_source() {
    let snapshot = |rows| {
        writer_registry::Snapshot {
            applied_index: 1,
            rows,
            kv: Vec::new(),
        }
        .encode()
    };
    let good = snapshot(vec![(row_key(), row(1, 1))]);
    let bad = snapshot(Vec::new());
    for (data, flagged) in [(&good, false), (&bad, true)] {
        let mut c = Checkers::new(2, PersistPolicy::Atomic, true);
        start(&mut c, 0, &Image::new(), 0);
        start(&mut c, 1, &Image::new(), 0);
        let rec = reg_record(1, 1, 1);
        apply(&mut c, 0, &rec, "insert");
        c.observe(
            0,
            Observation::SnapshotTaken {
                node: 0,
                index: 1,
                data,
                meta: &meta(1, 1, &[1, 2]),
            },
        );
        // The receiver restores the taker's *model* state whatever the
        // bytes said: its store must then hold the row.
        let hash = crate::fnv::fnv1a64(data);
        c.observe(
            0,
            Observation::SnapshotDelivered {
                to: 1,
                index: 1,
                data_hash: hash,
            },
        );
        c.observe(
            0,
            Observation::Restored {
                node: 1,
                index: 1,
                replay: false,
                disk_hash: None,
                window_edge: 0,
            },
        );
        let store: Image = [((Space::Registry, row_key()), row(1, 1)), applied_index(1)].into();
        c.observe(
            0,
            Observation::Stopped {
                node: 1,
                store: &store,
                library_digest: None,
                converged_end: false,
            },
        );
        let fired = oracles(c);
        assert_fired(&fired, "snapshot-content", flagged, "");
        assert!(
            !fired.contains(&"conformance-state".to_string()),
            "{fired:?}"
        );
    }
    let mut c = Checkers::new(1, PersistPolicy::Atomic, true);
    start(&mut c, 0, &Image::new(), 0);
    c.observe(
        0,
        Observation::Restored {
            node: 0,
            index: 3,
            replay: true,
            disk_hash: Some(42),
            window_edge: 0,
        },
    );
    assert_eq!(oracles(c), vec!["snapshot-source"]);
}

/// Review point 7: the start sequence judged in the spec's order from the
/// model's rows and the harness's epoch file, whatever the node did.
#[test]
fn the_start_judge_runs_the_spec_sequence_itself() {
    let stored: Image = [((Space::Registry, row_key()), row(1, 3))].into();
    let judge = |epoch: u16, outcome: StartOutcome, file: (u16, u16)| {
        let mut c = Checkers::new(1, PersistPolicy::Faithful, true);
        // The model holds the row (1, 3): applied before, adopted at start.
        start(&mut c, 0, &Image::new(), 0);
        apply(&mut c, 0, &reg_record(1, 1, 1), "insert");
        apply(&mut c, 0, &reg_record(2, 3, 1), "advance");
        start(&mut c, 0, &stored, epoch);
        c.observe(
            0,
            Observation::StartEnded {
                node: 0,
                outcome,
                epoch_file: file,
            },
        );
        oracles(c)
    };
    let flagged =
        |fired: Vec<String>| !fired.is_empty() && fired.iter().all(|o| o == "start-sequence");
    // Epoch file 3: START-2 passes (equal), START-3 bumps to 4, START-5 passes.
    assert_eq!(judge(3, StartOutcome::Joined, (4, 4)), Vec::<String>::new());
    // The bump never synced.
    assert!(flagged(judge(3, StartOutcome::Joined, (4, 3))));
    // Epoch file rolled back to 2: START-2 refuses before any bump; a node
    // that bumped first and refused at START-5 ran a step out of order.
    assert!(judge(2, StartOutcome::Refused("epoch-not-ahead"), (2, 2)).is_empty());
    assert!(flagged(judge(
        2,
        StartOutcome::Refused("epoch-not-ahead"),
        (3, 3)
    )));
    assert!(flagged(judge(2, StartOutcome::Joined, (3, 3))));
    // 0xFFFF refuses at START-1; 0xFFFE bumps to 0xFFFF and joins.
    assert!(judge(
        0xFFFF,
        StartOutcome::Refused("epochs-exhausted"),
        (0xFFFF, 0xFFFF)
    )
    .is_empty());
    assert!(judge(0xFFFE, StartOutcome::Joined, (0xFFFF, 0xFFFF)).is_empty());
    assert!(flagged(judge(
        0xFFFE,
        StartOutcome::Refused("epochs-exhausted"),
        (0xFFFE, 0xFFFE)
    )));
}

/// Replica agreement compares the harness's digests of each node's model.
#[test]
fn replica_agreement_compares_model_digests() {
    let mut c = two_nodes_n1_applied_kv();
    apply(
        &mut c,
        1,
        &record(1, kv(6), Outcome::Kv { proposal_id: 6 }),
        "kv",
    );
    let fired = oracles(c);
    assert!(
        fired.contains(&"replica-agreement".to_string()),
        "{fired:?}"
    );
}

mod justification {
    use super::super::purpose::{HaltEvent, InjectedRollback, PurposeOracle, RollbackHalt};
    use super::{DEK, FULL};

    const ROLLBACK_AT: u64 = 10;

    /// n1 registered epoch 3 at t=5 as incarnation 0; its epoch file was
    /// rolled back (3 -> 1) at t=10 when `rolled_back`; incarnation 1
    /// started at `restart_at` and proposed epoch 2 as proposal 9.
    fn oracle(rolled_back: bool, restart_at: u64, row_proposed_at: u64) -> PurposeOracle {
        let mut p = PurposeOracle::default();
        p.on_start((0, 0), 0);
        p.on_registration_proposed((0, 0), 1, (DEK, FULL, 3), row_proposed_at);
        if rolled_back {
            p.on_rollback_injected(InjectedRollback {
                node: 0,
                full: FULL,
                to: 1,
                high: 3,
                at_us: ROLLBACK_AT,
                preset: false,
            });
        }
        p.on_start((0, 1), restart_at);
        p.on_registration_proposed((0, 1), 9, (DEK, FULL, 2), restart_at + 1);
        p
    }

    fn halt(p: &mut PurposeOracle, proposal_id: u64) -> Vec<String> {
        p.on_halt(HaltEvent {
            node: 1,
            at_us: 30,
            index: 12,
            kind: "rollback",
            ids: vec![FULL],
            data_hash: 0,
            slot: Some((DEK, 0xd4c0)),
            rollback: Some(RollbackHalt {
                dek: DEK,
                full: FULL,
                epoch: 2,
                last_seen: 3,
                proposal_id,
            }),
            in_replay_window: false,
            message: "rollback".into(),
        });
        p.failures().iter().map(|f| f.signature.clone()).collect()
    }

    #[test]
    fn a_rollback_halt_is_justified_only_by_the_rollback_behind_it() {
        let mut p = oracle(true, 20, 5);
        assert!(halt(&mut p, 9).is_empty());
        assert_eq!(p.justified(), (1, 0));
        assert!(
            p.justifications()[0].contains("epoch-file rollback of n1"),
            "{:?}",
            p.justifications()
        );
        // No rollback; the proposer started before it; the row's epoch was
        // first proposed after it; an entry of the old incarnation (a
        // replay-window halt): none justifies.
        for (mut p, pid) in [
            (oracle(false, 20, 5), 9),
            (oracle(true, 8, 5), 9),
            (oracle(true, 20, 15), 9),
            (oracle(true, 20, 5), 1),
        ] {
            assert_eq!(halt(&mut p, pid), vec!["unjustified-halt:rollback:steady"]);
        }
    }

    #[test]
    fn a_preset_excuses_what_a_rollback_would_only_where_it_lowered_the_file() {
        for (high, excused) in [(3, true), (1, false)] {
            let mut p = oracle(false, 20, 5);
            // The file held up to `high`, then was set to 1 at t=10.
            p.on_epoch_preset(0, FULL, 1, high, ROLLBACK_AT);
            assert_eq!(halt(&mut p, 9).is_empty(), excused, "high {high}");
        }
    }

    #[test]
    fn a_refusal_is_justified_only_by_a_preceding_cause_of_its_kind() {
        let refuse = |mut p: PurposeOracle, name: &'static str| {
            p.on_refusal(
                (0, 1),
                FULL,
                21,
                name,
                None,
                Some((DEK, 3)),
                Some((DEK, 0xd4c0)),
                "refused".into(),
            );
            p.failures().len()
        };
        assert_eq!(refuse(oracle(true, 20, 5), "epoch-not-ahead"), 0);
        assert_eq!(refuse(oracle(false, 20, 5), "epoch-not-ahead"), 1);
        // The start came before the rollback: it cannot explain it.
        assert_eq!(refuse(oracle(true, 8, 5), "epoch-not-ahead"), 1);
        // A rollback explains no corrupt row and no foreign owner.
        assert_eq!(refuse(oracle(true, 20, 5), "corrupt-row"), 1);
        assert_eq!(refuse(oracle(true, 20, 5), "foreign-owner"), 1);
    }
}

/// An injected row is part of the allowed set only where the harness put
/// it, and it makes the node's state its own (no replica agreement).
#[test]
fn an_injected_row_is_expected_exactly_and_taints_the_model() {
    let mut m = NodeModel::new(PersistPolicy::Atomic);
    let clean: Image = [((Space::Registry, row_key()), row(1, 1)), applied_index(1)].into();
    assert_eq!(m.clone().check_store(&Image::new()), None);
    assert_eq!(m.apply(1, &registration(1)), super::model::Expected::Insert);
    let damaged = row(1, 1)[..11].to_vec();
    let mut with_damage = clean.clone();
    with_damage.insert((Space::Registry, row_key()), damaged.clone());
    let mut injected = m.clone();
    injected.inject_row(row_key(), row(1, 1), damaged.clone());
    assert!(injected.tainted());
    assert_eq!(injected.clone().check_store(&with_damage), None);
    assert!(
        injected.check_store(&clean).is_some(),
        "the damage must be there"
    );
    assert!(
        m.clone().check_store(&with_damage).is_some(),
        "nobody injected it"
    );
    // The applier must now halt on the damaged row.
    // Damage over a row the store lost (it held epoch 0's row, never
    // written) cannot hide the loss.
    let mut lost = m.clone();
    lost.inject_row(row_key(), row(1, 0), damaged.clone());
    assert!(lost.check_store(&with_damage).is_some());
    injected = m.clone();
    injected.inject_row(row_key(), row(1, 1), damaged);
    assert_eq!(injected.check_store(&with_damage), None);
    injected.started();
    assert_eq!(
        injected.apply(2, &registration(2)),
        super::model::Expected::Halt("corrupt-row")
    );
}

mod corruption {
    use super::super::purpose::{HaltEvent, PurposeOracle};

    fn halt(p: &mut PurposeOracle, node: u8) -> usize {
        p.on_halt(HaltEvent {
            node,
            at_us: 50,
            index: 9,
            kind: "corrupt-row",
            ids: vec![],
            data_hash: 0,
            slot: Some((1, 0xd4c0)),
            rollback: None,
            in_replay_window: false,
            message: "corrupt".into(),
        });
        p.failures().len()
    }

    #[test]
    fn a_corrupt_row_halt_is_justified_by_that_nodes_damage_or_a_snapshot_of_it() {
        let mut p = PurposeOracle::default();
        p.on_row_corrupted(0, 1, 0xd4c0, "truncate", 10);
        assert_eq!(halt(&mut p, 0), 0, "{:?}", p.failures());
        // Another node's damage explains nothing here...
        assert_eq!(halt(&mut p, 1), 1);
        // ...until it restores a snapshot node 0 took with it.
        p.inherit_corruptions(Some(0), 1);
        assert_eq!(halt(&mut p, 1), 1, "no new failure");
        // Another slot's damage explains nothing either.
        let mut q = PurposeOracle::default();
        q.on_row_corrupted(0, 2, 0xd4c0, "truncate", 10);
        assert_eq!(halt(&mut q, 0), 1);
        // Nor damage of a kind that cannot cause this halt.
        let mut r = PurposeOracle::default();
        r.on_row_corrupted(0, 1, 0xd4c0, "last-seen-up", 10);
        assert_eq!(halt(&mut r, 0), 1);
        // A restore from a clean node's snapshot takes the damage away.
        let mut c = PurposeOracle::default();
        c.on_row_corrupted(0, 1, 0xd4c0, "truncate", 10);
        c.on_snapshot_taken(2, 77);
        c.on_snapshot_restored(0, Some(77));
        assert_eq!(halt(&mut c, 0), 1);
    }
}

/// Snapshot metadata at `index` of `term` whose voters are `voters`.
fn meta(index: u64, term: u64, voters: &[u64]) -> raft::eraftpb::SnapshotMetadata {
    let mut m = raft::eraftpb::SnapshotMetadata {
        index,
        term,
        ..Default::default()
    };
    m.mut_conf_state().voters = voters.to_vec();
    m
}

/// A log image in term `term` holding entries `1..=last` of term `term`
/// (data: the index), with `vote`.
fn log_of(term: u64, last: u64, vote: u64) -> crate::disk::LogImage {
    let mut log = crate::disk::LogImage::default();
    log.hard_state.term = term;
    log.hard_state.vote = vote;
    log.entries = (1..=last)
        .map(|index| raft::eraftpb::Entry {
            index,
            term,
            data: index.to_be_bytes().to_vec().into(),
            ..Default::default()
        })
        .collect();
    log
}

fn sent(c: &mut Checkers, from: u8, m: &raft::eraftpb::Message, synced: &crate::disk::LogImage) {
    // Written as synced: nothing pending.
    c.observe(
        0,
        Observation::Raft(RaftObservation::Sent {
            from,
            msg: m,
            synced,
            written: synced,
        }),
    );
}

/// raft-rs's persisted messages, judged by type against the synced disk:
/// an append ack past the synced log, a vote granted before the vote is
/// synced, any message ahead of the synced term; a pre-vote is exempt.
#[test]
fn persisted_messages_must_follow_the_sync_that_covers_them() {
    use raft::eraftpb::{Message, MessageType};
    let msg = |kind: MessageType, term: u64, index: u64, reject: bool| Message {
        msg_type: kind,
        to: 1,
        from: 2,
        term,
        index,
        reject,
        ..Default::default()
    };
    let judge = |m: Message, synced: crate::disk::LogImage| {
        let mut c = Checkers::new(3, PersistPolicy::Atomic, true);
        sent(&mut c, 1, &m, &synced);
        oracles(c)
    };
    let fired = vec!["raft-persisted-before-send".to_string()];
    let ack = MessageType::MsgAppendResponse;
    assert_eq!(
        judge(msg(ack, 2, 5, false), log_of(2, 5, 0)),
        Vec::<String>::new()
    );
    assert_eq!(judge(msg(ack, 2, 6, false), log_of(2, 5, 0)), fired);
    assert_eq!(
        judge(msg(ack, 2, 6, true), log_of(2, 5, 0)),
        Vec::<String>::new()
    );
    assert_eq!(judge(msg(ack, 3, 5, false), log_of(2, 5, 0)), fired);
    let grant = MessageType::MsgRequestVoteResponse;
    assert_eq!(
        judge(msg(grant, 2, 0, false), log_of(2, 5, 1)),
        Vec::<String>::new()
    );
    assert_eq!(judge(msg(grant, 2, 0, false), log_of(2, 5, 0)), fired);
    assert_eq!(
        judge(msg(grant, 2, 0, true), log_of(2, 5, 0)),
        Vec::<String>::new()
    );
    let vote = MessageType::MsgRequestVote;
    assert_eq!(
        judge(msg(vote, 2, 0, false), log_of(2, 5, 2)),
        Vec::<String>::new()
    );
    assert_eq!(judge(msg(vote, 2, 0, false), log_of(2, 5, 1)), fired);
    let pre = MessageType::MsgRequestPreVote;
    assert_eq!(
        judge(msg(pre, 3, 0, false), log_of(2, 5, 0)),
        Vec::<String>::new()
    );
}

/// After the transport failed a snapshot, the leader must answer the
/// follower's next heartbeat response with an append or a snapshot while
/// the follower is behind; the breach is confirmed by a later heartbeat of
/// the same term (the leader still led), and voided by a later term, a
/// caught-up follower, a follower whose term moved on (a later leader may
/// have truncated what it acknowledged), or a restart.
#[test]
fn a_failed_snapshot_must_put_the_leader_back_to_replicating() {
    use raft::eraftpb::{Message, MessageType};
    let (leader, follower) = (0u8, 1u8);
    let msg = |kind: MessageType, from: u8, to: u8, term: u64| Message {
        msg_type: kind,
        from: u64::from(from) + 1,
        to: u64::from(to) + 1,
        term,
        ..Default::default()
    };
    let log = log_of(4, 10, 0);
    let (behind, caught_up, moved_on) = (log_of(4, 3, 1), log_of(4, 10, 1), log_of(5, 3, 3));
    // The failure, then the follower's heartbeat response (`synced`: its
    // synced log; the leader's written one ends at 10), then what the
    // leader sends: `answer` to the follower, then a heartbeat of `term`.
    let run =
        |synced: &crate::disk::LogImage, answer: Option<MessageType>, term: u64, restart: bool| {
            let mut c = Checkers::new(3, PersistPolicy::Atomic, true);
            let failed = Observation::Raft(RaftObservation::SnapshotFailed {
                from: leader,
                to: follower,
                term: 4,
            });
            c.observe(0, failed);
            let response = msg(MessageType::MsgHeartbeatResponse, follower, leader, 4);
            let delivered = Observation::Raft(RaftObservation::Delivered {
                from: follower,
                to: leader,
                msg: &response,
                from_synced: synced,
                to_written_last: 10,
            });
            c.observe(1, delivered);
            if let Some(kind) = answer {
                sent(&mut c, leader, &msg(kind, leader, follower, 4), &log);
            }
            if restart {
                c.snapshot_status().on_started(leader);
            }
            let mut later = log.clone();
            later.hard_state.term = term;
            let heartbeat = msg(MessageType::MsgHeartbeat, leader, 2, term);
            sent(&mut c, leader, &heartbeat, &later);
            // (An empty snapshot message breaks raft-snapshot-meta; not this
            // oracle's business.)
            let mut fired = oracles(c);
            fired.retain(|o| o == "raft-snapshot-status");
            fired
        };
    let fired = vec!["raft-snapshot-status".to_string()];
    let none = Vec::<String>::new();
    assert_eq!(run(&behind, None, 4, false), fired);
    assert_eq!(run(&behind, Some(MessageType::MsgAppend), 4, false), none);
    assert_eq!(run(&behind, Some(MessageType::MsgSnapshot), 4, false), none);
    // A heartbeat to another follower is no answer to this one.
    assert_eq!(
        run(&behind, Some(MessageType::MsgHeartbeat), 4, false),
        fired
    );
    assert_eq!(
        run(&caught_up, None, 4, false),
        none,
        "a caught-up follower"
    );
    assert_eq!(
        run(&moved_on, None, 4, false),
        none,
        "a follower in a later term"
    );
    assert_eq!(
        run(&behind, None, 5, false),
        none,
        "a later term ended that leadership"
    );
    assert_eq!(
        run(&behind, None, 4, true),
        none,
        "a restart ended that leadership"
    );
}

/// Leader completeness holds a new leader to the entries committed in
/// earlier terms only: a leader of term 2 that won its votes late (a
/// candidate paused with its grants in flight, seven-nodes seed 792) need
/// not hold what term 3 committed meanwhile; a leader of term 4 must.
#[test]
fn a_leader_owes_only_what_earlier_terms_committed() {
    let judge = |leader_term: u64| {
        let mut c = Checkers::new(3, PersistPolicy::Atomic, true);
        // Entries 1..=4 of term 3 on n2 and n3's synced disks: committed
        // in term 3.
        for node in 1..3 {
            let synced = Observation::Raft(RaftObservation::Synced {
                node,
                log: &log_of(3, 4, 2),
            });
            c.observe(0, synced);
        }
        // n1 leads `leader_term` with an empty log.
        let empty = log_of(leader_term, 0, 1);
        let leader = Observation::Raft(RaftObservation::Leader {
            node: 0,
            term: leader_term,
            log: &empty,
        });
        c.observe(1, leader);
        let mut fired = oracles(c);
        fired.retain(|o| o == "raft-leader-completeness");
        fired
    };
    assert_eq!(judge(2), Vec::<String>::new());
    assert_eq!(judge(4), vec!["raft-leader-completeness".to_string()]);
}

/// Commits come from the synced logs of a majority; an apply past them,
/// or of other bytes than the committed ones, and a snapshot whose term
/// is not the committed entry's, are flagged.
#[test]
fn applies_and_snapshots_are_held_against_the_synced_majority() {
    let setup = || {
        let mut c = Checkers::new(3, PersistPolicy::Atomic, true);
        for node in 0..3 {
            start(&mut c, node, &Image::new(), 0);
        }
        // Entries 1..=4 of term 2 on n1 and n2's synced disks: committed.
        for node in 0..2 {
            c.observe(
                0,
                Observation::Raft(RaftObservation::Synced {
                    node,
                    log: &log_of(2, 4, 1),
                }),
            );
        }
        c
    };
    let kv_at = |index: u64, term: u64, data: Vec<u8>| {
        let mut rec = record(index, data, Outcome::Kv { proposal_id: 1 });
        rec.term = term;
        rec
    };
    let apply_only = |c: &mut Checkers, rec: &ApplyRecord| {
        c.observe(
            0,
            Observation::Applied {
                node: 0,
                who: (0, 0),
                full: FULL,
                rec,
                outcome: "kv",
                window_edge: 0,
            },
        );
    };
    let raft_only = |c: Checkers| -> Vec<String> {
        oracles(c)
            .into_iter()
            .filter(|o| o.starts_with("raft-"))
            .collect()
    };
    let mut c = setup();
    apply_only(&mut c, &kv_at(4, 2, 4u64.to_be_bytes().to_vec()));
    assert_eq!(raft_only(c), Vec::<String>::new());
    let mut c = setup();
    apply_only(&mut c, &kv_at(5, 2, 5u64.to_be_bytes().to_vec()));
    assert!(raft_only(c).contains(&"raft-apply-uncommitted".to_string()));
    let mut c = setup();
    apply_only(&mut c, &kv_at(3, 2, vec![0xEE]));
    assert_eq!(raft_only(c), vec!["raft-state-machine-safety"]);
    // Only one node holds entry 5: not committed; an old term's entry on
    // a node whose term moved on does not count (Raft's Figure 8).
    let mut c = setup();
    c.observe(
        0,
        Observation::Raft(RaftObservation::Synced {
            node: 2,
            log: &log_of(3, 0, 0),
        }),
    );
    let mut old = log_of(2, 5, 1);
    old.hard_state.term = 3;
    c.observe(
        0,
        Observation::Raft(RaftObservation::Synced { node: 1, log: &old }),
    );
    c.observe(
        0,
        Observation::Raft(RaftObservation::Synced {
            node: 0,
            log: &log_of(2, 5, 1),
        }),
    );
    apply_only(&mut c, &kv_at(5, 2, 5u64.to_be_bytes().to_vec()));
    assert!(raft_only(c).contains(&"raft-apply-uncommitted".to_string()));
    for (term, voters, flagged) in [
        (2, vec![1, 2, 3], false),
        (3, vec![1, 2, 3], true),
        (2, vec![1, 2], true),
    ] {
        let mut c = setup();
        let m = meta(4, term, &voters);
        c.observe(
            0,
            Observation::SnapshotTaken {
                node: 0,
                index: 4,
                data: &[],
                meta: &m,
            },
        );
        let fired = raft_only(c);
        assert_fired(&fired, "raft-snapshot-meta", flagged, "");
    }
}

/// START-4 from the harness's disk: a start that joins must have applied
/// every entry up to the commit index its disk held.
#[test]
fn a_join_before_the_replay_reached_the_disk_commit_is_flagged() {
    for (replayed, flagged) in [(2, false), (1, true)] {
        let mut c = Checkers::new(1, PersistPolicy::Atomic, true);
        c.observe(
            0,
            Observation::Started {
                node: 0,
                inc: 0,
                full: FULL,
                deks: &[DEK],
                store: Some(&Image::new()),
                epoch: 0,
                disk_commit: 2,
            },
        );
        for index in 1..=replayed {
            let mut rec = record(index, kv(index), Outcome::Kv { proposal_id: index });
            rec.replay = true;
            apply(&mut c, 0, &rec, "kv");
        }
        c.observe(
            0,
            Observation::StartEnded {
                node: 0,
                outcome: StartOutcome::Joined,
                epoch_file: (1, 1),
            },
        );
        let fired = oracles(c);
        assert_fired(&fired, "start-sequence", flagged, "");
    }
}

#[test]
fn a_difference_shows_the_applied_index_as_a_number_and_rows_in_hex() {
    use super::model::describe_difference;
    let index = |i: u64| {
        Image::from([(
            (Space::Meta, APPLIED_INDEX_KEY.to_vec()),
            i.to_be_bytes().to_vec(),
        )])
    };
    let d = describe_difference(&index(284), &index(283)).unwrap();
    assert_eq!(
        d,
        "durable applied index: store holds 283, model expects 284"
    );
    let row = |v: &[u8]| Image::from([((Space::Registry, vec![0xab]), v.to_vec())]);
    let d = describe_difference(&row(&[1, 2, 3, 4, 5, 6, 7, 8]), &row(&[9; 8])).unwrap();
    assert!(
        d.contains("store holds 0909090909090909, model expects 0102030405060708"),
        "{d}"
    );
}

#[test]
fn a_violation_shows_in_the_printed_trace_where_it_was_judged() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let out = Buffer::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(format!("{}=debug", crate::trace::TARGET))
        .with_writer(move || writer.clone())
        .without_time()
        .with_target(false)
        .with_level(false)
        .finish();
    let mut v = regsim_engine::oracle::Violations::default();
    tracing::subscriber::with_default(subscriber, || {
        v.push("durability", Some(1), 2_500_000, "lost row 7".into());
    });
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text.trim(),
        "2.500000s  n2 VIOLATION [durability] lost row 7"
    );
}

/// The list's order is behaviour: the violations one observation fires
/// are pushed in the order `Checkers` shows it to its checkers, and a
/// run's report records that order. An apply that breaks four checkers'
/// rules at once, a stop that breaks three, a snapshot taken and one sent
/// that break two each.
#[test]
fn one_observation_reaches_every_checker_in_the_lists_order() {
    let mut c = two_nodes_n1_applied_kv();
    // n2 applies other bytes at the committed index 1 (Raft safety, against
    // n1's apply and against the commit), says it did an empty entry
    // (conformance), returns unsynced (sync-before-ack), and its model now
    // differs from n1's at 1 (replica agreement).
    let mut rec = record(1, kv(6), Outcome::Kv { proposal_id: 6 });
    rec.unsynced = true;
    let applied = Observation::Applied {
        node: 1,
        who: (1, 0),
        full: FULL,
        rec: &rec,
        outcome: "empty",
        window_edge: 0,
    };
    c.observe(1, applied);
    // n2 stops holding nothing (the model holds its KV pair), with a
    // library digest of something else, at a converged end that must show
    // the acknowledged KV commands.
    let mut wrong = StateDigest::default();
    wrong.update(Space::Kv, b"k", b"v", true);
    let stopped = Observation::Stopped {
        node: 1,
        store: &Image::new(),
        library_digest: Some(wrong),
        converged_end: true,
    };
    c.observe(2, stopped);
    // n1 takes a snapshot whose metadata names no voters and whose bytes
    // do not decode, then sends one of a term its disk has not synced.
    let empty = meta(0, 0, &[]);
    let taken = Observation::SnapshotTaken {
        node: 0,
        index: 1,
        data: b"x",
        meta: &empty,
    };
    c.observe(3, taken);
    let snapshot = raft::eraftpb::Message {
        msg_type: raft::eraftpb::MessageType::MsgSnapshot,
        to: 2,
        from: 1,
        term: 5,
        ..Default::default()
    };
    sent(&mut c, 0, &snapshot, &log_of(1, 1, 0));
    let fired = oracles(c);
    assert_eq!(
        fired,
        [
            "sync-before-ack",
            "raft-state-machine-safety",
            "raft-state-machine-safety",
            "conformance",
            "replica-agreement",
            "conformance-state",
            "library-digest",
            "client-visible",
            "raft-snapshot-meta",
            "snapshot-content",
            "raft-persisted-before-send",
            "raft-snapshot-meta",
        ]
    );
}

/// With the oracles off only the purpose oracle is shown observations:
/// an apply that returned unsynced breaks nothing, while an unjustified
/// halt is still a finding.
#[test]
fn with_the_oracles_off_only_the_purpose_oracle_is_shown() {
    for on in [true, false] {
        let mut c = Checkers::new(1, PersistPolicy::Atomic, on);
        let mut rec = record(1, kv(5), Outcome::Kv { proposal_id: 5 });
        rec.unsynced = true;
        apply(&mut c, 0, &rec, "kv");
        let mut halted = record(2, registration(3), Outcome::Empty);
        halted.result = Err(writer_registry::Halt::Collision {
            dek: DEK,
            node16: (FULL & 0xFFFF) as u16,
            existing: FULL ^ 0x1_0000,
            incoming: FULL,
            epoch: 3,
            first_seen: 1,
            last_seen: 1,
        });
        apply(&mut c, 0, &halted, "collision");
        let (violations, purpose) = c.finish();
        let fired: Vec<String> = violations.list.into_iter().map(|v| v.oracle).collect();
        assert_fired(&fired, "sync-before-ack", on, "");
        assert_eq!(!fired.is_empty(), on, "{fired:?}");
        let findings: Vec<&str> = purpose
            .failures()
            .iter()
            .map(|f| f.signature.as_str())
            .collect();
        assert_eq!(findings, ["unjustified-halt:collision:steady"]);
    }
}
