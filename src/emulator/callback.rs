//! The `callbackUrl` webhook: when a task ends, its Task/Detail body is POSTed there.
//! Failures are logged and otherwise ignored, as a webhook sender does.
//!
//! A Run's parameters come from a workflow someone else may have written, so the webhook is
//! held to the client's walls: no address inside this machine's network unless its host was
//! allowed, judged on the literal and on what the name resolves to, no redirect, no proxy.

use std::sync::Arc;
use std::time::Duration;

use crate::api::wire::Task;
use crate::api::{tls, AllowedHost, FetchRules, SealKey, SystemResolver};

use super::answer::detail_body;

/// The webhook client and the rules its addresses are held to.
#[derive(Debug, Clone)]
pub(crate) struct Webhooks {
    client: reqwest::Client,
    rules: Arc<FetchRules>,
}

/// The webhook client, with the api layer's TLS setup (rustls, `ring`, webpki roots) and its
/// resolver, allowing `allowed` hosts inside this machine's network.
pub(crate) fn build_client(allowed: &[AllowedHost]) -> Option<Webhooks> {
    let tls = tls::client_config(&[]).ok()?;
    // Seals play no part here: nothing is fetched from the API's outputs.
    let rules = Arc::new(FetchRules::new(
        allowed.to_vec(),
        &[],
        SealKey::from_bytes([0; 32]),
    ));
    let client = reqwest::Client::builder()
        .use_preconfigured_tls((*tls).clone())
        .timeout(Duration::from_secs(10))
        .dns_resolver(Arc::new(SystemResolver::new(rules.clone())))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .ok()?;
    Some(Webhooks { client, rules })
}

/// Sends the final record of a task to `url` in the background, when the walls allow it.
pub(crate) fn send(webhooks: Option<Webhooks>, url: String, task: Task) {
    let body = detail_body(task);
    tokio::spawn(async move {
        let Some(Webhooks { client, rules }) = webhooks else {
            tracing::warn!(%url, "callback not sent: the HTTP client could not be built");
            return;
        };
        if let Err(reason) = rules.check_address(&url) {
            tracing::warn!(%url, %reason, "callback not sent");
            return;
        }
        match client.post(&url).json(&body).send().await {
            Ok(answer) if answer.status().is_success() => {
                tracing::debug!(%url, "callback delivered");
            }
            Ok(answer) => tracing::warn!(%url, status = %answer.status(), "callback refused"),
            Err(problem) => tracing::warn!(%url, error = %problem, "callback failed"),
        }
    });
}
