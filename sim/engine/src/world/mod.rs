//! The world every runtime drives and every system runs in, written
//! once: the cluster a runtime holds ([`cluster`]: each member's process
//! across incarnations, the time, the seeded timing streams, the system's
//! books), a node's life ([`lifecycle`]: a start with the system's start
//! hook, the proposals it owes proposed until they apply, a stop), a call
//! into a running node core and what follows it ([`call`]: its outputs
//! routed, the syncs and snapshot reports they ask for, a halt, an armed
//! crash), and the seam to the system under test ([`system`]: what only
//! it knows, as hooks `lifecycle` and `call` call at documented points).
//!
//! A runtime supplies only what it does its own way, through two traits:
//! [`call::Runtime`] (carrying a message, syncing a Ready, reading its
//! log for the checkers, finishing an armed crash) and
//! [`lifecycle::Files`] (where a node's store, log and start files live
//! and what a crash left of them, what its clock does for a started
//! core). A system supplies [`system::System`] and its books
//! ([`cluster::MemberBooks`], [`cluster::RunBooks`]). Nothing here knows
//! a writer registry: the system's tests run a counter through it.

pub mod call;
pub mod cluster;
pub mod lifecycle;
pub mod system;
