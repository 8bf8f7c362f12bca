//! Schedule shrinking: make a failing run small enough to read.
//!
//! A delta-debugging loop over the explicit schedule. A candidate is kept
//! when the run still fails with the same signature (the first violated
//! oracle, or the finding signature when the run passes with a finding).
//! Passes, repeated until none makes progress:
//! 1. drop every event of one kind (all KV traffic, all partitions, ...);
//! 2. drop chunks of events, halving the chunk size, from the back first;
//! 3. shorten: pull the end of the fault phase in to just after the last
//!    event, and halve the time between events;
//! 4. fewer nodes, where the scenario allows (never below 3).
//!
//! The end-of-faults event always stays: it is where liveness starts.

use crate::error::HarnessError;
use crate::run::{run_schedule, RunOptions, RunResult};
use crate::scenario::Scenario;
use crate::schedule::{Schedule, Timed};

/// What a run failed with, as the shrinker compares it.
pub fn signature(r: &RunResult) -> Option<String> {
    if let Some(v) = r.violations.first() {
        return Some(v.oracle.clone());
    }
    r.findings.first().map(|f| f.signature.clone())
}

/// The outcome of a shrink.
pub struct Shrunk {
    pub signature: String,
    pub before: usize,
    pub schedule: Schedule,
    pub runs: u64,
}

/// What a candidate must keep showing, as a key of its result.
pub type Key<'a> = &'a dyn Fn(&RunResult) -> Option<String>;

struct Search<'a> {
    sc: Scenario,
    opts: &'a RunOptions,
    key: Key<'a>,
    target: String,
    runs: u64,
    log: &'a dyn Fn(&str),
}

