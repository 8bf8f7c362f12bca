//! Scenario files: what a run simulates. The schema is documented key by
//! key in `docs/scenarios.md` (`sim/tests/scenario_reference.rs` keeps it
//! complete); unknown keys are errors.

use std::path::Path;

use serde::{Deserialize, Serialize};
use writer_registry::PersistPolicy;

/// Largest cluster.
pub const MAX_NODES: u8 = 9;
/// Longest virtual span of any phase or interval, in milliseconds (an hour).
pub const MAX_SPAN_MS: u64 = 3_600_000;
/// Longest Raft tick, in milliseconds.
pub const MAX_TICK_MS: u64 = 10_000;
pub const MAX_ELECTION_TICKS: u64 = 1_000;
/// Longest network delay, reorder hold or sync latency, in microseconds.
pub const MAX_DELAY_US: u64 = 60_000_000;
pub const MAX_DEKS: usize = 16;
pub const MAX_KV_PER_SEC: f64 = 1_000.0;
pub const MAX_CLIENT_ATTEMPTS: u64 = 100;
/// Most injections of one fault kind per run.
pub const MAX_FAULTS: u64 = 10_000;
pub const MAX_STORM_RESTARTS: u64 = 1_000;
pub const MAX_KEEP_ENTRIES: u64 = 1_000_000;
/// Most engine events per run (the watchdog's ceiling).
pub const MAX_EVENTS: u64 = 100_000_000;
/// Most scheduled events per run: KV commands, faults and snapshots.
pub const MAX_SCHEDULED_EVENTS: u64 = 1_000_000;

/// Events a run needs per timer event (a tick brings heartbeats, their
/// answers and syncs): a healthy run's timers times this must fit
/// `limits.max_events`.
pub const TICK_HEADROOM: u64 = 4;
/// The finding signatures the purpose oracle produces: exact names, or
/// families (ending in `:`) whose members go on after it.
pub const FINDING_FAMILIES: [&str; 4] = [
    "nonce-reuse",
    "nonce-unregistered",
    "unjustified-halt:",
    "unjustified-refusal:",
];

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Cluster size (3 to [`MAX_NODES`]).
    pub nodes: u8,
    /// Length of the fault and workload phase, in virtual milliseconds.
    pub duration_ms: u64,
    /// Virtual milliseconds per Raft tick.
    pub tick_ms: u64,
    /// Election timeout in ticks is drawn per node and incarnation from this range.
    pub election_ticks: [u64; 2],
    pub heartbeat_ticks: u64,
    /// The fixed DEK ids, present from the start.
    pub deks: Vec<u32>,
    pub policy: Policy,
    pub registry: RegistryKind,
    /// After the fault phase: time allowed for every live node to converge.
    pub liveness_bound_ms: u64,
    /// On the turmoil runtime only: turmoil's file system tears unsynced
    /// writes at this block size when power is lost (absent: a lost write
    /// is lost whole).
    #[serde(default)]
    pub turmoil_block_size: Option<u64>,
    #[serde(default)]
    pub workload: Workload,
    #[serde(default)]
    pub network: Network,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub storage: Storage,
    #[serde(default)]
    pub snapshots: Snapshots,
    #[serde(default)]
    pub findings: Findings,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub marks: Marks,
    /// Swarm mode: each seed also draws the knobs (cluster size, which
    /// fault kinds are on, counts and rates up to this file's values).
    #[serde(default)]
    pub swarm: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    Faithful,
    Atomic,
}

