//! Ctrl-C's (and SIGTERM's) handler, installed by the commands that sweep.
//! What an interrupt does, and the flags a sweep reads, are the library's
//! ([`writer_registry_sim::interrupt`]); only the binary takes over the
//! process's signals.

use std::sync::OnceLock;

/// Installs the handler (once per process; a process that already has
/// one, e.g. a test harness's, keeps it and just never sees interrupts).
pub(super) fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = ctrlc::set_handler(writer_registry_sim::interrupt::interrupted);
    });
}
