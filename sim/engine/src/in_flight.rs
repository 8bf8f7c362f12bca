//! The in-flight rule: what becomes of a message that was on its way when
//! its sender or its receiver stopped. Every runtime judges an arrival
//! here, so a crash means the same on all of them. A link cut under a
//! message is the runtime network's to know: the native model reports
//! it here; turmoil 0.7.2 drops what a partition strands before any host
//! sees it; madsim 0.2 judges a link only as a message leaves, so there a
//! message sent before a cut still arrives (an exception that runtime
//! forces). The hosted runtimes pass `cut` as false.
//!
//! A node's incarnation counts its processes: it moves on when a process
//! ends, so a node that is down already has the number its next process
//! will run under. A message carries both ends' incarnations as it left.
//!
//! - A crashed sender's connections reset: what it sent dies with it, and
//!   never arrives anywhere (nothing to record: it never reached a host).
//! - A message for an incarnation that is gone reaches the receiver's host
//!   but no process that expects it: it is dropped as it arrives (worth
//!   recording), as is one whose link was cut while it was on the wire.
//! - Otherwise it arrives: handed to a running process, held for a paused
//!   one until it resumes, lost on a node that is down.

/// Who sent a message to whom, in which incarnations, as it left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    /// The sending node.
    pub from: u8,
    /// The sender's incarnation when it sent.
    pub from_inc: u32,
    /// The receiving node.
    pub to: u8,
    /// The receiver's incarnation when the message left.
    pub to_inc: u32,
}

/// What the in-flight rule makes of an arriving message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Its sender's process is gone: the message died with it.
    SenderGone,
    /// It reached the receiver's host but not the process it was sent to
    /// (that incarnation is gone, or the link was cut under it): dropped
    /// as it arrives.
    Dropped,
    /// It reaches the receiver as the incarnation it was sent to.
    Arrives,
}

impl Envelope {
    /// Judges the message as it arrives, given each node's incarnation
    /// now and whether its link is cut now.
    pub fn arrival(&self, incarnation: impl Fn(u8) -> u32, cut: bool) -> Arrival {
        if incarnation(self.from) != self.from_inc {
            Arrival::SenderGone
        } else if incarnation(self.to) != self.to_inc || cut {
            Arrival::Dropped
        } else {
            Arrival::Arrives
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: Envelope = Envelope {
        from: 0,
        from_inc: 3,
        to: 1,
        to_inc: 7,
    };

    fn now(from: u32, to: u32) -> impl Fn(u8) -> u32 {
        move |n| if n == 0 { from } else { to }
    }

    #[test]
    fn a_message_dies_with_its_sender_even_when_its_receiver_is_gone_too() {
        assert_eq!(SENT.arrival(now(4, 7), false), Arrival::SenderGone);
        assert_eq!(SENT.arrival(now(4, 8), true), Arrival::SenderGone);
    }

    #[test]
    fn a_message_for_a_gone_incarnation_or_over_a_cut_link_is_dropped() {
        assert_eq!(SENT.arrival(now(3, 8), false), Arrival::Dropped);
        assert_eq!(SENT.arrival(now(3, 7), true), Arrival::Dropped);
    }

    #[test]
    fn otherwise_it_arrives() {
        assert_eq!(SENT.arrival(now(3, 7), false), Arrival::Arrives);
    }
}
