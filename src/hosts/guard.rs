//! The guard of our local servers (the editor, the MCP server): only callers on this machine
//! that know the token may reach what spends money.
//!
//! Three checks, so that another local user, another local page, or a public page whose name
//! was rebound to 127.0.0.1 (DNS rebinding) cannot drive the server:
//! - the `Host` must be the address the server listens on (`127.0.0.1:PORT`, `localhost:PORT`);
//! - an `Origin`, when a browser sends one, must be that same address;
//! - every call under the protected path (`/api/` for the editor, `/mcp` for the MCP server)
//!   carries the random token printed at start: in the `x-wiro-editor-token` header, as
//!   `Authorization: Bearer TOKEN` (what MCP clients send), or (for `<video>`, links and the
//!   WebSocket, which cannot set headers) a `token` query parameter. No cookie: cookies are
//!   shared by every port of a host.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The header that carries the token.
pub const TOKEN_HEADER: &str = "x-wiro-editor-token";

/// What a request must match.
#[derive(Debug, Clone)]
pub struct Guard {
    token: String,
    hosts: Vec<String>,
    protected: &'static str,
}

impl Guard {
    /// A guard for an editor listening on `addr` with this token: its `/api/` needs the token.
    pub fn new(token: String, addr: SocketAddr) -> Self {
        Self::protecting("/api/", token, addr)
    }

    /// A guard for a server listening on `addr` whose paths under `protected` need `token`.
    pub fn protecting(protected: &'static str, token: String, addr: SocketAddr) -> Self {
        let port = addr.port();
        let mut hosts = vec![addr.to_string()];
        if addr.ip().is_loopback() {
            hosts.extend([
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ]);
        }
        hosts.dedup();
        Self {
            token,
            hosts,
            protected,
        }
    }

    /// Why `request` is refused, or `None` when it may pass.
    pub fn refusal(&self, request: &Request) -> Option<(StatusCode, &'static str)> {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| request.uri().authority().map(|a| a.as_str()));
        if !host.is_some_and(|host| self.hosts.iter().any(|known| known == host)) {
            return Some((
                StatusCode::MISDIRECTED_REQUEST,
                "this Host is not the server's",
            ));
        }
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let allowed = origin.to_str().ok().is_some_and(|origin| {
                self.hosts
                    .iter()
                    .any(|known| origin.strip_prefix("http://") == Some(known.as_str()))
            });
            if !allowed {
                return Some((
                    StatusCode::FORBIDDEN,
                    "requests from other pages are refused",
                ));
            }
        }
        if request.uri().path().starts_with(self.protected) && !self.has_token(request) {
            return Some((
                StatusCode::UNAUTHORIZED,
                "the server's token is missing or wrong",
            ));
        }
        None
    }

    fn has_token(&self, request: &Request) -> bool {
        let from_header = request
            .headers()
            .get(TOKEN_HEADER)
            .or_else(|| request.headers().get(header::AUTHORIZATION))
            .and_then(|value| value.to_str().ok())
            .map(|value| value.strip_prefix("Bearer ").unwrap_or(value).to_owned());
        // The token is hex: it needs no percent-decoding.
        let from_query = || {
            request
                .uri()
                .query()
                .unwrap_or_default()
                .split('&')
                .find_map(|pair| pair.strip_prefix("token="))
                .map(str::to_owned)
        };
        from_header
            .or_else(from_query)
            .is_some_and(|given| same_secret(given.as_bytes(), self.token.as_bytes()))
    }
}

/// Compares without stopping at the first difference, so timing tells nothing.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A fresh token: 32 bytes from the OS's secure random source, as hex.
pub fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| std::io::Error::other(error.to_string()))?;
    Ok(hex::encode(bytes))
}

/// The middleware: refuses what the guard refuses, and adds headers that keep the page from
/// being framed or leaking its address.
pub async fn guard(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if let Some((status, why)) = guard.refusal(&request) {
        return (status, why).into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: &str, origin: Option<&str>, uri: &str, token: Option<&str>) -> Request {
        let mut builder = Request::builder().uri(uri).header(header::HOST, host);
        if let Some(origin) = origin {
            builder = builder.header(header::ORIGIN, origin);
        }
        if let Some(token) = token {
            builder = builder.header(TOKEN_HEADER, token);
        }
        builder
            .body(axum::body::Body::empty())
            .expect("a valid request")
    }

    fn guard() -> Guard {
        Guard::new(
            "secret".into(),
            "127.0.0.1:4000".parse().expect("an address"),
        )
    }

    #[test]
    fn a_rebound_host_name_is_refused_even_with_the_token() {
        let refused = guard().refusal(&request(
            "evil.example:4000",
            None,
            "/api/nodes",
            Some("secret"),
        ));
        assert_eq!(refused.map(|r| r.0), Some(StatusCode::MISDIRECTED_REQUEST));
    }

    #[test]
    fn another_local_page_is_refused_by_its_origin() {
        let refused = guard().refusal(&request(
            "127.0.0.1:4000",
            Some("http://127.0.0.1:5000"),
            "/api/nodes",
            Some("secret"),
        ));
        assert_eq!(refused.map(|r| r.0), Some(StatusCode::FORBIDDEN));
    }

    #[test]
    fn the_api_needs_the_token_but_the_page_does_not() {
        let g = guard();
        assert!(g
            .refusal(&request("localhost:4000", None, "/", None))
            .is_none());
        assert_eq!(
            g.refusal(&request(
                "127.0.0.1:4000",
                None,
                "/api/nodes",
                Some("wrong")
            ))
            .map(|r| r.0),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert!(g
            .refusal(&request(
                "127.0.0.1:4000",
                Some("http://127.0.0.1:4000"),
                "/api/nodes",
                Some("secret")
            ))
            .is_none());
        assert!(g
            .refusal(&request(
                "127.0.0.1:4000",
                None,
                "/api/output/a.mp4?token=secret",
                None
            ))
            .is_none());
    }

    #[test]
    fn tokens_are_long_and_differ() {
        let (a, b) = (new_token().expect("random"), new_token().expect("random"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
