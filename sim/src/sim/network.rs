//! The simulated network: per-message fates drawn from keyed streams,
//! partitions, connection resets when a sender crashes, and snapshot
//! delivery reports back to raft.

use super::*;

impl Sim<'_> {
    pub(super) fn send(&mut self, from: u8, msg: Message) {
        let n = usize::from(self.sc.nodes);
        let Some(to) = msg
            .to
            .checked_sub(1)
            .and_then(|t| u8::try_from(t).ok())
            .filter(|&t| usize::from(t) < n)
        else {
            return;
        };
        self.stats.messages += 1;
        let link = usize::from(from) * n + usize::from(to);
        let seq = self.link_seq[link];
        self.link_seq[link] += 1;
        let kind = msg.get_msg_type() as u64;
        let is_snapshot = msg.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot;
        if self.blocked.contains(&(from, to)) {
            self.record(Some(from), "drop-partition", u64::from(to), kind);
            if is_snapshot {
                self.snapshot_failed(from, self.slots[usize::from(from)].incarnation, to);
            }
            return;
        }
        let net = &self.sc.network;
        let d = self.link_rng[link].draw(seq);
        if d.unit(0) < net.drop_rate {
            self.record(Some(from), "drop", u64::from(to), kind);
            if is_snapshot {
                self.snapshot_failed(from, self.slots[usize::from(from)].incarnation, to);
            }
            return;
        }
        let mut delay = d.range(1, net.delay_us[0], net.delay_us[1]);
        if d.unit(2) < net.reorder_rate {
            delay += net.reorder_us;
        }
        let from_inc = self.slots[usize::from(from)].incarnation;
        let to_inc = self.slots[usize::from(to)].incarnation;
        self.record(Some(from), "send", u64::from(to), kind << 32 | msg.index);
        if d.unit(3) < net.duplicate_rate {
            let again = delay + d.range(2, net.delay_us[0], net.delay_us[1]);
            self.push(
                self.now + again,
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
            self.now + delay,
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
        // A crashed sender's connections reset: its in-flight messages die,
        // and so do messages to an incarnation that is gone.
        let reachable = self.slots[usize::from(to)].incarnation == to_inc
            && !self.blocked.contains(&(from, to));
        if self.slots[usize::from(from)].incarnation != from_inc {
            return;
        }
        if !reachable {
            self.record(Some(to), "drop-partition", u64::from(from), 0);
            if is_snapshot {
                self.snapshot_failed(from, from_inc, to);
            }
            return;
        }
        match &self.slots[usize::from(to)].state {
            State::Up(_) => {
                self.record(
                    Some(to),
                    "deliver",
                    u64::from(from),
                    msg.get_msg_type() as u64,
                );
                self.with_core(to, |core, out, crash| {
                    core.step(msg, out, crash).map(|_| false)
                });
                if is_snapshot {
                    self.record(Some(from), "snapshot-delivered", u64::from(to), 0);
                    self.with_core(from, |core, out, crash| {
                        core.report_snapshot(u64::from(to) + 1, true, out, crash)
                            .map(|_| false)
                    });
                }
            }
            State::Paused(_) => self.slots[usize::from(to)].held.push(Held::Message(msg)),
            State::Down(_) => {
                if is_snapshot {
                    self.snapshot_failed(from, from_inc, to);
                }
            }
        }
    }

    /// The transport tells a snapshot's sender it did not arrive.
    pub(super) fn snapshot_failed(&mut self, from: u8, from_inc: u32, to: u8) {
        if self.slots[usize::from(from)].incarnation == from_inc {
            self.record(Some(from), "snapshot-failed", u64::from(to), 0);
            self.with_core(from, |core, out, crash| {
                core.report_snapshot(u64::from(to) + 1, false, out, crash)
                    .map(|_| false)
            });
        }
    }
}
