//! `EmulatorConfig`: where the emulator listens, which project it pretends to be, and how it
//! behaves (speed, limits, balance, faults, generated models).

use std::fmt;
use std::net::SocketAddr;

use super::chaos::Chaos;
use super::faults::FaultSpec;
use crate::api::AllowedHost;

/// The documented demo API key the emulator accepts by default.
pub const DEMO_API_KEY: &str = "wiro-emulator-key";
/// The documented demo API secret the emulator accepts by default.
pub const DEMO_API_SECRET: &str = "wiro-emulator-secret";

/// How an [`Emulator`](super::Emulator) behaves.
///
/// ```
/// use wiro_nodes::emulator::EmulatorConfig;
/// let config = EmulatorConfig { speed: 200.0, ..EmulatorConfig::default() };
/// assert_eq!(config.api_key, "wiro-emulator-key");
/// ```
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Where to listen; port 0 picks a free port (default `127.0.0.1:0`).
    pub addr: SocketAddr,
    /// The project's API key: `x-api-key` must equal it.
    pub api_key: String,
    /// The project's API secret; `None` is a key-only project (no signature asked).
    pub api_secret: Option<String>,
    /// Time factor: 1.0 takes a few seconds per task, 100.0 runs a hundred times faster.
    /// Video encoding takes its own (real) time on top.
    pub speed: f64,
    /// Refuse a request whose `x-nonce` was already used. Off by default: the docs' curl flow
    /// signs every request of a session with one nonce.
    pub reject_replayed_nonce: bool,
    /// At most this many tasks run at once; later ones wait in `task_queue` until a running
    /// one ends. `None` = no limit; `Some(0)` keeps every task queued (handy for testing
    /// Task/Cancel).
    pub max_running: Option<usize>,
    /// How many tasks may wait for a slot when `max_running` are running: a Run beyond
    /// `max_running + max_queued` unfinished tasks is refused with code 96 (concurrency
    /// limit). `None` = an endless queue; only meaningful with `max_running`.
    pub max_queued: Option<usize>,
    /// The project's balance in dollars; a Run that cannot be paid is refused with code 97.
    /// `None` = unlimited.
    pub balance: Option<f64>,
    /// Faults to inject from the start (more can be added with
    /// [`EmulatorHandle::inject`](super::EmulatorHandle::inject)).
    pub faults: Vec<FaultSpec>,
    /// Random faults for soak tests, drawn for requests that no armed fault took.
    pub chaos: Option<Chaos>,
    /// Hosts a Run's `callbackUrl` may name besides public ones: a workflow's author picks
    /// that URL, so by default the emulator never posts into this machine's network.
    pub allow_callbacks: Vec<AllowedHost>,
    /// Generated models added to Tool/List and Tool/Detail after the real ones (varied
    /// parameter types, the same every time; Run runs them too), to measure reading a large
    /// catalog.
    pub synthetic_models: usize,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: DEMO_API_KEY.into(),
            api_secret: Some(DEMO_API_SECRET.into()),
            speed: 1.0,
            reject_replayed_nonce: false,
            max_running: None,
            max_queued: None,
            balance: None,
            faults: Vec::new(),
            chaos: None,
            allow_callbacks: Vec::new(),
            synthetic_models: 0,
        }
    }
}

impl EmulatorConfig {
    /// The demo project, with tasks sped up by `speed`.
    pub fn with_speed(speed: f64) -> Self {
        Self {
            speed,
            ..Self::default()
        }
    }

    /// A key-only project: `x-api-key` alone is enough.
    pub fn key_only(mut self) -> Self {
        self.api_secret = None;
        self
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("addr", &self.addr)
            .field("api_key", &self.api_key)
            .field("api_secret", &self.api_secret.as_ref().map(|_| "***"))
            .field("speed", &self.speed)
            .field("reject_replayed_nonce", &self.reject_replayed_nonce)
            .field("max_running", &self.max_running)
            .field("max_queued", &self.max_queued)
            .field("balance", &self.balance)
            .field("faults", &self.faults)
            .field("chaos", &self.chaos)
            .field("synthetic_models", &self.synthetic_models)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let shown = format!("{:?}", EmulatorConfig::default());
        assert!(!shown.contains(DEMO_API_SECRET), "{shown}");
        assert!(shown.contains("***"));
    }
}
