//! Virtual time and the event queue of a discrete-event run.
//!
//! The clock never reads a wall clock: it jumps to the next pending event.
//! Events due at the same instant run in the order they were pushed (a
//! sequence number breaks ties), so nothing but the order of the pushes
//! can reorder work, and a replay of the same pushes is the same run.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// The virtual clock (microseconds since the run began) and the events
/// waiting for it, of any event type `E`.
pub struct Clock<E> {
    now: u64,
    seq: u64,
    pending: BinaryHeap<Reverse<Pending<E>>>,
}

struct Pending<E> {
    at: u64,
    seq: u64,
    ev: E,
}

impl<E> PartialEq for Pending<E> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl<E> Eq for Pending<E> {}
impl<E> PartialOrd for Pending<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Pending<E> {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

impl<E> Default for Clock<E> {
    fn default() -> Self {
        Clock {
            now: 0,
            seq: 0,
            pending: BinaryHeap::new(),
        }
    }
}

impl<E> Clock<E> {
    /// A clock at time zero with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current virtual time, in microseconds.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Events waiting.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Queues `ev` for virtual time `at`, behind everything already queued
    /// for that instant. An `at` in the past runs at the next pop without
    /// moving the clock back.
    pub fn push(&mut self, at: u64, ev: E) {
        self.seq += 1;
        self.pending.push(Reverse(Pending {
            at,
            seq: self.seq,
            ev,
        }));
    }

    /// The next event, with the clock moved to its time; `None` when
    /// nothing is pending (the clock stays).
    pub fn pop(&mut self) -> Option<E> {
        let Reverse(p) = self.pending.pop()?;
        self.now = self.now.max(p.at);
        Some(p.ev)
    }

    /// The next event if it is due by `now` (a runtime whose clock is not
    /// this one asks what its timers owe), with this clock moved to it.
    pub fn pop_due(&mut self, now: u64) -> Option<E> {
        if self.next_at()? > now {
            return None;
        }
        self.pop()
    }

    /// When the next event is due, without taking it.
    pub fn next_at(&self) -> Option<u64> {
        self.pending.peek().map(|Reverse(p)| p.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_run_by_time_then_by_push_order() {
        let mut c = Clock::new();
        c.push(30, "c");
        c.push(10, "a1");
        c.push(20, "b");
        c.push(10, "a2");
        let mut seen = Vec::new();
        while let Some(ev) = c.pop() {
            seen.push((c.now(), ev));
        }
        assert_eq!(seen, [(10, "a1"), (10, "a2"), (20, "b"), (30, "c")]);
    }

    #[test]
    fn the_clock_never_runs_backwards() {
        let mut c = Clock::new();
        c.push(50, 1);
        assert_eq!(c.next_at(), Some(50));
        assert_eq!(c.pop(), Some(1));
        c.push(40, 2);
        assert_eq!(c.pending(), 1);
        assert_eq!(c.pop(), Some(2));
        assert_eq!(c.now(), 50);
        assert_eq!(c.pop(), None);
        assert_eq!(c.now(), 50);
    }

    #[test]
    fn only_what_is_due_pops() {
        let mut c = Clock::new();
        c.push(20, 'b');
        c.push(10, 'a');
        assert_eq!(c.pop_due(5), None);
        assert_eq!(c.pop_due(15), Some('a'));
        assert_eq!(c.pop_due(15), None);
        assert_eq!(c.pop_due(19), None, "a microsecond early");
        assert_eq!(c.pop_due(20), Some('b'));
        assert_eq!(c.pop_due(99), None);
    }
}
