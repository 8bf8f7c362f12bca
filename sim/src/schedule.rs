//! The schedule: a seed expanded into an explicit, printable list of timed
//! fault and workload events. The run executes the schedule; a schedule
//! file replays without the seed's expansion, which is what shrinking edits.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::node::ReadyStep;
use crate::rng::{between, Streams, Subsystem};
use crate::scenario::{Scenario, MAX_SCHEDULED_EVENTS};

/// Bumped whenever the meaning of a schedule file changes.
pub const FORMAT_VERSION: u32 = 1;

/// Latest time an event may have, in virtual microseconds (about 285
/// years): far past any scenario, and far enough below `u64::MAX` that
/// the engine's sums on event times cannot overflow.
pub const MAX_AT_US: u64 = 1 << 53;

/// Scheduled events at one instant may use at most this fraction of the
/// per-instant watchdog (each starts more work at the same time).
pub const INSTANT_HEADROOM: u64 = 10;

/// Largest schedule or corpus file read, in bytes: a million events fit.
pub const MAX_FILE_BYTES: u64 = 128 << 20;

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
    /// Fail the node's next registry write (`op` = write) or the sync
    /// after it (`op` = sync) with `errno`, once.
    ArmStoreError {
        node: u8,
        op: crate::store::StoreOp,
        errno: crate::store::Errno,
    },
    /// Crash the node right after its own registration under one DEK
    /// applies, with another DEK's still to come.
    ArmBetweenDeksCrash {
        node: u8,
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
    /// Crash the node (as leader of its own registration) when the first
    /// acknowledgement covering that still uncommitted entry reaches it,
    /// before it steps it: the entry sits on a follower, uncommitted,
    /// while the node restarts, and commits under the next leader after
    /// its successor started.
    ArmAckCrash {
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
    /// Damage, in a down node's store, the registry row of member
    /// `target` under `dek` (if it exists): `truncate` drops its last byte
    /// (shape-breaking), `owner-bit` flips a bit of its owner's high bytes,
    /// `last-seen-up` raises its last_seen by one (both shape-preserving).
    CorruptRow {
        node: u8,
        target: u8,
        dek: u32,
        mode: crate::store::Corruption,
    },
    /// Set a down node's epoch file to `epoch` (written and synced).
    EpochPreset {
        node: u8,
        epoch: u16,
    },
    /// A faulty client proposes, through `via`, an entry with `opcode`:
    /// 4 bootstrap, 5 rotation, 6 or 7 reserved.
    Exotic {
        via: u8,
        opcode: u8,
    },
    /// End of the fault phase: heal, resume and restart everything.
    EndOfFaults,
}

impl Action {
    /// Every event kind, as schedule files name them.
    pub const KINDS: [&'static str; 23] = [
        "crash",
        "power-loss",
        "restart",
        "pause",
        "resume",
        "arm-ready-crash",
        "arm-registry-crash",
        "epoch-rollback",
        "arm-registration-crash",
        "arm-between-deks-crash",
        "arm-ack-crash",
        "arm-store-error",
        "partition",
        "one-way",
        "heal",
        "kv",
        "snapshot",
        "collision",
        "malformed",
        "epoch-preset",
        "corrupt-row",
        "exotic",
        "end-of-faults",
    ];

    /// The kind as schedule files name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Crash { .. } => "crash",
            Action::PowerLoss { .. } => "power-loss",
            Action::Restart { .. } => "restart",
            Action::Pause { .. } => "pause",
            Action::Resume { .. } => "resume",
            Action::ArmReadyCrash { .. } => "arm-ready-crash",
            Action::ArmRegistryCrash { .. } => "arm-registry-crash",
            Action::EpochRollback { .. } => "epoch-rollback",
            Action::ArmRegistrationCrash { .. } => "arm-registration-crash",
            Action::ArmBetweenDeksCrash { .. } => "arm-between-deks-crash",
            Action::ArmAckCrash { .. } => "arm-ack-crash",
            Action::ArmStoreError { .. } => "arm-store-error",
            Action::Partition { .. } => "partition",
            Action::OneWay { .. } => "one-way",
            Action::Heal => "heal",
            Action::Kv { .. } => "kv",
            Action::Snapshot { .. } => "snapshot",
            Action::Collision { .. } => "collision",
            Action::Malformed { .. } => "malformed",
            Action::EpochPreset { .. } => "epoch-preset",
            Action::CorruptRow { .. } => "corrupt-row",
            Action::Exotic { .. } => "exotic",
            Action::EndOfFaults => "end-of-faults",
        }
    }

    /// The family the shrinker removes as one: an action with those that
    /// undo or accompany it (a pause with its resume, the registration
    /// crash points, a partition with one-way cuts and heals).
    pub fn family(&self) -> &'static str {
        match self {
            Action::Pause { .. } | Action::Resume { .. } => "pause",
            Action::ArmRegistrationCrash { .. }
            | Action::ArmBetweenDeksCrash { .. }
            | Action::ArmAckCrash { .. } => "arm-registration-crash",
            Action::Partition { .. } | Action::OneWay { .. } | Action::Heal => "partition",
            _ => self.kind(),
        }
    }

    /// The nodes the action names, with the field naming each.
    pub fn node_fields(&self) -> Vec<(&'static str, u8)> {
        match self {
            Action::Crash { node }
            | Action::PowerLoss { node }
            | Action::Restart { node }
            | Action::Pause { node }
            | Action::Resume { node }
            | Action::ArmReadyCrash { node, .. }
            | Action::ArmRegistryCrash { node, .. }
            | Action::ArmRegistrationCrash { node }
            | Action::ArmBetweenDeksCrash { node }
            | Action::ArmAckCrash { node }
            | Action::ArmStoreError { node, .. }
            | Action::EpochRollback { node }
            | Action::EpochPreset { node, .. }
            | Action::Kv { node, .. }
            | Action::Snapshot { node } => vec![("node", *node)],
            Action::Partition { side } => side.iter().map(|&x| ("side", x)).collect(),
            Action::OneWay { from, to } => vec![("from", *from), ("to", *to)],
            Action::Collision { via, victim, .. } => vec![("via", *via), ("victim", *victim)],
            Action::Malformed { via, .. } | Action::Exotic { via, .. } => vec![("via", *via)],
            Action::CorruptRow { node, target, .. } => vec![("node", *node), ("target", *target)],
            Action::Heal | Action::EndOfFaults => vec![],
        }
    }

    /// The nodes the action names.
    pub fn nodes(&self) -> Vec<u8> {
        self.node_fields().into_iter().map(|(_, n)| n).collect()
    }
}

