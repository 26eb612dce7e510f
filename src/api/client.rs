//! `Client`: the transport every Wiro operation goes through — signed requests, timeouts, and
//! retries only where they are safe (a Run or an Upload is never sent twice once a byte may
//! have reached the server). The operations themselves live in [`operations`](super::operations).

use reqwest::header::LOCATION;
use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::answer::{parse_answer, retry_after};
use super::resolve::SystemResolver;
use super::retry::Retries;
use super::signing::{auth_headers, NonceSource};
use super::wire::Task;
use super::{tls, ClientConfig, Error, FetchRules, Result};

/// Whether an operation may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Repeat {
    /// Reads and idempotent changes (Task/Detail, Kill, Cancel): retried on transient errors.
    Safe,
    /// Spends money or stores data (Run, Upload): retried only when the connection could not
    /// even be opened, so no byte can have reached the server.
    Never,
}

/// A Wiro API client. Cheap to clone; clones share connections and the nonce counter.
#[derive(Debug, Clone)]
pub struct Client {
    inner: std::sync::Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    nonces: NonceSource,
    /// Which URLs downloads fetch, made once from `config`.
    fetch: std::sync::Arc<FetchRules>,
}

impl Client {
    /// A client for this configuration.
    pub fn new(config: ClientConfig) -> Result<Self> {
        super::config::check_url("base_url", &config.base_url, &["http", "https"])?;
        super::config::check_url("socket_url", &config.socket_url, &["ws", "wss"])?;
        let tls = tls::client_config(&[b"h2", b"http/1.1"])
            .map_err(|problem| Error::invalid("tls", problem.to_string()))?;
        let fetch = std::sync::Arc::new(config.fetch_rules());
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.request_timeout)
            .dns_resolver(std::sync::Arc::new(SystemResolver::new(fetch.clone())))
            // A proxy would resolve names itself, out of the fetch rules' sight: every
            // connection is made directly, to an address the resolver checked.
            .no_proxy()
            // API calls carry the key and never follow a redirect; downloads follow theirs one
            // hop at a time (see `download`), so each hop is checked and named in errors.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("wiro-nodes/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|problem| Error::invalid("http client", problem.to_string()))?;
        Ok(Self {
            inner: std::sync::Arc::new(Inner {
                http,
                config,
                nonces: NonceSource::new(),
                fetch,
            }),
        })
    }

    /// A client from `WIRO_API_KEY`, `WIRO_API_SECRET`, `WIRO_BASE_URL`, `WIRO_SOCKET_URL`.
    pub fn from_env() -> Result<Self> {
        Self::new(ClientConfig::from_env()?)
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Which URLs this client's downloads fetch.
    pub fn fetch_rules(&self) -> &FetchRules {
        &self.inner.fetch
    }

    /// Seals the output files of a task record the API just handed out, so that a download
    /// (here or in another process of the project) knows they came from the API.
    pub(super) fn seal_outputs(&self, task: &mut Task) {
        for output in &mut task.outputs {
            output.seal = Some(self.inner.fetch.seal(&output.url));
        }
    }

    /// The underlying HTTP client (shared with downloads).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Sends a read or an idempotent change (retried like Task/Detail) and parses its answer:
    /// the short way for an operation with a JSON body.
    pub(super) async fn send_safe<T: DeserializeOwned>(
        &self,
        operation: &str,
        body: &Value,
    ) -> Result<T> {
        self.send(operation, Repeat::Safe, || {
            Ok(self.post(operation).json(body))
        })
        .await
    }

    /// A POST of `operation` to the API, not signed yet ([`Client::send`] signs each try).
    pub(super) fn post(&self, operation: &str) -> RequestBuilder {
        self.inner.http.post(self.endpoint(operation))
    }

    /// The address of an operation: `{base_url}/{operation}`.
    fn endpoint(&self, operation: &str) -> String {
        let base = self.inner.config.base_url.trim_end_matches('/');
        format!("{base}/{operation}")
    }

    /// Sends one operation, signing each try afresh, retrying as `repeat` allows.
    pub(super) async fn send<T: DeserializeOwned>(
        &self,
        operation: &str,
        repeat: Repeat,
        request: impl Fn() -> Result<RequestBuilder>,
    ) -> Result<T> {
        let mut retries = Retries::new(self.inner.config.retry, operation);
        loop {
            let mut builder = request()?;
            if repeat == Repeat::Safe {
                builder = builder.timeout(self.inner.config.request_timeout);
            }
            for (name, value) in
                auth_headers(&self.inner.config.credentials, self.inner.nonces.next())
            {
                builder = builder.header(name, value);
            }
            let (error, wait) = match self.send_once::<T>(operation, repeat, builder).await {
                Ok(body) => return Ok(body),
                Err((error, wait)) if repeat == Repeat::Never => {
                    (may_have_taken_effect(operation, error), wait)
                }
                Err(failure) => failure,
            };
            let retryable = match repeat {
                Repeat::Safe => error.is_transient(),
                Repeat::Never => matches!(error, Error::Connection { .. }),
            };
            retries.wait_to_retry(error, wait, retryable).await?;
        }
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        operation: &str,
        repeat: Repeat,
        builder: RequestBuilder,
    ) -> std::result::Result<T, (Error, Option<std::time::Duration>)> {
        let url = self.endpoint(operation);
        let transport =
            |problem| Error::transport(operation, &url, problem, repeat == Repeat::Safe);
        let response = builder.send().await.map_err(|e| (transport(e), None))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = response.headers().get(LOCATION);
            let location = location.map(|value| String::from_utf8_lossy(value.as_bytes()));
            let why = "API calls carry your key and never follow a redirect; if that address is the API, set WIRO_BASE_URL to it";
            return Err((
                Error::redirected(operation, &url, status, location.as_deref(), why),
                None,
            ));
        }
        let wait = retry_after(response.headers());
        let body = response.text().await.map_err(|e| (transport(e), None))?;
        tracing::debug!(operation, status, "answer");
        parse_answer(operation, status, wait, &body).map_err(|error| (error, wait))
    }
}

