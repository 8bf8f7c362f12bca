//! The writer registry's trace kinds, declared beside the engine's own
//! ([`regsim_engine::trace::kinds`], re-exported here so that every call
//! site names one module): its start sequence, its apply outcomes, its
//! rows, and the faults aimed at it. Each kind's name is hashed, so never
//! renamed; the names the library chooses (apply outcomes, refusals) are
//! mapped by exhaustive matches ([`outcome`], [`refusal`]) that the tests
//! check against the library's own names. Two kinds may share a name
//! when the same name was always recorded for both (the hash cannot tell
//! them apart, and must not change); they differ only in how they read.

pub use regsim_engine::trace::kind::{BytesKind, Field, Kind, Level};
pub use regsim_engine::trace::kinds::*;

use writer_registry::startup::Refusal;
use writer_registry::{HaltKind, Outcome};

// The decoded values of the enums the call sites record as numbers; the
// tests tie each list to the code that makes the number.

/// `GuardStage::AfterReplay as bool`: START-2's check before the bump
/// (`last_seen == epoch` allowed) or START-5's after replay (strict).
const GUARD_STAGES: &[&str] = &["before-bump", "after-replay"];
/// `StoreOp::Sync as bool`: the registry write or its sync.
const STORE_OPS: &[&str] = &["write", "sync"];
/// `Errno::Enospc as bool`.
const ERRNOS: &[&str] = &["eio", "enospc"];
/// `faults::malformed::entry`'s variants.
const MALFORMED: &[&str] = &["bad-version", "one-byte-short", "one-byte-long"];

use Field::*;

/// An entry opcode: `opcode=bootstrap`, `opcode=rotation`, else hex.
fn opcode(v: u64, out: &mut String) {
    use std::fmt::Write;
    let _ = match u8::try_from(v) {
        Ok(writer_registry::wire::OP_BOOTSTRAP) => write!(out, " opcode=bootstrap"),
        Ok(writer_registry::wire::OP_ROTATION) => write!(out, " opcode=rotation"),
        _ => write!(out, " opcode={v:#04x}"),
    };
}

// ---------------------------------------------------------------- a node's life

/// The local epoch file at a start: as written and as synced.
pub static EPOCH_FILE: Kind = Kind::event("epoch-file", Num("written"), Num("synced"));
/// The durable applied index and the Raft commit index at a start.
pub static DURABLE: Kind = Kind::event("durable", Num("applied"), Num("commit"));
/// An armed store error fired on the registry's write or its sync.
pub static STORE_FAULT_FIRED: Kind =
    Kind::event("store-fault-fired", Choice("op", STORE_OPS), Unused);

// ---------------------------------------------------------- the start sequence

/// A guard check passed (START-2 before the bump, START-5 after replay).
pub static GUARD_ALLOWED: Kind =
    Kind::event("guard-allowed", Choice("stage", GUARD_STAGES), Num("epoch"));
/// A guard check refused; the refusal's own kind follows.
pub static GUARD_REFUSED: Kind =
    Kind::event("guard-refused", Choice("stage", GUARD_STAGES), Num("epoch"));
/// START-3: the local epoch moved.
pub static EPOCH_BUMP: Kind = Kind::event("epoch-bump", Num("from"), Num("to"));

const fn refusal_kind(name: &'static str) -> Kind {
    Kind::event(name, Choice("stage", GUARD_STAGES), Num("epoch"))
}

/// Refused: the epoch file holds 0xFFFF.
pub static REFUSED_EPOCHS_EXHAUSTED: Kind = refusal_kind("epochs-exhausted");
/// Refused: the node's slot belongs to another writer.
pub static REFUSED_FOREIGN_OWNER: Kind = refusal_kind("foreign-owner");
/// Refused: a row's last_seen is not below the epoch.
pub static REFUSED_EPOCH_NOT_AHEAD: Kind = refusal_kind("epoch-not-ahead");
/// Refused: the node's own row does not decode.
pub static REFUSED_CORRUPT_ROW: Kind = refusal_kind("corrupt-row");
/// Refused: the store failed during the guard.
pub static REFUSED_STORE: Kind = refusal_kind("store");

