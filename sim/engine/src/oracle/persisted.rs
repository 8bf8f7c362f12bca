//! raft-rs's persistence contract for the node core, judged at every send
//! against the sender's log as the harness's disk synced it.
//!
//! The contract (raft-rs 0.7, `src/raw_node.rs`): `Ready::persisted_messages`
//! "specifies outbound messages to be sent AFTER the HardState, Entries and
//! Snapshot are persisted to stable storage", and every message of a
//! non-leader's Ready is such a message (`rd.is_persisted_msg =
//! raft.state != StateRole::Leader`, in `RawNode::gen_ready`). A leader's
//! own appends may leave before its own sync (Raft thesis §10.2.1: the
//! leader counts itself only once persisted, `on_persist_entries`). So
//! what a message claims about its sender's disk must already be on the
//! synced image when it leaves, judged by the message's type:
//!
//! - a successful `MsgAppendResponse` acknowledges the sender's log up to
//!   `index` (`handle_append_entries`, `src/raft.rs`): that prefix must
//!   be synced;
//! - a granted `MsgRequestVoteResponse` promises the vote (`Raft::step`,
//!   "we don't vote for anyone else in this term"): the synced hard state
//!   must hold that term and that vote; a `MsgRequestVote` likewise
//!   needs the candidate's own vote and term synced;
//! - every other message carries the sender's term (`RaftCore::send`
//!   stamps it): that term must be synced, since a restart must not go
//!   back to an older one (pre-vote messages are exempt: they carry a
//!   term the sender has not entered, by design).

use raft::eraftpb::{Message, MessageType};

use super::checker::Checker;
use super::observation::{RaftObservation, RaftView};
use super::Violations;
use crate::disk::LogImage;

const ORACLE: &str = "raft-persisted-before-send";

/// Judges one message `from` sends, against its synced log `synced` (and
/// its log as written `written`, for the detail).
pub fn check_send(
    v: &mut Violations,
    at_us: u64,
    from: u8,
    m: &Message,
    synced: &LogImage,
    written: &LogImage,
) {
    let kind = m.get_msg_type();
    let hs = &synced.hard_state;
    let mut fail = |detail: String| {
        v.push(
            ORACLE,
            Some(from),
            at_us,
            format!("{kind:?} to n{}: {detail}", m.to),
        )
    };
    match kind {
        MessageType::MsgRequestPreVote
        | MessageType::MsgRequestPreVoteResponse
        | MessageType::MsgPropose
        | MessageType::MsgReadIndex
        | MessageType::MsgReadIndexResp => return,
        _ => {}
    }
    if m.term > hs.term {
        fail(format!(
            "carries term {} but the synced hard state is at term {}",
            m.term, hs.term
        ));
        return;
    }
    match kind {
        MessageType::MsgRequestVoteResponse
            if !m.reject && hs.term == m.term && hs.vote != m.to =>
        {
            fail(format!(
                "grants the vote of term {} before it is synced (synced vote: {})",
                m.term, hs.vote
            ));
        }
        MessageType::MsgRequestVote if hs.term == m.term && hs.vote != m.from => {
            fail(format!(
                "asks for votes in term {} before its own vote is synced (synced vote: {})",
                m.term, hs.vote
            ));
        }
        // Only the length: a later Ready may already have rewritten the
        // acked index in the written log (a new leader's append) while
        // this ack waited for its own sync, as raft-rs allows.
        MessageType::MsgAppendResponse if !m.reject && m.index > synced.last_index() => {
            fail(format!(
                "acknowledges the log up to {}, but only {} is synced (written: {})",
                m.index,
                synced.last_index(),
                written.last_index()
            ));
        }
        _ => {}
    }
}

/// `raft-persisted-before-send` as a checker: [`check_send`] on every
/// message sent (it keeps no state: the disks are in the observation).
#[derive(Debug, Default)]
pub struct PersistedBeforeSend;

impl<O: RaftView + ?Sized> Checker<O> for PersistedBeforeSend {
    fn observe(&mut self, at_us: u64, observation: &O, v: &mut Violations) {
        if let Some(RaftObservation::Sent {
            from,
            msg,
            synced,
            written,
        }) = observation.raft()
        {
            check_send(v, at_us, from, msg, synced, written);
        }
    }
}
