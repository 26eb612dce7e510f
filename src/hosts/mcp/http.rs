//! Streamable HTTP: the MCP endpoint at `/mcp`, behind the [guard](crate::hosts::guard) (the
//! server's own `Host`, no foreign `Origin`, and the token as `Authorization: Bearer` or a
//! `token` query parameter). Sessions for initialize-era clients; 2026-07-28 requests are
//! served without one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::{Host, McpConfig, WiroMcp};
use crate::hosts::guard::{self, Guard};

/// A running HTTP server; dropping it stops it.
pub struct HttpServer {
    addr: SocketAddr,
    token: String,
    stop: CancellationToken,
    host: Arc<Host>,
    _serving: tokio_util::task::AbortOnDropHandle<()>,
}

impl HttpServer {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint with its token, as clients are given it.
    pub fn url(&self) -> String {
        format!("http://{}/mcp?token={}", self.addr, self.token)
    }

    /// The endpoint without the token (for clients that send it as a header).
    pub fn endpoint(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Stops serving, then waits (at most two minutes) for Runs being sent to be journaled.
    pub async fn stop(self) {
        self.stop.cancel();
        self.host.finish_sends(Duration::from_secs(120)).await;
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts serving `config` on `addr` (port 0 picks a free port) with `token`, or a fresh
/// random one.
pub async fn serve_http(
    config: McpConfig,
    addr: SocketAddr,
    token: Option<String>,
) -> std::io::Result<HttpServer> {
    let host = Host::open(config)?;
    let token = match token {
        Some(token) => token,
        None => guard::new_token()?,
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let service = StreamableHttpService::new(
        {
            let host = Arc::clone(&host);
            move || Ok(WiroMcp::new(Arc::clone(&host)))
        },
        LocalSessionManager::default().into(),
        // The guard checks Host and Origin against the address actually bound.
        StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .with_cancellation_token(stop.child_token()),
    );
    let guard = Arc::new(Guard::protecting("/mcp", token.clone(), addr));
    let app = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(guard, guard::guard));
    let shutdown = stop.clone();
    let serving = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the MCP server stopped");
        }
    });
    Ok(HttpServer {
        addr,
        token,
        stop,
        host,
        _serving: tokio_util::task::AbortOnDropHandle::new(serving),
    })
}