// ------------------------------------------------------------ raft and the FSM

/// The registry row an apply left, for `regsim inspect row`.
pub static ROW: BytesKind = BytesKind::new("row", &["key", "value"]);

const fn outcome_kind(name: &'static str) -> Kind {
    Kind::event(name, Num("index"), Flag("unsynced"))
}

// What an apply did (`unsynced`: it returned before its writes synced).
/// An empty entry (a new leader's no-op).
pub static APPLIED_EMPTY: Kind = outcome_kind("empty");
/// An ordinary KV command.
pub static APPLIED_KV: Kind = outcome_kind("kv");
/// A registration into an empty slot.
pub static APPLIED_INSERT: Kind = outcome_kind("insert");
/// A registration that advanced its row's last_seen.
pub static APPLIED_ADVANCE: Kind = outcome_kind("advance");
/// A registration at the row's last_seen: nothing written.
pub static APPLIED_NO_OP: Kind = outcome_kind("no-op");
/// Halted: an epoch rollback.
pub static HALTED_ROLLBACK: Kind = outcome_kind("rollback");
/// Halted: a node16 collision.
pub static HALTED_COLLISION: Kind = outcome_kind("collision");
/// Halted: the entry does not decode.
pub static HALTED_MALFORMED: Kind = outcome_kind("malformed");
/// Halted: the stored row does not decode.
pub static HALTED_CORRUPT_ROW: Kind = outcome_kind("corrupt-row");
/// Halted: the store failed.
pub static HALTED_STORE: Kind = outcome_kind("store");
/// Halted: a bootstrap or rotation without KEK plumbing.
pub static HALTED_KEK_NOT_CONFIGURED: Kind = outcome_kind("kek-not-configured");
/// Halted: a reserved opcode.
pub static HALTED_UNKNOWN_OPCODE: Kind = outcome_kind("unknown-opcode");
/// Halted: an index out of order.
pub static HALTED_OUT_OF_ORDER: Kind = outcome_kind("out-of-order");

/// Every halted outcome's kind.
pub fn halts() -> [&'static Kind; 8] {
    HaltKind::ALL.map(halted)
}

/// Every refusal's kind.
pub fn refusals() -> [&'static Kind; 5] {
    [
        &REFUSED_EPOCHS_EXHAUSTED,
        &REFUSED_FOREIGN_OWNER,
        &REFUSED_EPOCH_NOT_AHEAD,
        &REFUSED_CORRUPT_ROW,
        &REFUSED_STORE,
    ]
}

// -------------------------------------------------------------------- workload

/// START-6: a registration proposed under a dek.
pub static REGISTER: Kind = Kind::event("register", Num("dek"), Num("proposal"));

// ---------------------------------------------------------------------- faults

/// What a power loss kept of the store's unsynced batches.
pub static POWER_LOSS_KEPT: Kind = Kind::event("power-loss-kept", Num("kept"), Num("unsynced"));
/// The torn bytes a power loss left at the registry file's end, cut by
/// recovery (hosted runtimes).
pub static POWER_LOSS_CUT: Kind = Kind::event("power-loss-cut", Num("bytes"), Unused);
/// A crash armed between a registry write and its sync.
pub static ARM_REGISTRY_CRASH: Kind = Kind::event("arm-registry-crash", Flag("power_loss"), Unused);
/// A store error armed on the registry's next write or sync.
pub static ARM_STORE_ERROR: Kind = Kind::event(
    "arm-store-error",
    Choice("op", STORE_OPS),
    Choice("errno", ERRNOS),
);
/// A crash armed between a node's registrations under its two deks.
pub static ARM_BETWEEN_DEKS_CRASH: Kind = Kind::event("arm-between-deks-crash", Unused, Unused);
/// A crash armed at the first ack of the node's own uncommitted
/// registration.
pub static ARM_ACK_CRASH: Kind = Kind::event("arm-ack-crash", Unused, Unused);
/// A crash armed inside the next registration's apply.
pub static ARM_REGISTRATION_CRASH: Kind = Kind::event("arm-registration-crash", Unused, Unused);
/// A down node's epoch file preset (near exhaustion).
pub static EPOCH_PRESET: Kind = Kind::event("epoch-preset", Num("epoch"), Unused);
/// A down node's epoch file rolled back to its previous synced copy.
pub static EPOCH_ROLLBACK: Kind = Kind::event("epoch-rollback", Num("to"), Unused);
/// A down node's registry row damaged, for `regsim inspect row`.
pub static ROW_CORRUPTED: BytesKind = BytesKind::new("row-corrupted", &["key", "value"]);
/// A faulty client proposed a registration of a non-member writer that
/// shares a member's node16.
pub static INJECT_COLLISION: Kind = Kind::event("inject-collision", FullId("writer"), Num("dek"));
/// A faulty client proposed a corrupted registration.
pub static INJECT_MALFORMED: Kind =
    Kind::event("inject-malformed", Choice("variant", MALFORMED), Unused);
