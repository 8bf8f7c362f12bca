//! The kept trace events as a report reads them: each decoded, here and
//! only here, by its kind into what happened, with its numbers named, so
//! that a page never compares a kind's name or reads a field by its
//! position. What a kind's two numbers mean is declared with the kind
//! ([`super::kinds`]); this module is the one reader of that meaning, and
//! its tests hold the two together.

use super::kinds::{self, BytesKind, Kind};
use super::{Event, ROWS};

/// Why a node went down (the `reason` of a stop or a failed start, as
/// the engine's `DownReason` numbers it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Down {
    Crashed,
    Halted,
    Refused,
    Broken,
}

impl Down {
    fn of(code: u64) -> Option<Down> {
        [Down::Crashed, Down::Halted, Down::Refused, Down::Broken]
            .get(usize::try_from(code).ok()?)
            .copied()
    }

    /// As the trace names it.
    pub fn name(self) -> &'static str {
        kinds::DOWN_REASONS[self as usize]
    }
}

/// What an apply did: the event that follows an apply or a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An empty entry (a new leader's no-op).
    Empty,
    /// An ordinary KV command.
    Kv,
    /// A registration into an empty slot.
    Insert,
    /// A registration that advanced its row.
    Advance,
    /// A registration at the row's last_seen: nothing written.
    NoOp,
    /// The FSM halted, for the reason named.
    Halt(&'static str),
}

impl Outcome {
    /// As the trace names it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Empty => kinds::APPLIED_EMPTY.name(),
            Outcome::Kv => kinds::APPLIED_KV.name(),
            Outcome::Insert => kinds::APPLIED_INSERT.name(),
            Outcome::Advance => kinds::APPLIED_ADVANCE.name(),
            Outcome::NoOp => kinds::APPLIED_NO_OP.name(),
            Outcome::Halt(name) => name,
        }
    }

    /// A registration applied (a glyph on the page, not a count).
    pub fn is_registration(self) -> bool {
        matches!(self, Outcome::Insert | Outcome::Advance | Outcome::NoOp)
    }
}

/// One kept event, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened<'a> {
    /// The links between the nodes in the mask `side` (bit k: node k) and
    /// the rest are cut.
    Partition {
        side: u64,
    },
    /// The link from `from` to `to` (0-based) is cut.
    OneWay {
        from: u64,
        to: u64,
    },
    Heal,
    EndOfFaults,
    Start {
        incarnation: u64,
        election_ticks: u64,
    },
    /// A running process stopped, or a start did not join
    /// (`failed_start`); `None` for a reason this build does not know.
    Stop {
        reason: Option<Down>,
        failed_start: bool,
    },
    ArmedCrashFired {
        power_loss: bool,
    },
    PowerLoss,
    PowerLossKept {
        kept: u64,
        unsynced: u64,
    },
    Pause,
    Resume,
    Leader {
        term: u64,
    },
    /// `at_start`: restored from the node's own snapshot as it started;
    /// else installed from the leader.
    SnapshotRestored {
        index: u64,
        at_start: bool,
    },
    /// The durable applied index a start found.
    Durable {
        applied: u64,
    },
    /// An entry applied (`replay`: again, in a start's replay window);
    /// its [`Outcome`] follows.
    Apply {
        index: u64,
        term: u64,
        replay: bool,
    },
    /// The apply of entry `index` did not halt: what it did. (A halt's
    /// kind can share its name with a refusal's: read it with
    /// [`outcome`], after its apply.)
    Applied {
        outcome: Outcome,
        index: u64,
    },
    /// A guard check refused (`after_replay`: START-5's; else START-2's);
    /// the refusal's own kind follows.
    GuardRefused {
        after_replay: bool,
        epoch: u64,
    },
    EpochBump {
        from: u64,
        to: u64,
    },
    EpochRollback {
        to: u64,
    },
    EpochPreset {
        epoch: u64,
    },
    /// A registry row (`[key, value]`, or `[key]` when there is none).
    Row {
        bytes: &'a [Vec<u8>],
    },
    /// A down node's registry row damaged (`[key, value]` as left).
    RowCorrupted {
        bytes: &'a [Vec<u8>],
    },
    /// The rows a store held, keys and values alternating.
    Rows {
        bytes: &'a [Vec<u8>],
    },
    /// A faulty client proposed a registration of the non-member `writer`
    /// sharing a member's node16.
    InjectCollision {
        writer: u64,
        dek: u64,
    },
    InjectMalformed {
        variant: u64,
    },
    InjectExotic {
        opcode: u64,
    },
    /// An armed store error fired on the registry's write or its `sync`.
    StoreFaultFired {
        sync: bool,
    },
    /// What the report does not draw.
    Other,
}

