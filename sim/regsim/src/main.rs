//! `regsim`: the writer-registry simulator's command line. The commands
//! live in this crate's library, in [`regsim::cli`], so that its tests can
//! reach the report page and the commands' parts.

fn main() -> std::process::ExitCode {
    regsim::cli::main()
}
