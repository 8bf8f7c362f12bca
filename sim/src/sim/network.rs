//! The network model: which links are cut, and each message's fate (lost,
//! or delivered after a delay, perhaps twice), drawn from a stream keyed by
//! link and per-link sequence number so that one link's traffic never
//! shifts another's draws. It owns that state and knows nothing of nodes.

use std::collections::BTreeSet;

use crate::rng::{KeyedRng, Streams, Subsystem};
use crate::scenario::Network as Config;

/// What happens to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// The link is cut (a partition).
    Cut,
    /// Lost in transit.
    Lost,
    /// Delivered after `delay` us, and again after `again` us when the
    /// network duplicates it.
    Delivered { delay: u64, again: Option<u64> },
}

pub(super) struct Network {
    config: Config,
    nodes: usize,
    blocked: BTreeSet<(u8, u8)>,
    link_seq: Vec<u64>,
    link_rng: Vec<KeyedRng>,
}

impl Network {
    pub(super) fn new(config: Config, nodes: u8, streams: &Streams) -> Self {
        let n = usize::from(nodes);
        Network {
            config,
            nodes: n,
            blocked: BTreeSet::new(),
            link_seq: vec![0; n * n],
            link_rng: streams.family(Subsystem::Network, 0, n * n),
        }
    }

    /// The fate of the next message on `from -> to`.
    pub(super) fn fate(&mut self, from: u8, to: u8) -> Fate {
        let link = usize::from(from) * self.nodes + usize::from(to);
        let seq = self.link_seq[link];
        self.link_seq[link] += 1;
        if self.is_cut(from, to) {
            return Fate::Cut;
        }
        let net = &self.config;
        let d = self.link_rng[link].draw(seq);
        if d.unit(0) < net.drop_rate {
            return Fate::Lost;
        }
        let mut delay = d.range(1, net.delay_us[0], net.delay_us[1]);
        if d.unit(2) < net.reorder_rate {
            delay += net.reorder_us;
        }
        let again = (d.unit(3) < net.duplicate_rate)
            .then(|| delay + d.range(2, net.delay_us[0], net.delay_us[1]));
        Fate::Delivered { delay, again }
    }

    pub(super) fn is_cut(&self, from: u8, to: u8) -> bool {
        self.blocked.contains(&(from, to))
    }

    /// Cuts every link between `side` and the other nodes, both ways.
    pub(super) fn partition(&mut self, side: &[u8]) {
        let n = self.nodes as u8;
        for a in 0..n {
            for b in 0..n {
                if side.contains(&a) != side.contains(&b) {
                    self.blocked.insert((a, b));
                }
            }
        }
    }

    /// Cuts the link `from -> to` only.
    pub(super) fn cut(&mut self, from: u8, to: u8) {
        self.blocked.insert((from, to));
    }

    /// Every link works again.
    pub(super) fn heal(&mut self) {
        self.blocked.clear();
    }
}