/// An action at a virtual time (microseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timed {
    pub at_us: u64,
    #[serde(flatten)]
    pub action: Action,
}

/// The explicit schedule of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub format: u32,
    #[serde(serialize_with = "seed_field::serialize")]
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
    /// The scenario this schedule runs under: `sc` as its seed draws it
    /// (a swarm seed's knobs), with the schedule's node count.
    pub fn scenario_of(&self, sc: &Scenario) -> Scenario {
        sc.for_seed(self.seed).with_nodes(self.nodes)
    }

    /// Expands `seed` under `scenario`. Faults and workload draw from
    /// their own streams, so changing one's rates leaves the other alone.
    pub fn generate(scenario: &Scenario, seed: u64) -> Schedule {
        let scenario = &scenario.for_seed(seed);
        let streams = Streams::new(seed);
        let span = ms(scenario.duration_ms).max(1);
        let mut g = Generator {
            sc: scenario,
            n: scenario.nodes,
            span,
            events: Vec::new(),
        };
        g.workload(&mut streams.sequential(Subsystem::Workload));
        // One stream for every fault kind, drawn in this order: the order
        // is part of what a seed means.
        let mut r = streams.sequential(Subsystem::Faults);
        g.process_faults(&mut r);
        g.armed_crashes(&mut r);
        g.rollbacks(&mut r);
        g.injections(&mut r);
        g.partitions(&mut r);
        g.snapshots(&mut r);
        // Kinds added later draw after every older one, so old seeds keep
        // their schedules.
        g.first_registrations(&mut r);
        let mut events = g.events;
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

    /// Parses a schedule file; `path` names it in errors, which give the
    /// field (`events[3].node`) and the real cause. Checks the format
    /// first, so that a file from a newer harness says so.
    pub fn from_toml(text: &str, path: &str) -> Result<Schedule, String> {
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| format!("{path}: {}", e.to_string().trim_end().replace('\n', " ")))?;
        Schedule::from_table(table, path, "")
    }

    /// Reads a schedule from a parsed TOML table (a schedule file, or the
    /// `schedule` table of a corpus entry, whose fields `prefix` names).
    pub fn from_table(
        mut table: toml::Table,
        path: &str,
        prefix: &str,
    ) -> Result<Schedule, String> {
        let field = |name: &str| format!("{path}: `{prefix}{name}`");
        let format = match table.remove("format") {
            None => {
                return Err(format!(
                    "{}: missing (this harness reads format {FORMAT_VERSION})",
                    field("format")
                ))
            }
            Some(toml::Value::Integer(v)) => u32::try_from(v)
                .map_err(|_| format!("{}: expected a format number, found {v}", field("format")))?,
            Some(other) => {
                return Err(format!(
                    "{}: expected an integer, found {}",
                    field("format"),
                    other.type_str()
                ))
            }
        };
        if format > FORMAT_VERSION {
            return Err(format!(
                "{}: format {format} is newer than this harness understands ({FORMAT_VERSION}): update regsim",
                field("format")
            ));
        }
        // An older format still parses where it can: a corpus entry in one
        // is reported stale rather than failed, and [`Schedule::validate`]
        // refuses to run it.
        let seed = match table.remove("seed") {
            None => return Err(format!("{}: missing", field("seed"))),
            Some(v) => seed_of(&v).ok_or_else(|| {
                format!(
                    "{}: expected a seed from 0 to {}, found {v}",
                    field("seed"),
                    u64::MAX
                )
            })?,
        };
        let nodes =
            match table.remove("nodes") {
                None => None,
                Some(toml::Value::Integer(v)) => Some(u8::try_from(v).map_err(|_| {
                    format!("{}: expected a cluster size, found {v}", field("nodes"))
                })?),
                Some(other) => {
                    return Err(format!(
                        "{}: expected an integer, found {}",
                        field("nodes"),
                        other.type_str()
                    ))
                }
            };
        let raw = match table.remove("events") {
            None => return Err(format!("{}: missing", field("events"))),
            Some(toml::Value::Array(a)) => a,
            Some(other) => {
                return Err(format!(
                    "{}: expected an array of tables, found {}",
                    field("events"),
                    other.type_str()
                ))
            }
        };
        if let Some(key) = table.keys().next() {
            return Err(format!(
                "{}: unknown field (known: format, seed, nodes, events)",
                field(key)
            ));
        }
        let events = raw
            .into_iter()
            .enumerate()
            .map(|(i, value)| event_from_toml(value, path, &format!("{prefix}events[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Schedule {
            format,
            seed,
            nodes,
            events,
        })
    }

    /// Checks that the schedule fits `scenario`: a cluster size it allows,
    /// every node index inside the cluster, known DEKs, sane values and one
    /// end of the fault phase. `path` names the schedule in errors.
    pub fn validate(&self, scenario: &Scenario, path: &str) -> Result<(), String> {
        self.validate_in(scenario, path, "")
    }

    /// [`Schedule::validate`] for a schedule inside a larger file (a
    /// corpus entry's `schedule` table), whose fields `prefix` names.
    pub fn validate_in(&self, scenario: &Scenario, path: &str, prefix: &str) -> Result<(), String> {
        let field = |name: &str| format!("{path}: `{prefix}{name}`");
        if self.format != FORMAT_VERSION {
            return Err(format!(
                "{}: {} (this harness reads {FORMAT_VERSION})",
                field("format"),
                self.format
            ));
        }
        let sc = scenario.for_seed(self.seed);
        let drawn = sc.nodes;
        let n = match self.nodes {
            Some(n) if !(3..=drawn).contains(&n) => {
                return Err(format!(
                    "{}: expected 3 to {drawn} (scenario {:?} runs {drawn} nodes{}), found {n}",
                    field("nodes"),
                    scenario.name,
                    if scenario.swarm { " for this seed" } else { "" }
                ))
            }
            Some(n) => n,
            None => drawn,
        };
        if self.events.len() as u64 > MAX_SCHEDULED_EVENTS {
            return Err(format!(
                "{}: {} events, more than the {MAX_SCHEDULED_EVENTS} a run may schedule",
                field("events"),
                self.events.len()
            ));
        }
        let ends: Vec<u64> = self
            .events
            .iter()
            .filter(|e| e.action == Action::EndOfFaults)
            .map(|e| e.at_us)
            .collect();
        let [end_at] = ends[..] else {
            return Err(format!(
                "{}: expected exactly one end-of-faults event (it ends the fault phase and starts the liveness check), found {}",
                field("events"),
                ends.len()
            ));
        };
        let span_us = sc.duration_ms * 1000;
        if end_at > span_us {
            return Err(format!(
                "{}: end-of-faults at {end_at} us, after the scenario's fault phase of {span_us} us (duration_ms)",
                field("events")
            ));
        }
        // Many events at one instant trip the watchdog for events at one
        // instant: that would blame the system for the schedule.
        let mut per_instant: std::collections::BTreeMap<u64, u64> = Default::default();
        for e in &self.events {
            *per_instant.entry(e.at_us).or_default() += 1;
        }
        let most = sc.limits.max_events_per_instant / INSTANT_HEADROOM;
        if let Some((at, count)) = per_instant.into_iter().find(|(_, c)| *c > most) {
            return Err(format!(
                "{}: {count} events at {at} us, more than {most} at one instant (a tenth of limits.max_events_per_instant)",
                field("events")
            ));
        }
        for (i, e) in self.events.iter().enumerate() {
            let at =
                |name: &str| format!("{path}: `{prefix}events[{i}].{name}` ({})", e.action.kind());
            // Only what brings nodes back may follow the fault phase.
            let restores = matches!(
                e.action,
                Action::Restart { .. } | Action::Resume { .. } | Action::Heal | Action::EndOfFaults
            );
            if e.at_us > end_at && !restores {
                return Err(format!(
                    "{}: at {} us, after end-of-faults ({end_at} us); only restart, resume and heal may come after it",
                    at("at_us"),
                    e.at_us
                ));
            }
            if e.at_us > MAX_AT_US {
                return Err(format!(
                    "{}: expected at most {MAX_AT_US}, found {}",
                    at("at_us"),
                    e.at_us
                ));
            }
            check_event(&e.action, n, &scenario.deks, &at)?;
        }
        Ok(())
    }
}