impl Search<'_> {
    fn holds(&mut self, sc: &Scenario, candidate: &Schedule) -> bool {
        self.runs += 1;
        match run_schedule(sc, candidate, self.opts) {
            Ok(r) => (self.key)(&r).as_deref() == Some(self.target.as_str()),
            // A candidate the harness cannot run (an edit that left it
            // without a fit to its scenario) shows nothing: not kept, but
            // said, so a harness bug cannot hide in a shrink.
            Err(e) => {
                (self.log)(&format!("candidate skipped, harness error: {e}"));
                false
            }
        }
    }

    fn try_events(&mut self, current: &mut Schedule, events: Vec<Timed>) -> bool {
        let candidate = Schedule {
            events,
            ..current.clone()
        };
        let sc = self.sc.clone();
        if candidate.events.len() <= current.events.len()
            && candidate != *current
            && self.holds(&sc, &candidate)
        {
            *current = candidate;
            return true;
        }
        false
    }

    fn drop_kinds(&mut self, s: &mut Schedule) -> bool {
        let mut kinds: Vec<&'static str> = s
            .events
            .iter()
            .map(|e| e.action.family())
            .filter(|k| *k != "end-of-faults")
            .collect();
        kinds.sort();
        kinds.dedup();
        let mut progress = false;
        for k in kinds {
            let events = s
                .events
                .iter()
                .filter(|e| e.action.family() != k)
                .cloned()
                .collect();
            if self.try_events(s, events) {
                (self.log)(&format!("dropped every {k} event: {} left", s.events.len()));
                progress = true;
            }
        }
        progress
    }

    fn drop_chunks(&mut self, s: &mut Schedule) -> bool {
        let mut progress = false;
        let mut chunk = (s.events.len() / 2).max(1);
        loop {
            // From the back: later events are the likeliest to be noise.
            let mut end = s.events.len().saturating_sub(1);
            while end > 0 {
                let start = end.saturating_sub(chunk);
                let events: Vec<Timed> = s
                    .events
                    .iter()
                    .enumerate()
                    .filter(|(i, e)| !(start..end).contains(i) || e.action.ends_faults())
                    .map(|(_, e)| e.clone())
                    .collect();
                if self.try_events(s, events) {
                    progress = true;
                    end = start.min(s.events.len().saturating_sub(1));
                } else {
                    end = start;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
        if progress {
            (self.log)(&format!("dropped chunks: {} events left", s.events.len()));
        }
        progress
    }

    fn shorten(&mut self, s: &mut Schedule) -> bool {
        let mut progress = false;
        // Pull the end of the fault phase in.
        let last = s
            .events
            .iter()
            .filter(|e| !e.action.ends_faults())
            .map(|e| e.at_us)
            .max()
            .unwrap_or(0);
        let end_at = last + 100_000;
        if s.events
            .iter()
            .any(|e| e.action.ends_faults() && e.at_us > end_at)
        {
            let events = s
                .events
                .iter()
                .map(|e| {
                    if e.action.ends_faults() {
                        Timed {
                            at_us: end_at,
                            ..e.clone()
                        }
                    } else {
                        e.clone()
                    }
                })
                .collect();
            if self.try_events(s, events) {
                progress = true;
                (self.log)(&format!("fault phase ends at {:.3}s", end_at as f64 / 1e6));
            }
        }
        // Halve every gap between consecutive events.
        let mut prev = 0;
        let mut new_prev = 0;
        let events: Vec<Timed> = s
            .events
            .iter()
            .map(|e| {
                let at = new_prev + (e.at_us - prev) / 2;
                prev = e.at_us;
                new_prev = at;
                Timed {
                    at_us: at,
                    ..e.clone()
                }
            })
            .collect();
        if self.try_events(s, events) {
            progress = true;
            (self.log)("halved the gaps between events");
        }
        progress
    }

    fn fewer_nodes(&mut self, s: &mut Schedule) -> bool {
        if self.sc.nodes <= 3 {
            return false;
        }
        let n = self.sc.nodes - 1;
        let events: Vec<Timed> = s
            .events
            .iter()
            .filter(|e| e.action.nodes().iter().all(|&x| x < n))
            .cloned()
            .collect();
        let mut sc = self.sc.clone();
        sc.nodes = n;
        let candidate = Schedule {
            events,
            nodes: Some(n),
            ..s.clone()
        };
        if self.holds(&sc, &candidate) {
            *s = candidate;
            self.sc = sc;
            (self.log)(&format!("{n} nodes"));
            return true;
        }
        false
    }
}

/// Shrinks `schedule` while it keeps failing the way it fails now.
/// Returns `Ok(None)` if it does not fail (nothing to shrink), and the
/// harness error if the schedule itself cannot be run.
pub fn shrink(
    sc: &Scenario,
    schedule: &Schedule,
    opts: &RunOptions,
    log: &dyn Fn(&str),
) -> Result<Option<Shrunk>, HarnessError> {
    shrink_by(sc, schedule, opts, log, &signature)
}

/// [`shrink`], keeping candidates whose `key` equals the original run's
/// (the nightly job keeps a failure's whole group, not only its oracle).
pub fn shrink_by(
    sc: &Scenario,
    schedule: &Schedule,
    opts: &RunOptions,
    log: &dyn Fn(&str),
    key: Key,
) -> Result<Option<Shrunk>, HarnessError> {
    let first = run_schedule(sc, schedule, opts)?;
    let sc = schedule.scenario_of(sc);
    let Some(target) = key(&first) else {
        return Ok(None);
    };
    log(&format!(
        "target signature: {target}; {} events",
        schedule.events.len()
    ));
    let mut search = Search {
        sc,
        opts,
        key,
        target,
        runs: 1,
        log,
    };
    let mut current = schedule.clone();
    loop {
        let mut progress = search.drop_kinds(&mut current);
        progress |= search.drop_chunks(&mut current);
        progress |= search.shorten(&mut current);
        progress |= search.fewer_nodes(&mut current);
        if !progress {
            break;
        }
    }
    Ok(Some(Shrunk {
        signature: search.target,
        before: schedule.events.len(),
        schedule: current,
        runs: search.runs,
    }))
}
