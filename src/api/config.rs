//! `ClientConfig`: where the API is, who is calling, and how patient to be.

use std::time::Duration;

use super::fetch_rules::{AllowedHost, FetchRules, SealKey};
use super::{Credentials, Error, Result};

/// The documented API address.
pub const DEFAULT_BASE_URL: &str = "https://api.wiro.ai/v1";
/// The documented WebSocket address.
pub const DEFAULT_SOCKET_URL: &str = "wss://socket.wiro.ai/v1";

/// How a [`Client`](super::Client) reaches Wiro.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// API base, e.g. `https://api.wiro.ai/v1` (no trailing slash needed).
    pub base_url: String,
    /// WebSocket address for task events.
    pub socket_url: String,
    /// The project's key and secret.
    pub credentials: Credentials,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for one JSON request, answer included.
    pub request_timeout: Duration,
    /// Retries for operations that are safe to repeat.
    pub retry: RetryPolicy,
    /// Hosts downloads may fetch from besides what the API handed out, whatever address they
    /// resolve to (see [`FetchRules`]).
    pub allow_fetch: Vec<AllowedHost>,
    /// The key that seals the URLs the API hands out; `None`: derived from `credentials`.
    pub seal_key: Option<SealKey>,
}

impl ClientConfig {
    /// The documented endpoints with these credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            socket_url: DEFAULT_SOCKET_URL.into(),
            credentials,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            allow_fetch: Vec::new(),
            seal_key: None,
        }
    }

    /// From `WIRO_API_KEY`, `WIRO_API_SECRET`, `WIRO_BASE_URL` and `WIRO_SOCKET_URL`.
    pub fn from_env() -> Result<Self> {
        let credentials = Credentials::from_env().ok_or_else(|| {
            Error::invalid("WIRO_API_KEY", "is not set; export your project's API key")
        })?;
        let mut config = Self::new(credentials);
        if let Some(url) = env_value("WIRO_BASE_URL") {
            check_url("WIRO_BASE_URL", &url, &["http", "https"])?;
            config.base_url = url;
        }
        if let Some(url) = env_value("WIRO_SOCKET_URL") {
            check_url("WIRO_SOCKET_URL", &url, &["ws", "wss"])?;
            config.socket_url = url;
        }
        Ok(config)
    }

    /// Sets the API base address.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the WebSocket address.
    pub fn with_socket_url(mut self, url: impl Into<String>) -> Self {
        self.socket_url = url.into();
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Lets downloads fetch from these hosts too, wherever they resolve.
    pub fn with_allow_fetch(mut self, hosts: impl IntoIterator<Item = AllowedHost>) -> Self {
        self.allow_fetch.extend(hosts);
        self
    }

    /// Seals the URLs the API hands out with this key instead of one derived from the
    /// credentials.
    pub fn with_seal_key(mut self, key: SealKey) -> Self {
        self.seal_key = Some(key);
        self
    }

    /// The rules a client of this configuration fetches by: the API and socket hosts, the
    /// allowed hosts, and the seals of this project's credentials.
    pub fn fetch_rules(&self) -> FetchRules {
        let key = self
            .seal_key
            .clone()
            .unwrap_or_else(|| SealKey::from_credentials(&self.credentials));
        FetchRules::new(
            self.allow_fetch.clone(),
            &[&self.base_url, &self.socket_url],
            key,
        )
    }
}

/// Refuses an address that no request could reach: not a URL, another scheme (`file://`), no
/// host. Named by `field`, so the user knows which setting to fix.
pub(crate) fn check_url(field: &str, url: &str, schemes: &[&str]) -> Result<()> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|error| {
        Error::invalid(
            field,
            format!(
                "{url:?} is not a URL ({error}); expected e.g. {}://api.wiro.ai/v1",
                schemes[0]
            ),
        )
    })?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(Error::invalid(
            field,
            format!(
                "{url:?} uses {}://; only {} addresses are allowed",
                parsed.scheme(),
                schemes.join(" or ")
            ),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(field, format!("{url:?} names no host")));
    }
    Ok(())
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Exponential backoff with jitter for operations that are safe to repeat
/// (Task/Detail, Kill, Cancel, Tool/Detail, downloads). Run and Upload are never retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (1 = no retries).
    pub max_attempts: u32,
    /// The first pause; each next one doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest pause between two tries (a longer `Retry-After` is still honoured,
    /// within the deadline).
    pub max_backoff: Duration,
    /// No retry starts after this much time since the first try.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            deadline: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The pause before try number `attempt + 1` (attempt counts from 1): full backoff
    /// halved, plus a random half, so many clients do not retry in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let full = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_stays_capped() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(policy.backoff(30) <= Duration::from_millis(1000));
        }
    }
}
