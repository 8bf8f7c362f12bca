//! The node core driven by hand, with no simulator: an in-memory Raft log
//! (raft-rs's `MemStorage`), an epoch cell and the library's memory
//! registry stand in for the three storage traits.

use regsim_engine::mem_log::MemLog;
use writer_registry::registry::{Batch, Pairs, Space, StoreError};
use writer_registry::{MemoryRegistry, PersistPolicy, RowKey, WriterRegistryStore};

use super::storage::{EpochStore, NodeStore, RaftLog};
use super::*;

#[derive(Default)]
struct EpochCell(u16);

impl EpochStore for EpochCell {
    fn read(&self) -> u16 {
        self.0
    }
    fn write(&mut self, epoch: u16) {
        self.0 = epoch;
    }
    fn sync(&mut self) {}
}

/// The memory registry, counting writes no sync has covered.
#[derive(Default)]
struct Counted {
    inner: MemoryRegistry,
    unsynced: usize,
}

impl WriterRegistryStore for Counted {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(space, key)
    }
    fn scan(&self, space: Space) -> Result<Pairs, StoreError> {
        self.inner.scan(space)
    }
    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.unsynced += 1;
        self.inner.write(batch)
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        self.unsynced = 0;
        self.inner.sync()
    }
}

impl NodeStore for Counted {
    fn unsynced_writes(&self) -> usize {
        self.unsynced
    }
}

const N1: u64 = 0x08b3_7b07_b558_d4c0;

fn params() -> NodeParams {
    NodeParams {
        index: 0,
        full_node_id: N1,
        deks: vec![7],
        policy: PersistPolicy::Faithful,
        election_tick: 5,
        heartbeat_tick: 1,
        mutant: Default::default(),
    }
}

fn logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

type Core = NodeCore<MemLog, Counted>;

/// Completes every sync the outputs ask for, in order, like a driver.
fn settle(
    core: &mut Core,
    out: &mut Vec<Output<Counted>>,
    seen: &mut Vec<Output<Counted>>,
) -> bool {
    let mut halted = false;
    while let Some(o) = (!out.is_empty()).then(|| out.remove(0)) {
        if let Output::Sync { ready } = o {
            halted |= core.sync_done(ready, out, &mut NoCrashes).unwrap();
        }
        seen.push(o);
    }
    halted
}

fn lead(core: &mut Core, seen: &mut Vec<Output<Counted>>) {
    let mut out = Vec::new();
    for _ in 0..50 {
        core.tick(&mut out, &mut NoCrashes).unwrap();
        settle(core, &mut out, seen);
        if core.is_leader() {
            return;
        }
    }
    panic!("a single voter never led");
}

/// A new node started over an empty log and store.
fn fresh(epoch: &mut EpochCell, out: &mut Vec<Output<Counted>>) -> Core {
    start(
        params(),
        MemLog::single_voter(),
        epoch,
        Counted::default(),
        &logger(),
        out,
    )
    .unwrap_or_else(|e| panic!("{:?}", e.failure))
}

