//! TLS for HTTPS and WSS: rustls with the `ring` provider and the webpki root certificates,
//! so no system OpenSSL is needed.

use std::sync::{Arc, OnceLock};

/// A rustls client configuration offering these ALPN protocols (`h2`, `http/1.1`, ...).
pub(crate) fn client_config(alpn: &[&[u8]]) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The configuration of WebSocket connections (no ALPN), built once: every wait opens a socket,
/// and building a root store per socket cost more than the socket itself.
pub(crate) fn socket_config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(Arc::clone(config));
    }
    let config = client_config(&[])?;
    Ok(Arc::clone(CONFIG.get_or_init(|| config)))
}
