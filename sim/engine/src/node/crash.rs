//! Where the process can die inside the node core. The driver's fault
//! injector decides; the core only asks at each point and holds no fault
//! state of its own.

/// The steps of handling a Ready, where an armed crash can strike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadyStep {
    /// After sending `messages()`, before writing the Ready to disk.
    AfterSend,
    /// After the write, before its sync.
    AfterWrite,
    /// After the sync, before sending `persisted_messages()`.
    AfterSync,
    /// After the persisted messages, before applying committed entries.
    AfterPersistedSend,
    /// After the first of several committed entries is applied.
    MidApply,
}

impl ReadyStep {
    /// Every step, in the order a Ready passes them.
    pub const ALL: [ReadyStep; 5] = [
        ReadyStep::AfterSend,
        ReadyStep::AfterWrite,
        ReadyStep::AfterSync,
        ReadyStep::AfterPersistedSend,
        ReadyStep::MidApply,
    ];
}

/// The crash points the core asks at.
pub trait CrashPoints {
    /// Does the process die at `step` of the Ready being handled?
    fn at_ready_step(&mut self, step: ReadyStep) -> bool;
    /// Does it die now, with the commit of one of its own proposals
    /// persisted and not yet applied (asked only at such a point)?
    fn before_own_proposal_applies(&mut self) -> bool;
    /// Does it die now, one of its own proposals applied and another still
    /// to come (asked only at such a point)?
    fn between_own_proposals(&mut self) -> bool {
        false
    }
    /// Does it die now, a leader about to step the first acknowledgement
    /// of one of its own proposals, not yet committed (asked only then)?
    fn own_proposal_acked(&mut self) -> bool {
        false
    }
}

/// No crashes: a node outside any fault injection.
pub struct NoCrashes;

impl CrashPoints for NoCrashes {
    fn at_ready_step(&mut self, _: ReadyStep) -> bool {
        false
    }
    fn before_own_proposal_applies(&mut self) -> bool {
        false
    }
}

/// An armed crash fired: the driver must kill the node now. `partial` is
/// the index whose apply was cut between its write and its sync: its
/// effects may already be in the store, so the replay window reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crashed {
    /// The index whose apply the crash cut, if any.
    pub partial: Option<u64>,
}

pub(super) const CRASHED: Crashed = Crashed { partial: None };

pub(super) fn check(crash: &mut dyn CrashPoints, step: ReadyStep) -> Result<(), Crashed> {
    if crash.at_ready_step(step) {
        return Err(CRASHED);
    }
    Ok(())
}
