//! `Task/Detail`, `Task/Kill` and `Task/Cancel`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::api::wire::{codes, TaskStatus, WireNumber};

use super::super::answer::{deliver, detail_body, named, refuse};
use super::super::basics::{lock, now_secs};
use super::super::faults::Operation;
use super::super::gate::gate_json;
use super::super::lifecycle;
use super::super::state::Shared;

fn unknown(id: Option<&str>, token: Option<&str>) -> Response {
    let message = match (id, token) {
        (Some(id), _) => format!("no task with taskid {id:?}"),
        (None, Some(token)) => format!("no task with token {token:?}"),
        (None, None) => "name the task: send taskid or tasktoken".into(),
    };
    refuse(codes::NOT_FOUND, message)
}

/// `POST /Task/Detail {"tasktoken"} | {"taskid"}`.
pub(crate) async fn detail(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fault, request) = match gate_json(&shared, Operation::TaskDetail, &headers, &body).await {
        Ok(opened) => opened,
        Err(answer) => return answer,
    };
    let (id, token) = named(&request, &["taskid"], &["tasktoken", "socketaccesstoken"]);
    let record = {
        let book = lock(&shared.tasks);
        book.resolve(id.as_deref(), token.as_deref())
            .and_then(|found| book.by_id.get(&found))
            .map(|entry| entry.record.clone())
    };
    match record {
        Some(record) => deliver(fault, &detail_body(record)),
        None => unknown(id.as_deref(), token.as_deref()),
    }
}

/// Which stop a request asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Task/Kill: only running tasks.
    Kill,
    /// Task/Cancel: only queued tasks.
    Cancel,
}

/// `POST /Task/Kill {"taskid"} | {"socketaccesstoken"} | {"tasktoken"}`: stops a running task.
pub(crate) async fn kill(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    stop(shared, headers, body, Stop::Kill).await
}

/// `POST /Task/Cancel {"taskid"}`: removes a queued task.
pub(crate) async fn cancel(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    stop(shared, headers, body, Stop::Cancel).await
}

async fn stop(shared: Arc<Shared>, headers: HeaderMap, body: Bytes, how: Stop) -> Response {
    let operation = match how {
        Stop::Kill => Operation::TaskKill,
        Stop::Cancel => Operation::TaskCancel,
    };
    let (fault, request) = match gate_json(&shared, operation, &headers, &body).await {
        Ok(opened) => opened,
        Err(answer) => return answer,
    };
    let (id, token) = named(&request, &["taskid"], &["socketaccesstoken", "tasktoken"]);
    let outcome = {
        let mut book = lock(&shared.tasks);
        let Some(entry) = book
            .resolve(id.as_deref(), token.as_deref())
            .and_then(|found| book.by_id.get_mut(&found))
        else {
            drop(book);
            return unknown(id.as_deref(), token.as_deref());
        };
        let status = entry.record.status.clone();
        let task = entry.record.id.clone();
        if status.is_terminal() {
            Err(format!(
                "task {task} already ended ({status}): there is nothing to stop"
            ))
        } else if how == Stop::Kill && status == TaskStatus::Queue {
            Err(format!(
                "task {task} is still queued (task_queue): Task/Kill stops running tasks; use Task/Cancel to remove a queued one"
            ))
        } else if how == Stop::Cancel && status != TaskStatus::Queue {
            Err(format!(
                "task {task} is already running ({status}): Task/Cancel only removes queued tasks; use Task/Kill to stop it"
            ))
        } else {
            let now = WireNumber::from(now_secs());
            entry.record.canceltime = Some(now.clone());
            entry.record.endtime = Some(now);
            // No process exit: the task was stopped from outside.
            entry.record.pexit = Some(WireNumber::new("-1"));
            let reason = match how {
                Stop::Kill => "killed by Task/Kill",
                Stop::Cancel => "cancelled by Task/Cancel",
            };
            entry.publish(TaskStatus::Cancel, json!(reason));
            entry.stop.cancel();
            Ok((entry.record.clone(), entry.callback_url.clone()))
        }
    };
    match outcome {
        Ok((record, callback)) => {
            lifecycle::ended(&shared, &record, callback);
            deliver(fault, &detail_body(record))
        }
        Err(reason) => refuse(codes::GENERAL, reason),
    }
}