impl Policy {
    pub fn persist(self) -> PersistPolicy {
        match self {
            Policy::Faithful => PersistPolicy::Faithful,
            Policy::Atomic => PersistPolicy::Atomic,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    /// Client KV commands per virtual second (whole cluster).
    pub kv_per_sec: f64,
    /// A client re-proposes a command not applied within this time.
    pub client_timeout_ms: u64,
    /// Attempts per command, the first included.
    pub client_attempts: u32,
    /// A node re-proposes its registration this often until it applies.
    pub registration_retry_ms: u64,
    /// The order a node proposes its deks' registrations in.
    pub registration_order: RegistrationOrder,
}

/// The order of a node's registration proposals ([`crate::proposal_order`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationOrder {
    /// The configured `deks` order, every attempt.
    #[default]
    Configured,
    /// A seeded order drawn for each attempt.
    Shuffled,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            kv_per_sec: 10.0,
            client_timeout_ms: 600,
            client_attempts: 4,
            registration_retry_ms: 100,
            registration_order: RegistrationOrder::Configured,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    /// One-way delay range in virtual microseconds.
    pub delay_us: [u64; 2],
    pub drop_rate: f64,
    pub duplicate_rate: f64,
    /// Probability a message is held back by an extra `reorder_us` delay.
    pub reorder_rate: f64,
    pub reorder_us: u64,
    /// Symmetric partitions (a random split) during the fault phase.
    pub partitions: u32,
    /// One-way partitions (one direction of one link) during the fault phase.
    pub one_way_partitions: u32,
    pub partition_ms: [u64; 2],
}

impl Network {
    /// What every link does, for the engine's network model.
    pub fn links(&self) -> regsim_engine::network::Links {
        regsim_engine::network::Links {
            delay_us: self.delay_us,
            drop_rate: self.drop_rate,
            duplicate_rate: self.duplicate_rate,
            reorder_rate: self.reorder_rate,
            reorder_us: self.reorder_us,
        }
    }
}

impl Default for Network {
    fn default() -> Self {
        Network {
            delay_us: [200, 3_000],
            drop_rate: 0.0,
            duplicate_rate: 0.0,
            reorder_rate: 0.0,
            reorder_us: 20_000,
            partitions: 0,
            one_way_partitions: 0,
            partition_ms: [300, 3_000],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Process crashes (each followed by a restart).
    pub crashes: u32,
    /// Power losses (each followed by a restart).
    pub power_losses: u32,
    /// Pauses (each followed by a resume).
    pub pauses: u32,
    /// Restart storms: `storm_restarts` crash/restart pairs back to back.
    pub restart_storms: u32,
    pub storm_restarts: u32,
    /// Gap between a storm's restarts, virtual milliseconds.
    pub storm_gap_ms: [u64; 2],
    /// Crashes armed at a random step of a node's next Ready.
    pub ready_crashes: u32,
    /// Crashes armed between a node's next registry write and its sync.
    pub registry_write_crashes: u32,
    /// Store I/O errors (EIO or ENOSPC) armed on a node's next registry
    /// write or on the sync after it, once each.
    pub store_errors: u32,
    /// Crash/restart pairs whose restart is armed to crash again between
    /// the node's own registrations under two DEKs.
    pub between_dek_crashes: u32,
    /// Probability that a `ready_crashes` or `registry_write_crashes`
    /// crash also loses power (unsynced data lost).
    pub armed_power_loss_rate: f64,
    /// Time a crashed node stays down, virtual milliseconds.
    pub down_ms: [u64; 2],
    pub pause_ms: [u64; 2],
    /// Epoch rollbacks: a node's epoch file replaced by an older copy
    /// while it is down.
    pub epoch_rollbacks: u32,
    /// Registrations for a non-member writer sharing a member's node16.
    pub collisions: u32,
    /// Corrupted registration payloads from a faulty client.
    pub malformed: u32,
    /// Registry rows damaged in a down node's store (a member's row under
    /// a DEK: truncated, owner bit flipped, or last_seen raised).
    pub row_corruptions: u32,
    /// Epoch files preset near exhaustion (0xFFFE or 0xFFFF, even odds)
    /// while their node is down.
    pub epoch_presets: u32,
    /// Bootstrap, rotation and reserved-opcode entries from a faulty
    /// client, late in the fault phase (their halts stop every replica).
    pub exotic_entries: u32,
    /// Nodes armed, from the run's start, to crash between their first
    /// registrations under two DEKs, their epoch file rolled back at that
    /// crash: the restart's guards meet a row under one DEK and none
    /// under another.
    pub first_registration_rollbacks: u32,
    /// Nodes armed, from the run's start, to crash as the first
    /// acknowledgement of their own registration reaches them as leader,
    /// before it commits: the entry commits under the next leader, after
    /// the crashed node's successor started.
    pub ack_crashes: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            crashes: 0,
            power_losses: 0,
            pauses: 0,
            restart_storms: 0,
            storm_restarts: 4,
            storm_gap_ms: [50, 300],
            ready_crashes: 0,
            registry_write_crashes: 0,
            between_dek_crashes: 0,
            store_errors: 0,
            armed_power_loss_rate: 0.5,
            down_ms: [100, 2_000],
            pause_ms: [100, 1_500],
            epoch_rollbacks: 0,
            collisions: 0,
            malformed: 0,
            row_corruptions: 0,
            epoch_presets: 0,
            exotic_entries: 0,
            first_registration_rollbacks: 0,
            ack_crashes: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    /// Raft log sync latency range, virtual microseconds.
    pub sync_us: [u64; 2],
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            sync_us: [50, 1_500],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Snapshots {
    /// Interval between a node's snapshots, virtual milliseconds (0: never).
    pub every_ms: u64,
    /// A snapshot is skipped unless at least this many entries, and at
    /// least one, were applied since the node's last one; compaction keeps
    /// no entries behind it.
    pub keep_entries: u64,
}

impl Default for Snapshots {
    fn default() -> Self {
        Snapshots {
            every_ms: 3_000,
            keep_entries: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Findings {
    /// Finding signatures a run may show and still pass.
    pub allowed: Vec<String>,
    /// Finding signatures a sweep must show at least once.
    pub expected: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Marks {
    /// Coverage marks a sweep must hit (on every runtime).
    pub required: Vec<String>,
    /// Marks only the turmoil runtime reaches (its file system's torn
    /// writes), required of its sweeps besides `required`.
    pub turmoil_required: Vec<String>,
    /// A `regsim run` sweep of at least this many seeds enforces them
    /// (smaller sweeps only with `--require-marks`).
    pub min_seeds: u64,
}

impl Default for Marks {
    fn default() -> Self {
        Marks {
            required: Vec::new(),
            turmoil_required: Vec::new(),
            min_seeds: 64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Watchdog: events per run.
    pub max_events: u64,
    /// Watchdog: events at one virtual instant.
    pub max_events_per_instant: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 5_000_000,
            max_events_per_instant: 100_000,
        }
    }
}

/// How a check reports a bad key: `bad(key, message)` is the error.
type Bad<'a> = dyn Fn(&'static str, String) -> Result<(), ScenarioError> + 'a;

/// A scenario that cannot be used, with the file named.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{path}: cannot read: {message}")]
    Read { path: String, message: String },
    /// `message` names the file, line and column (`toml_error`).
    #[error("{message}")]
    Parse { path: String, message: String },
    #[error("{path}: key `{key}`: {message}")]
    Invalid {
        path: String,
        key: &'static str,
        message: String,
    },
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<(Scenario, String), ScenarioError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Read {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let scenario = Scenario::parse(&text, &shown)?;
        Ok((scenario, text))
    }

    /// Parses and validates scenario text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_string(),
            message: crate::toml_error::describe(path, text, &e),
        })?;
        scenario.validate(path)?;
        Ok(scenario)
    }

    /// Checks every value against its allowed range, so that no accepted
    /// scenario can overflow the engine's arithmetic or exhaust memory.
    /// `path` names the scenario in errors. The ranges are documented in
    /// `docs/scenarios.md`.
    pub fn validate(&self, path: &str) -> Result<(), ScenarioError> {
        let bad = |key, message: String| {
            Err(ScenarioError::Invalid {
                path: path.to_string(),
                key,
                message,
            })
        };
        self.check_shape(&bad)?;
        self.check_ranges(&bad)?;
        self.check_counts(&bad)?;
        self.check_pairs_and_rates(&bad)?;
        self.check_declarations(&bad)?;
        self.check_load(&bad)
    }

    /// The name, the cluster, the deks and the Raft timers.
    fn check_shape(&self, bad: &Bad) -> Result<(), ScenarioError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !self.name.starts_with('.');
        if !name_ok {
            return bad(
                "name",
                format!(
                    "expected 1 to 64 characters of [A-Za-z0-9._-] not starting with '.' (it names files), found {:?}",
                    self.name
                ),
            );
        }
        if !(3..=MAX_NODES).contains(&self.nodes) {
            return bad(
                "nodes",
                format!("expected 3 to {MAX_NODES}, found {}", self.nodes),
            );
        }
        if self.deks.is_empty() || self.deks.len() > MAX_DEKS {
            return bad(
                "deks",
                format!(
                    "expected 1 to {MAX_DEKS} dek ids, found {}",
                    self.deks.len()
                ),
            );
        }
        let distinct: std::collections::BTreeSet<u32> = self.deks.iter().copied().collect();
        if distinct.len() != self.deks.len() {
            return bad(
                "deks",
                format!("expected distinct dek ids, found {:?}", self.deks),
            );
        }
        if self.heartbeat_ticks == 0 {
            return bad("heartbeat_ticks", "expected a positive number".into());
        }
        if self.election_ticks[0] <= self.heartbeat_ticks
            || self.election_ticks[1] < self.election_ticks[0]
            || self.election_ticks[1] > MAX_ELECTION_TICKS
        {
            return bad(
                "election_ticks",
                format!(
                    "expected [lo, hi] with heartbeat_ticks < lo <= hi <= {MAX_ELECTION_TICKS}, found {:?}",
                    self.election_ticks
                ),
            );
        }
        Ok(())
    }

    /// Every time, interval and workload value within its bounds.
    fn check_ranges(&self, bad: &Bad) -> Result<(), ScenarioError> {
        if let Some(block) = self.turmoil_block_size {
            if !(1..=1 << 20).contains(&block) {
                return bad(
                    "turmoil_block_size",
                    format!("expected 1 to 1048576 bytes, found {block}"),
                );
            }
        }
        for (key, v, lo, hi) in [
            ("duration_ms", self.duration_ms, 1, MAX_SPAN_MS),
            ("tick_ms", self.tick_ms, 1, MAX_TICK_MS),
            ("liveness_bound_ms", self.liveness_bound_ms, 1, MAX_SPAN_MS),
            (
                "workload.client_timeout_ms",
                self.workload.client_timeout_ms,
                1,
                MAX_SPAN_MS,
            ),
            (
                "workload.client_attempts",
                u64::from(self.workload.client_attempts),
                1,
                MAX_CLIENT_ATTEMPTS,
            ),
            (
                "workload.registration_retry_ms",
                self.workload.registration_retry_ms,
                1,
                MAX_SPAN_MS,
            ),
            (
                "network.reorder_us",
                self.network.reorder_us,
                0,
                MAX_DELAY_US,
            ),
        ] {
            if !(lo..=hi).contains(&v) {
                return bad(key, format!("expected {lo} to {hi}, found {v}"));
            }
        }
        Ok(())
    }

    /// Every fault count and the snapshot and watchdog limits within bounds.
    fn check_counts(&self, bad: &Bad) -> Result<(), ScenarioError> {
        let (n, f) = (&self.network, &self.faults);
        let counts = [
            ("network.partitions", n.partitions, MAX_FAULTS),
            (
                "network.one_way_partitions",
                n.one_way_partitions,
                MAX_FAULTS,
            ),
            ("faults.crashes", f.crashes, MAX_FAULTS),
            ("faults.power_losses", f.power_losses, MAX_FAULTS),
            ("faults.pauses", f.pauses, MAX_FAULTS),
            ("faults.restart_storms", f.restart_storms, MAX_FAULTS),
            (
                "faults.storm_restarts",
                f.storm_restarts,
                MAX_STORM_RESTARTS,
            ),
            ("faults.ready_crashes", f.ready_crashes, MAX_FAULTS),
            (
                "faults.registry_write_crashes",
                f.registry_write_crashes,
                MAX_FAULTS,
            ),
            ("faults.store_errors", f.store_errors, MAX_FAULTS),
            (
                "faults.between_dek_crashes",
                f.between_dek_crashes,
                MAX_FAULTS,
            ),
            ("faults.epoch_rollbacks", f.epoch_rollbacks, MAX_FAULTS),
            ("faults.collisions", f.collisions, MAX_FAULTS),
            ("faults.malformed", f.malformed, MAX_FAULTS),
            ("faults.row_corruptions", f.row_corruptions, MAX_FAULTS),
            ("faults.epoch_presets", f.epoch_presets, MAX_FAULTS),
            ("faults.exotic_entries", f.exotic_entries, MAX_FAULTS),
        ]
        .map(|(key, v, hi)| (key, u64::from(v), 0, hi));
        let limits = [
            (
                "snapshots.every_ms",
                self.snapshots.every_ms,
                0,
                MAX_SPAN_MS,
            ),
            (
                "snapshots.keep_entries",
                self.snapshots.keep_entries,
                0,
                MAX_KEEP_ENTRIES,
            ),
            ("limits.max_events", self.limits.max_events, 1, MAX_EVENTS),
            (
                "limits.max_events_per_instant",
                self.limits.max_events_per_instant,
                1,
                self.limits.max_events.clamp(1, MAX_EVENTS),
            ),
        ];
        for (key, v, lo, hi) in counts.into_iter().chain(limits) {
            if !(lo..=hi).contains(&v) {
                return bad(key, format!("expected {lo} to {hi}, found {v}"));
            }
        }
        Ok(())
    }

    /// `[lo, hi]` pairs, probabilities and the KV rate.
    fn check_pairs_and_rates(&self, bad: &Bad) -> Result<(), ScenarioError> {
        for (key, range, hi) in [
            ("network.delay_us", self.network.delay_us, MAX_DELAY_US),
            (
                "network.partition_ms",
                self.network.partition_ms,
                MAX_SPAN_MS,
            ),
            ("faults.down_ms", self.faults.down_ms, MAX_SPAN_MS),
            ("faults.pause_ms", self.faults.pause_ms, MAX_SPAN_MS),
            ("faults.storm_gap_ms", self.faults.storm_gap_ms, MAX_SPAN_MS),
            ("storage.sync_us", self.storage.sync_us, MAX_DELAY_US),
        ] {
            if range[1] < range[0] || range[1] > hi {
                return bad(
                    key,
                    format!("expected [lo, hi] with lo <= hi <= {hi}, found {range:?}"),
                );
            }
        }
        for (key, p) in [
            ("network.drop_rate", self.network.drop_rate),
            ("network.duplicate_rate", self.network.duplicate_rate),
            ("network.reorder_rate", self.network.reorder_rate),
            (
                "faults.armed_power_loss_rate",
                self.faults.armed_power_loss_rate,
            ),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(key, format!("expected a probability in [0, 1], found {p}"));
            }
        }
        let kv = self.workload.kv_per_sec;
        if !(0.0..=MAX_KV_PER_SEC).contains(&kv) {
            return bad(
                "workload.kv_per_sec",
                format!("expected a rate from 0 to {MAX_KV_PER_SEC}, found {kv}"),
            );
        }
        Ok(())
    }

