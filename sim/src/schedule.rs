//! The schedule: a seed expanded into an explicit, printable list of timed
//! fault and workload events. The run executes the schedule; a schedule
//! file replays without the seed's expansion, which is what shrinking edits.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::node::ReadyStep;
use crate::rng::{between, Streams, Subsystem};
use crate::scenario::Scenario;

/// Bumped whenever the meaning of a schedule file changes.
pub const FORMAT_VERSION: u32 = 1;

/// One scheduled action. Nodes are 0-based cluster positions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    /// Process crash: written data survives, the process does not.
    Crash {
        node: u8,
    },
    /// Power loss: only synced data survives.
    PowerLoss {
        node: u8,
    },
    /// Start a down node again (no-op if it is up or refused).
    Restart {
        node: u8,
    },
    Pause {
        node: u8,
    },
    Resume {
        node: u8,
    },
    /// Crash the node at `step` of its next Ready.
    ArmReadyCrash {
        node: u8,
        step: ReadyStep,
        power_loss: bool,
    },
    /// Crash the node between its next registry write and its sync.
    ArmRegistryCrash {
        node: u8,
        power_loss: bool,
    },
    /// Replace a node's epoch file with an older copy: now if it is down,
    /// else at its next crash.
    EpochRollback {
        node: u8,
    },
    /// Crash the node between persisting the commit of its own new
    /// registration and applying it.
    ArmRegistrationCrash {
        node: u8,
    },
    /// Cut every link between `side` and the other nodes, both ways.
    Partition {
        side: Vec<u8>,
    },
    /// Cut the link `from -> to` only.
    OneWay {
        from: u8,
        to: u8,
    },
    Heal,
    /// A client KV command sent to `node`, encrypted under `dek`.
    Kv {
        node: u8,
        dek: u32,
    },
    /// A node takes a snapshot and compacts its log.
    Snapshot {
        node: u8,
    },
    /// A client proposes, through `via`, a registration for a non-member
    /// writer whose full id shares `victim`'s node16.
    Collision {
        via: u8,
        victim: u8,
        dek: u32,
        high_bits: u64,
    },
    /// A faulty client proposes a corrupted registration through `via`.
    Malformed {
        via: u8,
        variant: u8,
    },
    /// End of the fault phase: heal, resume and restart everything.
    EndOfFaults,
}

/// An action at a virtual time (microseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timed {
    pub at_us: u64,
    #[serde(flatten)]
    pub action: Action,
}

/// The explicit schedule of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub format: u32,
    pub seed: u64,
    /// Cluster size override (a shrunk schedule may need fewer nodes than
    /// its scenario); absent means the scenario's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u8>,
    pub events: Vec<Timed>,
}

fn node(rng: &mut ChaCha8Rng, n: u8) -> u8 {
    (rng.next_u64() % u64::from(n)) as u8
}

fn ms(v: u64) -> u64 {
    v * 1_000
}

