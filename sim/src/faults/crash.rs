//! A process crash: what the node wrote survives, the process does not
//! (its armed faults die with it). Drawn alone (`faults.crashes`, each
//! with its restart after a down time) and in restart storms
//! (`faults.restart_storms`: one node crashed and restarted
//! `storm_restarts` times at short gaps).

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::{ms, Generator};
use super::restart::Restart;
use super::{one, FaultKind};
use crate::rng::between;
use crate::world::target::Target;

/// Crash `node`'s process, if it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crash {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

impl FaultKind for Crash {
    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        if t.life(self.node).has_process() {
            t.crash(self.node, false);
        }
    }
}

/// `faults.crashes`: a crash, and a restart after a down time.
pub(crate) fn crashes(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    for _ in 0..g.sc.faults.crashes {
        let (t, node, d) = (g.at(r), g.node(r), g.down(r));
        g.push(t, Crash { node });
        g.push(t + d, Restart { node });
    }
}

/// `faults.restart_storms`: a node crashed and restarted over and over.
pub(crate) fn storms(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    let f = g.sc.faults.clone();
    for _ in 0..f.restart_storms {
        let (mut t, node) = (g.at(r), g.node(r));
        for _ in 0..f.storm_restarts {
            g.push(t, Crash { node });
            t += ms(between(r, f.storm_gap_ms[0], f.storm_gap_ms[1]));
            g.push(t, Restart { node });
            t += ms(between(r, f.storm_gap_ms[0], f.storm_gap_ms[1]));
        }
    }
}
