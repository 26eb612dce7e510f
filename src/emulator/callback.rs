//! The `callbackUrl` webhook: when a task ends, its Task/Detail body is POSTed there.
//! Failures are logged and otherwise ignored, as a webhook sender does.

use std::time::Duration;

use crate::api::tls;
use crate::api::wire::Task;

use super::answer::detail_body;

/// The webhook client, with the api layer's TLS setup (rustls, `ring`, webpki roots).
pub(crate) fn build_client() -> Option<reqwest::Client> {
    let tls = tls::client_config(&[]).ok()?;
    reqwest::Client::builder()
        .use_preconfigured_tls((*tls).clone())
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
