//! `POST /Task/InputOutputDelete {"tasktoken"}`: deletes the output files of a task that
//! has ended. The files leave the CDN (a later GET answers 404) and Task/Detail shows empty
//! `outputs`; the record stays. Deleting again answers `result: true`.
//!
//! Refusals as API.md gives them: a task that has not ended (code 0, "Task must be completed
//! or cancelled before deleting files"), an unknown token (code 1, `task-not-exist`).
//! Uploaded inputs stay: in the emulator they are shared project storage, which other tasks
//! may still read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::api::wire::codes;

use super::super::answer::{deliver, named, refuse, success};
use super::super::basics::lock;
use super::super::faults::Operation;
use super::super::gate::gate_json;
use super::super::state::Shared;

/// Deletes a finished task's files.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fault, request) =
        match gate_json(&shared, Operation::TaskFilesDelete, &headers, &body).await {
            Ok(opened) => opened,
            Err(answer) => return answer,
        };
    let (id, token) = named(&request, &["taskid"], &["tasktoken", "socketaccesstoken"]);
    if token.is_none() && id.is_none() {
        return refuse(
            codes::GENERAL,
            "tasktoken is required: the task's socketaccesstoken",
        );
    }
    let urls = {
        let mut book = lock(&shared.tasks);
        let Some(entry) = book
            .resolve(id.as_deref(), token.as_deref())
            .and_then(|found| book.by_id.get_mut(&found))
        else {
            drop(book);
            let named = token.or(id).unwrap_or_default();
            return refuse(
                codes::NOT_FOUND,
                format!("task-not-exist: no task with token {named:?}"),
            );
        };
        if !entry.is_terminal() {
            return refuse(
                codes::GENERAL,
                format!(
                    "Task must be completed or cancelled before deleting files (task {} is {})",
                    entry.record.id, entry.record.status
                ),
            );
        }
        std::mem::take(&mut entry.record.outputs)
            .into_iter()
            .map(|output| output.url)
            .collect::<Vec<_>>()
    };
    for url in &urls {
        shared.remove_file_by_url(url);
    }
    deliver(fault, &success(&json!({})))
}
