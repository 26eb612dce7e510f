//! The HTTP side of the emulator: the router, and the answer helpers every route shares.
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
mod tasks;
mod tools;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::api::wire::{codes, ApiErrorItem, Task, TaskList, WireNumber};

use super::state::Shared;
use super::{socket, Fault, Operation};

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
        .route("/v1/Tool/List", post(tools::list))
        .route("/v1/Tool/Detail", post(tools::detail))
        .route("/v1/socket", get(socket::upgrade))
        .route("/cdn/{dir}/{name}", get(cdn::download))
        .route("/emulator/stats", get(stats))
        .fallback(not_found)
        .with_state(shared)
}

/// `GET /emulator/stats`: the counters, for tests and operators (not part of Wiro's API).
async fn stats(axum::extract::State(shared): axum::extract::State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &shared.stats().to_json())
}

async fn not_found(uri: axum::http::Uri) -> Response {
    failure(
        StatusCode::NOT_FOUND,
        codes::GENERAL,
        format!("no such operation: {}", uri.path()),
    )
}

/// The error body, with numeric codes as the docs show them.
fn error_body(items: &[ApiErrorItem]) -> Value {
    let errors: Vec<Value> = items
        .iter()
        .map(|item| json!({"code": item.code(), "message": item.message}))
        .collect();
    json!({"result": false, "errors": errors})
}

/// A JSON answer.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A failed answer with one error.
pub(crate) fn failure(status: StatusCode, code: i64, message: impl Into<String>) -> Response {
    json_response(status, &error_body(&[ApiErrorItem::new(code, message)]))
}

/// A failed answer listing several problems (HTTP 200, like every business error).
pub(crate) fn failures(items: &[ApiErrorItem]) -> Response {
    json_response(StatusCode::OK, &error_body(items))
}

/// A business error: HTTP 200 with `"result": false`.
pub(crate) fn refuse(code: i64, message: impl Into<String>) -> Response {
    failure(StatusCode::OK, code, message)
}

/// `{"result": true, "errors": [], ...fields of body}`.
pub(crate) fn success(body: &impl Serialize) -> Value {
    let mut object = Map::new();
    object.insert("result".into(), Value::Bool(true));
    object.insert("errors".into(), Value::Array(Vec::new()));
    if let Ok(Value::Object(fields)) = serde_json::to_value(body) {
        object.extend(fields);
    }
    Value::Object(object)
}

/// The body of a Task/Detail-shaped answer (also Kill, Cancel and callbacks) for one task.
pub(crate) fn detail_body(task: Task) -> Value {
    success(&TaskList {
        total: Some(WireNumber::from(1u32)),
        tasklist: vec![task],
    })
}

/// Counts the request, answers the faults that replace an answer (500, 429), waits out a
/// `Slow` one, then checks auth when `headers` are given. `Ok` carries the fault that
/// still has to act (dropping, truncating, 96/97, failing tasks).
pub(crate) async fn gate(
    shared: &Shared,
    operation: Operation,
    headers: Option<&HeaderMap>,
) -> Result<Option<Fault>, Response> {
    let fault = shared.arrive(operation);
    match fault {
        Some(Fault::ServerError) => {
            return Err(failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::GENERAL,
                format!("emulated server error on {operation} (fault injection)"),
            ))
        }
        Some(Fault::RateLimited { retry_after }) => return Err(rate_limited(retry_after)),
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        _ => {}
    }
    if let Some(headers) = headers {
        shared.authenticate(headers).map_err(|message| {
            failure(StatusCode::UNAUTHORIZED, codes::SIGN_IN_REQUIRED, message)
        })?;
    }
    Ok(fault.filter(|fault| !matches!(fault, Fault::Slow(_))))
}

fn rate_limited(retry_after: Duration) -> Response {
    let mut response = failure(
        StatusCode::TOO_MANY_REQUESTS,
        codes::GENERAL,
        "rate limit exceeded (fault injection): retry later",
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs()),
    );
    response
}

/// Sends a successful JSON answer, or cuts it halfway when the fault says so.
pub(crate) fn deliver(fault: Option<Fault>, body: &Value) -> Response {
    if fault == Some(Fault::DropConnection) {
        let bytes = Bytes::from(body.to_string());
        let mut response = Response::new(cut_body(bytes));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return response;
    }
    json_response(StatusCode::OK, body)
}

/// A body that sends the first half of `bytes` and then fails, which makes the server abort
/// the connection: the client gets an incomplete answer (chunked, or short of the
/// `Content-Length` the caller announced).
pub(crate) fn cut_body(bytes: Bytes) -> Body {
    use futures_util::StreamExt;
    let half = bytes.slice(..bytes.len() / 2);
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(half)]);
    // The pause lets the server flush the head and the first half before the cut; an
    // immediate error would discard them and look like a refused request instead.
    let cut = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection cut by the emulator (fault injection)",
        ))
    });
    Body::from_stream(first.chain(cut))
}

/// Parses a JSON request body into an object; an empty body is an empty object.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(refuse(
            codes::GENERAL,
            format!("the body must be a JSON object, got {}", kind_of(&other)),
        )),
        Err(problem) => Err(refuse(
            codes::GENERAL,
            format!("the body is not valid JSON: {problem}"),
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A field as text: strings as they are, numbers and booleans written out, else `None`.
pub(crate) fn text_field(object: &Map<String, Value>, name: &str) -> Option<String> {
    match object.get(name)? {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}
