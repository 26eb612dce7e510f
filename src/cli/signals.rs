//! The signals that stop a run: Ctrl-C (SIGINT) from a person, SIGTERM from `docker stop`,
//! systemd or a CI runner. Either one cancels the run, so paid tasks are stopped, not left
//! running; each has its own exit status.

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

use super::{EXIT_CANCELLED, EXIT_TERMINATED};

/// Which signal asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopSignal {
    /// Ctrl-C.
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl StopSignal {
    /// The process's exit status after stopping for this signal: 130 or 143, as shells do.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Self::Interrupt => EXIT_CANCELLED,
            Self::Terminate => EXIT_TERMINATED,
        }
    }

    /// `SIGINT` or `SIGTERM`, for machine-readable reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }
}

/// The next stop signal.
async fn next_signal() -> Option<StopSignal> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut terminate) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c()
                .await
                .ok()
                .map(|()| StopSignal::Interrupt);
        };
        tokio::select! {
            interrupt = tokio::signal::ctrl_c() => interrupt.ok().map(|()| StopSignal::Interrupt),
            _ = terminate.recv() => Some(StopSignal::Terminate),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| StopSignal::Interrupt)
    }
}

/// Watches for stop signals until dropped (abort the task it runs in). The first cancels
/// `cancel` after `announce` says what happens; a second ends the process at once (see
/// [`default_action_for_the_next_signal`]). `received` keeps the first signal, for the exit
/// status.
pub(crate) fn watch(
    cancel: CancellationToken,
    announce: &'static str,
) -> (tokio::task::JoinHandle<()>, Arc<OnceLock<StopSignal>>) {
    let received = Arc::new(OnceLock::new());
    let first = Arc::clone(&received);
    let watcher = tokio::spawn(async move {
        let Some(signal) = next_signal().await else {
            return;
        };
        let _ = first.set(signal);
        let kernel_ends_the_next = default_action_for_the_next_signal();
        eprintln!("{announce}");
        cancel.cancel();
        if kernel_ends_the_next {
            return;
        }
        if let Some(again) = next_signal().await {
            std::process::exit(i32::from(again.exit_code()));
        }
    });
    (watcher, received)
}

/// Gives Ctrl-C and SIGTERM back their default action, so the next one ends the process in
/// the kernel, at once, whatever this process is doing: a thread stuck on a slow disk cannot
/// hold it (a handler needs the runtime to run). The shell sees 130 or 143, as with a
/// program that never caught them. Nothing is lost: the journal is written line by line and
/// holds up to `kill -9`. False where that cannot be done (then the runtime watches).
fn default_action_for_the_next_signal() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: `signal` with SIG_DFL only changes the disposition; no handler of ours runs.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL) != libc::SIG_ERR
                && libc::signal(libc::SIGTERM, libc::SIG_DFL) != libc::SIG_ERR
        }
    }
    #[cfg(not(unix))]
    {
        false
    }
}