impl<'a> Happened<'a> {
    /// Whether this is a stop the run's end made, happening at `at_us` in
    /// a run that ended at `run_end_us`: the run's end stops every process
    /// still up as a crash, which is no crash of the system's (the report
    /// draws none, and counts the node up). A start that failed is never
    /// one: the node was down before the run ended (an armed crash that
    /// struck a start at the last instant is a crash).
    pub fn is_run_end_stop(&self, at_us: u64, run_end_us: u64) -> bool {
        let stop = Happened::Stop {
            reason: Some(Down::Crashed),
            failed_start: false,
        };
        *self == stop && at_us >= run_end_us
    }

    /// Decodes a kept event.
    pub fn of(e: &'a Event) -> Happened<'a> {
        let is = |k: &Kind| e.kind == k.name();
        let bytes = |k: &BytesKind| e.kind == k.name();
        let (a, b) = (e.a, e.b);
        if is(&kinds::PARTITION) {
            Happened::Partition { side: a }
        } else if is(&kinds::ONE_WAY) {
            Happened::OneWay { from: a, to: b }
        } else if is(&kinds::HEAL) {
            Happened::Heal
        } else if is(&kinds::END_OF_FAULTS) {
            Happened::EndOfFaults
        } else if is(&kinds::START) {
            Happened::Start {
                incarnation: a,
                election_ticks: b,
            }
        } else if is(&kinds::STOP) || is(&kinds::START_FAILED) {
            Happened::Stop {
                reason: Down::of(a),
                failed_start: is(&kinds::START_FAILED),
            }
        } else if is(&kinds::ARMED_CRASH_FIRED) {
            Happened::ArmedCrashFired { power_loss: a == 1 }
        } else if is(&kinds::POWER_LOSS) {
            Happened::PowerLoss
        } else if is(&kinds::POWER_LOSS_KEPT) {
            Happened::PowerLossKept {
                kept: a,
                unsynced: b,
            }
        } else if is(&kinds::PAUSE) {
            Happened::Pause
        } else if is(&kinds::RESUME) {
            Happened::Resume
        } else if is(&kinds::LEADER) {
            Happened::Leader { term: a }
        } else if is(&kinds::SNAPSHOT_RESTORED) {
            Happened::SnapshotRestored {
                index: a,
                at_start: b == 1,
            }
        } else if is(&kinds::DURABLE) {
            Happened::Durable { applied: a }
        } else if is(&kinds::APPLY) || is(&kinds::REPLAY) {
            Happened::Apply {
                index: a,
                term: b,
                replay: is(&kinds::REPLAY),
            }
        } else if let Some(outcome) = applied(e) {
            Happened::Applied { outcome, index: a }
        } else if is(&kinds::GUARD_REFUSED) {
            Happened::GuardRefused {
                after_replay: a == 1,
                epoch: b,
            }
        } else if is(&kinds::EPOCH_BUMP) {
            Happened::EpochBump { from: a, to: b }
        } else if is(&kinds::EPOCH_ROLLBACK) {
            Happened::EpochRollback { to: a }
        } else if is(&kinds::EPOCH_PRESET) {
            Happened::EpochPreset { epoch: a }
        } else if bytes(&kinds::ROW) {
            Happened::Row { bytes: &e.bytes }
        } else if bytes(&kinds::ROW_CORRUPTED) {
            Happened::RowCorrupted { bytes: &e.bytes }
        } else if e.kind == ROWS {
            Happened::Rows { bytes: &e.bytes }
        } else if is(&kinds::INJECT_COLLISION) {
            Happened::InjectCollision { writer: a, dek: b }
        } else if is(&kinds::INJECT_MALFORMED) {
            Happened::InjectMalformed { variant: a }
        } else if is(&kinds::INJECT_EXOTIC) {
            Happened::InjectExotic { opcode: a }
        } else if is(&kinds::STORE_FAULT_FIRED) {
            Happened::StoreFaultFired { sync: a == 1 }
        } else {
            Happened::Other
        }
    }
}

/// The outcome an apply's next event names (`None`: that event is no
/// outcome, as when the run was cut short).
pub fn outcome(next: &Event) -> Option<Outcome> {
    applied(next).or_else(|| {
        let halt = kinds::halts().into_iter().find(|k| next.kind == k.name())?;
        Some(Outcome::Halt(halt.name()))
    })
}

/// An outcome that did not halt (those kinds' names are their own).
fn applied(e: &Event) -> Option<Outcome> {
    let is = |k: &Kind| e.kind == k.name();
    Some(if is(&kinds::APPLIED_EMPTY) {
        Outcome::Empty
    } else if is(&kinds::APPLIED_KV) {
        Outcome::Kv
    } else if is(&kinds::APPLIED_INSERT) {
        Outcome::Insert
    } else if is(&kinds::APPLIED_ADVANCE) {
        Outcome::Advance
    } else if is(&kinds::APPLIED_NO_OP) {
        Outcome::NoOp
    } else {
        return None;
    })
}

/// The refusal a guard-refused event's next event names.
pub fn refusal(next: &Event) -> Option<&'static str> {
    let kind = kinds::refusals()
        .into_iter()
        .find(|k| next.kind == k.name())?;
    Some(kind.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &'static Kind, a: u64, b: u64) -> Event {
        Event {
            at_us: 1,
            node: Some(0),
            kind: kind.name(),
            a,
            b,
            bytes: Vec::new(),
        }
    }

