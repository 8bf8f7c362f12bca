//! The network model: which links are cut, and each message's fate (lost,
//! or delivered after a delay, perhaps twice).
//!
//! Fates are drawn from a stream keyed by link and per-link sequence
//! number, so that one link's traffic never shifts another's draws. The
//! model owns that state and knows nothing of nodes, processes or
//! messages: the world asks it for a fate and carries the message out.

use std::collections::BTreeSet;

use crate::rng::{KeyedRng, Streams, Subsystem};

/// How every link behaves (a scenario's network section).
#[derive(Debug, Clone, PartialEq)]
pub struct Links {
    /// One-way delay range, in virtual microseconds.
    pub delay_us: [u64; 2],
    /// Probability a message is lost.
    pub drop_rate: f64,
    /// Probability a message is delivered a second time (after its own
    /// delay plus a fresh one).
    pub duplicate_rate: f64,
    /// Probability a message is held back by an extra `reorder_us`.
    pub reorder_rate: f64,
    /// The hold-back of a reordered message, in microseconds.
    pub reorder_us: u64,
}

/// What happens to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The link is cut (a partition).
    Cut,
    /// Lost in transit.
    Lost,
    /// Delivered after `delay` us, and again after `again` us when the
    /// network duplicates it.
    Delivered {
        /// Microseconds until it arrives.
        delay: u64,
        /// Microseconds until its duplicate arrives, if any.
        again: Option<u64>,
    },
}

/// The links between `nodes` nodes: their cuts and their fate streams.
pub struct Network {
    links: Links,
    nodes: usize,
    blocked: BTreeSet<(u8, u8)>,
    link_seq: Vec<u64>,
    link_rng: Vec<KeyedRng>,
}

impl Network {
    /// Every link of a `nodes`-node cluster up, drawing from `streams`.
    pub fn new(links: Links, nodes: u8, streams: &Streams) -> Self {
        let n = usize::from(nodes);
        Network {
            links,
            nodes: n,
            blocked: BTreeSet::new(),
            link_seq: vec![0; n * n],
            link_rng: streams.family(Subsystem::Network, 0, n * n),
        }
    }

    /// The fate of the next message on `from -> to`. A cut link still
    /// uses up its sequence number, so that a partition does not shift the
    /// draws of the traffic after it heals.
    pub fn fate(&mut self, from: u8, to: u8) -> Fate {
        let link = usize::from(from) * self.nodes + usize::from(to);
        let seq = self.link_seq[link];
        self.link_seq[link] += 1;
        if self.is_cut(from, to) {
            return Fate::Cut;
        }
        let net = &self.links;
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

    /// Whether `from -> to` is cut.
    pub fn is_cut(&self, from: u8, to: u8) -> bool {
        self.blocked.contains(&(from, to))
    }

    /// Cuts every link between `side` and the other nodes, both ways.
    pub fn partition(&mut self, side: &[u8]) {
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
    pub fn cut(&mut self, from: u8, to: u8) {
        self.blocked.insert((from, to));
    }

    /// Every link works again.
    pub fn heal(&mut self) {
        self.blocked.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Links that lose, reorder and duplicate a fifth of their traffic
    /// each, with delays of 0.1 to 5 ms and a reorder hold of 20 ms.
    fn links() -> Links {
        let fifth = 0.2;
        Links {
            drop_rate: fifth,
            duplicate_rate: fifth,
            reorder_rate: fifth,
            delay_us: [100, 5_000],
            reorder_us: 20_000,
        }
    }

    fn fates(net: &mut Network, from: u8, to: u8, n: usize) -> Vec<Fate> {
        (0..n).map(|_| net.fate(from, to)).collect()
    }

    #[test]
    fn one_link_s_traffic_never_shifts_another_s_fates() {
        let streams = Streams::new(11);
        let mut quiet = Network::new(links(), 3, &streams);
        let alone = fates(&mut quiet, 0, 1, 50);
        let mut busy = Network::new(links(), 3, &streams);
        fates(&mut busy, 1, 0, 500);
        fates(&mut busy, 2, 1, 500);
        assert_eq!(fates(&mut busy, 0, 1, 50), alone);
        // The model does draw: not every fate is the same.
        assert!(alone.iter().any(|f| matches!(f, Fate::Lost)));
        assert!(alone
            .iter()
            .any(|f| matches!(f, Fate::Delivered { again: Some(_), .. })));
    }

    #[test]
    fn fates_stay_within_the_links_bounds() {
        let mut net = Network::new(links(), 2, &Streams::new(3));
        for fate in fates(&mut net, 0, 1, 2_000) {
            if let Fate::Delivered { delay, again } = fate {
                // On time, or held back by exactly the reorder delay.
                let on_time = (100..=5_000).contains(&delay);
                assert!(on_time || (20_100..=25_000).contains(&delay), "{delay}");
                if let Some(again) = again {
                    assert!(again > delay && again <= delay + 5_000, "{again}");
                }
            }
        }
    }

    #[test]
    fn a_partition_cuts_both_ways_a_one_way_cut_one_and_heal_restores_all() {
        let mut net = Network::new(links(), 3, &Streams::new(1));
        net.partition(&[0]);
        let cut: Vec<_> = [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)]
            .iter()
            .map(|&(a, b)| net.is_cut(a, b))
            .collect();
        assert_eq!(cut, [true, true, true, true, false, false]);
        assert_eq!(net.fate(0, 1), Fate::Cut);
        net.heal();
        net.cut(2, 1);
        assert!(net.is_cut(2, 1) && !net.is_cut(1, 2) && !net.is_cut(0, 1));
    }

    #[test]
    fn a_cut_message_uses_up_its_draw() {
        let streams = Streams::new(5);
        let mut never_cut = Network::new(links(), 2, &streams);
        let straight = fates(&mut never_cut, 0, 1, 10);
        let mut cut_once = Network::new(links(), 2, &streams);
        cut_once.cut(0, 1);
        assert_eq!(cut_once.fate(0, 1), Fate::Cut);
        cut_once.heal();
        assert_eq!(fates(&mut cut_once, 0, 1, 9), straight[1..]);
    }
}
