//! The browser workflow editor: a local server that embeds a page drawn from the node specs
//! alone — palette, forms from each node's input schema, a canvas whose edges are checked with
//! the shared port types, open/save in the CLI's format, validation, and runs with live status,
//! of the workflow or of a table of rows through it (`wiro-nodes run --rows` in the browser).
//!
//! ```no_run
//! # async fn demo(client: wiro_nodes::api::Client) -> std::io::Result<()> {
//! use wiro_nodes::hosts::editor::{Editor, EditorConfig};
//!
//! let editor = Editor::start(EditorConfig::new(client)).await?;
//! println!("open {}", editor.url()); // http://127.0.0.1:PORT/#token=...
//! # Ok(()) }
//! ```
//!
//! The server listens on 127.0.0.1 by default and [guards](guard) every API call: a random
//! token from the printed URL, and `Host`/`Origin` checks against other pages and DNS
//! rebinding. Credentials stay in the server: the page sees node specs, workflows and events.

mod api;
mod assets;
mod catalog;
mod events;
pub use super::guard;
mod hub;
mod rows;
mod run;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use assets::bundle_size;
pub use guard::TOKEN_HEADER;

use crate::api::Client;
use crate::graph::RunOptions;
use crate::node::{Registry, Walls};
use hub::RunHub;

/// Files chosen in the page may be as large as Wiro's upload limit (100 MB).
const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024 + 64 * 1024;

/// How to start the editor.
#[derive(Debug, Clone)]
pub struct EditorConfig {
    /// Where to listen; `127.0.0.1:0` (a free port on this machine only) by default.
    pub addr: SocketAddr,
    /// The client runs use (the real API or an emulator); its credentials never reach the page.
    pub client: Client,
    /// The workspace: relative input paths are read from here, files chosen in the page are
    /// stored in its `uploads/`, and saved workflows are written here.
    pub workspace: PathBuf,
    /// Downloads and the run journal go here, as `wiro-nodes run --out`.
    pub out_dir: PathBuf,
    /// Shown in the page: `emulator` or the API's base URL.
    pub backend: String,
    /// The node types offered; every registered one by default.
    pub registry: Registry,
    /// Where runs write the tasks they hold on the account (see `RunOptions::state_dir`);
    /// the user's state folder by default.
    pub state_dir: Option<PathBuf>,
}

impl EditorConfig {
    /// Defaults: `127.0.0.1:0`, the current folder as workspace, `out` as output folder.
    pub fn new(client: Client) -> Self {
        let backend = client.config().base_url.to_string();
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            client,
            workspace: PathBuf::from("."),
            out_dir: PathBuf::from("out"),
            backend,
            registry: Registry::from_inventory(),
            state_dir: RunOptions::user_state_dir(),
        }
    }
}

/// What the handlers share.
pub(crate) struct AppState {
    registry: Registry,
    client: Client,
    workspace: PathBuf,
    out_dir: PathBuf,
    backend: String,
    catalog: Value,
    hub: RunHub,
    state_dir: Option<PathBuf>,
}

/// At most this many nodes run at once, as the CLI's default.
const CONCURRENCY: usize = 4;

impl AppState {
    /// The options every run from the page uses: the CLI's, with the workspace as the
    /// workflow's folder (the only folder its upload nodes may read) and the output folder.
    fn run_options(&self, fresh: bool) -> RunOptions {
        RunOptions {
            concurrency: CONCURRENCY,
            // As the CLI without --max-tasks: the account's limit is learnt from its answers.
            max_tasks: None,
            input_dir: self.workspace.clone(),
            output_dir: self.out_dir.clone(),
            journal: true,
            fresh,
            rerun: Vec::new(),
            allow_read: Vec::new(),
            state_dir: self.state_dir.clone(),
        }
    }

    /// What a run's nodes may reach: the workspace's files, and the URLs the client fetches.
    fn walls(&self) -> Walls {
        self.run_options(false)
            .walls(self.client.fetch_rules().clone())
    }
}

/// Starts editors. See [`Editor::start`].
#[derive(Debug)]
pub struct Editor;

impl Editor {
    /// Binds `config.addr` and serves until the handle is dropped or shut down.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound, a folder cannot be made, or no random token can be
    /// drawn.
    pub async fn start(config: EditorConfig) -> std::io::Result<EditorHandle> {
        std::fs::create_dir_all(&config.workspace)?;
        std::fs::create_dir_all(&config.out_dir)?;
        let workspace = std::path::absolute(&config.workspace)?;
        let out_dir = std::path::absolute(&config.out_dir)?;
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let token = guard::new_token()?;
        let state = Arc::new(AppState {
            catalog: catalog::catalog(&config.registry),
            registry: config.registry,
            client: config.client,
            workspace,
            out_dir,
            backend: config.backend,
            hub: RunHub::default(),
            state_dir: config.state_dir,
        });
        let app = router(Arc::clone(&state), guard::Guard::new(token.clone(), addr));
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(problem) = served {
                tracing::error!(error = %problem, "the editor stopped serving");
            }
        });
        Ok(EditorHandle {
            addr,
            token,
            state,
            shutdown,
            server: Some(server),
        })
    }
}

fn router(state: Arc<AppState>, guard: guard::Guard) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{name}", get(assets::asset))
        .route("/api/session", get(api::session))
        .route("/api/nodes", get(api::nodes))
        .route("/api/validate", post(api::validate_workflow))
        .route("/api/fits", post(api::fits))
        .route("/api/open", post(api::open))
        .route("/api/save", post(api::save))
        .route(
            "/api/files",
            post(api::store_file).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/api/output/{*path}", get(api::output))
        .route("/api/rows", post(rows::check_table))
        .route("/api/run", post(run::start))
        .route("/api/run/cancel", post(run::cancel))
        .route("/api/events", get(run::events))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard),
            guard::guard,
        ))
        .with_state(state)
}

/// A running editor. Dropping it stops the server (cancel a run first with
/// [`EditorHandle::stop_run`] so its remote tasks are stopped).
#[derive(Debug)]
#[must_use = "the editor stops when its handle is dropped"]
pub struct EditorHandle {
    addr: SocketAddr,
    token: String,
    state: Arc<AppState>,
    shutdown: CancellationToken,
    server: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("workspace", &self.workspace)
            .field("out_dir", &self.out_dir)
            .finish_non_exhaustive()
    }
}

impl EditorHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API token (also in [`url`](Self::url)'s fragment).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The page's address with the token: `http://127.0.0.1:PORT/#token=...`. The token is
    /// in the fragment, which browsers never send to a server or put in a `Referer`.
    pub fn url(&self) -> String {
        format!("http://{}/#token={}", self.addr, self.token)
    }

    /// Cancels the running run, if any, and waits until its remote tasks are stopped.
    pub async fn stop_run(&self) {
        self.state.hub.cancel_and_wait().await;
    }
}

impl Drop for EditorHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
