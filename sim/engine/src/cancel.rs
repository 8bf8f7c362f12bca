//! When a run must give up before its end: its wall-clock limit passed,
//! or the sweep it belongs to was interrupted (Ctrl-C).
//!
//! The engines ask [`Cancel::check`] every [`Cancel::EVERY`] events. The
//! answer never changes what a run that finishes does (wall time is no
//! input of the simulation): a run either ends exactly as it would have,
//! or ends as a harness error that carries no verdict.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::HarnessError;

/// The conditions under which a run stops early; the default never does.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    limit: Option<(Instant, Duration)>,
    abandon: Option<Arc<AtomicBool>>,
}

impl Cancel {
    /// How many events pass between two checks (a check reads the clock).
    pub const EVERY: u64 = 4096;

    /// A run that may take at most `limit` of wall time from now.
    pub fn within(limit: Option<Duration>, abandon: Option<Arc<AtomicBool>>) -> Self {
        Cancel {
            // A limit past what the clock can hold is no limit.
            limit: limit.and_then(|l| Some((Instant::now().checked_add(l)?, l))),
            abandon,
        }
    }

    /// The harness error that ends the run now, if one does.
    pub fn check(&self) -> Option<HarnessError> {
        if self
            .abandon
            .as_ref()
            .is_some_and(|a| a.load(Ordering::Relaxed))
        {
            return Some(HarnessError::Interrupted);
        }
        match self.limit {
            Some((deadline, limit)) if Instant::now() >= deadline => {
                Some(HarnessError::Timeout(limit))
            }
            _ => None,
        }
    }

    /// [`Cancel::check`] on every [`Cancel::EVERY`]th event.
    #[inline]
    pub fn check_at(&self, events: u64) -> Option<HarnessError> {
        if !events.is_multiple_of(Self::EVERY) || (self.limit.is_none() && self.abandon.is_none()) {
            return None;
        }
        self.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_and_an_abandon_flag_end_a_run_and_the_default_never_does() {
        assert!(Cancel::default().check().is_none());
        let spent = Cancel::within(Some(Duration::ZERO), None);
        assert!(matches!(spent.check(), Some(HarnessError::Timeout(_))));
        assert!(
            spent.check_at(1).is_none(),
            "checked only every EVERY events"
        );
        let flag = Arc::new(AtomicBool::new(false));
        let c = Cancel::within(Some(Duration::from_secs(3600)), Some(flag.clone()));
        assert!(c.check().is_none());
        flag.store(true, Ordering::Relaxed);
        assert!(matches!(c.check_at(0), Some(HarnessError::Interrupted)));
    }
}
