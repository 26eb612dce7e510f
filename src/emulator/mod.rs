//! The emulator: a local, Wiro-compatible HTTP + WebSocket server, so the client, the nodes
//! and the CLI run offline, in CI, and without spending money.
//!
//! It speaks the contract of API.md: the same paths under `/v1`, the same signature check,
//! the same task lifecycle and socket frames, and real H.264 MP4 outputs served under `/cdn`.
//! Faults (500, 429, answers cut after or before the server acted, truncated downloads, slow
//! answers, dropped sockets, codes 96/97, failing tasks) can be injected to test a client's
//! error handling. `GET /emulator/stats` answers [`Stats`] and each task's status as JSON, for
//! scripts that test a host from outside the process.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use wiro_nodes::emulator::{Emulator, EmulatorConfig, Fault, Operation};
//!
//! let emulator = Emulator::start(EmulatorConfig::with_speed(50.0)).await?;
//! println!("WIRO_BASE_URL={}", emulator.base_url());
//! emulator.inject(Operation::TaskDetail, Fault::ServerError, 1);
//! // ... point a client at emulator.client_config() ...
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `config`: [`EmulatorConfig`], `faults`: [`Fault`], [`FaultSpec`], [`Operation`],
//!   `stats`: [`Stats`];
//! - `basics`: locks, the clock, random ids (a leaf every module may use);
//! - `state`: files, folders, faults, counters; `task_book`: tasks and the balance;
//!   `auth`: the signature check;
//! - `described`: the models as data (the crate's built-in models, PixVerse v4, and
//!   `models/*.json`: their Tool/Detail and how they are emulated); `synthetic`: generated
//!   models for benchmarks; `directory`: all of them for Tool/List and Tool/Detail;
//!   `outputs`: what a model's Run makes (by `media`: PNG, WAV) and costs; `work`: what a
//!   task makes;
//!   `lifecycle`: drives a task through its statuses;
//! - `answer`: JSON answers and body readers; `gate`: the fault and auth check of a request;
//! - `routes/`: one file per API area; `socket`: the WebSocket; `callback`: webhooks;
//! - `video`: the in-process MP4 encoder, `clips`: its cache on disk, `memory`: giving freed
//!   memory back, `image_size`: input image shapes.
//!
//! Imports between these modules point one way only (no two import each other), so each can
//! be read with only what is below it.

mod answer;
mod auth;
mod basics;
mod callback;
mod chaos;
mod clips;
mod config;
mod described;
mod directory;
mod faults;
mod gate;
mod image_size;
mod lifecycle;
mod media;
mod memory;
mod outputs;
mod routes;
mod socket;
mod state;
mod stats;
mod synthetic;
mod task_book;
pub mod video;
mod work;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::{ClientConfig, Credentials};

pub use chaos::Chaos;
pub use config::{EmulatorConfig, DEMO_API_KEY, DEMO_API_SECRET};
pub use faults::{Fault, FaultParseError, FaultSpec, Operation};
pub use stats::Stats;

use state::Shared;

/// Starts emulators. See [`Emulator::start`].
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds `config.addr` and serves until the handle is shut down or dropped.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<EmulatorHandle> {
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let shared = Arc::new(Shared::new(
            config,
            format!("http://{addr}"),
            shutdown.clone(),
        ));
        let app = routes::router(Arc::clone(&shared));
        let stop = shutdown.clone();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(problem) = served {
                tracing::error!(error = %problem, "the emulator stopped serving");
            }
        });
        tokio::spawn(memory::give_back_regularly(shutdown.clone()));
        tracing::info!(%addr, "Wiro emulator listening");
        Ok(EmulatorHandle {
            shared,
            addr,
            shutdown,
            server: Some(server),
        })
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
#[must_use = "the emulator stops when its handle is dropped"]
pub struct EmulatorHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: CancellationToken,
    server: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base, `http://ADDR/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The WebSocket address, `ws://ADDR/v1/socket`.
    pub fn socket_url(&self) -> String {
        format!("ws://{}/v1/socket", self.addr)
    }

    /// The project's API key.
    pub fn api_key(&self) -> &str {
        &self.shared.config.api_key
    }

    /// The project's API secret; `None` for a key-only project.
    pub fn api_secret(&self) -> Option<&str> {
        self.shared.config.api_secret.as_deref()
    }

    /// The credentials that pass the emulator's signature check.
    pub fn credentials(&self) -> Credentials {
        match self.api_secret() {
            Some(secret) => Credentials::new(self.api_key(), secret),
            None => Credentials::key_only(self.api_key()),
        }
    }

    /// A client configuration pointing at this emulator.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::new(self.credentials())
            .with_base_url(self.base_url())
            .with_socket_url(self.socket_url())
    }

    /// The environment a client needs to reach this emulator: `WIRO_BASE_URL`,
    /// `WIRO_SOCKET_URL`, `WIRO_API_KEY` and, for a signing project, `WIRO_API_SECRET`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("WIRO_BASE_URL", self.base_url()),
            ("WIRO_SOCKET_URL", self.socket_url()),
            ("WIRO_API_KEY", self.api_key().to_owned()),
        ];
        if let Some(secret) = self.api_secret() {
            env.push(("WIRO_API_SECRET", secret.to_owned()));
        }
        env
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Makes the next `times` requests of `operation` misbehave with `fault`.
    pub fn inject(&self, operation: Operation, fault: Fault, times: usize) {
        self.shared.inject(FaultSpec::new(operation, fault, times));
    }

    /// Disarms every fault still armed (the server is well again).
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Arms a fault spec, e.g. one parsed from the command line.
    pub fn inject_spec(&self, spec: FaultSpec) {
        self.shared.inject(spec);
    }

    /// The bytes this emulator serves at `url` (an upload or a task output), read without a
    /// request, so a test can check a download against them whatever faults are armed.
    pub async fn served_bytes(&self, url: &str) -> Option<bytes::Bytes> {
        let body = self.shared.file_by_url(url)?.body;
        body.read(0, body.len()).await.ok()
    }

    /// The balance left, when it is limited.
    pub fn balance(&self) -> Option<f64> {
        self.shared.balance()
    }

    /// Sets (or, with `None`, lifts) the balance.
    pub fn set_balance(&self, balance: Option<f64>) {
        self.shared.set_balance(balance);
    }

    /// Stops the server and every running task, waiting briefly for open connections.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