    #[test]
    fn only_a_process_still_up_when_the_run_ends_is_stopped_by_the_end() {
        let stop = |reason, failed_start| Happened::Stop {
            reason: Some(reason),
            failed_start,
        };
        assert!(stop(Down::Crashed, false).is_run_end_stop(10, 10));
        assert!(
            !stop(Down::Crashed, false).is_run_end_stop(9, 10),
            "a crash before it"
        );
        assert!(
            !stop(Down::Crashed, true).is_run_end_stop(10, 10),
            "a failed start"
        );
        assert!(!stop(Down::Halted, false).is_run_end_stop(10, 10), "a halt");
        assert!(!Happened::PowerLoss.is_run_end_stop(10, 10));
    }

    /// Each decoded number is the one its kind's line names so.
    #[test]
    fn each_number_is_read_as_its_kind_names_it() {
        let line = |k: &'static Kind, a: u64, b: u64| {
            let mut out = String::new();
            k.render(a, b, &mut out);
            out
        };
        let start = event(&kinds::START, 3, 17);
        assert_eq!(
            line(&kinds::START, 3, 17),
            " incarnation=3 election_tick=17"
        );
        assert_eq!(
            Happened::of(&start),
            Happened::Start {
                incarnation: 3,
                election_ticks: 17
            }
        );
        for (code, down) in [
            (0, Down::Crashed),
            (1, Down::Halted),
            (2, Down::Refused),
            (3, Down::Broken),
        ] {
            let stop = event(&kinds::STOP, code, 0);
            assert_eq!(
                line(&kinds::STOP, code, 0),
                format!(" reason={}", down.name())
            );
            assert_eq!(
                Happened::of(&stop),
                Happened::Stop {
                    reason: Some(down),
                    failed_start: false
                }
            );
        }
        assert_eq!(line(&kinds::SNAPSHOT_RESTORED, 9, 1), " index=9 replay=yes");
        assert_eq!(
            Happened::of(&event(&kinds::SNAPSHOT_RESTORED, 9, 1)),
            Happened::SnapshotRestored {
                index: 9,
                at_start: true
            }
        );
        assert_eq!(
            line(&kinds::GUARD_REFUSED, 1, 4),
            " stage=after-replay epoch=4"
        );
        assert_eq!(
            Happened::of(&event(&kinds::GUARD_REFUSED, 1, 4)),
            Happened::GuardRefused {
                after_replay: true,
                epoch: 4
            }
        );
        assert_eq!(line(&kinds::STORE_FAULT_FIRED, 1, 0), " op=sync");
        assert_eq!(
            Happened::of(&event(&kinds::STORE_FAULT_FIRED, 1, 0)),
            Happened::StoreFaultFired { sync: true }
        );
        assert_eq!(line(&kinds::ARMED_CRASH_FIRED, 1, 0), " power_loss=yes");
        assert_eq!(line(&kinds::POWER_LOSS_KEPT, 2, 5), " kept=2 unsynced=5");
        assert_eq!(line(&kinds::APPLY, 7, 2), " index=7 term=2");
        assert_eq!(
            Happened::of(&event(&kinds::REPLAY, 7, 2)),
            Happened::Apply {
                index: 7,
                term: 2,
                replay: true
            }
        );
    }

    #[test]
    fn an_outcome_and_a_refusal_are_read_from_the_event_that_follows() {
        assert_eq!(outcome(&event(&kinds::APPLIED_KV, 1, 0)), Some(Outcome::Kv));
        assert_eq!(
            outcome(&event(&kinds::HALTED_ROLLBACK, 1, 0)),
            Some(Outcome::Halt("rollback"))
        );
        assert_eq!(outcome(&event(&kinds::STOP, 0, 0)), None);
        assert_eq!(
            refusal(&event(&kinds::REFUSED_FOREIGN_OWNER, 0, 1)),
            Some("foreign-owner")
        );
        assert_eq!(refusal(&event(&kinds::APPLY, 0, 1)), None);
        assert!(Outcome::Insert.is_registration() && !Outcome::Kv.is_registration());
    }
}