#[test]
fn a_fresh_node_runs_the_start_sequence_leads_registers_and_may_encrypt() {
    let mut epoch = EpochCell::default();
    let mut out = Vec::new();
    let mut core = fresh(&mut epoch, &mut out);
    // START-2, START-3, START-5, in that order.
    let kinds: Vec<String> = out
        .iter()
        .map(|o| match o {
            Output::Note(Note::Guard {
                stage,
                epoch,
                result,
            }) => format!("guard {stage:?} {epoch} {}", result.is_ok()),
            Output::Note(Note::EpochBumped { from, to }) => format!("bump {from}->{to}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "guard BeforeBump 0 true",
            "bump 0->1",
            "guard AfterReplay 1 true"
        ]
    );
    assert_eq!((epoch.0, core.app().epoch()), (1, 1));
    let mut seen = Vec::new();
    lead(&mut core, &mut seen);
    assert_eq!(core.app().unregistered_deks(), vec![7]);
    assert!(
        !core.app().can_encrypt(7),
        "START-7: not before the registration applies"
    );
    let mut out = Vec::new();
    assert!(core
        .propose(
            core.app().registration_entry(7, 1),
            &mut out,
            &mut NoCrashes
        )
        .unwrap());
    settle(&mut core, &mut out, &mut seen);
    let applied = seen
        .iter()
        .find_map(|o| match o {
            Output::Applied(rec) if rec.row.is_some() => Some(rec.clone()),
            _ => None,
        })
        .expect("the registration applied");
    assert!(!applied.replay && !applied.unsynced);
    let key = RowKey {
        dek: 7,
        node16: 0xd4c0,
    }
    .encode()
    .to_vec();
    let row = writer_registry::hex::decode("08b37b07b558d4c000010001").unwrap();
    assert_eq!(applied.row, Some((key, Some(row))), "docs/spec.md APPLY-2");
    assert!(core.app().can_encrypt(7));
    assert!(core.app().unregistered_deks().is_empty());
}

#[test]
fn a_restart_bumps_the_epoch_and_replays_its_own_log_before_joining() {
    let log = MemLog::single_voter();
    let mut epoch = EpochCell::default();
    let mut out = Vec::new();
    let mut core = start(
        params(),
        log.clone(),
        &mut epoch,
        Counted::default(),
        &logger(),
        &mut out,
    )
    .unwrap_or_else(|e| panic!("{:?}", e.failure));
    let mut seen = Vec::new();
    lead(&mut core, &mut seen);
    let mut out = Vec::new();
    core.propose(
        core.app().registration_entry(7, 1),
        &mut out,
        &mut NoCrashes,
    )
    .unwrap();
    settle(&mut core, &mut out, &mut seen);
    // The process dies; the log, the epoch file and the store survive.
    let store = core.into_app().into_store();
    let durable = store.applied_index().unwrap().unwrap_or(0);
    let commit = log.persisted_commit();
    assert!(commit >= 2, "the registration committed");
    let mut out = Vec::new();
    let core = start(params(), log, &mut epoch, store, &logger(), &mut out)
        .unwrap_or_else(|e| panic!("{:?}", e.failure));
    assert_eq!(core.app().epoch(), 2, "START-3: bumped at every start");
    // Faithful: registrations never move the durable applied index, so
    // the registration is applied again, as a replay, before joining.
    let replayed: Vec<u64> = out
        .iter()
        .filter_map(|o| match o {
            Output::Applied(rec) if rec.replay => Some(rec.index),
            _ => None,
        })
        .collect();
    // START-4 / REPLAY-3: exactly the entries after the durable applied
    // index, up to the persisted commit.
    assert_eq!(
        replayed,
        (durable + 1..=commit).collect::<Vec<_>>(),
        "{out:?}"
    );
    let guard_after = out.iter().position(|o| {
        matches!(
            o,
            Output::Note(Note::Guard {
                stage: GuardStage::AfterReplay,
                ..
            })
        )
    });
    let last_replay = out
        .iter()
        .rposition(|o| matches!(o, Output::Applied(rec) if rec.replay));
    assert!(last_replay < guard_after, "START-5 comes after the replay");
    assert!(
        !core.app().can_encrypt(7),
        "a new incarnation registers again"
    );
}

#[test]
fn a_crash_point_the_driver_arms_kills_the_core_there() {
    struct AtWrite;
    impl CrashPoints for AtWrite {
        fn at_ready_step(&mut self, step: ReadyStep) -> bool {
            step == ReadyStep::AfterWrite
        }
        fn before_own_proposal_applies(&mut self) -> bool {
            false
        }
    }
    let mut epoch = EpochCell::default();
    let mut out = Vec::new();
    let mut core = fresh(&mut epoch, &mut out);
    let mut seen = Vec::new();
    lead(&mut core, &mut seen);
    let mut out = Vec::new();
    let crashed = core.propose(core.app().registration_entry(7, 1), &mut out, &mut AtWrite);
    assert_eq!(crashed, Err(Crashed { partial: None }));
}

#[test]
fn an_exhausted_epoch_file_refuses_and_hands_the_store_back() {
    let mut epoch = EpochCell(0xFFFF);
    let mut out = Vec::new();
    let Err(not) = start(
        params(),
        MemLog::single_voter(),
        &mut epoch,
        Counted::default(),
        &logger(),
        &mut out,
    ) else {
        panic!("started with epochs exhausted")
    };
    assert!(matches!(
        not.failure,
        StartFailure::Refused(Refusal::EpochsExhausted)
    ));
    assert!(not.app.is_some());
    assert_eq!(epoch.0, 0xFFFF, "nothing bumped");
}
