//! Ctrl-C (and the SIGTERM a CI runner sends at its timeout): the first
//! stops a sweep from starting runs and lets the running ones finish for
//! a grace period; a second, or the end of the grace period, abandons
//! them; a third exits at once. Nothing already recorded is lost either
//! way: a sweep writes each result the moment it ends, then prints the
//! summary of what it has.
//!
//! This module is what an interrupt does and the flags a sweep reads; it
//! sets up no signal handling. The `regsim` binary installs the handler
//! (ctrlc) that calls [`interrupted`], so the library, which tests and
//! other programs link, never takes over a process's signals.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

/// How long running runs get to finish after the first interrupt.
pub const GRACE: Duration = Duration::from_secs(5);

static COUNT: AtomicUsize = AtomicUsize::new(0);
static FIRST: OnceLock<Instant> = OnceLock::new();
static ABANDONED_AT: OnceLock<Instant> = OnceLock::new();
static ABANDON: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// What an interrupt does: the handler the binary installs calls it on
/// each Ctrl-C or SIGTERM.
pub fn interrupted() {
    let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    if n == 1 {
        let _ = FIRST.set(Instant::now());
        eprintln!(
            "regsim: interrupted: starting no more runs; running ones get {}s to finish (interrupt again to abandon them)",
            GRACE.as_secs()
        );
    } else if n == 2 {
        abandon();
    } else {
        // A run stuck inside one step never sees the abandon flag: a
        // third interrupt leaves at once (every finished run is already
        // in the results file).
        eprintln!("regsim: interrupted a third time: exiting now");
        crate::tempdirs::remove_session();
        std::process::exit(130);
    }
}

/// How long ago the running runs were abandoned, if they were.
pub fn abandoned_for() -> Option<Duration> {
    ABANDONED_AT.get().map(Instant::elapsed)
}

/// Abandons every running run now (they end as `interrupted`).
pub fn abandon() {
    if !ABANDON.swap(true, Ordering::SeqCst) {
        let _ = ABANDONED_AT.set(Instant::now());
        eprintln!("regsim: abandoning the running runs");
    }
}

/// True once an interrupt arrived: start no more runs.
pub fn stopping() -> bool {
    COUNT.load(Ordering::SeqCst) > 0
}

/// Abandons the running runs once the grace period after the first
/// interrupt is over (called by a sweep while it waits for its workers).
pub fn enforce_grace() {
    if FIRST.get().is_some_and(|t| t.elapsed() >= GRACE) {
        abandon();
    }
}

/// The flag a run's [`crate::cancel::Cancel`] watches.
pub fn abandon_flag() -> Arc<AtomicBool> {
    ABANDON.clone()
}
