//! A pause: a running process stops handling anything (its ticks, its
//! inbox, its disk's completions wait for it) until its resume
//! (`faults.pauses`, for `faults.pause_ms`). Unlike a crash it loses
//! nothing.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::draw::{ms, Generator};
use super::{one, FaultKind};
use crate::rng::between;
use crate::trace::kinds;
use crate::world::target::Target;

/// Pause `node`'s process, if it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

/// Resume `node`'s paused process: what waited for it is handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    #[serde(with = "crate::faults::node_field::one")]
    pub node: u8,
}

impl FaultKind for Pause {
    const FAMILY: Option<&'static str> = Some("pause");

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        let node = self.node;
        if t.life(node).has_process() && t.pause(node) {
            t.books(|mut b| b.record(Some(node), &kinds::PAUSE, 0, 0));
        }
    }
}

impl FaultKind for Resume {
    const FAMILY: Option<&'static str> = Some("pause");
    const RESTORES: bool = true;

    fn node_fields(&self) -> Vec<(&'static str, u8)> {
        one(self.node)
    }

    fn apply(self, t: &mut impl Target) {
        t.resume(self.node);
    }
}

pub(crate) fn generate(g: &mut Generator<'_>, r: &mut ChaCha8Rng) {
    let f = g.sc.faults.clone();
    for _ in 0..f.pauses {
        let (t, node) = (g.at(r), g.node(r));
        let d = ms(between(r, f.pause_ms[0], f.pause_ms[1]));
        g.push(t, Pause { node });
        g.push(t + d, Resume { node });
    }
}