    /// Marks and findings name things that exist, consistently.
    fn check_declarations(&self, bad: &Bad) -> Result<(), ScenarioError> {
        let known = crate::marks::all_marks();
        for (key, list) in [
            ("marks.required", &self.marks.required),
            ("marks.turmoil_required", &self.marks.turmoil_required),
        ] {
            if let Some(unknown) = list.iter().find(|m| !known.contains(&m.as_str())) {
                return bad(
                    key,
                    format!(
                        "unknown mark {unknown:?}; known marks: {}",
                        known.join(", ")
                    ),
                );
            }
        }
        for sig in self.findings.allowed.iter().chain(&self.findings.expected) {
            if !FINDING_FAMILIES.iter().any(|f| {
                sig == f.trim_end_matches(':')
                    || (f.ends_with(':') && sig.starts_with(f) && sig.len() > f.len())
            }) {
                return bad(
                    "findings",
                    format!(
                        "unknown finding signature {sig:?}: signatures are {}",
                        FINDING_FAMILIES
                            .map(|f| if f.ends_with(':') {
                                format!("{f}...")
                            } else {
                                f.to_string()
                            })
                            .join(", ")
                    ),
                );
            }
        }
        if let Some(sig) = self
            .findings
            .expected
            .iter()
            .find(|e| !self.findings.allowed.contains(e))
        {
            return bad(
                "findings.expected",
                format!("{sig:?} is expected but not in findings.allowed, so every run showing it would fail"),
            );
        }
        Ok(())
    }

