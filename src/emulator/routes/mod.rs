//! The HTTP side of the emulator: the router, one file per API area. The answer helpers the
//! routes share are in `answer`, the fault and auth check every request passes in `gate`.
//!
//! HTTP statuses follow API.md's "every answer is HTTP 200" reading for business errors
//! (codes 0, 1, 96, 97 come with HTTP 200 and `"result": false`), 401 for auth (code 98),
//! 404 for unknown paths, and 500/429 only when a fault is injected. The crate's client
//! checks both `result` and the status, so either reading works with it.

// Helpers return `Err(Response)` so a handler can answer early with `?`-like matches; a
// response is built at most once per request, so its size costs nothing worth boxing.
#![allow(clippy::result_large_err)]

mod cdn;
mod files;
mod run;
mod run_admission;
mod run_body;
mod task_files;
mod task_list;
mod tasks;
mod tools;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use crate::api::wire::codes;

use super::answer::{failure, json_response};
use super::socket;
use super::state::Shared;

/// The emulator's routes: the API under `/v1`, the WebSocket at `/v1/socket`, files under `/cdn`.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/File/FolderCreate", post(files::folder_create))
        .route(
            "/v1/File/Upload",
            // The route enforces MAX_UPLOAD_BYTES itself, answering in the error envelope.
            post(files::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/Run/{owner}/{model}",
            post(run::run).layer(DefaultBodyLimit::disable()),
        )
        .route("/v1/Task/Detail", post(tasks::detail))
        .route("/v1/Task/Kill", post(tasks::kill))
        .route("/v1/Task/Cancel", post(tasks::cancel))
        .route("/v1/Task/List", post(task_list::list))
        .route("/v1/Task/InputOutputDelete", post(task_files::delete))
        .route("/v1/Tool/List", post(tools::list))
        .route("/v1/Tool/Detail", post(tools::detail))
        .route("/v1/socket", get(socket::upgrade))
        .route("/cdn/{dir}/{name}", get(cdn::download))
        .route("/emulator/stats", get(stats))
        .fallback(not_found)
        .with_state(shared)
}

/// The emulator's counters and each task's status, for scripts that test a host end to end
/// (not part of the Wiro contract, hence outside `/v1`; never counted as a request itself).
async fn stats(axum::extract::State(shared): axum::extract::State<Arc<Shared>>) -> Response {
    let mut body = shared.stats().to_json();
    let tasks: serde_json::Map<String, serde_json::Value> = super::basics::lock(&shared.tasks)
        .by_id
        .iter()
        .map(|(id, entry)| (id.clone(), entry.record.status.to_string().into()))
        .collect();
    body["tasks"] = serde_json::Value::Object(tasks);
    json_response(StatusCode::OK, &body)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    failure(
        StatusCode::NOT_FOUND,
        codes::GENERAL,
        format!("no such operation: {}", uri.path()),
    )
}