/// A faulty client proposed a bootstrap, rotation or reserved opcode.
pub static INJECT_EXOTIC: Kind = Kind::event("inject-exotic", Custom(opcode), Unused);

// --------------------------------------------------------------------- network

/// Every registry kind with two numbers, for the tests (a source scan
/// checks that nothing declared above is missing).
pub static REGISTRY_ALL: &[&Kind] = &[
    &EPOCH_FILE,
    &DURABLE,
    &STORE_FAULT_FIRED,
    &GUARD_ALLOWED,
    &GUARD_REFUSED,
    &EPOCH_BUMP,
    &REFUSED_EPOCHS_EXHAUSTED,
    &REFUSED_FOREIGN_OWNER,
    &REFUSED_EPOCH_NOT_AHEAD,
    &REFUSED_CORRUPT_ROW,
    &REFUSED_STORE,
    &APPLIED_EMPTY,
    &APPLIED_KV,
    &APPLIED_INSERT,
    &APPLIED_ADVANCE,
    &APPLIED_NO_OP,
    &HALTED_ROLLBACK,
    &HALTED_COLLISION,
    &HALTED_MALFORMED,
    &HALTED_CORRUPT_ROW,
    &HALTED_STORE,
    &HALTED_KEK_NOT_CONFIGURED,
    &HALTED_UNKNOWN_OPCODE,
    &HALTED_OUT_OF_ORDER,
    &REGISTER,
    &POWER_LOSS_KEPT,
    &POWER_LOSS_CUT,
    &ARM_REGISTRY_CRASH,
    &ARM_STORE_ERROR,
    &ARM_BETWEEN_DEKS_CRASH,
    &ARM_ACK_CRASH,
    &ARM_REGISTRATION_CRASH,
    &EPOCH_PRESET,
    &EPOCH_ROLLBACK,
    &INJECT_COLLISION,
    &INJECT_MALFORMED,
    &INJECT_EXOTIC,
];

/// Every registry bytes kind.
pub static REGISTRY_BYTES: &[&BytesKind] = &[&ROW, &ROW_CORRUPTED];

/// The kind of an apply's outcome; its name is the one the checkers and
/// signatures use (`crate::world::outcome_name`).
pub fn outcome(result: &Result<Outcome, writer_registry::Halt>) -> &'static Kind {
    use writer_registry::Applied;
    match result {
        Ok(Outcome::Empty) => &APPLIED_EMPTY,
        Ok(Outcome::Kv { .. }) => &APPLIED_KV,
        Ok(Outcome::Registration(Applied::Inserted(_))) => &APPLIED_INSERT,
        Ok(Outcome::Registration(Applied::Advanced { .. })) => &APPLIED_ADVANCE,
        Ok(Outcome::Registration(Applied::Unchanged)) => &APPLIED_NO_OP,
        Err(h) => halted(h.kind()),
    }
}

/// The kind of an apply that halted, named as [`HaltKind::name`].
pub fn halted(kind: HaltKind) -> &'static Kind {
    match kind {
        HaltKind::Rollback => &HALTED_ROLLBACK,
        HaltKind::Collision => &HALTED_COLLISION,
        HaltKind::Malformed => &HALTED_MALFORMED,
        HaltKind::CorruptRow => &HALTED_CORRUPT_ROW,
        HaltKind::Store => &HALTED_STORE,
        HaltKind::KekNotConfigured => &HALTED_KEK_NOT_CONFIGURED,
        HaltKind::UnknownOpcode => &HALTED_UNKNOWN_OPCODE,
        HaltKind::OutOfOrder => &HALTED_OUT_OF_ORDER,
    }
}

