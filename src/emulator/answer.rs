//! The JSON answers of the emulator, in the error envelope and the success shape of API.md,
//! and the request-body readers every route shares. A leaf: it imports no emulator module
//! but `faults`.

// Helpers return `Err(Response)` so a handler can answer early with `?`-like matches; a
// response is built at most once per request, so its size costs nothing worth boxing.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::api::wire::{codes, ApiErrorItem, Task, TaskList, WireNumber};

use super::faults::Fault;

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

/// Which task a request names, and how it named it (for the error message).
pub(crate) fn named(
    request: &Map<String, Value>,
    id_keys: &[&str],
    token_keys: &[&str],
) -> (Option<String>, Option<String>) {
    let id = id_keys.iter().find_map(|key| text_field(request, key));
    let token = token_keys.iter().find_map(|key| text_field(request, key));
    (id, token)
}
