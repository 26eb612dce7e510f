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

/// The real API from the environment, or an embedded emulator when no key is set.
pub(crate) async fn connect() -> Result<Backend, String> {
    if Credentials::from_env().is_some() {
        let config = ClientConfig::from_env().map_err(|e| e.to_string())?;
        let client = Client::new(config).map_err(|e| e.to_string())?;
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
    let emulator = Emulator::start(EmulatorConfig::with_speed(speed))
        .await
        .map_err(|e| format!("could not start the embedded emulator: {e}"))?;
    eprintln!(
        "No WIRO_API_KEY set: using the embedded Wiro emulator at {} (nothing is spent; videos are test clips).",
        emulator.base_url()
    );
    let client = Client::new(emulator.client_config()).map_err(|e| e.to_string())?;
    Ok(Backend {
        client,
        _emulator: Some(emulator),
    })
}