impl Schedule {
    /// Expands `seed` under `scenario`. Faults and workload draw from
    /// their own streams, so changing one's rates leaves the other alone.
    pub fn generate(scenario: &Scenario, seed: u64) -> Schedule {
        let scenario = &scenario.for_seed(seed);
        let streams = Streams::new(seed);
        let n = scenario.nodes;
        let span = ms(scenario.duration_ms).max(1);
        let f = &scenario.faults;
        let mut events = Vec::new();
        let mut push = |at_us: u64, action| events.push(Timed { at_us, action });

        let mut w = streams.sequential(Subsystem::Workload);
        let kv_count =
            (scenario.workload.kv_per_sec * scenario.duration_ms as f64 / 1000.0).round() as u64;
        for _ in 0..kv_count {
            let at = w.next_u64() % span;
            let node = node(&mut w, n);
            let dek = scenario.deks[(w.next_u64() % scenario.deks.len() as u64) as usize];
            push(at, Action::Kv { node, dek });
        }

        let mut r = streams.sequential(Subsystem::Faults);
        let at = |r: &mut ChaCha8Rng| r.next_u64() % span;
        let down = |r: &mut ChaCha8Rng| ms(between(r, f.down_ms[0], f.down_ms[1]));
        for _ in 0..f.crashes {
            let (t, nd, d) = (at(&mut r), node(&mut r, n), down(&mut r));
            push(t, Action::Crash { node: nd });
            push(t + d, Action::Restart { node: nd });
        }
        for _ in 0..f.power_losses {
            let (t, nd, d) = (at(&mut r), node(&mut r, n), down(&mut r));
            push(t, Action::PowerLoss { node: nd });
            push(t + d, Action::Restart { node: nd });
        }
        for _ in 0..f.pauses {
            let (t, nd) = (at(&mut r), node(&mut r, n));
            let d = ms(between(&mut r, f.pause_ms[0], f.pause_ms[1]));
            push(t, Action::Pause { node: nd });
            push(t + d, Action::Resume { node: nd });
        }
        for _ in 0..f.restart_storms {
            let (mut t, nd) = (at(&mut r), node(&mut r, n));
            for _ in 0..f.storm_restarts {
                push(t, Action::Crash { node: nd });
                t += ms(between(&mut r, f.storm_gap_ms[0], f.storm_gap_ms[1]));
                push(t, Action::Restart { node: nd });
                t += ms(between(&mut r, f.storm_gap_ms[0], f.storm_gap_ms[1]));
            }
        }
        for _ in 0..f.ready_crashes {
            let (t, nd) = (at(&mut r), node(&mut r, n));
            let step = ReadyStep::ALL[(r.next_u64() % ReadyStep::ALL.len() as u64) as usize];
            let power_loss = crate::rng::chance(&mut r, f.armed_power_loss_rate);
            push(
                t,
                Action::ArmReadyCrash {
                    node: nd,
                    step,
                    power_loss,
                },
            );
        }
        for _ in 0..f.registry_write_crashes {
            let (t, nd) = (at(&mut r), node(&mut r, n));
            let power_loss = crate::rng::chance(&mut r, f.armed_power_loss_rate);
            push(
                t,
                Action::ArmRegistryCrash {
                    node: nd,
                    power_loss,
                },
            );
        }
        for _ in 0..f.epoch_rollbacks {
            let (t, nd, d) = (at(&mut r), node(&mut r, n), down(&mut r));
            push(t, Action::Crash { node: nd });
            if r.next_u64().is_multiple_of(2) {
                push(t + 1, Action::EpochRollback { node: nd });
                push(t + d, Action::Restart { node: nd });
            } else {
                // The harder case: after the restart the node crashes with
                // its new registration committed in its log but not yet
                // applied, and the older epoch file it finds is one below
                // that registration's epoch. Only the strict guard after
                // replay tells this restart from an honest one.
                push(t + d, Action::Restart { node: nd });
                push(t + d + 1, Action::ArmRegistrationCrash { node: nd });
                push(t + d + 1, Action::EpochRollback { node: nd });
            }
        }
        for _ in 0..f.collisions {
            let (t, via, victim) = (at(&mut r), node(&mut r, n), node(&mut r, n));
            let dek = scenario.deks[(r.next_u64() % scenario.deks.len() as u64) as usize];
            // Any high 48 bits but the victim's own: a different full id.
            let high_bits = (r.next_u64() >> 16) | 1 << 47;
            push(
                t,
                Action::Collision {
                    via,
                    victim,
                    dek,
                    high_bits,
                },
            );
        }
        for _ in 0..f.malformed {
            let (t, via) = (at(&mut r), node(&mut r, n));
            let variant = (r.next_u64() % 3) as u8;
            push(t, Action::Malformed { via, variant });
        }
        let net = &scenario.network;
        for _ in 0..net.partitions {
            let t = at(&mut r);
            let len = ms(between(&mut r, net.partition_ms[0], net.partition_ms[1]));
            // A random non-empty proper subset.
            let mask = 1 + r.next_u64() % ((1u64 << n) - 2);
            let side = (0..n).filter(|i| mask & (1 << i) != 0).collect();
            push(t, Action::Partition { side });
            push(t + len, Action::Heal);
        }
        for _ in 0..net.one_way_partitions {
            let t = at(&mut r);
            let len = ms(between(&mut r, net.partition_ms[0], net.partition_ms[1]));
            let from = node(&mut r, n);
            let to = (from + 1 + node(&mut r, n - 1)) % n;
            push(t, Action::OneWay { from, to });
            push(t + len, Action::Heal);
        }
        if scenario.snapshots.every_ms > 0 {
            let every = ms(scenario.snapshots.every_ms);
            for nd in 0..n {
                let mut t = r.next_u64() % every;
                while t < span {
                    push(t, Action::Snapshot { node: nd });
                    t += every;
                }
            }
        }
        // Storms can run past the fault phase: only the actions that bring
        // nodes back may land after it.
        events.retain(|e| {
            e.at_us < span
                || matches!(
                    e.action,
                    Action::Restart { .. } | Action::Resume { .. } | Action::Heal
                )
        });
        events.push(Timed {
            at_us: span,
            action: Action::EndOfFaults,
        });
        // Stable: equal times keep generation order.
        events.sort_by_key(|e| e.at_us);
        Schedule {
            format: FORMAT_VERSION,
            seed,
            nodes: None,
            events,
        }
    }

    /// Human-readable TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a schedule always serialises")
    }

    pub fn from_toml(text: &str, path: &str) -> Result<Schedule, String> {
        let s: Schedule = toml::from_str(text)
            .map_err(|e| format!("{path}: {}", e.to_string().trim_end().replace('\n', " ")))?;
        if s.format != FORMAT_VERSION {
            return Err(format!(
                "{path}: schedule format {} (this harness reads {FORMAT_VERSION})",
                s.format
            ));
        }
        Ok(s)
    }
}
