//! The schedule's event kinds, one file each: what the event says (its
//! fields, as schedule files spell them), how a seed generates it, how a
//! file's copy is validated, and what it does to a world, so that every
//! runtime gives it one meaning.
//!
//! A kind implements `FaultKind` and is named once, in the `kinds!` list
//! below (its name in schedule files, its variant of [`Action`]).
//! Generators follow scenario knobs, not kinds: a knob's generator sits in
//! the file of the kind it draws (some draw several kinds, some kinds are
//! drawn only by another's generator, the workload's has its own stream)
//! and is listed in `generate::GENERATORS`, after every older one.
//!
//! Adding a kind touches its own file, the `kinds!` list, its generator's
//! entry in `generate.rs` and the scenario knob that turns it on, plus
//! what is new about it elsewhere: a trace kind that records it
//! (`trace/kinds.rs`), a primitive no `Target` offers yet and the worlds
//! that carry it out (late delivery, say), an armed crash point
//! (`world::injector` and the engine's node core), an injection the
//! checkers must know (`Injected`), a drawing on the report page, and its
//! sample in this module's tests.
//!
//! Kinds by what they act on:
//! - processes: [`crash`], [`power_loss`], [`restart`], [`pause`] (with
//!   resume), [`ready_crash`] (an armed crash inside a Ready);
//! - the network: [`partition`] (with one-way cuts and heals);
//! - the Raft log: [`snapshot`];
//! - the writer registry: [`registry_crash`], [`store_error`],
//!   [`between_deks_crash`], [`ack_crash`], [`registration_crash`],
//!   [`epoch_rollback`], [`epoch_preset`], [`corrupt_row`], and the faulty
//!   clients' entries [`collision`], [`malformed`], [`exotic`];
//! - the workload and the run: [`kv`], [`end_of_faults`].

pub mod ack_crash;
pub mod between_deks_crash;
pub mod collision;
pub mod corrupt_row;
pub mod crash;
pub(crate) mod draw;
pub mod end_of_faults;
pub mod epoch_preset;
pub mod epoch_rollback;
pub mod exotic;
pub(crate) mod first_registrations;
pub(crate) mod generate;
pub mod kv;
pub mod malformed;
pub mod node_field;
pub mod partition;
pub mod pause;
pub mod power_loss;
pub mod ready_crash;
pub mod registration_crash;
pub mod registry_crash;
pub mod restart;
pub mod snapshot;
pub mod store_error;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::trace::kinds::Kind;
use crate::world::injector::Injector;
use crate::world::target::{Books, Target};

/// One kind of scheduled event. Its contract:
/// - its fields are all a file needs to replay it (nodes are 0-based
///   cluster positions, named by [`FaultKind::node_fields`]);
/// - [`FaultKind::check`] refuses, naming the field, every value a world
///   could not carry out (the nodes are checked before it);
/// - [`FaultKind::apply`] decides in which node states it takes effect
///   and asks the world only through [`Target`], so it means the same on
///   every runtime; what it changes is recorded in the trace there.
pub(crate) trait FaultKind: Sized {
    /// The family the shrinker removes as one, when it is not the kind's
    /// own: an event with those that undo or accompany it (named by a
    /// kind of the family; the tests check it is one).
    const FAMILY: Option<&'static str> = None;
    /// Events of this kind bring nodes back (a restart, a resume, a heal):
    /// they may come after the end of the fault phase.
    const RESTORES: bool = false;

    /// The nodes the event names, with the field naming each.
    fn node_fields(&self) -> Vec<(&'static str, u8)>;

    /// Checks the event's fields beyond their nodes.
    fn check(&self, _check: &Check<'_>) -> Result<(), String> {
        Ok(())
    }

    /// Carries the event out on a world.
    fn apply(self, t: &mut impl Target);
}

/// What an event's fields are checked against; `at` names one of its
/// fields in errors.
pub(crate) struct Check<'a> {
    /// The cluster's size.
    pub n: u8,
    /// The scenario's deks.
    pub deks: &'a [u32],
    pub at: &'a dyn Fn(&str) -> String,
}

impl Check<'_> {
    /// `dek` is one of the scenario's.
    pub(crate) fn dek(&self, dek: u32) -> Result<(), String> {
        if !self.deks.contains(&dek) {
            return Err(format!(
                "{}: dek {dek} is not one of the scenario's deks {:?}",
                (self.at)("dek"),
                self.deks
            ));
        }
        Ok(())
    }
}

