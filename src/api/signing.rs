//! Request signing: `x-signature = hex(HMAC-SHA256(key = API key, message = secret + nonce))`,
//! with a nonce that is fresh and strictly increasing for every request of one client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Credentials;

/// Header carrying the API key.
pub const HEADER_API_KEY: &str = "x-api-key";
/// Header carrying the nonce.
pub const HEADER_NONCE: &str = "x-nonce";
/// Header carrying the signature.
pub const HEADER_SIGNATURE: &str = "x-signature";

/// The signature of one request: lowercase hex HMAC-SHA256 keyed by the API key over
/// `secret` followed by the decimal `nonce`, exactly as Wiro's docs compute it with openssl.
pub fn signature(api_key: &str, api_secret: &str, nonce: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(api_key.as_bytes())
        .expect("HMAC-SHA256 takes keys of any length");
    mac.update(api_secret.as_bytes());
    mac.update(nonce.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The auth headers of one request: `(name, value)` pairs, signed when there is a secret.
pub fn auth_headers(credentials: &Credentials, nonce: u64) -> Vec<(&'static str, String)> {
    let mut headers = vec![(HEADER_API_KEY, credentials.api_key().to_owned())];
    if let Some(secret) = credentials.api_secret() {
        let nonce = nonce.to_string();
        let signature = signature(credentials.api_key(), secret.expose(), &nonce);
        headers.push((HEADER_NONCE, nonce));
        headers.push((HEADER_SIGNATURE, signature));
    }
    headers
}

/// Nonces in unix milliseconds (as the official SDKs send), strictly increasing even when
/// many tasks ask within one millisecond or the clock steps back.
#[derive(Debug, Default)]
pub struct NonceSource {
    last: AtomicU64,
}

impl NonceSource {
    /// A source that starts at the current time.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next nonce: `max(now_ms, previous + 1)`.
    pub fn next(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or(0);
        let mut previous = self.last.load(Ordering::Relaxed);
        loop {
            let candidate = now.max(previous + 1);
            match self.last.compare_exchange_weak(
                previous,
                candidate,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return candidate,
                Err(seen) => previous = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn signature_matches_openssl() {
        // echo -n "demo-secret1700000000000" | openssl dgst -sha256 -hmac "demo-key"
        assert_eq!(
            signature("demo-key", "demo-secret", "1700000000000"),
            "6ddfe0d32d927aec0325ec698d794f782bf2c44a1440f46caf2f2d99f80a3ea3"
        );
        // echo -n "s3cr3t1734513807" | openssl dgst -sha256 -hmac "k3y"
        assert_eq!(
            signature("k3y", "s3cr3t", "1734513807"),
            "6ead19a5455d0d5c955b7a7155398e388d9431f3933271d434f724fbd8bbf8e3"
        );
    }

    #[test]
    fn key_only_credentials_send_the_key_alone() {
        let headers = auth_headers(&Credentials::key_only("k"), 5);
        assert_eq!(headers, vec![(HEADER_API_KEY, "k".to_owned())]);
        let signed = auth_headers(&Credentials::new("k3y", "s3cr3t"), 1734513807);
        assert_eq!(signed[1], (HEADER_NONCE, "1734513807".to_owned()));
        assert_eq!(signed[2].1, signature("k3y", "s3cr3t", "1734513807"));
    }

    #[test]
    fn nonces_strictly_increase_across_threads() {
        let source = Arc::new(NonceSource::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let source = Arc::clone(&source);
                std::thread::spawn(move || (0..5000).map(|_| source.next()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        for thread in threads {
            let nonces = thread.join().unwrap();
            assert!(nonces.windows(2).all(|pair| pair[0] < pair[1]));
            all.extend(nonces);
        }
        assert_eq!(all.len(), 20_000, "every nonce is unique");
    }
}
