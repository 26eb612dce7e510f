//! Which server the commands talk to: the real API when `WIRO_API_KEY` is set, otherwise an
//! embedded emulator (and the user is told so).

use crate::api::{Client, ClientConfig, Credentials};
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

/// The real API from the environment, or an embedded emulator when no key is set.
pub(crate) async fn connect() -> Result<Backend, BackendError> {
    if Credentials::from_env().is_some() {
        let settings = |error: crate::api::Error| BackendError::Settings(error.to_string());
        let client = Client::new(ClientConfig::from_env().map_err(settings)?).map_err(settings)?;
        return Ok(Backend {
            client,
            _emulator: None,
        });
    }
    // An address without a key is a mistake, not a wish for the emulator.
    for name in ["WIRO_BASE_URL", "WIRO_SOCKET_URL"] {
        if std::env::var(name).is_ok_and(|value| !value.is_empty()) {
            return Err(BackendError::Settings(format!(
                "{name} is set but WIRO_API_KEY is empty or unset: export the API key of the project at that address, or unset {name} to use the embedded emulator"
            )));
        }
    }
    let speed = std::env::var("WIRO_EMULATOR_SPEED")
        .ok()
        .and_then(|text| text.parse::<f64>().ok())
        .filter(|speed| *speed > 0.0)
        .unwrap_or(EMBEDDED_SPEED);
    let emulator = Emulator::start(EmulatorConfig::with_speed(speed))
        .await
        .map_err(|e| BackendError::Emulator(e.to_string()))?;
    eprintln!(
        "No WIRO_API_KEY set: using the embedded Wiro emulator at {} (nothing is spent; videos are test clips).",
        emulator.base_url()
    );
    let client =
        Client::new(emulator.client_config()).map_err(|e| BackendError::Emulator(e.to_string()))?;
    Ok(Backend {
        client,
        _emulator: Some(emulator),
    })
}