    /// What the values make together: the schedule's size, Raft's timing and the watchdog's headroom.
    fn check_load(&self, bad: &Bad) -> Result<(), ScenarioError> {
        // Raft's timing assumption: a message and a sync take far less
        // than an election timeout. A scenario that breaks it owes no
        // liveness, so it would blame the system for the harness's setup.
        let election_us = self.election_ticks[0] * self.tick_ms * 1000;
        let reorder = if self.network.reorder_rate > 0.0 {
            self.network.reorder_us
        } else {
            0
        };
        let one_way = self.network.delay_us[1] + reorder;
        let round_us = 2 * one_way + self.storage.sync_us[1];
        if round_us >= election_us {
            return bad(
                "network.delay_us",
                format!(
                    "a vote's round trip at the slowest ({one_way} us each way, delay plus reorder hold, + {} us sync = {round_us} us) must take less than the shortest election timeout ({} ticks of {} ms = {election_us} us), or no leader can be elected",
                    self.storage.sync_us[1], self.election_ticks[0], self.tick_ms
                ),
            );
        }
        let events = self.scheduled_events_bound();
        if events > MAX_SCHEDULED_EVENTS {
            return bad(
                "duration_ms",
                format!(
                    "this scenario schedules up to {events} events per run (KV commands, faults and snapshots over {} ms), more than the {MAX_SCHEDULED_EVENTS} allowed: shorten duration_ms or lower the rates and counts",
                    self.duration_ms
                ),
            );
        }
        // The watchdog must be a watchdog: the timers alone of a healthy
        // run (ticks, registration and client retries, through the fault
        // phase and the liveness bound) stay well inside it, so that
        // hitting it says something about the system.
        let timers = self.timer_events_bound();
        if timers.saturating_mul(TICK_HEADROOM) > self.limits.max_events {
            return bad(
                "limits.max_events",
                format!(
                    "the scenario's timers alone make up to {timers} events (ticks every {} ms, registration retries every {} ms, {} client attempts per command, on {} nodes over {} + {} ms), and a run needs about {TICK_HEADROOM} events for each: more than limits.max_events ({}); raise tick_ms or the retry intervals, or limits.max_events",
                    self.tick_ms,
                    self.workload.registration_retry_ms,
                    self.workload.client_attempts,
                    self.nodes,
                    self.duration_ms,
                    self.liveness_bound_ms,
                    self.limits.max_events
                ),
            );
        }
        Ok(())
    }

