//! The `wiro-nodes` binary: see `wiro-nodes --help`.

fn main() -> std::process::ExitCode {
    wiro_nodes::cli::main()
}