/// Expands one seed: each method draws one family of events, in the order
/// [`Schedule::generate`] calls them.
struct Generator<'a> {
    sc: &'a Scenario,
    n: u8,
    span: u64,
    events: Vec<Timed>,
}

impl Generator<'_> {
    fn push(&mut self, at_us: u64, action: Action) {
        self.events.push(Timed { at_us, action });
    }

    fn at(&self, r: &mut ChaCha8Rng) -> u64 {
        r.next_u64() % self.span
    }

    fn down(&self, r: &mut ChaCha8Rng) -> u64 {
        let f = &self.sc.faults;
        ms(between(r, f.down_ms[0], f.down_ms[1]))
    }

    fn dek(&self, r: &mut ChaCha8Rng) -> u32 {
        self.sc.deks[(r.next_u64() % self.sc.deks.len() as u64) as usize]
    }

    fn workload(&mut self, w: &mut ChaCha8Rng) {
        let kv_count = self.sc.kv_commands();
        for _ in 0..kv_count {
            let at = w.next_u64() % self.span;
            let node = node(w, self.n);
            let dek = self.dek(w);
            self.push(at, Action::Kv { node, dek });
        }
    }

    /// Crashes, power losses, pauses and restart storms.
    fn process_faults(&mut self, r: &mut ChaCha8Rng) {
        let f = self.sc.faults.clone();
        for _ in 0..f.crashes {
            let (t, nd, d) = (self.at(r), node(r, self.n), self.down(r));
            self.push(t, Action::Crash { node: nd });
            self.push(t + d, Action::Restart { node: nd });
        }
        for _ in 0..f.power_losses {
            let (t, nd, d) = (self.at(r), node(r, self.n), self.down(r));
            self.push(t, Action::PowerLoss { node: nd });
            self.push(t + d, Action::Restart { node: nd });
        }
        for _ in 0..f.pauses {
            let (t, nd) = (self.at(r), node(r, self.n));
            let d = ms(between(r, f.pause_ms[0], f.pause_ms[1]));
            self.push(t, Action::Pause { node: nd });
            self.push(t + d, Action::Resume { node: nd });
        }
        for _ in 0..f.restart_storms {
            let (mut t, nd) = (self.at(r), node(r, self.n));
            for _ in 0..f.storm_restarts {
                self.push(t, Action::Crash { node: nd });
                t += ms(between(r, f.storm_gap_ms[0], f.storm_gap_ms[1]));
                self.push(t, Action::Restart { node: nd });
                t += ms(between(r, f.storm_gap_ms[0], f.storm_gap_ms[1]));
            }
        }
    }

    /// Crashes armed inside a Ready and between a registry write and its sync.
    fn armed_crashes(&mut self, r: &mut ChaCha8Rng) {
        let f = self.sc.faults.clone();
        for _ in 0..f.ready_crashes {
            let (t, nd) = (self.at(r), node(r, self.n));
            let step = ReadyStep::ALL[(r.next_u64() % ReadyStep::ALL.len() as u64) as usize];
            let power_loss = crate::rng::chance(r, f.armed_power_loss_rate);
            self.push(
                t,
                Action::ArmReadyCrash {
                    node: nd,
                    step,
                    power_loss,
                },
            );
        }
        for _ in 0..f.between_dek_crashes {
            // Right after a restart, while the node registers.
            let (t, nd, d) = (self.at(r), node(r, self.n), self.down(r));
            self.push(t, Action::Crash { node: nd });
            self.push(t + d, Action::Restart { node: nd });
            self.push(t + d + 1, Action::ArmBetweenDeksCrash { node: nd });
        }
        for _ in 0..f.store_errors {
            let (t, nd) = (self.at(r), node(r, self.n));
            let op = if r.next_u64().is_multiple_of(2) {
                crate::store::StoreOp::Write
            } else {
                crate::store::StoreOp::Sync
            };
            let errno = if r.next_u64().is_multiple_of(2) {
                crate::store::Errno::Eio
            } else {
                crate::store::Errno::Enospc
            };
            self.push(
                t,
                Action::ArmStoreError {
                    node: nd,
                    op,
                    errno,
                },
            );
        }
        for _ in 0..f.registry_write_crashes {
            let (t, nd) = (self.at(r), node(r, self.n));
            let power_loss = crate::rng::chance(r, f.armed_power_loss_rate);
            self.push(
                t,
                Action::ArmRegistryCrash {
                    node: nd,
                    power_loss,
                },
            );
        }
    }

    /// Faults aimed at the first registrations, armed at the start on
    /// distinct nodes: a crash between a node's first registrations with
    /// an epoch rollback at that crash; then, on others, a crash at the
    /// first ack of a leader's own registration.
    fn first_registrations(&mut self, r: &mut ChaCha8Rng) {
        let f = &self.sc.faults;
        let rollbacks = f.first_registration_rollbacks as usize;
        let count = (rollbacks + f.ack_crashes as usize).min(usize::from(self.n));
        let mut nodes: Vec<u8> = (0..self.n).collect();
        for k in 0..count {
            let pick = k + (r.next_u64() % (nodes.len() - k) as u64) as usize;
            nodes.swap(k, pick);
            let nd = nodes[k];
            if k < rollbacks {
                self.push(1, Action::ArmBetweenDeksCrash { node: nd });
                self.push(1, Action::EpochRollback { node: nd });
            } else {
                self.push(1, Action::ArmAckCrash { node: nd });
            }
        }
    }

    fn rollbacks(&mut self, r: &mut ChaCha8Rng) {
        for _ in 0..self.sc.faults.epoch_rollbacks {
            let (t, nd, d) = (self.at(r), node(r, self.n), self.down(r));
            self.push(t, Action::Crash { node: nd });
            if r.next_u64().is_multiple_of(2) {
                self.push(t + 1, Action::EpochRollback { node: nd });
                self.push(t + d, Action::Restart { node: nd });
            } else {
                // The harder case: after the restart the node crashes with
                // its new registration committed in its log but not yet
                // applied, and the older epoch file it finds is one below
                // that registration's epoch. Only the strict guard after
                // replay tells this restart from an honest one.
                self.push(t + d, Action::Restart { node: nd });
                self.push(t + d + 1, Action::ArmRegistrationCrash { node: nd });
                self.push(t + d + 1, Action::EpochRollback { node: nd });
            }
        }
        for _ in 0..self.sc.faults.row_corruptions {
            let (t, nd, d) = (self.at(r), node(r, self.n), self.down(r));
            let target = node(r, self.n);
            let dek = self.dek(r);
            let mode = match r.next_u64() % 3 {
                0 => crate::store::Corruption::Truncate,
                1 => crate::store::Corruption::OwnerBit,
                _ => crate::store::Corruption::LastSeenUp,
            };
            self.push(t, Action::Crash { node: nd });
            self.push(
                t + 1,
                Action::CorruptRow {
                    node: nd,
                    target,
                    dek,
                    mode,
                },
            );
            self.push(t + d, Action::Restart { node: nd });
        }
        for _ in 0..self.sc.faults.epoch_presets {
            let (t, nd, d) = (self.at(r), node(r, self.n), self.down(r));
            let epoch = if r.next_u64().is_multiple_of(2) {
                0xFFFE
            } else {
                0xFFFF
            };
            self.push(t, Action::Crash { node: nd });
            self.push(t + 1, Action::EpochPreset { node: nd, epoch });
            self.push(t + d, Action::Restart { node: nd });
        }
    }

    /// Collisions and malformed entries from faulty clients.
    fn injections(&mut self, r: &mut ChaCha8Rng) {
        for _ in 0..self.sc.faults.collisions {
            let (t, via, victim) = (self.at(r), node(r, self.n), node(r, self.n));
            let dek = self.dek(r);
            // Any high 48 bits but the victim's own: a different full id.
            let high_bits = (r.next_u64() >> 16) | 1 << 47;
            self.push(
                t,
                Action::Collision {
                    via,
                    victim,
                    dek,
                    high_bits,
                },
            );
        }
        for _ in 0..self.sc.faults.malformed {
            let (t, via) = (self.at(r), node(r, self.n));
            let variant = (r.next_u64() % 3) as u8;
            self.push(t, Action::Malformed { via, variant });
        }
        for _ in 0..self.sc.faults.exotic_entries {
            // In the last fifth of the fault phase: every replica halts on
            // it, so what comes before should have had its run.
            let t = self.span - self.span / 5 + r.next_u64() % (self.span / 5).max(1);
            let via = node(r, self.n);
            let opcode = 4 + (r.next_u64() % 4) as u8;
            self.push(t.min(self.span - 1), Action::Exotic { via, opcode });
        }
    }

    fn partitions(&mut self, r: &mut ChaCha8Rng) {
        let net = self.sc.network.clone();
        let n = self.n;
        for _ in 0..net.partitions {
            let t = self.at(r);
            let len = ms(between(r, net.partition_ms[0], net.partition_ms[1]));
            // A random non-empty proper subset.
            let mask = 1 + r.next_u64() % ((1u64 << n) - 2);
            let side = (0..n).filter(|i| mask & (1 << i) != 0).collect();
            self.push(t, Action::Partition { side });
            self.push(t + len, Action::Heal);
        }
        for _ in 0..net.one_way_partitions {
            let t = self.at(r);
            let len = ms(between(r, net.partition_ms[0], net.partition_ms[1]));
            let from = node(r, n);
            let to = (from + 1 + node(r, n - 1)) % n;
            self.push(t, Action::OneWay { from, to });
            self.push(t + len, Action::Heal);
        }
    }

    fn snapshots(&mut self, r: &mut ChaCha8Rng) {
        if self.sc.snapshots.every_ms == 0 {
            return;
        }
        let every = ms(self.sc.snapshots.every_ms);
        for nd in 0..self.n {
            let mut t = r.next_u64() % every;
            while t < self.span {
                self.push(t, Action::Snapshot { node: nd });
                t += every;
            }
        }
    }
}

