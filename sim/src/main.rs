//! `regsim`: the writer-registry simulator's command line. The commands
//! live in the library, in [`writer_registry_sim::cli`].

fn main() -> std::process::ExitCode {
    writer_registry_sim::cli::main()
}
