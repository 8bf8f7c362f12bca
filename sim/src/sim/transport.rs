//! Carrying messages between nodes: the network model decides each
//! message's fate; the world schedules its delivery, resets the
//! connections of a crashed sender, and reports snapshot delivery back to
//! raft.

use super::*;
use regsim_engine::in_flight::{Arrival, Envelope};
use regsim_engine::network::Fate;

impl Sim<'_> {
    pub(super) fn send(&mut self, from: u8, msg: Message) {
        let n = usize::from(self.c.sc.nodes);
        let Some(to) = msg
            .to
            .checked_sub(1)
            .and_then(|t| u8::try_from(t).ok())
            .filter(|&t| usize::from(t) < n)
        else {
            return;
        };
        self.c.obs.stats.messages += 1;
        let kind = msg.get_msg_type() as u64;
        let is_snapshot = msg.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot;
        let (delay, again) = match self.network.fate(from, to) {
            fate @ (Fate::Cut | Fate::Lost) => {
                let what = if fate == Fate::Cut {
                    &kinds::DROP_PARTITION
                } else {
                    &kinds::DROP
                };
                self.c.record(Some(from), what, u64::from(to), kind);
                if is_snapshot {
                    self.snapshot_failed(
                        from,
                        self.c.nodes[usize::from(from)].member.incarnation,
                        to,
                        msg.term,
                    );
                }
                return;
            }
            Fate::Delivered { delay, again } => (delay, again),
        };
        let from_inc = self.c.nodes[usize::from(from)].member.incarnation;
        let to_inc = self.c.nodes[usize::from(to)].member.incarnation;
        self.c.record(
            Some(from),
            &kinds::SEND,
            u64::from(to),
            kind << 32 | msg.index,
        );
        if let Some(again) = again {
            self.push(
                self.clock.now() + again,
                Ev::Deliver {
                    from,
                    from_inc,
                    to,
                    to_inc,
                    msg: Box::new(msg.clone()),
                },
            );
        }
        self.push(
            self.clock.now() + delay,
            Ev::Deliver {
                from,
                from_inc,
                to,
                to_inc,
                msg: Box::new(msg),
            },
        );
    }

    pub(super) fn deliver(&mut self, from: u8, from_inc: u32, to: u8, to_inc: u32, msg: Message) {
        let is_snapshot = msg.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot;
        let sent = Envelope {
            from,
            from_inc,
            to,
            to_inc,
        };
        let incarnation = |n: u8| self.c.nodes[usize::from(n)].member.incarnation;
        let cut = self.network.is_cut(from, to);
        match self.c.obs.arrival(self.clock.now(), sent, incarnation, cut) {
            Arrival::SenderGone => return,
            Arrival::Dropped => {
                if is_snapshot {
                    self.snapshot_failed(from, from_inc, to, msg.term);
                }
                return;
            }
            Arrival::Arrives => {}
        }
        match &self.c.nodes[usize::from(to)].state {
            Process::Up(_) => self.hand_over(from, from_inc, to, msg),
            // Handed over at resume, as if it arrived then.
            Process::Paused(_) => self.slots[usize::from(to)].held.push(Held::Message {
                from,
                from_inc,
                msg,
            }),
            Process::Down(_) => {
                if is_snapshot {
                    self.snapshot_failed(from, from_inc, to, msg.term);
                }
            }
        }
    }

    /// Steps a message into a running node `to`: a snapshot is observed as
    /// delivered (the checkers' ground truth of what a restore may hold)
    /// and its sender, if still the same incarnation, told it arrived.
    /// Messages held while `to` was paused come here at resume.
    pub(super) fn hand_over(&mut self, from: u8, from_inc: u32, to: u8, msg: Message) {
        let is_snapshot = msg.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot;
        self.c.obs.delivered(self.clock.now(), to, from, &msg);
        if self.c.obs.checkers.on() {
            let sender = self.slots[usize::from(from)].disk.clone();
            let sender = sender.borrow();
            let to_written_last = self.slots[usize::from(to)]
                .disk
                .borrow()
                .written()
                .last_index();
            let delivered = Observation::Delivered {
                from,
                to,
                msg: &msg,
                from_synced: sender.synced(),
                to_written_last,
            };
            self.c.obs.checkers.observe(self.clock.now(), delivered);
        }
        self.with_core(to, |core, out, crash| {
            core.step(msg, out, crash).map(|_| false)
        });
        if is_snapshot {
            self.tell_snapshot_fate(from, from_inc, to, true, 0);
        }
    }

    /// The transport tells a snapshot's sender (its message of `term`) it
    /// did not arrive.
    pub(super) fn snapshot_failed(&mut self, from: u8, from_inc: u32, to: u8, term: u64) {
        self.tell_snapshot_fate(from, from_inc, to, false, term);
    }

    /// The transport tells a snapshot's sender, if still incarnation
    /// `from_inc`, how its snapshot (of `term`) to `to` fared. A paused
    /// sender learns it at resume, as a process learns of a stream that
    /// ended while it was frozen.
    fn tell_snapshot_fate(&mut self, from: u8, from_inc: u32, to: u8, delivered: bool, term: u64) {
        if self.c.incarnation(from) != from_inc {
            return;
        }
        let kind = if delivered {
            &kinds::SNAPSHOT_DELIVERED
        } else {
            &kinds::SNAPSHOT_FAILED
        };
        if let Process::Paused(_) = self.c.nodes[usize::from(from)].state {
            self.slots[usize::from(from)].held.push(Held::SnapshotFate {
                to,
                delivered,
                term,
            });
        }
        self.c.record(Some(from), kind, u64::from(to), 0);
        if !matches!(self.c.nodes[usize::from(from)].state, Process::Paused(_)) {
            self.report_snapshot_fate(from, to, delivered, term);
        }
    }

    /// A snapshot's fate reaches its sender's node core (if it runs).
    pub(super) fn report_snapshot_fate(&mut self, from: u8, to: u8, delivered: bool, term: u64) {
        if !matches!(self.c.nodes[usize::from(from)].state, Process::Up(_)) {
            return;
        }
        if !delivered {
            let failed = Observation::SnapshotFailed { from, to, term };
            self.c.obs.checkers.observe(self.clock.now(), failed);
        }
        self.with_core(from, |core, out, crash| {
            core.report_snapshot(u64::from(to) + 1, delivered, out, crash)
                .map(|_| false)
        });
    }
}
