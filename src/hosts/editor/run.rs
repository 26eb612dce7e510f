//! Runs from the page: the CLI's executor, options, journal and resume rules; events to the
//! page over a WebSocket; cancel as Ctrl-C does it (queued tasks cancelled, running ones killed).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::api::{parse_workflow, refuse};
use super::events::{event_json, output_file, output_files};
use super::{rows, AppState};
use crate::graph::{
    price_workflow, usd, validate_for_run, Executor, OverCap, RunError, RunEvent, RunReport,
};

/// What `POST /api/run` takes.
#[derive(Debug, Deserialize)]
pub struct RunRequest {
    workflow: Value,
    /// Forget the journal and run every node again, as `--fresh`.
    #[serde(default)]
    fresh: bool,
    /// Run the workflow once per row of this table (relative to the workspace), as
    /// `wiro-nodes run --rows`: every row is checked before anything runs.
    #[serde(default)]
    rows: Option<String>,
    /// Refuse to start when the estimated price exceeds this many dollars (or a price is
    /// unknown), as `--max-cost`: nothing is sent but the price look-ups.
    #[serde(default)]
    max_cost: Option<f64>,
}

/// `POST /api/run`: validates, then starts the run and answers its id; its events go to
/// `/api/events`. An invalid workflow (or table) answers its problems and sends nothing.
pub async fn start(
    State(state): State<Arc<AppState>>,
    Json(request): Json<RunRequest>,
) -> Response {
    let workflow = match parse_workflow(request.workflow) {
        Ok(workflow) => workflow,
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let table = request.rows.clone();
    let workflow = match request.rows {
        // The table's check is the whole workflow's: every row, before anything runs.
        Some(table) => match rows::expanded(&state, workflow, table).await {
            Ok(expanded) => expanded,
            Err(refusal) => return refusal,
        },
        None => workflow,
    };
    let checked = match table {
        Some(_) => Ok(()), // checked whole with its rows above
        None => validate_for_run(&workflow, &state.registry, &state.walls()).map(drop),
    };
    if let Err(problems) = checked {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "the workflow is invalid; nothing was sent", "problems": problems })),
        )
            .into_response();
    }
    if let Some(cap) = request.max_cost {
        let price = price_workflow(&workflow, &state.registry, &state.client).await;
        if let Some(over) = price.over_cap(cap) {
            let why = match over {
                OverCap::Unknown { node } => format!(
                    "the price of node {node:?} is unknown, so the run might cost more than the max cost {}; clear the max cost to go on anyway",
                    usd(cap)
                ),
                OverCap::Above { total } => format!(
                    "the estimated price {} exceeds the max cost {}; raise the cap or make the run cheaper",
                    usd(total),
                    usd(cap)
                ),
            };
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{why}; nothing was sent but the price look-ups"),
            );
        }
    }
    let Some((run, cancel)) = state.hub.begin() else {
        return refuse(
            StatusCode::CONFLICT,
            "a run is going on: cancel it or wait for its end",
        );
    };
    let mut started = json!({
        "kind": "run_started",
        "run": run,
        "nodes": workflow.nodes.iter().map(|n| &n.id).collect::<Vec<_>>(),
    });
    if let Some(table) = &table {
        started["table"] = json!(table);
        started["rows"] = rows::row_nodes(&workflow);
    }
    state.hub.publish(&started);
    let options = state.run_options(request.fresh);
    let executor = Executor::new(state.registry.clone(), state.client.clone(), options);
    let task_state = Arc::clone(&state);
    tokio::spawn(async move {
        let state = task_state;
        let spent = SpentSoFar::default();
        let on_event = {
            let state = Arc::clone(&state);
            move |event: RunEvent| {
                state.hub.publish(&event_json(&event, &state.out_dir));
                if let Some(amount) = spent.notice(&event) {
                    state
                        .hub
                        .publish(&json!({ "kind": "spent", "amount": amount }));
                }
            }
        };
        let result = executor.run(&workflow, cancel, on_event).await;
        let end = match result {
            Ok(report) => {
                let mut end = finished_json(run, &report, &state.out_dir);
                if table.is_some() {
                    let out_dir = &state.out_dir;
                    let summed = rows::finish(out_dir, &report, |file| output_file(out_dir, file));
                    if let (Value::Object(end), Value::Object(summed)) = (&mut end, summed) {
                        end.extend(summed);
                    }
                }
                end
            }
            Err(RunError::Invalid(problems)) => {
                json!({ "kind": "run_invalid", "run": run, "problems": problems })
            }
            Err(error) => json!({ "kind": "run_error", "run": run, "error": error.to_string() }),
        };
        state.hub.publish(&end);
        state.hub.end();
    });
    Json(json!({ "run": run })).into_response()
}

/// The run's end for the page: outcome, cost, stopped tasks, files (with their URLs), report.
fn finished_json(run: u64, report: &RunReport, out_dir: &Path) -> Value {
    let outcome = if report.cancelled {
        "cancelled"
    } else if report.succeeded() {
        "succeeded"
    } else {
        "failed"
    };
    let files = output_files(out_dir, &report.files());
    json!({
        "kind": "run_finished",
        "run": run,
        "outcome": outcome,
        "spent": report.total_cost(),
        "stopped": report
            .stopped_tasks()
            .iter()
            .map(|stopped| json!({ "taskid": stopped.taskid, "how": stopped.how.to_string() }))
            .collect::<Vec<_>>(),
        "files": files,
        "report": report,
    })
}

/// `POST /api/run/cancel`: cancels the running run as Ctrl-C does.
pub async fn cancel(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({ "cancelled": state.hub.cancel() }))
}

/// `GET /api/events` (WebSocket): the current run's events so far, then live ones.
pub async fn events(State(state): State<Arc<AppState>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| follow(state, socket))
}

async fn follow(state: Arc<AppState>, mut socket: WebSocket) {
    let (history, mut live) = state.hub.subscribe();
    for text in history {
        if socket.send(Message::text(text.as_ref())).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            next = live.recv() => match next {
                Ok(text) => {
                    if socket.send(Message::text(text.as_ref())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    let note = json!({ "kind": "lagged", "missed": missed }).to_string();
                    if socket.send(Message::text(note)).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(_)) => {} // the page says nothing that matters
                _ => return,
            },
        }
    }
}

/// "Spent so far": what the finished nodes' task records say was charged, each task once
/// (a wait and a detail of one task report the same charge).
#[derive(Clone, Default)]
struct SpentSoFar {
    charged: Arc<Mutex<BTreeMap<String, f64>>>,
}

impl SpentSoFar {
    /// The new total when `event` tells of a charge.
    fn notice(&self, event: &RunEvent) -> Option<f64> {
        let RunEvent::Finished { charged, .. } = event else {
            return None;
        };
        if charged.is_empty() {
            return None;
        }
        let mut known = self.charged.lock().unwrap_or_else(PoisonError::into_inner);
        known.extend(charged.iter().map(|(task, amount)| (task.clone(), *amount)));
        Some(known.values().sum())
    }
}
