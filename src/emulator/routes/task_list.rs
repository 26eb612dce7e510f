//! `POST /Task/List`: the project's tasks, newest first, optionally of one model, a page at
//! a time — as Wiro's own TypeScript client asks for them.
//!
//! Body: `{"type": "model", "sort": "id", "order": "DESC", "start": "0", "limit": "20",
//! "modelName"?: "owner/model"}`; numbers may be strings. Tasks are sorted by id (`order`
//! `ASC` reverses it; other `sort` fields are read as `id`); `modelName` names the model by
//! its raw or clean slugs, in any letter case, as a Run may have. The answer is `{"result", "errors", "total", "tasklist"}` with the
//! records Task/Detail gives, `total` counting every task that matched.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::api::wire::{codes, Task, TaskList, WireNumber};

use super::super::answer::{deliver, refuse, success, text_field};
use super::super::basics::lock;
use super::super::faults::Operation;
use super::super::gate::gate_json;
use super::super::state::Shared;

/// Tasks per page when the request does not say.
const DEFAULT_LIMIT: usize = 20;

/// Lists tasks.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fault, request) = match gate_json(&shared, Operation::TaskList, &headers, &body).await {
        Ok(opened) => opened,
        Err(answer) => return answer,
    };
    let (start, limit) = match (
        count(&request, "start", 0),
        count(&request, "limit", DEFAULT_LIMIT),
    ) {
        (Ok(start), Ok(limit)) => (start, limit),
        (Err(answer), _) | (_, Err(answer)) => return answer,
    };
    let model = text_field(&request, "modelName").map(|name| {
        // The raw slug tasks are recorded under, whichever slug the caller uses.
        name.trim()
            .split_once('/')
            .and_then(|(owner, project)| shared.directory.raw_slug(owner, project))
            .unwrap_or(name)
    });
    let ascending =
        text_field(&request, "order").is_some_and(|order| order.eq_ignore_ascii_case("asc"));
    let mut tasks: Vec<Task> = {
        let book = lock(&shared.tasks);
        book.by_id
            .values()
            .map(|entry| &entry.record)
            .filter(|record| model.as_deref().is_none_or(|model| of_model(record, model)))
            .cloned()
            .collect()
    };
    tasks.sort_by_key(|task| task.id.parse::<u64>().unwrap_or(0));
    if !ascending {
        tasks.reverse();
    }
    let total = tasks.len();
    let page: Vec<Task> = tasks.into_iter().skip(start).take(limit).collect();
    deliver(
        fault,
        &success(&TaskList {
            total: Some(WireNumber::from(total)),
            tasklist: page,
        }),
    )
}

/// A whole number field (`"20"` or `20`), or its default when absent.
fn count(request: &Map<String, Value>, name: &str, default: usize) -> Result<usize, Response> {
    match text_field(request, name) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| {
            refuse(
                codes::GENERAL,
                format!("{name} must be a whole number, got {text:?}"),
            )
        }),
    }
}

/// Whether the task ran the model of raw slug `model`, compared case-insensitively.
fn of_model(record: &Task, model: &str) -> bool {
    let field = |name: &str| record.extra.get(name).and_then(Value::as_str).unwrap_or("");
    format!("{}/{}", field("modelslugowner"), field("modelslugproject"))
        .eq_ignore_ascii_case(model.trim())
}
