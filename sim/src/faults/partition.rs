//! Cut links: a partition cuts every link between a side and the other
//! nodes, both ways (`network.partitions`); a one-way cut, one link one
//! way (`network.one_way_partitions`); each lasts `network.partition_ms`
//! and ends with a heal of every link. The network model drops what
//! crosses a cut link, in flight or not.

use std::collections::BTreeSet;

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::{ms, node, Generator};
use super::{Check, FaultKind};
use crate::rng::between;
use crate::trace::kinds;
use crate::world::target::Target;

/// Cut every link between `side` and the other nodes, both ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    #[serde(with = "crate::faults::node_field::list")]
    pub side: Vec<u8>,
}

/// Cut the link `from -> to` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneWay {
    #[serde(with = "crate::faults::node_field::one")]
    pub from: u8,
    #[serde(with = "crate::faults::node_field::one")]
    pub to: u8,
}

/// Repair every link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heal {}

const FAMILY: Option<&str> = Some("partition");

impl FaultKind for Partition {
    const FAMILY: Option<&'static str> = FAMILY;

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        self.side.iter().map(|&x| ("side", x)).collect()
    }

    fn check(&self, check: &Check<'_>) -> Result<(), String> {
        let distinct: BTreeSet<u8> = self.side.iter().copied().collect();
        if distinct.is_empty()
            || distinct.len() != self.side.len()
            || distinct.len() >= usize::from(check.n)
        {
            return Err(format!(
                "{}: expected distinct nodes forming a non-empty proper subset of the {} nodes, found {:?}",
                (check.at)("side"),
                check.n,
                self.side
            ));
        }
        Ok(())
    }

    fn apply(self, t: &mut impl Target) {
        t.partition(&self.side);
        let mask = self.side.iter().fold(0, |m, &x| m | 1 << x);
        t.books(|mut b| b.record(None, &kinds::PARTITION, mask, 0));
    }
}

impl FaultKind for OneWay {
    const FAMILY: Option<&'static str> = FAMILY;

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        vec![("from", self.from), ("to", self.to)]
    }

    fn check(&self, check: &Check<'_>) -> Result<(), String> {
        if self.from == self.to {
            return Err(format!(
                "{}: a link joins two different nodes, found {} -> {}",
                (check.at)("to"),
                self.from,
                self.to
            ));
        }
        Ok(())
    }

    fn apply(self, t: &mut impl Target) {
        t.one_way(self.from, self.to);
        let (a, b) = (u64::from(self.from), u64::from(self.to));
        t.books(|mut books| books.record(None, &kinds::ONE_WAY, a, b));
    }
}

impl FaultKind for Heal {
    const FAMILY: Option<&'static str> = FAMILY;
    const RESTORES: bool = true;

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        vec![]
    }

    fn apply(self, t: &mut impl Target) {
        t.heal();
        t.books(|mut b| b.record(None, &kinds::HEAL, 0, 0));
    }
}

/// `network.partitions`: a random proper side cut off, then healed.
pub(crate) fn partitions(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    let net = g.sc.network.clone();
    let n = g.n;
    for _ in 0..net.partitions {
        let t = g.at(r);
        let len = ms(between(r, net.partition_ms[0], net.partition_ms[1]));
        let mask = 1 + r.next_u64() % ((1u64 << n) - 2);
        let side = (0..n).filter(|i| mask & (1 << i) != 0).collect();
        g.push(t, Partition { side });
        g.push(t + len, Heal {});
    }
}

/// `network.one_way_partitions`: one link cut one way, then healed.
pub(crate) fn one_ways(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    let net = g.sc.network.clone();
    let n = g.n;
    for _ in 0..net.one_way_partitions {
        let t = g.at(r);
        let len = ms(between(r, net.partition_ms[0], net.partition_ms[1]));
        let from = node(r, n);
        let to = (from + 1 + node(r, n - 1)) % n;
        g.push(t, OneWay { from, to });
        g.push(t + len, Heal {});
    }
}
