//! The engine's own trace kinds: a node's life, Raft, the network, and
//! the faults the engine injects. A system under test declares its kinds
//! beside these, in its own crate, the same way.

use super::kind::{Field::*, Kind};

/// Why a node went down, as recorded (the lifecycle's reason code).
pub const DOWN_REASONS: &[&str] = &["crashed", "halted", "refused", "broken"];
/// Where in a Ready an armed crash fires, in the node core's order.
pub const READY_STEPS: &[&str] = &[
    "after-send",
    "after-write",
    "after-sync",
    "after-persisted-send",
    "mid-apply",
];

/// A process starts: its incarnation and its election timeout in ticks.
pub static START: Kind = Kind::event("start", Num("incarnation"), Num("election_tick"));

/// A running node goes down.
pub static STOP: Kind = Kind::event("stop", Choice("reason", DOWN_REASONS), Unused);

/// A start that did not join: why the node is down.
pub static START_FAILED: Kind = Kind::event("start-failed", Choice("reason", DOWN_REASONS), Unused);

/// The harness's digest of every pair the store holds, and their count.
pub static STATE: Kind = Kind::event("state", Digest("digest"), Num("pairs"));

/// The same digest of what the store had synced when it stopped.
pub static SYNCED_STATE: Kind = Kind::event("synced-state", Digest("digest"), Num("pairs"));

/// The store could not be read back.
pub static STATE_UNREADABLE: Kind = Kind::event("state-unreadable", Unused, Unused);

/// A crash armed inside the node fired.
pub static ARMED_CRASH_FIRED: Kind = Kind::event("armed-crash-fired", Flag("power_loss"), Unused);

/// A start's recovery cut a torn or lost tail of the raft log file
/// (hosted runtimes).
pub static RAFT_LOG_CUT: Kind = Kind::event("raft-log-cut", Num("bytes"), Unused);

/// The node became leader.
pub static LEADER: Kind = Kind::event("leader", Num("term"), Unused);

/// An entry applied for the first time; the line also shows the entry's
/// bytes (`entry=<hex>`, for `regsim inspect entry`).
pub static APPLY: Kind = Kind::event("apply", Num("index"), Num("term"));

/// An entry applied again after a restart (the replay window).
pub static REPLAY: Kind = Kind::event("replay", Num("index"), Num("term"));

/// The FSM halted at this index.
pub static HALT: Kind = Kind::event("halt", Num("index"), Unused);

/// The node took a snapshot at this index and compacted its log.
pub static SNAPSHOT: Kind = Kind::event("snapshot", Num("index"), Unused);

/// The FSM restored a snapshot: installed from the leader, or its own
/// replayed at a start.
pub static SNAPSHOT_RESTORED: Kind = Kind::event("snapshot-restored", Num("index"), Flag("replay"));

/// A client's KV command proposed.
pub static KV_PROPOSE: Kind = Kind::event("kv-propose", Num("proposal"), Unused);

/// The process stops running (SIGSTOP).
pub static PAUSE: Kind = Kind::event("pause", Unused, Unused);

/// It runs again, with the messages and syncs held while paused.
pub static RESUME: Kind = Kind::event("resume", Num("held"), Unused);

/// The hosted runtimes' resume (they hold nothing to count).
pub static RESUME_HOSTED: Kind = Kind::event("resume", Unused, Unused);

/// Power is lost: unsynced writes go.
pub static POWER_LOSS: Kind = Kind::event("power-loss", Unused, Unused);

/// A runtime with no durability model ran a power loss as a crash.
pub static POWER_LOSS_AS_CRASH: Kind = Kind::event("power-loss-as-crash", Unused, Unused);

/// A crash armed at a step of the Ready loop.
pub static ARM_READY_CRASH: Kind = Kind::event(
    "arm-ready-crash",
    Choice("step", READY_STEPS),
    Flag("power_loss"),
);

/// The cluster splits: these nodes on one side.
pub static PARTITION: Kind = Kind::event("partition", Nodes("side"), Unused);

/// One direction of one link is cut.
pub static ONE_WAY: Kind = Kind::event("one-way", Node("from"), Node("to"));

/// Every link is whole again.
pub static HEAL: Kind = Kind::event("heal", Unused, Unused);

/// The fault phase ends: every node heals, resumes and restarts.
pub static END_OF_FAULTS: Kind = Kind::event("end-of-faults", Unused, Unused);

/// A Raft tick.
pub static TICK: Kind = Kind::noise("tick", Unused, Unused);

/// A Ready's writes synced (its number).
pub static SYNC: Kind = Kind::noise("sync", Num("ready"), Unused);

/// A message sent (its log index: the entries' or the probe's).
pub static SEND: Kind = Kind::noise("send", Node("to"), MsgAndIndex);

/// A message arrived and was stepped.
pub static DELIVER: Kind = Kind::noise("deliver", Node("from"), Msg);

/// A message lost in transit.
pub static DROP: Kind = Kind::noise("drop", Node("to"), Msg);

/// A message not sent: the link is cut.
pub static DROP_PARTITION: Kind = Kind::noise("drop-partition", Node("to"), Msg);

/// A message that arrived at a cut link or a restarted receiver
/// (recorded at the receiver).
pub static DROP_ARRIVING: Kind = Kind::noise("drop-partition", Node("from"), Unused);

/// A snapshot reached its follower.
pub static SNAPSHOT_DELIVERED: Kind = Kind::event("snapshot-delivered", Node("to"), Unused);

/// A snapshot did not reach its follower.
pub static SNAPSHOT_FAILED: Kind = Kind::event("snapshot-failed", Node("to"), Unused);

/// Every engine kind, for the tests (a source scan checks that nothing
/// declared above is missing).
pub static ALL: &[&Kind] = &[
    &START,
    &STOP,
    &START_FAILED,
    &STATE,
    &SYNCED_STATE,
    &STATE_UNREADABLE,
    &ARMED_CRASH_FIRED,
    &RAFT_LOG_CUT,
    &LEADER,
    &APPLY,
    &REPLAY,
    &HALT,
    &SNAPSHOT,
    &SNAPSHOT_RESTORED,
    &KV_PROPOSE,
    &PAUSE,
    &RESUME,
    &RESUME_HOSTED,
    &POWER_LOSS,
    &POWER_LOSS_AS_CRASH,
    &ARM_READY_CRASH,
    &PARTITION,
    &ONE_WAY,
    &HEAL,
    &END_OF_FAULTS,
    &TICK,
    &SYNC,
    &SEND,
    &DELIVER,
    &DROP,
    &DROP_PARTITION,
    &DROP_ARRIVING,
    &SNAPSHOT_DELIVERED,
    &SNAPSHOT_FAILED,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::kind::Level;

    #[test]
    fn the_table_lists_every_kind_declared() {
        let source = include_str!("kinds.rs");
        let declared = source
            .lines()
            .filter(|l| l.starts_with("pub static ") && !l.starts_with("pub static ALL"))
            .count();
        assert_eq!(declared, ALL.len());
    }

    #[test]
    fn only_ticks_syncs_and_messages_are_noise() {
        for k in ALL {
            let noise = ["tick", "sync", "send", "deliver", "drop", "drop-partition"];
            assert_eq!(
                k.level() == Level::Noise,
                noise.contains(&k.name()),
                "{}",
                k.name()
            );
        }
    }
}
