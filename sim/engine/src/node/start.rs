//! A start: the steps every raft node takes before it joins (sync the log
//! it opens, restore the held snapshot, replay held entries), in the order
//! the application's [`StartHook`] asks for them, then the join.

use std::collections::VecDeque;

use raft::{Config, RawNode};

use super::app::{Application, DiskFacts, Output, RestoreError, StartEvent, StartHook, StartStep};
use super::mutant::core_mutated;
use super::{NodeCore, RaftParams};
use crate::storage::RaftLog;

/// Why a start did not produce a running node.
pub enum StartFailure<A: Application> {
    /// The start hook refused.
    Refused(A::Refusal),
    /// An entry of the replay halted the application.
    Halted(A::Halt),
    /// An armed crash struck during the replay, cutting the apply of `partial`.
    Crashed {
        /// The index whose apply the crash cut, if any.
        partial: Option<u64>,
    },
    /// The store could not be opened or read (a violation).
    Store(String),
}

/// A start that did not produce a running node, and the application it
/// leaves (absent when it could not be opened).
pub struct NotStarted<A: Application> {
    /// Why.
    pub failure: StartFailure<A>,
    /// What survives: the application as the start left it.
    pub app: Option<A>,
}

impl<A: Application> std::fmt::Debug for StartFailure<A>
where
    A::Refusal: std::fmt::Debug,
    A::Halt: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartFailure::Refused(r) => f.debug_tuple("Refused").field(r).finish(),
            StartFailure::Halted(h) => f.debug_tuple("Halted").field(h).finish(),
            StartFailure::Crashed { partial } => {
                f.debug_struct("Crashed").field("partial", partial).finish()
            }
            StartFailure::Store(m) => f.debug_tuple("Store").field(m).finish(),
        }
    }
}

/// Shows why (the application has nothing to show).
impl<A: Application> std::fmt::Debug for NotStarted<A>
where
    StartFailure<A>: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotStarted")
            .field("failure", &self.failure)
            .field("app", &self.app.as_ref().map(|_| ".."))
            .finish()
    }
}

fn not_started<A: Application>(failure: StartFailure<A>, app: Option<A>) -> Box<NotStarted<A>> {
    Box::new(NotStarted { failure, app })
}

/// Starts a node: syncs the log it opens, opens the application, runs the
/// steps its `hook` asks for and, if nothing refuses or halts, joins the
/// cluster with the application's applied index.
pub fn start<L: RaftLog, A: Application, H: StartHook<A>>(
    params: RaftParams,
    mut log: L,
    open: impl FnOnce() -> Result<A, String>,
    hook: &mut H,
    logger: &slog::Logger,
    out: &mut Vec<Output<A>>,
) -> Result<NodeCore<L, A>, Box<NotStarted<A>>> {
    // The log as the process reads it may hold a crashed predecessor's
    // unsynced writes (the page cache survives a process crash): sync it
    // before replaying from it or handing it to raft-rs, which both take
    // it as persisted. Without this a replay applies entries up to a
    // commit index a power loss then takes back, and the state machine
    // ends ahead of its log (raft-rs refuses to start: applied out of
    // range).
    if !core_mutated!(params.mutant, LogNotSyncedOnOpen) {
        log.sync_all();
    }
    let mut app = match open() {
        Ok(app) => app,
        Err(e) => return Err(not_started(StartFailure::Store(e), None)),
    };
    let mut event = StartEvent::Begin;
    loop {
        let disk = DiskFacts {
            snapshot_index: log.held_snapshot_index(),
            commit_index: log.persisted_commit(),
        };
        event = match hook.next(event, &mut app, disk, out) {
            StartStep::RestoreSnapshot => match restore_from_disk(&mut app, &log, out) {
                Ok(()) => StartEvent::SnapshotRestored {
                    index: app.applied_index(),
                },
                Err(failure) => return Err(not_started(failure, Some(app))),
            },
            StartStep::Replay { from, to } => {
                match replay(&mut app, &log, from, replay_end(&params, to), out) {
                    Ok(()) => StartEvent::Replayed,
                    Err(failure) => return Err(not_started(failure, Some(app))),
                }
            }
            StartStep::Refuse(r) => return Err(not_started(StartFailure::Refused(r), Some(app))),
            StartStep::Join => return join(params, log, app, logger),
        };
    }
}

/// The raft-rs node joins with the application's applied index.
fn join<L: RaftLog, A: Application>(
    params: RaftParams,
    log: L,
    app: A,
    logger: &slog::Logger,
) -> Result<NodeCore<L, A>, Box<NotStarted<A>>> {
    let e = params.election_tick;
    let config = Config {
        id: params.raft_id(),
        election_tick: e,
        min_election_tick: e,
        max_election_tick: e + 1,
        heartbeat_tick: params.heartbeat_tick,
        applied: app.applied_index(),
        pre_vote: true,
        check_quorum: true,
        max_inflight_msgs: 64,
        max_size_per_msg: 64 * 1024,
        ..Default::default()
    };
    let raw = match RawNode::new(&config, log, logger) {
        Ok(raw) => raw,
        Err(e) => {
            return Err(not_started(
                StartFailure::Store(format!("raft: {e}")),
                Some(app),
            ))
        }
    };
    Ok(NodeCore {
        params,
        raw,
        app,
        inflight: VecDeque::new(),
        was_leader: false,
    })
}

/// Restores the snapshot the disk holds.
fn restore_from_disk<L: RaftLog, A: Application>(
    app: &mut A,
    log: &L,
    out: &mut Vec<Output<A>>,
) -> Result<(), StartFailure<A>> {
    let index = match app.restore(log.held_snapshot().get_data()) {
        Ok(index) => index,
        Err(RestoreError::Undecodable(e)) => {
            return Err(StartFailure::Store(format!("snapshot on disk: {e}")))
        }
        Err(RestoreError::Died { index }) => {
            return Err(StartFailure::Crashed {
                partial: Some(index),
            })
        }
        Err(RestoreError::Failed(message)) => return Err(StartFailure::Store(message)),
    };
    out.push(Output::SnapshotRestored {
        index,
        replay: true,
    });
    Ok(())
}

/// The last entry the replay applies: `to` (under the mutant, one short).
fn replay_end(params: &RaftParams, to: u64) -> u64 {
    if core_mutated!(params.mutant, ReplayStopsShort) {
        to.saturating_sub(1)
    } else {
        to
    }
}

/// Applies the held entries `from..=to`, stopping at a halt.
fn replay<L: RaftLog, A: Application>(
    app: &mut A,
    log: &L,
    from: u64,
    to: u64,
    out: &mut Vec<Output<A>>,
) -> Result<(), StartFailure<A>> {
    for index in from..=to {
        let Some(entry) = log.held_entry(index) else {
            return Err(StartFailure::Store(format!(
                "commit index {to} but entry {index} is not on disk"
            )));
        };
        let applied = app.apply(&entry, true).map_err(|_| StartFailure::Crashed {
            partial: Some(index),
        })?;
        out.push(Output::Applied(applied.report));
        if let Some(halt) = applied.halt {
            out.push(Output::Halted(halt.clone()));
            return Err(StartFailure::Halted(halt));
        }
    }
    Ok(())
}
