//! The `wiro-nodes` binary: see `wiro-nodes --help`.

/// Many small, short-lived allocations (JSON values, schemas, node states): mimalloc serves
/// them with less CPU than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Allocator options set when the program is loaded (an ELF constructor, before mimalloc's own
/// and before anything allocates). Elsewhere mimalloc's own defaults stay.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
mod allocator_options {
    /// An arena committed up front is backed by huge pages on Linux: 5 MB more resident for
    /// every command (`validate` 24.6 MB instead of 19.8). Only the default is set, so
    /// `MIMALLOC_ARENA_EAGER_COMMIT` still overrides it.
    #[used]
    #[link_section = ".init_array.00099"]
    static SET_ALLOCATOR_OPTIONS: extern "C" fn() = set_allocator_options;

    extern "C" fn set_allocator_options() {
        /// mimalloc's `mi_option_arena_eager_commit` (4 in its v2 option list; the crate names
        /// no constant for it).
        const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
        // SAFETY: mi_option_set_default only stores an option's default; nothing else runs yet.
        unsafe { libmimalloc_sys::mi_option_set_default(ARENA_EAGER_COMMIT, 0) };
    }
}

fn main() -> std::process::ExitCode {
    wiro_nodes::cli::main()
}
