//! The `callbackUrl` webhook: when a task ends, its Task/Detail body is POSTed there.
//! Failures are logged and otherwise ignored, as a webhook sender does.

use std::sync::Arc;
use std::time::Duration;

use crate::api::wire::Task;

use super::routes::detail_body;

/// The webhook client: rustls with the `ring` provider, like the api layer's.
pub(crate) fn build_client() -> Option<reqwest::Client> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(10))
        .build()
        .ok()
}

/// Sends the final record of a task to `url` in the background.
pub(crate) fn send(client: Option<reqwest::Client>, url: String, task: Task) {
    let body = detail_body(task);
    tokio::spawn(async move {
        let Some(client) = client else {
            tracing::warn!(%url, "callback not sent: the HTTP client could not be built");
            return;
        };
        match client.post(&url).json(&body).send().await {
            Ok(answer) if answer.status().is_success() => {
                tracing::debug!(%url, "callback delivered");
            }
            Ok(answer) => tracing::warn!(%url, status = %answer.status(), "callback refused"),
            Err(problem) => tracing::warn!(%url, error = %problem, "callback failed"),
        }
    });
}
