//! The seam the schedule's events act through: a world offers the
//! primitives its runtime does its own way (stopping a process, losing
//! power, cutting links, handing a snapshot or a faulty client's entry to
//! a node) as a [`Target`]; each event kind ([`crate::faults`]) decides in
//! which node states it takes effect ([`Life`]), what it arms, and what
//! the trace, the checkers and the coverage marks learn of it ([`Books`]),
//! so a fault means the same on the native engine, turmoil and madsim.
//! Whether a node may start is decided once, by the shared lifecycle
//! (`super::lifecycle::start`); resumes, snapshots, client commands and
//! injected entries still check their node's state inside each runtime's
//! primitive (they agree today). The effects both
//! worlds carry out on a down node's files are here too: an epoch file
//! preset or rolled back, and the row corruptions queued for its store's
//! reopen ([`corrupt_rows`]).

use writer_registry::ids::node16;

use super::injector::Injector;
use super::observe::Observer;
use super::DownReason;
use crate::marks::SimMark;
use crate::oracle::checkers::Injected;
use crate::store::{Journal, SimStore};
use crate::trace::kinds::{self, Kind};
use regsim_engine::process::Process;

/// A node as a scheduled action sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Life {
    /// A process runs.
    Running,
    /// A process exists but is paused.
    Paused,
    /// No process; its files are the harness's to change.
    Down(DownReason),
    /// No process, and a start is on its way (hosted runtimes: the host
    /// has not run it yet); its files are no longer the harness's.
    Starting,
}

impl Life {
    /// A process's life as a scheduled event sees it (a start on its way
    /// is the hosted runtimes' to tell).
    pub(crate) fn of<C>(process: &Process<C>) -> Life {
        match process {
            Process::Up(_) => Life::Running,
            Process::Paused(_) => Life::Paused,
            Process::Down(reason) => Life::Down(reason.clone()),
        }
    }

    /// A process exists: faults can be armed in it.
    pub(crate) fn has_process(&self) -> bool {
        matches!(self, Life::Running | Life::Paused)
    }

    /// Down for a reason a restart undoes (crashed or halted), and not
    /// being started: its epoch file and store may be changed.
    pub(crate) fn restartable(&self) -> bool {
        matches!(self, Life::Down(DownReason::Crashed | DownReason::Halted))
    }
}

/// The run's books, as an action writes into them at the current time.
pub(crate) struct Books<'a> {
    pub obs: &'a mut Observer,
    pub injector: &'a mut Injector,
    pub now: u64,
}

impl<'a> Books<'a> {
    pub(crate) fn at(obs: &'a mut Observer, injector: &'a mut Injector, now: u64) -> Self {
        Books { obs, injector, now }
    }

    pub(crate) fn record(&mut self, node: Option<u8>, kind: &'static Kind, a: u64, b: u64) {
        self.obs.record(self.now, node, kind, a, b);
    }

    /// A call into `node`'s process (a start, a step) returned: a registry
    /// crash armed before it (`armed_before`) and no longer armed fired in
    /// it, which the coverage mark counts.
    pub(crate) fn registry_crash_fired(&mut self, node: u8, armed_before: bool) {
        if armed_before && !self.injector.registry_crash_armed(node) {
            self.obs.mark(SimMark::CrashBeforeRegistrySync);
        }
    }
}

/// A faulty client's entry, proposed through a node: if raft takes it,
/// the injector records `injected` and the trace `kind` with `(a, b)`.
pub(crate) struct Injection {
    pub data: Vec<u8>,
    pub injected: Injected,
    pub kind: &'static Kind,
    pub a: u64,
    pub b: u64,
}