/// Runs `arm` over the run's books if `node` has a process to arm a
/// fault in (running or paused): armed faults die with their process.
pub(crate) fn arm_in_process(t: &mut impl Target, node: u8, arm: impl FnOnce(Books<'_>)) {
    if t.life(node).has_process() {
        t.books(arm);
    }
}

/// Arms, in `node`'s process if it has one, a crash point that takes no
/// parameters: `arm` tells the injector, and the trace records `kind`.
pub(crate) fn arm_crash_point(
    t: &mut impl Target,
    node: u8,
    arm: fn(&mut Injector, u8),
    kind: &'static Kind,
) {
    arm_in_process(t, node, |mut b| {
        arm(b.injector, node);
        b.record(Some(node), kind, 0, 0);
    });
}

/// Declares every kind: its name in schedule files, its variant of
/// [`Action`] and the type that implements [`FaultKind`]. Each type must
/// be a braced struct (`struct Heal {}` for one with no fields, never
/// `struct Heal;`) with no field named `kind`: serde reads an event as a
/// map tagged by `kind`, and a braced struct is what names an unknown
/// field in a file instead of refusing the map as a whole.
macro_rules! kinds {
    ($($name:literal => $variant:ident($ty:ty),)*) => {
        /// One scheduled event, of one of the kinds (each a `FaultKind`).
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum Action {
            $(
                #[allow(missing_docs)]
                #[serde(rename = $name)]
                $variant($ty),
            )*
        }

        $(
            impl From<$ty> for Action {
                fn from(event: $ty) -> Action {
                    Action::$variant(event)
                }
            }
        )*

        impl Action {
            /// Every event kind, as schedule files name them.
            pub const KINDS: &'static [&'static str] = &[$($name),*];

            /// The kind as schedule files name it.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Action::$variant(_) => $name,)*
                }
            }

            /// The family the shrinker removes as one (see
            /// `FaultKind::FAMILY`).
            pub fn family(&self) -> &'static str {
                match self {
                    $(Action::$variant(_) => <$ty as FaultKind>::FAMILY.unwrap_or($name),)*
                }
            }

            /// The nodes the event names, with the field naming each.
            pub fn node_fields(&self) -> Vec<(&'static str, u8)> {
                match self {
                    $(Action::$variant(e) => e.node_fields(),)*
                }
            }

            /// It may come after the end of the fault phase.
            pub fn restores(&self) -> bool {
                match self {
                    $(Action::$variant(_) => <$ty as FaultKind>::RESTORES,)*
                }
            }

            /// The kinds that may come after the end of the fault phase.
            pub fn restoring_kinds() -> Vec<&'static str> {
                [$((<$ty as FaultKind>::RESTORES, $name)),*]
                    .into_iter()
                    .filter_map(|(restores, name)| restores.then_some(name))
                    .collect()
            }

            fn check_fields(&self, check: &Check<'_>) -> Result<(), String> {
                match self {
                    $(Action::$variant(e) => e.check(check),)*
                }
            }

            /// Carries the event out on `t`.
            pub(crate) fn apply(self, t: &mut impl Target) {
                match self {
                    $(Action::$variant(e) => e.apply(t),)*
                }
            }
        }
    };
}

kinds! {
    "crash" => Crash(crash::Crash),
    "power-loss" => PowerLoss(power_loss::PowerLoss),
    "restart" => Restart(restart::Restart),
    "pause" => Pause(pause::Pause),
    "resume" => Resume(pause::Resume),
    "arm-ready-crash" => ArmReadyCrash(ready_crash::ArmReadyCrash),
    "arm-registry-crash" => ArmRegistryCrash(registry_crash::ArmRegistryCrash),
    "epoch-rollback" => EpochRollback(epoch_rollback::EpochRollback),
    "arm-registration-crash" => ArmRegistrationCrash(registration_crash::ArmRegistrationCrash),
    "arm-between-deks-crash" => ArmBetweenDeksCrash(between_deks_crash::ArmBetweenDeksCrash),
    "arm-ack-crash" => ArmAckCrash(ack_crash::ArmAckCrash),
    "arm-store-error" => ArmStoreError(store_error::ArmStoreError),
    "partition" => Partition(partition::Partition),
    "one-way" => OneWay(partition::OneWay),
    "heal" => Heal(partition::Heal),
    "kv" => Kv(kv::Kv),
    "snapshot" => Snapshot(snapshot::Snapshot),
    "collision" => Collision(collision::Collision),
    "malformed" => Malformed(malformed::Malformed),
    "epoch-preset" => EpochPreset(epoch_preset::EpochPreset),
    "corrupt-row" => CorruptRow(corrupt_row::CorruptRow),
    "exotic" => Exotic(exotic::Exotic),
    "end-of-faults" => EndOfFaults(end_of_faults::EndOfFaults),
}

impl Action {
    /// The nodes the event names.
    pub fn nodes(&self) -> Vec<u8> {
        self.node_fields().into_iter().map(|(_, n)| n).collect()
    }

    /// The event ends the fault phase.
    pub fn ends_faults(&self) -> bool {
        matches!(self, Action::EndOfFaults(_))
    }

    /// Checks the event's fields against a cluster of `n` nodes with
    /// `deks`; `at` names a field of it in errors.
    pub(crate) fn check(
        &self,
        n: u8,
        deks: &[u32],
        at: &dyn Fn(&str) -> String,
    ) -> Result<(), String> {
        for (field, node) in self.node_fields() {
            if node >= n {
                return Err(format!(
                    "{}: node n{} is outside the cluster of {n} nodes (n1 to n{n})",
                    at(field),
                    u16::from(node) + 1
                ));
            }
        }
        self.check_fields(&Check { n, deks, at })
    }
}

/// The one node of a kind that names a single `node`.
pub(crate) fn one(node: u8) -> Vec<(&'static str, u8)> {
    vec![("node", node)]
}