    /// How many client KV commands a schedule of this scenario sends.
    pub fn kv_commands(&self) -> u64 {
        (self.workload.kv_per_sec * self.duration_ms as f64 / 1000.0).round() as u64
    }

    /// The most timer events a run starts on its own: every node's ticks
    /// and registration retries over the whole run, and every client
    /// command's attempts.
    pub fn timer_events_bound(&self) -> u64 {
        let span = self.duration_ms + self.liveness_bound_ms;
        let nodes = u64::from(self.nodes);
        let kv = self.kv_commands();
        nodes * (span / self.tick_ms + span / self.workload.registration_retry_ms)
            + kv * u64::from(self.workload.client_attempts)
    }

    /// The most events a schedule of this scenario can hold (in swarm
    /// mode every count and rate is at most this file's).
    pub fn scheduled_events_bound(&self) -> u64 {
        let f = &self.faults;
        let n = &self.network;
        let kv = self.kv_commands();
        let snapshots = match self.snapshots.every_ms {
            0 => 0,
            every => u64::from(self.nodes) * (self.duration_ms / every + 1),
        };
        let faults = 2 * (u64::from(f.crashes) + u64::from(f.power_losses) + u64::from(f.pauses))
            + 2 * u64::from(f.restart_storms) * u64::from(f.storm_restarts)
            + u64::from(f.ready_crashes)
            + u64::from(f.registry_write_crashes)
            + 3 * u64::from(f.between_dek_crashes)
            + u64::from(f.store_errors)
            + 3 * u64::from(f.epoch_rollbacks)
            + u64::from(f.collisions)
            + u64::from(f.malformed)
            + 3 * u64::from(f.epoch_presets)
            + 3 * u64::from(f.row_corruptions)
            + u64::from(f.exotic_entries)
            + 2 * (u64::from(n.partitions) + u64::from(n.one_way_partitions));
        kv + snapshots + faults + 1
    }

