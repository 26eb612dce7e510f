//! The `wiro-nodes` binary: see `wiro-nodes --help`.

/// Many small, short-lived allocations (JSON values, schemas, node states): mimalloc serves
/// them with less CPU than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wiro_nodes::cli::main()
}