/// The most redirects a download follows (API calls follow none).
pub(crate) const MAX_REDIRECTS: usize = 10;

/// For a Run or an Upload, an answer that does not say "refused" leaves the outcome unknown:
/// a gateway's 5xx or 408 can come after the server acted, and a 2xx we cannot read may hold
/// the id of a task that is already paid for.
fn may_have_taken_effect(operation: &str, error: Error) -> Error {
    let unknown = match &error {
        Error::Server { .. } => true,
        Error::Protocol { status, .. } => (200..300).contains(status),
        _ => false,
    };
    if unknown {
        Error::OutcomeUnknown {
            operation: operation.into(),
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    } else {
        error
    }
}

/// The first record of an answer's list; an empty list from a successful answer is a
/// protocol error naming the operation.
pub(super) fn first_of<T>(list: Vec<T>, operation: &str) -> Result<T> {
    list.into_iter().next().ok_or_else(|| Error::Protocol {
        operation: operation.into(),
        status: 200,
        problem: "the answer succeeded but its list is empty".into(),
        snippet: String::new(),
    })
}

/// Checks an `owner/model` slug before it becomes part of a path.
/// A slug made URL-safe as Wiro's clean slugs are: lowercase, runs of anything but letters,
/// digits, `.` and `_` as one `-` (`Acme Labs` is `acme-labs`).
pub fn clean_slug(raw: &str) -> String {
    let mut clean = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            clean.push(c.to_ascii_lowercase());
        } else if !clean.ends_with('-') {
            clean.push('-');
        }
    }
    clean.trim_matches('-').to_owned()
}

pub(super) fn model_slug(model: &str) -> Result<&str> {
    let part_ok = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && part != "."
            && part != ".."
    };
    match model.split_once('/') {
        Some((owner, name)) if part_ok(owner) && part_ok(name) => Ok(model),
        _ => Err(Error::invalid(
            "model",
            format!("{model:?} must be owner/model, e.g. PixVerse/text-to-video-v4"),
        )),
    }
}

/// Run parameters travel as strings (`"duration": "5"`); lists and objects stay JSON.
pub(super) fn wire_value(value: &Value) -> Value {
    match value {
        Value::String(_) | Value::Array(_) | Value::Object(_) => value.clone(),
        Value::Null => Value::String(String::new()),
        Value::Bool(flag) => Value::String(flag.to_string()),
        Value::Number(number) => Value::String(number.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugs_must_be_owner_and_model() {
        assert!(model_slug("PixVerse/text-to-video-v4").is_ok());
        for bad in ["", "pixverse", "a/b/c", "../x", "a/..", "a b/c"] {
            let error = model_slug(bad).unwrap_err();
            assert!(
                error.to_string().starts_with("invalid model"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn values_go_out_as_strings() {
        assert_eq!(wire_value(&json!(5)), json!("5"));
        assert_eq!(wire_value(&json!(false)), json!("false"));
        assert_eq!(wire_value(&Value::Null), json!(""));
        assert_eq!(wire_value(&json!(["a"])), json!(["a"]));
    }
}