/// What a world offers the schedule's events. Each primitive does only
/// its runtime's part; the event kind has decided that it applies.
pub(crate) trait Target {
    /// Node `node`'s state.
    fn life(&self, node: u8) -> Life;
    /// Runs `f` over the run's books.
    fn books<R>(&mut self, f: impl FnOnce(Books<'_>) -> R) -> R;
    /// Every member's full node id.
    fn fulls(&self) -> Vec<u64>;
    /// The scenario's first dek (the one faulty clients write under).
    fn first_dek(&self) -> u32;
    /// A fresh proposal id.
    fn next_pid(&mut self) -> u64;

    /// The process dies (if there is one) and, with `power_loss`, the
    /// node's unsynced writes go; an epoch rollback armed for its next
    /// crash is done.
    fn crash(&mut self, node: u8, power_loss: bool);
    /// Starts a node down for a reason a restart undoes.
    fn restart(&mut self, node: u8);
    /// Pauses a running process; false if it was not running.
    fn pause(&mut self, node: u8) -> bool;
    /// Resumes a paused process (what waited for it is handed over).
    fn resume(&mut self, node: u8);
    /// Rolls a restartable node's epoch file back.
    fn roll_back_epoch(&mut self, node: u8);
    /// Presets a restartable node's epoch file to `epoch`.
    fn preset_epoch(&mut self, node: u8, epoch: u16);
    /// Queues a row corruption for a restartable node's next reopen.
    fn queue_corruption(&mut self, node: u8, corruption: (u8, u32, crate::store::Corruption));
    /// Cuts every link between `side` and the other nodes.
    fn partition(&mut self, side: &[u8]);
    /// Cuts the link from `from` to `to`.
    fn one_way(&mut self, from: u8, to: u8);
    /// Repairs every link.
    fn heal(&mut self);
    /// A client's KV command arrives at `node` under `dek`.
    fn client_command(&mut self, node: u8, dek: u32);
    /// `node` snapshots and compacts its log.
    fn snapshot(&mut self, node: u8);
    /// A faulty client proposes an entry through `via`.
    fn inject(&mut self, via: u8, injection: Injection);
    /// The fault phase is over: liveness is owed from now.
    fn owe_liveness(&mut self);
}

/// Presets down node `node`'s epoch file (`full` its id) to `epoch` and
/// records the injection: for the checkers, in the trace, as a mark.
pub(crate) fn preset_epoch_file(
    mut b: Books<'_>,
    file: &mut crate::disk::EpochFile,
    (node, full): (u8, u64),
    epoch: u16,
) {
    let high = file.preset(epoch);
    b.injector.record(Injected::EpochPreset {
        node,
        full,
        epoch,
        high,
    });
    b.record(Some(node), &kinds::EPOCH_PRESET, u64::from(epoch), 0);
    b.obs.mark(if epoch == 0xFFFF {
        SimMark::EpochPresetExhausted
    } else {
        SimMark::EpochPresetNearExhaustion
    });
}

/// Rolls down node `node`'s epoch file back to its previous synced copy
/// and records the injection; false when it has none.
pub(crate) fn roll_back_epoch_file(
    mut b: Books<'_>,
    file: &mut crate::disk::EpochFile,
    (node, full): (u8, u64),
) -> bool {
    b.injector.take_rollback(node);
    let Some((older, high)) = file.roll_back() else {
        return false;
    };
    b.injector.record(Injected::Rollback {
        node,
        full,
        to: older,
        high,
    });
    b.record(Some(node), &kinds::EPOCH_ROLLBACK, u64::from(older), 0);
    true
}

/// Damages the rows the schedule corrupted while `node` was down (each
/// `(target, dek, how)`: the row of member `target`, whose full id is
/// `fulls[target]`), writing and syncing each itself, and tells the
/// checkers; a row that does not exist yet is left alone. `synced` sees
/// the store after each. Stops at a store failure.
pub(crate) fn corrupt_rows(
    (obs, now): (&mut Observer, u64),
    node: u8,
    corruptions: Vec<(u8, u32, crate::store::Corruption)>,
    fulls: &[u64],
    store: &mut (SimStore, Journal),
    synced: &mut dyn FnMut(&(SimStore, Journal)),
) {
    for (target, dek, how) in corruptions {
        let node16 = node16(fulls[usize::from(target)]);
        let key = writer_registry::RowKey { dek, node16 }.encode().to_vec();
        let (old, value) = match crate::store::corrupt_row(&mut store.0, &mut store.1, &key, how) {
            Ok(Some(change)) => change,
            Ok(None) => continue,
            Err(e) => {
                let detail = format!("injecting a row corruption: {e}");
                obs.store_failure(now, "store-open", node, detail);
                return;
            }
        };
        synced(store);
        obs.row_corrupted(now, node, (dek, node16), (key, old, value), how);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_sees_a_process_as_running_paused_or_down_for_its_reason() {
        let mut p = Process::Up(Box::new(()));
        assert_eq!(Life::of(&p), Life::Running);
        p.set_paused(true);
        assert_eq!(Life::of(&p), Life::Paused);
        assert!(Life::of(&p).has_process());
        p.stop(DownReason::Halted);
        assert_eq!(Life::of(&p), Life::Down(DownReason::Halted));
        assert!(!Life::of(&p).has_process());
    }
}
