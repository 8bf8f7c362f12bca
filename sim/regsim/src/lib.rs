//! `regsim`, the writer-registry simulator's command line, as a crate of
//! its own (issue 18): everything that faces a person or a CI job and
//! nothing that simulates. The simulator is `writer_registry_sim`; this
//! crate only reaches it through its public interface, and the simulator
//! knows nothing of argument parsing, progress bars, signal handling or
//! HTML (no clap, indicatif, ctrlc or maud in its dependency tree).
//!
//! - [`cli`]: the commands, one module each, and the second half every
//!   sweep shares (groups, reports, shrinks, summaries); Ctrl-C's handler.
//! - [`html`]: one run as a self-contained HTML page (`regsim report`,
//!   the nightly job's reports).
//! - [`mod@bench`]: `regsim bench`'s measurements.

// Without the `mutants` feature a mutant slot is `()` by design (nothing
// to select), and it is still handed along so both builds share one path.
#![cfg_attr(
    not(feature = "mutants"),
    allow(clippy::unit_arg, clippy::let_unit_value)
)]

pub mod bench;
pub mod cli;
pub mod html;
