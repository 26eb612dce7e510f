//! Which server the commands talk to: the real API when `WIRO_API_KEY` is set, otherwise an
//! embedded emulator (and the user is told so).

use crate::api::{AllowedHost, Client, ClientConfig, Credentials, FetchRules, SealKey};
use crate::emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// How much faster than real time the embedded emulator runs tasks (`WIRO_EMULATOR_SPEED`
/// overrides it): quick enough for a demo, slow enough to watch the statuses go by.
const EMBEDDED_SPEED: f64 = 4.0;

/// A client, and the embedded emulator behind it when there is one (kept alive with it).
pub(crate) struct Backend {
    pub client: Client,
    /// Serves as long as the backend lives.
    _emulator: Option<EmulatorHandle>,
}

/// Why there is no backend.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BackendError {
    /// The environment's settings are wrong; nothing was sent.
    #[error("{0}")]
    Settings(String),
    /// The embedded emulator did not start.
    #[error("could not start the embedded emulator: {0}")]
    Emulator(String),
}

impl BackendError {
    /// The exit status: 2 for settings (nothing was sent), 1 otherwise.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Settings(_) => super::EXIT_INVALID,
            Self::Emulator(_) => super::EXIT_FAILED,
        }
    }
}

impl Backend {
    /// Whether runs go to the embedded emulator (nothing is spent).
    pub fn is_emulator(&self) -> bool {
        self._emulator.is_some()
    }
}

/// What the operator lets downloads fetch besides what the API hands out.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct FetchArgs {
    /// Let downloads fetch from HOST (every port) or HOST:PORT even when the API did not
    /// hand the URL out, wherever the host resolves, this machine's network included.
    /// Repeatable; WIRO_ALLOW_FETCH adds a comma-separated list. Without it a workflow's
    /// literal URLs are refused and nothing inside this machine's network is dialled.
    #[arg(long = "allow-fetch", value_name = "HOST[:PORT]")]
    allow_fetch: Vec<AllowedHost>,
}

impl FetchArgs {
    /// The hosts of `--allow-fetch` and of `WIRO_ALLOW_FETCH`.
    fn hosts(&self) -> Result<Vec<AllowedHost>, BackendError> {
        let mut hosts = self.allow_fetch.clone();
        let listed = std::env::var("WIRO_ALLOW_FETCH").unwrap_or_default();
        for entry in listed.split(',').filter(|entry| !entry.trim().is_empty()) {
            let host = entry.parse().map_err(|problem| {
                BackendError::Settings(format!("WIRO_ALLOW_FETCH: {problem}"))
            })?;
            hosts.push(host);
        }
        Ok(hosts)
    }
}

/// Which server a command will talk to and what it may fetch, known before connecting, so a
/// workflow's URLs are judged before anything is started or sent.
pub(crate) struct Settings {
    /// The real API's configuration; `None` for the embedded emulator.
    configured: Option<ClientConfig>,
    allow_fetch: Vec<AllowedHost>,
    /// The embedded emulator's seal key: random, so that its well-known credentials make no
    /// seal anyone could forge.
    emulator_seals: SealKey,
}

impl Settings {
    /// The real API when `WIRO_API_KEY` is set, else the embedded emulator; with the hosts the
    /// operator allowed.
    pub(crate) fn from_env(fetch: &FetchArgs) -> Result<Self, BackendError> {
        let allow_fetch = fetch.hosts()?;
        let configured = if Credentials::from_env().is_some() {
            let config = ClientConfig::from_env()
                .map_err(|error| BackendError::Settings(error.to_string()))?;
            Some(config.with_allow_fetch(allow_fetch.clone()))
        } else {
            // An address without a key is a mistake, not a wish for the emulator.
            for name in ["WIRO_BASE_URL", "WIRO_SOCKET_URL"] {
                if std::env::var(name).is_ok_and(|value| !value.is_empty()) {
                    return Err(BackendError::Settings(format!(
                        "{name} is set but WIRO_API_KEY is empty or unset: export the API key of the project at that address, or unset {name} to use the embedded emulator"
                    )));
                }
            }
            None
        };
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|error| {
            BackendError::Emulator(format!("no random seal key for its outputs: {error}"))
        })?;
        Ok(Self {
            configured,
            allow_fetch,
            emulator_seals: SealKey::from_bytes(key),
        })
    }

    /// What the client will fetch. With the embedded emulator, its address is not known yet:
    /// no literal URL names it, so none is allowed.
    pub(crate) fn fetch_rules(&self) -> FetchRules {
        match &self.configured {
            Some(config) => config.fetch_rules(),
            None => FetchRules::new(self.allow_fetch.clone(), &[], self.emulator_seals.clone()),
        }
    }

    /// Connects: a client for the real API, or starts the embedded emulator.
    pub(crate) async fn connect(self) -> Result<Backend, BackendError> {
        if let Some(config) = self.configured {
            let client =
                Client::new(config).map_err(|error| BackendError::Settings(error.to_string()))?;
            return Ok(Backend {
                client,
                _emulator: None,
            });
        }
        let speed = std::env::var("WIRO_EMULATOR_SPEED")
            .ok()
            .and_then(|text| text.parse::<f64>().ok())
            .filter(|speed| *speed > 0.0)
            .unwrap_or(EMBEDDED_SPEED);
        // The hosts the operator let the workflow reach are the webhooks' too.
        let emulator_config = EmulatorConfig {
            allow_callbacks: self.allow_fetch.clone(),
            ..EmulatorConfig::with_speed(speed)
        };
        let emulator = Emulator::start(emulator_config)
            .await
            .map_err(|e| BackendError::Emulator(e.to_string()))?;
        eprintln!(
            "No WIRO_API_KEY set: using the embedded Wiro emulator at {} (nothing is spent; videos are test clips).",
            emulator.base_url()
        );
        let config = emulator
            .client_config()
            .with_allow_fetch(self.allow_fetch)
            .with_seal_key(self.emulator_seals);
        let client = Client::new(config).map_err(|e| BackendError::Emulator(e.to_string()))?;
        Ok(Backend {
            client,
            _emulator: Some(emulator),
        })
    }
}

/// The backend of a command: [`Settings::from_env`] then [`Settings::connect`].
pub(crate) async fn connect(fetch: &FetchArgs) -> Result<Backend, BackendError> {
    Settings::from_env(fetch)?.connect().await
}
