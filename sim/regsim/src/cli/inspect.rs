//! `regsim inspect` and `regsim node-id`: decode the bytes a trace shows
//! (a Raft entry's data, a registry row) and print a Raft id's node ids.

use clap::Subcommand;

use super::CliError;
use writer_registry_sim::inspect;

#[derive(Subcommand)]
pub(super) enum InspectCmd {
    /// Decode a Raft entry's data (envelope, opcode, body).
    Entry {
        /// The entry bytes in hex; spaces, `_` and `:` are ignored.
        hex: String,
    },
    /// Decode a registry row.
    Row {
        /// The 27-byte key in hex.
        key: String,
        /// The 12-byte value in hex.
        value: String,
    },
}

pub(super) fn cmd_inspect(cmd: InspectCmd) -> Result<bool, CliError> {
    match cmd {
        InspectCmd::Entry { hex } => inspect::entry(&hex)
            .map(|t| print!("{t}"))
            .map(|_| true)
            .map_err(CliError::from),
        InspectCmd::Row { key, value } => inspect::row(&key, &value)
            .map(|t| print!("{t}"))
            .map(|_| true)
            .map_err(CliError::from),
    }
}

pub(super) fn cmd_node_id(raft_id: &str) -> Result<bool, CliError> {
    print!("{}", inspect::node_id(raft_id));
    Ok(true)
}
