//! Runs from the page: the CLI's executor, options, journal and resume rules; events to the
//! page over a WebSocket; cancel as Ctrl-C does it (queued tasks cancelled, running ones killed).

use std::collections::BTreeSet;
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
use super::events::event_json;
use super::AppState;
use crate::api::{Client, TaskLookup};
use crate::graph::{validate, Executor, RunError, RunEvent, RunOptions, RunReport};
use crate::node::NodeEvent;

/// At most this many nodes run at once, as the CLI's default.
const CONCURRENCY: usize = 4;

/// What `POST /api/run` takes.
#[derive(Debug, Deserialize)]
pub struct RunRequest {
    workflow: Value,
    /// Forget the journal and run every node again, as `--fresh`.
    #[serde(default)]
    fresh: bool,
}

/// `POST /api/run`: validates, then starts the run and answers its id; its events go to
/// `/api/events`. An invalid workflow answers its problems and sends nothing.
pub async fn start(
    State(state): State<Arc<AppState>>,
    Json(request): Json<RunRequest>,
) -> Response {
    let workflow = match parse_workflow(request.workflow) {
        Ok(workflow) => workflow,
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    if let Err(problems) = validate(&workflow, &state.registry) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "the workflow is invalid; nothing was sent", "problems": problems })),
        )
            .into_response();
    }
    let Some((run, cancel)) = state.hub.begin() else {
        return refuse(
            StatusCode::CONFLICT,
            "a run is going on: cancel it or wait for its end",
        );
    };
    state.hub.publish(&json!({
        "kind": "run_started",
        "run": run,
        "nodes": workflow.nodes.iter().map(|n| &n.id).collect::<Vec<_>>(),
    }));
    let options = RunOptions {
        concurrency: CONCURRENCY,
        input_dir: state.workspace.clone(),
        output_dir: state.out_dir.clone(),
        journal: true,
        fresh: request.fresh,
    };
    let executor = Executor::new(state.registry.clone(), state.client.clone(), options);
    let task_state = Arc::clone(&state);
    tokio::spawn(async move {
        let state = task_state;
        let spent = SpentSoFar::new(Arc::clone(&state));
        let on_event = {
            let state = Arc::clone(&state);
            move |event: RunEvent| {
                spent.notice(&event);
                state.hub.publish(&event_json(&event));
            }
        };
        let result = executor.run(&workflow, cancel, on_event).await;
        let end = match result {
            Ok(report) => finished_json(run, &report, &state.out_dir),
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
    let files: Vec<Value> = report
        .files()
        .iter()
        .filter_map(|file| {
            let relative = file.strip_prefix(out_dir).ok()?;
            let url: Vec<String> = relative
                .components()
                .map(|part| url_segment(&part.as_os_str().to_string_lossy()))
                .collect();
            Some(json!({ "name": relative, "url": format!("/api/output/{}", url.join("/")) }))
        })
        .collect();
    json!({
        "kind": "run_finished",
        "run": run,
        "outcome": outcome,
        "spent": report.total_cost(),
        "stopped": report.stopped_tasks(),
        "files": files,
        "report": report,
    })
}

fn url_segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
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

/// Keeps "spent so far" current: when a node ends, re-reads the records of the tasks this run
/// started (Task/Detail is a free read) and publishes the sum of what they cost.
#[derive(Clone)]
struct SpentSoFar {
    state: Arc<AppState>,
    tasks: Arc<Mutex<BTreeSet<String>>>,
}

impl SpentSoFar {
    fn new(state: Arc<AppState>) -> Self {
        Self {
            state,
            tasks: Arc::default(),
        }
    }

    fn notice(&self, event: &RunEvent) {
        match event {
            RunEvent::Progress {
                event: NodeEvent::TaskStarted(task),
                ..
            } => {
                self.tasks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(task.taskid.clone());
            }
            RunEvent::Finished { .. } | RunEvent::Failed { .. } => {
                let ids: Vec<String> = self
                    .tasks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .cloned()
                    .collect();
                if !ids.is_empty() {
                    let state = Arc::clone(&self.state);
                    tokio::spawn(async move {
                        let amount = spent(&state.client, &ids).await;
                        state
                            .hub
                            .publish(&json!({ "kind": "spent", "amount": amount }));
                    });
                }
            }
            _ => {}
        }
    }
}

async fn spent(client: &Client, ids: &[String]) -> f64 {
    let mut total = 0.0;
    for id in ids {
        if let Ok(task) = client.task_detail(TaskLookup::Id(id.clone())).await {
            total += task.total_cost().unwrap_or(0.0);
        }
    }
    total
}
