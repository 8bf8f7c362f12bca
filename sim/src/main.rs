//! `regsim`: the writer-registry simulator's command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use writer_registry_sim::inspect;

#[derive(Parser)]
#[command(
    name = "regsim",
    version,
    about = "Deterministic simulation harness for the writer registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Decode bytes from a trace.
    #[command(subcommand)]
    Inspect(InspectCmd),
    /// Print the FNV-1a full node id and node16 of a Raft id string.
    NodeId {
        /// The node's Raft id string, e.g. n1.
        raft_id: String,
    },
}

#[derive(Subcommand)]
enum InspectCmd {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Inspect(InspectCmd::Entry { hex }) => inspect::entry(&hex),
        Cmd::Inspect(InspectCmd::Row { key, value }) => inspect::row(&key, &value),
        Cmd::NodeId { raft_id } => Ok(inspect::node_id(&raft_id)),
    };
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("regsim: error: {e}");
            ExitCode::from(2)
        }
    }
}
