//! The native world at its own level: a three-node cluster on the memory
//! store, driven call by call, its trace read line by line, so that a
//! change of the transport's rules fails here, named, before any trace
//! hash moves.

use raft::eraftpb::MessageType;

use super::*;
use crate::world::system::System;
use crate::world::target::Target;
use crate::world::testing;

fn schedule() -> Schedule {
    Schedule {
        format: crate::schedule::FORMAT_VERSION,
        seed: 1,
        nodes: None,
        events: Vec::new(),
    }
}

/// A world whose nodes have all started.
fn world<'a>(sc: &'a Scenario, schedule: &'a Schedule) -> Sim<'a> {
    let mut sim = Sim::new(sc, schedule, testing::options());
    for node in 0..sc.nodes {
        sim.restart(node);
    }
    lines(&mut sim);
    sim
}

/// The trace's lines since the last call, as `node kind`.
fn lines(sim: &mut Sim<'_>) -> Vec<String> {
    let lines = testing::lines(&mut sim.c.sys.obs.trace, 1..3);
    lines
        .into_iter()
        .filter(|l| !l.ends_with(" tick"))
        .collect()
}

fn heartbeat(from: u8, to: u8) -> Message {
    let mut m = Message::default();
    m.set_msg_type(MessageType::MsgHeartbeat);
    (m.from, m.to) = (u64::from(from) + 1, u64::from(to) + 1);
    m
}

fn incarnation(sim: &Sim<'_>, node: u8) -> u32 {
    sim.c.incarnation(node)
}

/// Delivers `msg` as sent from `(node, incarnation)` to `(node, incarnation)`.
fn deliver(sim: &mut Sim<'_>, from: (u8, u32), to: (u8, u32), msg: Message) {
    let sent = Envelope {
        from: from.0,
        from_inc: from.1,
        to: to.0,
        to_inc: to.1,
    };
    sim.deliver(sent, msg);
}

fn delivered(lines: &[String]) -> usize {
    lines.iter().filter(|l| l.ends_with(" deliver")).count()
}

#[test]
fn what_a_crashed_sender_had_in_flight_dies_and_what_was_sent_to_one_is_dropped_as_it_arrives() {
    let (sc, schedule) = (testing::default_scenario(), schedule());
    let mut sim = world(&sc, &schedule);
    let (n1, n2) = (incarnation(&sim, 0), incarnation(&sim, 1));
    deliver(&mut sim, (0, n1), (1, n2), heartbeat(0, 1));
    assert_eq!(delivered(&lines(&mut sim)), 1, "a live sender's message");
    Target::crash(&mut sim, 0, false);
    lines(&mut sim);
    deliver(&mut sim, (0, n1), (1, n2), heartbeat(0, 1));
    assert_eq!(
        lines(&mut sim),
        Vec::<String>::new(),
        "a dead sender's message"
    );
    Target::crash(&mut sim, 1, false);
    lines(&mut sim);
    let now = incarnation(&sim, 0);
    deliver(&mut sim, (0, now), (1, n2), heartbeat(0, 1));
    assert_eq!(
        lines(&mut sim),
        ["n2 drop-partition"],
        "to a gone incarnation"
    );
}

#[test]
fn what_reaches_a_paused_process_waits_and_is_handed_over_at_resume() {
    let (sc, schedule) = (testing::default_scenario(), schedule());
    let mut sim = world(&sc, &schedule);
    let (n1, n2) = (incarnation(&sim, 0), incarnation(&sim, 1));
    assert!(Target::pause(&mut sim, 1));
    deliver(&mut sim, (0, n1), (1, n2), heartbeat(0, 1));
    let n3 = incarnation(&sim, 2);
    deliver(&mut sim, (2, n3), (1, n2), heartbeat(2, 1));
    assert_eq!(
        delivered(&lines(&mut sim)),
        0,
        "a paused process took a message"
    );
    Target::resume(&mut sim, 1);
    let after = lines(&mut sim);
    assert_eq!(after[0], "n2 resume", "{after:?}");
    assert_eq!(delivered(&after), 2, "{after:?}");
    // A crash while paused loses what waited, with the process: the next
    // incarnation, paused and resumed, is handed nothing.
    assert!(Target::pause(&mut sim, 1));
    deliver(&mut sim, (0, n1), (1, n2), heartbeat(0, 1));
    assert_eq!(sim.held.len(1), 1);
    Target::crash(&mut sim, 1, false);
    assert!(sim.held.len(1) == 0, "held work outlived its process");
    Target::restart(&mut sim, 1);
    assert!(Target::pause(&mut sim, 1));
    Target::resume(&mut sim, 1);
    assert_eq!(delivered(&lines(&mut sim)), 0);
}