/// Reads a schedule or corpus file, refusing one too large to hold.
pub fn read_file(path: &std::path::Path) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    if meta.is_dir() {
        return Err(format!("{shown}: is a directory, not a schedule file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{shown}: {} bytes, larger than the {MAX_FILE_BYTES} a schedule file may be",
            meta.len()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))
}

/// A seed: a TOML integer, or a string for seeds above `i64::MAX` (TOML
/// integers are signed 64-bit).
fn seed_of(v: &toml::Value) -> Option<u64> {
    match v {
        toml::Value::Integer(i) => u64::try_from(*i).ok(),
        toml::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A seed in a file: a TOML integer up to `i64::MAX`, a decimal string
/// above it (TOML integers are signed 64-bit); [`seed_of`] reads both.
mod seed_field {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(seed: &u64, s: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(*seed) {
            Ok(v) => s.serialize_i64(v),
            Err(_) => s.serialize_str(&seed.to_string()),
        }
    }
}

/// One event's fields against a cluster of `n` nodes with `deks`; `at`
/// names a field of it in errors.
fn check_event(
    action: &Action,
    n: u8,
    deks: &[u32],
    at: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    for (field, node) in action.node_fields() {
        if node >= n {
            return Err(format!(
                "{}: node {node} is outside the cluster of {n} nodes (0 to {})",
                at(field),
                n - 1
            ));
        }
    }
    let check_dek = |dek: u32| -> Result<(), String> {
        if !deks.contains(&dek) {
            return Err(format!(
                "{}: dek {dek} is not one of the scenario's deks {deks:?}",
                at("dek")
            ));
        }
        Ok(())
    };
    match action {
        Action::Kv { dek, .. } | Action::CorruptRow { dek, .. } => check_dek(*dek)?,
        Action::Partition { side } => {
            let distinct: std::collections::BTreeSet<u8> = side.iter().copied().collect();
            if distinct.is_empty()
                || distinct.len() != side.len()
                || distinct.len() >= usize::from(n)
            {
                return Err(format!(
                    "{}: expected distinct nodes forming a non-empty proper subset of the {n} nodes, found {side:?}",
                    at("side")
                ));
            }
        }
        Action::OneWay { from, to } if from == to => {
            return Err(format!(
                "{}: a link joins two different nodes, found {from} -> {to}",
                at("to")
            ));
        }
        Action::Collision {
            victim,
            dek,
            high_bits,
            ..
        } => {
            check_dek(*dek)?;
            let victim_full = writer_registry::ids::full_node_id(&format!("n{}", victim + 1));
            if *high_bits >= 1 << 48 || *high_bits == victim_full >> 16 {
                return Err(format!(
                    "{}: expected the high 48 bits of a full id other than the victim's ({:#x}), found {high_bits:#x}",
                    at("high_bits"),
                    victim_full >> 16
                ));
            }
        }
        Action::Malformed { variant, .. } if *variant > 2 => {
            return Err(format!(
                "{}: expected 0 to 2, found {variant}",
                at("variant")
            ));
        }
        Action::Exotic { opcode, .. } if !(4..=7).contains(opcode) => {
            return Err(format!(
                "{}: expected 4 (bootstrap), 5 (rotation), 6 or 7 (reserved), found {opcode}",
                at("opcode")
            ));
        }
        _ => {}
    }
    Ok(())
}

/// One event of a schedule file; `at` names it (`events[3]`) in errors.
fn event_from_toml(value: toml::Value, path: &str, at: &str) -> Result<Timed, String> {
    let toml::Value::Table(mut t) = value else {
        return Err(format!("{path}: `{at}`: expected a table"));
    };
    let at_us = match t.remove("at_us") {
        Some(toml::Value::Integer(v)) if v >= 0 => v as u64,
        Some(v) => {
            return Err(format!(
                "{path}: `{at}.at_us`: expected a time in microseconds, found {v}"
            ))
        }
        None => return Err(format!("{path}: `{at}.at_us`: missing")),
    };
    let kind = match t.get("kind") {
        Some(toml::Value::String(k)) => k.clone(),
        Some(v) => return Err(format!("{path}: `{at}.kind`: expected a string, found {v}")),
        None => return Err(format!("{path}: `{at}.kind`: missing")),
    };
    if !Action::KINDS.contains(&kind.as_str()) {
        return Err(format!(
            "{path}: `{at}.kind`: unknown event kind {kind:?} (known: {})",
            Action::KINDS.join(", ")
        ));
    }
    for (key, value) in &t {
        check_field(value, key).map_err(|why| format!("{path}: `{at}.{key}` ({kind}): {why}"))?;
    }
    let action: Action =
        toml::Value::Table(t.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                format!(
                    "{path}: `{at}` ({kind}): {}",
                    e.message().trim_end().replace('\n', " ")
                )
            })?;
    // Serde skips fields a kind does not take: name them instead.
    let known = toml::Table::try_from(&action).unwrap_or_default();
    if let Some(extra) = t.keys().find(|k| !known.contains_key(*k)) {
        let takes: Vec<&String> = known.keys().filter(|k| *k != "kind").collect();
        return Err(format!(
            "{path}: `{at}.{extra}` ({kind}): unknown field (a {kind} event takes {takes:?} besides at_us)"
        ));
    }
    Ok(Timed { at_us, action })
}

/// The type and range of one event field, checked by name so that an
/// error names the field (serde's own message does not).
fn check_field(value: &toml::Value, key: &str) -> Result<(), String> {
    let int = |lo: i64, hi: i64| match value {
        toml::Value::Integer(v) if (lo..=hi).contains(v) => Ok(()),
        other => Err(format!(
            "expected an integer from {lo} to {hi}, found {other}"
        )),
    };
    match key {
        "node" | "via" | "victim" | "from" | "to" | "variant" | "opcode" | "target" => int(0, 255),
        "epoch" => int(0, i64::from(u16::MAX)),
        "dek" => int(0, i64::from(u32::MAX)),
        "high_bits" => int(0, i64::MAX),
        "power_loss" => match value {
            toml::Value::Boolean(_) => Ok(()),
            other => Err(format!("expected true or false, found {other}")),
        },
        "kind" | "step" | "op" | "errno" | "mode" => match value {
            toml::Value::String(_) => Ok(()),
            other => Err(format!("expected a string, found {other}")),
        },
        "side" => match value {
            toml::Value::Array(a)
                if a.iter()
                    .all(|v| matches!(v, toml::Value::Integer(i) if (0..=255).contains(i))) =>
            {
                Ok(())
            }
            other => Err(format!("expected an array of node numbers, found {other}")),
        },
        // Left to the kind's own fields check.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_past_i64_max_round_trip_through_a_file() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/default.toml"
        ))
        .unwrap();
        let sc = Scenario::parse(&text, "default.toml").unwrap();
        for seed in [0, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
            let s = Schedule::generate(&sc, seed);
            let back = Schedule::from_toml(&s.to_toml(), "s.toml").unwrap();
            assert_eq!(back, s);
            back.validate(&sc, "s.toml").unwrap();
        }
    }
}
