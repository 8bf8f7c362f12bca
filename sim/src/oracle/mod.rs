//! Checkers, kept apart from what they check. The simulator feeds them
//! what happened; they never drive the run.
//!
//! Each checker implements the engine's
//! [`Checker`](regsim_engine::oracle::checker::Checker) (its doc is the
//! contract: what a checker is shown, that it never reads the world or
//! drives the run, that it reports only through the violations sink,
//! what happens at the run's end), one per file. [`checkers`] is their
//! list: it shows each observation to the purpose oracle, then, with the
//! oracles on, to every other checker in the order below, which is the
//! order one observation's violations are pushed in (a run's report
//! records it; a test holds it).
//!
//! | order | checker | file | reports |
//! | --- | --- | --- | --- |
//! | always | `PurposeOracle` | [`purpose`] | findings, not violations: nonce safety, every halt and refusal traced to its injected cause (oracles on or off) |
//! | 1 | `SyncBeforeAck` | `sync_before_ack.rs` | `sync-before-ack` |
//! | 2 | `PersistedBeforeSend` | the engine's [`persisted`] | `raft-persisted-before-send` |
//! | 3 | `SnapshotStatus` | the engine's [`snapshot_status`] | `raft-snapshot-status` |
//! | 4 | `RaftOracle` | the engine's [`raft`], over [`commits`] | `raft-election-safety`, `raft-leader-completeness`, `raft-state-machine-safety`, `raft-apply-uncommitted`, `raft-apply-unsynced`, `raft-snapshot-meta` |
//! | 5 | `Conformance` | `conformance.rs` | `conformance` (each apply), `durability` (each reopened store), `conformance-state` (each stopped store) |
//! | 6 | `SnapshotSource` | `snapshot_source.rs` | `snapshot-content`, `snapshot-source` |
//! | 7 | `StartJudges` | `start_judge.rs` | `start-sequence` |
//! | 8 | `AgreementOracle` | [`agreement`] | `replica-agreement` |
//! | 9 | `Invariants` | `invariants.rs` | `invariant-shape`, `invariant-owner`, `invariant-epochs` |
//! | 10 | `LibraryDigest` | `library_digest.rs` | `library-digest` |
//! | 11 | `ClientVisible` | `client_visible.rs` | `client-visible` |
//!
//! The engine's three read only the Raft part of an observation
//! ([`RaftView`](regsim_engine::oracle::observation::RaftView), which
//! [`observation::Observation`] implements). The others also read the
//! reference (`reference.rs`), which is no checker and pushes nothing:
//! each node's independent model ([`model`]) and what each snapshot
//! carries and where it went (`snapshots.rs`). Several checkers read it,
//! so none owns a copy: it is brought up to date with each observation
//! before any checker sees it, and handed to them read-only with what it
//! found where it must judge to know what to keep (a store outside the
//! allowed set, a snapshot that did not carry its taker's state, a
//! restore no snapshot explains), for the checker that reports it.
//! [`observation`] is what they are shown (the world's observations, the
//! injector's records, which only the purpose oracle reads).
//!
//! # Ground truth, never the system's word
//!
//! Expectations come from the spec and from what the harness controls:
//! what it injected (crashes, cut writes, power loss, rollbacks,
//! conflicts), what it delivered (snapshot messages), what reached a sync
//! (apply returned), and its own simulated disk. The Raft log, the hard
//! state and the epoch file are that disk: read as ground truth, not
//! modelled. What a node persisted in its registry store is never adopted
//! until it has been shown to lie in the model's allowed set.
//!
//! # The spec, rule by rule
//!
//! The rules are numbered in `docs/spec.md`; this table says which oracle
//! judges each. "Gap" marks a rule no oracle checks yet.
//!
//! | spec | oracle |
//! | --- | --- |
//! | APPLY-1..APPLY-7 (rule order, insert, advance, no-op, halts) | `conformance` (each apply's outcome and the touched row's bytes against [`model`]) |
//! | APPLY-8 (durable before apply returns) | `sync-before-ack`; `durability` (a reopened store against the model's acknowledged writes) |
//! | APPLY-9, APPLY-10 (no applier state; no applier without a store) | library tests (`tests/applier_cases.rs`); by construction |
//! | HALT-1, HALT-2 (halt, applied index stays) | `conformance`; `durability` (a halt writes nothing); `purpose` (every halt traced to an injected conflict) |
//! | HALT-3 / INV-5 "halts again when replayed" | `conformance` on the replay: the model replays from its own durable expectation, so a skipped halting entry is an out-of-order apply |
//! | HALT-4 / INV-6 (replicas agree) | `replica-agreement` (the harness's digests of each node's model, compared per index outside replay windows: the spec's rules, as the models replay them, keep replicas equal; each node is held to its model by `conformance`, `conformance-state` and `durability`, so a node-level divergence fires those first); `raft-state-machine-safety` |
//! | INV-1 (shapes), INV-7 (one owner per slot) | `invariant-shape`, `invariant-owner` on every synced row change |
//! | INV-2, INV-3 (owner and first_seen fixed, last_seen monotone) | `invariant-owner`, `invariant-epochs` |
//! | INV-4 (re-applying the latest registration is a no-op) | `conformance` (the model expects the no-op) |
//! | START-1, START-2 (epoch file, guard before the bump) | `start-sequence`: the model runs them on its own rows and the harness's epoch file; a refusal must come before any bump or replay |
//! | START-3 (bump and sync the epoch file) | `start-sequence` (the file holds the bumped epoch, synced, after any start that passed START-2) |
//! | START-4 (replay) | `conformance` on every replayed entry; `snapshot-source` for the snapshot restored first; `start-sequence` (a join only once every entry up to the commit index on the harness's disk applied) |
//! | START-5 (strict guard after replay) | `start-sequence` (on the model's rows after the replay) |
//! | START-6, START-7, ID-8 (register, then encrypt) | `purpose`: `nonce-unregistered` (a nonce used), `encryption-unregistered` / `encryption-withheld` (the node's gate, asked after every registration apply, against the registrations the model saw apply on that node at its current epoch); `liveness` |
//! | START-8 (a refused node stays down) | by construction of the engine (refused nodes are never restarted) |
//! | ID-7 (no nonce reuse) | `purpose` (`nonce-reuse`) |
//! | REPLAY-1..REPLAY-5 (where the applied index lives) | `durability` and `conformance-state`: the model writes the applied index only where the policy does |
//! | whole state | `conformance-state` (every stop: the store against the model, all spaces), `library-digest` (the FSM's incremental digest against its stored bytes), `client-visible` (every acknowledged KV command on every converged replica) |
//! | snapshots | `snapshot-content` (a snapshot carries its taker's model state); a restore becomes the source's model state |
//! | Raft itself | `raft-election-safety`; `raft-leader-completeness` and `raft-state-machine-safety` against the commits [`commits`] derives from synced logs; `raft-apply-uncommitted` (an apply past them), `raft-apply-unsynced` (outside a replay, past the node's own synced log) |
//! | raft-rs's contract for the node core | `raft-persisted-before-send` (a message raft-rs hands over as persisted-only leaves before its sync: append acks against the synced log, vote grants and requests against the synced vote, every term against the synced term); `raft-snapshot-meta` (a snapshot taken or sent: its index committed, its term the committed term there, its conf state the membership); `raft-snapshot-status` (after the transport failed a snapshot, the leader answers the follower's next heartbeat response, while the follower's synced log is behind its own, with an append or a snapshot) |
//!
//! Halts and refusals are justified tightly (`purpose`): a rollback halt
//! on entry (dek, full, e) only by an injected epoch-file rollback R of
//! `full`'s node that preceded the start of the incarnation that proposed
//! the entry, where the row's last_seen came from a registration proposed
//! before R (its epoch was used before the rollback, whether it applied
//! before R or was replayed after); an `epoch-not-ahead` refusal only by
//! such an R before the refusing start; a `foreign-owner` refusal or a
//! collision halt only by an injected registration of the owner it names;
//! a malformed halt only by that injected entry. The report (`regsim
//! replay`) names each cause.
//!
//! A fjall node's crash is a kill and its power loss a cut of its journal
//! back to what an fsync really covered ([`crate::crash_copy`],
//! [`crate::fsync_witness`]: the harness sees the system call, so a store
//! whose `sync` returns without one is not taken at its word): fjall's own
//! recovery decides what survives, and
//! `durability` judges it against the model's acknowledged writes, never
//! against the code that made the loss.
//!
//! Injected dangerous states and how the oracles treat them: an epoch
//! file preset (the start judge reads the harness's file; a preset
//! justifies an exhaustion refusal, and what a rollback would where it
//! lowers the file); a damaged row (the model takes the injected bytes as
//! durable at the next look at the store, the node's state is its own for
//! replica agreement until a snapshot replaces it, a snapshot taken from
//! it carries the damage and its justification, and INV-1..INV-3 do not
//! judge a change to or from the injected bytes); a store I/O error (the
//! model expects the apply it strikes to halt with a store error, a failed
//! sync's write stays in the store unsynced).

pub mod agreement;
pub mod checkers;
mod client_visible;
mod conformance;
mod invariants;
mod library_digest;
pub mod model;
pub mod observation;
pub mod purpose;
mod reference;
mod snapshot_source;
mod snapshots;
mod start_judge;
mod sync_before_ack;
pub use regsim_engine::oracle::{commits, persisted, raft, snapshot_status};
#[cfg(test)]
mod tests;

pub use regsim_engine::oracle::{Violation, Violations};