// ---------------------------------------------- the cluster both worlds hold

#[test]
fn a_started_node_owes_its_registrations_and_nothing_once_stopped() {
    let (sc, schedule) = (testing::default_scenario(), schedule());
    let mut sim = world(&sc, &schedule);
    assert!(sim.c.owed_in_flight(), "every node that just joined owes");
    let due = WriterRegistry::owed(&mut sim.c, 0);
    let mut sorted = due.clone();
    sorted.sort_unstable();
    let mut deks = sc.deks.clone();
    deks.sort_unstable();
    assert_eq!(
        sorted, deks,
        "every dek, in the proposal order's arrangement"
    );
    sim.stop(0, DownReason::Crashed);
    assert_eq!(
        WriterRegistry::owed(&mut sim.c, 0),
        Vec::<u32>::new(),
        "no process, nothing owed"
    );
    assert_eq!(WriterRegistry::proposal(&mut sim.c, 0, &deks[0]), None);
    assert!(WriterRegistry::proposal(&mut sim.c, 1, &deks[0]).is_some());
}

#[test]
fn a_process_ending_and_a_failed_start_each_begin_a_new_incarnation() {
    let (sc, schedule) = (testing::default_scenario(), schedule());
    let mut sim = world(&sc, &schedule);
    let before = incarnation(&sim, 2);
    let ended = sim.c.end_process(2, DownReason::Crashed);
    assert!(ended.is_some(), "a running process leaves its store");
    assert_eq!(incarnation(&sim, 2), before + 1);
    assert!(lines(&mut sim).contains(&"n3 stop".to_string()));
    sim.c.not_started(2, DownReason::Refused);
    assert_eq!(incarnation(&sim, 2), before + 2);
    assert!(
        !sim.c.nodes[2].state.may_start(),
        "a refused node stays down"
    );
}

#[test]
fn tick_delays_are_the_tick_plus_up_to_a_tenth_drawn_per_node() {
    let (sc, schedule) = (testing::default_scenario(), schedule());
    let tick = sc.tick_ms * 1000;
    let draw = |first: u8| {
        let mut sim = Sim::new(&sc, &schedule, testing::options());
        if first != 1 {
            // Another node's draws must not shift node 1's.
            for _ in 0..5 {
                sim.c.tick_delay_us(first);
            }
        }
        (0..50).map(|_| sim.c.tick_delay_us(1)).collect::<Vec<_>>()
    };
    let alone = draw(1);
    assert_eq!(alone, draw(0));
    let mut sim = Sim::new(&sc, &schedule, testing::options());
    let node0: Vec<u64> = (0..50).map(|_| sim.c.tick_delay_us(0)).collect();
    assert_ne!(alone, node0, "each node has a stream of its own");
    assert!(
        alone.iter().all(|d| (tick..=tick + tick / 10).contains(d)),
        "{alone:?}"
    );
    assert!(alone.iter().any(|d| *d != alone[0]), "jitter: {alone:?}");
}

