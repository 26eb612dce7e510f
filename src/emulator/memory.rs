//! Giving freed memory back to the system. glibc's allocator keeps the memory of large frees
//! (an encoder's frame buffers, an encoded clip) in its arenas, so the emulator's resident
//! size would stay at its peak after a burst of encodes or of closed connections;
//! `malloc_trim` returns it, after each encode and every few seconds while the emulator runs.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often freed memory is given back while the emulator runs.
const EVERY: Duration = Duration::from_secs(2);

/// Returns the allocator's free memory to the system where the allocator keeps it (glibc on
/// Linux); elsewhere, does nothing.
pub(crate) fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Gives freed memory back every [`EVERY`] until `stop` is cancelled, on a blocking thread
/// (the trim walks the allocator's free lists).
pub(crate) async fn give_back_regularly(stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {
                let _ = tokio::task::spawn_blocking(give_back).await;
            }
            _ = stop.cancelled() => return,
        }
    }
}
