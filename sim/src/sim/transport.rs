//! The native transport: the network model decides each message's fate
//! as it leaves (cut, lost, delayed, duplicated) and the in-flight rule
//! judges it as it arrives. Sans-IO: it records what it decided in the
//! trace and tells the world what to schedule or whom to tell; handing
//! a message to a node core is the world's.

use raft::eraftpb::{Message, MessageType};

use crate::registry::RegistryCluster;
use crate::rng::Streams;
use crate::trace::kinds;
use regsim_engine::in_flight::{Arrival, Envelope};
use regsim_engine::network::{Fate, Links, Network};
use regsim_engine::storage::RaftLog;

/// The network model's cut links and message fates.
pub(super) struct Transport {
    network: Network,
}

/// What became of a message as it left its sender.
pub(super) enum Leaving {
    /// Addressed to no member: nothing happens.
    Nowhere,
    /// Cut or lost, as recorded: never arrives at `to`.
    Dropped { to: u8 },
    /// On its way: arrives after `delay`, and a copy after `again`.
    InFlight {
        sent: Envelope,
        delay: u64,
        again: Option<u64>,
    },
}

impl Transport {
    pub fn new(links: Links, n: u8, streams: &Streams) -> Transport {
        Transport {
            network: Network::new(links, n, streams),
        }
    }

    /// Cuts every link between `side` and the rest.
    pub fn partition(&mut self, side: &[u8]) {
        self.network.partition(side);
    }

    /// Cuts the link from `from` to `to` only.
    pub fn cut(&mut self, from: u8, to: u8) {
        self.network.cut(from, to);
    }

    pub fn heal(&mut self) {
        self.network.heal();
    }

    /// Decides the fate of `msg` as it leaves `from`, recording it.
    pub fn send<L: RaftLog>(
        &mut self,
        c: &mut RegistryCluster<L>,
        from: u8,
        msg: &Message,
    ) -> Leaving {
        let Some(to) = msg
            .to
            .checked_sub(1)
            .and_then(|t| u8::try_from(t).ok())
            .filter(|&t| t < c.sys.sc.nodes)
        else {
            return Leaving::Nowhere;
        };
        c.sys.obs.stats.messages += 1;
        let kind = msg.get_msg_type() as u64;
        match self.network.fate(from, to) {
            fate @ (Fate::Cut | Fate::Lost) => {
                let what = if fate == Fate::Cut {
                    &kinds::DROP_PARTITION
                } else {
                    &kinds::DROP
                };
                c.record(Some(from), what, u64::from(to), kind);
                Leaving::Dropped { to }
            }
            Fate::Delivered { delay, again } => {
                let sent = Envelope {
                    from,
                    from_inc: c.incarnation(from),
                    to,
                    to_inc: c.incarnation(to),
                };
                c.record(
                    Some(from),
                    &kinds::SEND,
                    u64::from(to),
                    kind << 32 | msg.index,
                );
                Leaving::InFlight { sent, delay, again }
            }
        }
    }

    /// Judges a message as it arrives by the in-flight rule, with its
    /// link as the network model has it now.
    pub fn arrive<L: RaftLog>(&self, c: &mut RegistryCluster<L>, sent: Envelope) -> Arrival {
        let cut = self.network.is_cut(sent.from, sent.to);
        let nodes = &c.nodes;
        let incarnation = |n: u8| nodes[usize::from(n)].member.incarnation;
        c.sys.obs.arrival(c.now, sent, incarnation, cut)
    }
}

/// The message carries a snapshot (whose sender learns how it fared).
pub(super) fn is_snapshot(msg: &Message) -> bool {
    msg.get_msg_type() == MessageType::MsgSnapshot
}