    /// The scenario seed `seed` runs: this one, or in swarm mode the knobs
    /// drawn for that seed (from a stream of its own, so the schedule's
    /// streams are unchanged). The counts and rates of this file are the
    /// maxima; each fault kind is on or off with even odds.
    pub fn for_seed(&self, seed: u64) -> Scenario {
        let mut sc = self.clone();
        if !self.swarm {
            return sc;
        }
        sc.swarm = false;
        let mut r = crate::rng::Streams::new(seed).sequential(crate::rng::Subsystem::Timing);
        sc.nodes =
            3 + (crate::rng::between(&mut r, 0, u64::from(self.nodes.saturating_sub(3)))) as u8;
        let mut count = |max: u32| -> u32 {
            if max == 0 || !crate::rng::chance(&mut r, 0.5) {
                0
            } else {
                crate::rng::between(&mut r, 1, u64::from(max)) as u32
            }
        };
        let f = &mut sc.faults;
        for c in [
            &mut f.crashes,
            &mut f.power_losses,
            &mut f.pauses,
            &mut f.restart_storms,
            &mut f.ready_crashes,
            &mut f.registry_write_crashes,
            &mut f.epoch_rollbacks,
            &mut f.collisions,
            &mut f.malformed,
            &mut sc.network.partitions,
            &mut sc.network.one_way_partitions,
        ] {
            *c = count(*c);
        }
        let mut rate = |max: f64| -> f64 {
            if crate::rng::chance(&mut r, 0.5) {
                max * (crate::rng::between(&mut r, 0, 1000) as f64 / 1000.0)
            } else {
                0.0
            }
        };
        sc.network.drop_rate = rate(self.network.drop_rate);
        sc.network.duplicate_rate = rate(self.network.duplicate_rate);
        sc.network.reorder_rate = rate(self.network.reorder_rate);
        let kv = self.workload.kv_per_sec;
        sc.workload.kv_per_sec = kv / 4.0 + rate(kv * 0.75);
        // Drawn last, so that adding them left every earlier knob of a
        // swarm seed where it was. An exotic entry halts every replica for
        // good: on in one seed in eight, not half.
        for (c, odds) in [
            (&mut sc.faults.epoch_presets, 0.5),
            (&mut sc.faults.exotic_entries, 0.125),
        ] {
            let max = *c;
            *c = if max == 0 || !crate::rng::chance(&mut r, odds) {
                0
            } else {
                crate::rng::between(&mut r, 1, u64::from(max)) as u32
            };
        }
        sc
    }

