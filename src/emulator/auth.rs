//! The signature check every API request passes: `x-api-key`, and for projects with a secret
//! `x-nonce` + `x-signature` (HMAC-SHA256 keyed by the key over secret + nonce).
//!
//! Failures are answered with HTTP 401 and code 98, with a message that says exactly what is
//! wrong, so a user setting up credentials is never left guessing.

use std::collections::HashSet;

use axum::http::HeaderMap;

use crate::api::signing::{signature, HEADER_API_KEY, HEADER_NONCE, HEADER_SIGNATURE};

use super::config::EmulatorConfig;

/// Checks one request's auth headers; `Err` holds the message for the code-98 answer.
///
/// `used_nonces` is consulted (and extended) only when the configuration rejects replays.
pub(crate) fn check(
    config: &EmulatorConfig,
    headers: &HeaderMap,
    used_nonces: &mut HashSet<String>,
) -> Result<(), String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let key = header(HEADER_API_KEY).ok_or_else(|| {
        format!(
            "sign-in required: the {HEADER_API_KEY} header is missing; send your project's API key"
        )
    })?;
    if key != config.api_key {
        return Err(format!(
            "sign-in required: {HEADER_API_KEY} does not match this project's API key"
        ));
    }
    let Some(secret) = config.api_secret.as_deref() else {
        return Ok(());
    };
    let (Some(nonce), Some(sent)) = (header(HEADER_NONCE), header(HEADER_SIGNATURE)) else {
        return Err(format!(
            "this project requires a signature: send {HEADER_NONCE} (an integer, fresh for every \
             request) and {HEADER_SIGNATURE} = hex(HMAC-SHA256(key = API key, message = API \
             secret + nonce))"
        ));
    };
    if nonce.is_empty() || !nonce.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("{HEADER_NONCE} must be an integer, got {nonce:?}"));
    }
    if !sent.eq_ignore_ascii_case(&signature(key, secret, nonce)) {
        return Err(format!(
            "bad signature: {HEADER_SIGNATURE} is not hex(HMAC-SHA256(key = API key, message = \
             API secret + {HEADER_NONCE})) for nonce {nonce}; check the secret"
        ));
    }
    if config.reject_replayed_nonce && !used_nonces.insert(nonce.to_owned()) {
        return Err(format!(
            "replayed nonce: {HEADER_NONCE} {nonce} was already used; send a fresh nonce with \
             every request"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn each_mistake_has_its_message() {
        let config = EmulatorConfig::default();
        let mut nonces = HashSet::new();
        let mut check =
            |pairs: &[(&'static str, &str)]| check(&config, &headers(pairs), &mut nonces);
        let good = signature(&config.api_key, "wiro-emulator-secret", "17");
        assert!(check(&[]).unwrap_err().contains("missing"));
        assert!(check(&[("x-api-key", "nope")])
            .unwrap_err()
            .contains("does not match"));
        assert!(check(&[("x-api-key", "wiro-emulator-key")])
            .unwrap_err()
            .contains("requires a signature"));
        let bad = [
            ("x-api-key", "wiro-emulator-key"),
            ("x-nonce", "17"),
            ("x-signature", "00"),
        ];
        assert!(check(&bad).unwrap_err().contains("bad signature"));
        let ok = [
            ("x-api-key", "wiro-emulator-key"),
            ("x-nonce", "17"),
            ("x-signature", good.as_str()),
        ];
        assert!(check(&ok).is_ok());
        assert!(check(&ok).is_ok(), "replays pass unless rejected");
    }

    #[test]
    fn replays_are_refused_when_asked() {
        let config = EmulatorConfig {
            reject_replayed_nonce: true,
            ..EmulatorConfig::default()
        };
        let good = signature(&config.api_key, "wiro-emulator-secret", "18");
        let ok = headers(&[
            ("x-api-key", "wiro-emulator-key"),
            ("x-nonce", "18"),
            ("x-signature", &good),
        ]);
        let mut nonces = HashSet::new();
        assert!(check(&config, &ok, &mut nonces).is_ok());
        assert!(check(&config, &ok, &mut nonces)
            .unwrap_err()
            .contains("replayed nonce"));
    }

    #[test]
    fn key_only_projects_take_the_key_alone() {
        let config = EmulatorConfig::default().key_only();
        let mut nonces = HashSet::new();
        assert!(check(
            &config,
            &headers(&[("x-api-key", "wiro-emulator-key")]),
            &mut nonces
        )
        .is_ok());
    }
}