#[test]
fn a_sync_completes_after_a_drawn_latency_never_before_the_node_s_earlier_syncs() {
    let sc = testing::default_scenario();
    let [lo, hi] = sc.storage.sync_us;
    let disks = |first: u8| {
        let mut d = Disks::new(sc.nodes, &testing::options(), &Streams::new(1));
        if first != 1 {
            // Another node's syncs must not shift node 1's latencies.
            for _ in 0..5 {
                d.sync_done_at(first, 0, sc.storage.sync_us);
            }
        }
        d
    };
    // Far apart: each completes its own latency after it was asked.
    let mut d = disks(1);
    let apart: Vec<u64> = (0..20)
        .map(|k| d.sync_done_at(1, k * 1_000_000, sc.storage.sync_us) - k * 1_000_000)
        .collect();
    assert!(apart.iter().all(|l| (lo..=hi).contains(l)), "{apart:?}");
    assert!(apart.iter().any(|l| *l != apart[0]), "drawn: {apart:?}");
    let mut other = disks(0);
    let shifted: Vec<u64> = (0..20)
        .map(|k| other.sync_done_at(1, k * 1_000_000, sc.storage.sync_us) - k * 1_000_000)
        .collect();
    assert_eq!(apart, shifted, "node 0's syncs drew from node 1's stream");
    // Asked at once: each waits for the one before it.
    let mut d = disks(1);
    let at_once: Vec<u64> = (0..20)
        .map(|_| d.sync_done_at(1, 0, sc.storage.sync_us))
        .collect();
    assert!(at_once.windows(2).all(|w| w[0] <= w[1]), "{at_once:?}");
}

#[test]
fn a_cut_link_drops_what_leaves_on_it_and_a_healed_one_carries_both_incarnations() {
    let (sc, schedule) = (testing::default_scenario(), schedule());
    let mut sim = world(&sc, &schedule);
    Target::partition(&mut sim, &[0]);
    let msg = heartbeat(0, 1);
    assert!(matches!(
        sim.transport.send(&mut sim.c, 0, &msg),
        Leaving::Dropped { to: 1 }
    ));
    assert_eq!(lines(&mut sim), ["n1 drop-partition"]);
    Target::heal(&mut sim);
    let leaving = sim.transport.send(&mut sim.c, 0, &msg);
    let Leaving::InFlight { sent, .. } = leaving else {
        panic!("a healed link dropped a message");
    };
    assert_eq!((sent.from, sent.to), (0, 1));
    assert_eq!(
        (sent.from_inc, sent.to_inc),
        (incarnation(&sim, 0), incarnation(&sim, 1))
    );
    let to_nobody = heartbeat(0, 7);
    assert!(matches!(
        sim.transport.send(&mut sim.c, 0, &to_nobody),
        Leaving::Nowhere
    ));
}

#[test]
fn a_stop_closes_the_store_as_it_was_left_and_a_start_reopens_it_for_a_new_incarnation() {
    let (sc, schedule) = (testing::default_scenario(), schedule());
    let mut sim = world(&sc, &schedule);
    let before = incarnation(&sim, 2);
    Target::crash(&mut sim, 2, false);
    // What the store holds and what of it reached a sync, as it closed.
    assert_eq!(lines(&mut sim), ["n3 stop", "n3 state", "n3 synced-state"]);
    assert_eq!(incarnation(&sim, 2), before + 1);
    assert_eq!(sim.held.len(2), 0);
    Target::restart(&mut sim, 2);
    let started = lines(&mut sim);
    // The reopened store's state first, then the start sequence.
    assert_eq!(
        started[..4],
        ["n3 state", "n3 start", "n3 epoch-file", "n3 durable"],
        "{started:?}"
    );
    assert!(
        started.contains(&"n3 epoch-bump".to_string()),
        "{started:?}"
    );
    assert!(matches!(sim.c.nodes[2].state, Process::Up(_)));
    assert_eq!(incarnation(&sim, 2), before + 1, "a start keeps its number");
    // A node refused at a start stays down: nothing reopens.
    Target::crash(&mut sim, 2, false);
    sim.c.not_started(2, DownReason::Refused);
    lines(&mut sim);
    Target::restart(&mut sim, 2);
    assert_eq!(lines(&mut sim), Vec::<String>::new());
    assert!(matches!(
        sim.c.nodes[2].state,
        Process::Down(DownReason::Refused)
    ));
}