/// The kind of a refusal, named as [`Refusal::name`].
pub fn refusal(r: &Refusal) -> &'static Kind {
    match r {
        Refusal::EpochsExhausted => &REFUSED_EPOCHS_EXHAUSTED,
        Refusal::ForeignOwner { .. } => &REFUSED_FOREIGN_OWNER,
        Refusal::EpochNotAhead { .. } => &REFUSED_EPOCH_NOT_AHEAD,
        Refusal::CorruptRow { .. } => &REFUSED_CORRUPT_ROW,
        Refusal::Store(_) => &REFUSED_STORE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use writer_registry::startup::GuardStage;

    /// The engine's kinds and the registry's: one hash, one namespace.
    fn every() -> Vec<&'static Kind> {
        ALL.iter().chain(REGISTRY_ALL).copied().collect()
    }

    fn line(kind: &Kind, a: u64, b: u64) -> String {
        let mut out = kind.name().to_string();
        kind.render(a, b, &mut out);
        out
    }

    /// `AfterReplay` -> "after-replay".
    fn kebab(debug: &str) -> String {
        let mut out = String::new();
        for (i, c) in debug.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    #[test]
    fn the_table_lists_every_kind_declared() {
        // The statics are the table; ALL is how tests reach them. A kind
        // declared but left out of ALL would escape the tests below.
        let source = include_str!("kinds.rs");
        let declared = source
            .lines()
            .filter(|l| l.starts_with("pub static ") && !l.starts_with("pub static REGISTRY_"))
            .count();
        assert_eq!(declared, REGISTRY_ALL.len() + REGISTRY_BYTES.len());
        let all = every();
        for (i, k) in all.iter().enumerate() {
            assert!(
                !all[..i].iter().any(|o| std::ptr::eq(*o, *k)),
                "{} listed twice",
                k.name()
            );
        }
    }

    #[test]
    fn names_are_shared_only_where_the_hash_always_shared_them() {
        // Apply outcomes and refusals both take the library's names; the
        // hosted runtimes hand a paused node nothing to count at resume;
        // the drop at a cut link is recorded at either end. Any other
        // shared name would be a new ambiguity in the hash.
        let shared = ["corrupt-row", "store", "resume", "drop-partition"];
        let all = every();
        for (i, k) in all.iter().enumerate() {
            let again = all[..i].iter().any(|o| o.name() == k.name());
            assert!(
                !again || shared.contains(&k.name()),
                "{} named twice",
                k.name()
            );
        }
    }

    #[test]
    fn outcome_and_refusal_kinds_keep_the_library_names() {
        use writer_registry::registry::{MalformedRow, StoreError};
        for kind in HaltKind::ALL {
            assert_eq!(halted(kind).name(), kind.name());
        }
        let stage = GuardStage::AfterReplay;
        for r in [
            Refusal::EpochsExhausted,
            Refusal::ForeignOwner {
                stage,
                dek: 1,
                node16: 2,
                owner: 3,
                own: 4,
            },
            Refusal::EpochNotAhead {
                stage,
                dek: 1,
                epoch: 2,
                last_seen: 3,
            },
            Refusal::CorruptRow {
                dek: 1,
                error: MalformedRow::KeyLength { found: 0 },
            },
            Refusal::Store(StoreError::Io {
                op: "write",
                message: String::new(),
            }),
        ] {
            assert_eq!(refusal(&r).name(), r.name());
            assert!(refusals().iter().any(|k| std::ptr::eq(*k, refusal(&r))));
        }
        let ok = |o: Outcome| outcome(&Ok(o)).name();
        use writer_registry::Applied;
        let halt = writer_registry::Halt::OutOfOrder {
            expected: 1,
            got: 2,
        };
        for r in [
            Ok(Outcome::Empty),
            Ok(Outcome::Kv { proposal_id: 1 }),
            Ok(Outcome::Registration(Applied::Unchanged)),
            Err(halt),
        ] {
            assert_eq!(outcome(&r).name(), crate::world::outcome_name(&r));
        }
        assert_eq!(ok(Outcome::Registration(Applied::Unchanged)), "no-op");
    }

    #[test]
    fn decoded_enums_follow_the_codes_the_call_sites_record() {
        use crate::world::DownReason;
        for r in [
            DownReason::Crashed,
            DownReason::Halted,
            DownReason::Refused,
            DownReason::Broken,
        ] {
            let want = format!("stop reason={}", kebab(&format!("{r:?}")));
            assert_eq!(line(&STOP, r.code(), 0), want);
        }
        for (code, step) in crate::node::ReadyStep::ALL.iter().enumerate() {
            let want = format!(
                "arm-ready-crash step={} power_loss=yes",
                kebab(&format!("{step:?}"))
            );
            assert_eq!(line(&ARM_READY_CRASH, code as u64, 1), want);
        }
        for stage in [GuardStage::BeforeBump, GuardStage::AfterReplay] {
            let strict = u64::from(stage == GuardStage::AfterReplay);
            let want = format!(
                "guard-allowed stage={} epoch=7",
                kebab(&format!("{stage:?}"))
            );
            assert_eq!(line(&GUARD_ALLOWED, strict, 7), want);
        }
        for (op, errno) in [
            (crate::store::StoreOp::Write, crate::store::Errno::Eio),
            (crate::store::StoreOp::Sync, crate::store::Errno::Enospc),
        ] {
            let a = u64::from(op == crate::store::StoreOp::Sync);
            let b = u64::from(errno == crate::store::Errno::Enospc);
            let want = format!(
                "arm-store-error op={} errno={}",
                kebab(&format!("{op:?}")),
                kebab(&format!("{errno:?}"))
            );
            assert_eq!(line(&ARM_STORE_ERROR, a, b), want);
        }
    }

    #[test]
    fn lines_name_their_fields() {
        use raft::eraftpb::MessageType;
        assert_eq!(line(&APPLY, 5, 2), "apply index=5 term=2");
        assert_eq!(line(&APPLIED_INSERT, 5, 0), "insert index=5 unsynced=no");
        assert_eq!(line(&START, 3, 14), "start incarnation=3 election_tick=14");
        assert_eq!(line(&LEADER, 4, 0), "leader term=4");
        assert_eq!(
            line(&STATE, 0xab, 3),
            "state digest=00000000000000ab pairs=3"
        );
        assert_eq!(line(&PARTITION, 0b101, 0), "partition side=n1,n3");
        let append = MessageType::MsgAppend as u64;
        assert_eq!(
            line(&SEND, 2, append << 32 | 9),
            "send to=n3 msg=MsgAppend index=9"
        );
        assert_eq!(line(&DELIVER, 0, append), "deliver from=n1 msg=MsgAppend");
        assert_eq!(
            line(&INJECT_COLLISION, 0x08b3_7b07_b558_d4c0, 7),
            "inject-collision writer=0x08b37b07b558d4c0 dek=7"
        );
        assert_eq!(line(&INJECT_EXOTIC, 4, 0), "inject-exotic opcode=bootstrap");
        assert_eq!(line(&INJECT_EXOTIC, 6, 0), "inject-exotic opcode=0x06");
        // A value past the decoded names still shows, as its number.
        assert_eq!(line(&STOP, 9, 0), "stop reason=9");
        let mut row = ROW.name().to_string();
        ROW.render(&[&[0xab], &[0x01, 0x02]], &mut row);
        assert_eq!(row, "row key=ab value=0102");
        let mut gone = ROW.name().to_string();
        ROW.render(&[&[0xab]], &mut gone);
        assert_eq!(gone, "row key=ab value=-");
    }

    #[test]
    fn the_registry_adds_no_noise() {
        // Noise is the engine's ticks, syncs and messages (its own test).
        for k in REGISTRY_ALL {
            assert_eq!(k.level(), Level::Event, "{}", k.name());
        }
    }
}