    /// This scenario with a schedule's node count (a shrunk schedule may
    /// run fewer nodes).
    pub fn with_nodes(mut self, nodes: Option<u8>) -> Scenario {
        if let Some(n) = nodes {
            self.nodes = n;
        }
        self
    }

    /// One line of the knobs a swarm seed drew (empty for a fixed scenario).
    pub fn knobs(&self) -> String {
        let f = &self.faults;
        let n = &self.network;
        format!(
            "nodes={} kv/s={:.1} crashes={} power_losses={} pauses={} storms={} ready_crashes={} registry_write_crashes={} rollbacks={} collisions={} malformed={} partitions={} one_way={} drop={:.3} dup={:.3} reorder={:.3}",
            self.nodes, self.workload.kv_per_sec, f.crashes, f.power_losses, f.pauses, f.restart_storms, f.ready_crashes,
            f.registry_write_crashes, f.epoch_rollbacks, f.collisions, f.malformed, n.partitions, n.one_way_partitions,
            n.drop_rate, n.duplicate_rate, n.reorder_rate
        )
    }

    /// FNV-1a of the file text: seeds record it to detect a changed scenario.
    pub fn content_hash(text: &str) -> u64 {
        crate::fnv::fnv1a64(text.as_bytes())
    }
}

/// Which registry implementation a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryKind {
    Fjall,
    Memory,
}

impl RegistryKind {
    pub fn name(self) -> &'static str {
        match self {
            RegistryKind::Fjall => "fjall",
            RegistryKind::Memory => "memory",
        }
    }

    /// The kind [`RegistryKind::name`] names.
    pub fn from_name(name: &str) -> Option<RegistryKind> {
        match name {
            "fjall" => Some(RegistryKind::Fjall),
            "memory" => Some(RegistryKind::Memory),
            _ => None,
        }
    }
}
