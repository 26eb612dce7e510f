//! Runs from the page: the CLI's executor, options, journal and resume rules; events to the
//! page over a WebSocket; cancel as Ctrl-C does it (queued tasks cancelled, running ones killed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
use crate::graph::out_folder;
use crate::graph::rows::{
    counted, left_running_warnings, set_aside_earlier_files, stale_row_folders, RowOutcome,
    RowsReport, TableFlow,
};
use crate::graph::{
    price_workflow, price_workflows, spending_cap, sum_usd, usd, validate_for_run, Executor,
    OverCap, RunError, RunEvent, RunReport,
};
use crate::node::{HowStopped, NodeEvent};

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
    // A table is checked row by row, every row before anything runs; a flow alone, whole.
    let table = match request.rows {
        Some(name) => match rows::runnable(&state, workflow.clone(), name.clone()).await {
            Ok(table) => Some((name, table)),
            Err(refusal) => return refusal,
        },
        None => {
            if let Err(problems) = validate_for_run(&workflow, &state.registry, &state.walls()) {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({ "error": "the workflow is invalid; nothing was sent", "problems": problems })),
                )
                    .into_response();
            }
            None
        }
    };
    // Its columns were matched with the flow's inputs when it was checked.
    let rows_flow = match &table {
        Some((_, table)) => match TableFlow::new(&workflow, table, &state.registry) {
            Ok(rows) => Some(rows),
            Err(problems) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, problems.join("; ")),
        },
        None => None,
    };
    // As the CLI checks its --out: found after the Runs, a file in the way would stop a run
    // that has paid, or lose its results.
    let shown = format!("the output folder {}", state.out_dir.display());
    let out_ok = out_folder::writable(&state.out_dir, &shown)
        .and_then(|()| {
            out_folder::free_for(
                &state.out_dir,
                &shown,
                &workflow,
                &state.registry,
                rows_flow.as_ref(),
                false,
            )
        })
        .and_then(|()| match &rows_flow {
            Some(rows) if !request.fresh => {
                out_folder::journal_knows_results(&state.out_dir, &shown, rows)
            }
            _ => Ok(()),
        });
    if let Err(problem) = out_ok {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{problem}; nothing was sent"),
        );
    }
    let cap = match request.max_cost.map(spending_cap) {
        Some(None) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the max cost is dollars from 0 up; nothing was sent",
            )
        }
        Some(cap) => cap,
        None => None,
    };
    let options = state.run_options(request.fresh);
    let executor = Executor::new(state.registry.clone(), state.client.clone(), options);
    if let Some(cap) = cap {
        let mut price = match &rows_flow {
            Some(rows) => price_workflows(rows.rows(), &state.registry, &state.client).await,
            None => price_workflow(&workflow, &state.registry, &state.client).await,
        };
        let mut counted_before = String::new();
        if let Some(rows) = &rows_flow {
            // The cap is the whole run's: what earlier runs paid for cells no row has now.
            match executor.paid_for_other_cells(rows).await {
                Ok(earlier) if !earlier.is_empty() => {
                    let paid_before = price.paid_before(&earlier);
                    counted_before = format!(
                        ", counting {} that earlier runs here paid (or will be charged) for cells no row of the table has now,",
                        counted(earlier.len(), "task")
                    );
                    price.nodes.extend(paid_before);
                }
                Ok(_) => {}
                Err(error) => {
                    return refuse(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("{error}; nothing was sent"),
                    )
                }
            }
        }
        if let Some(over) = price.over_cap(cap) {
            let why = match over {
                OverCap::Unknown { node } => format!(
                    "the price of node {node:?} is unknown, so the run might cost more than the max cost {}; clear the max cost to go on anyway",
                    usd(cap)
                ),
                OverCap::Above { total } => format!(
                    "the estimated price {}{counted_before} exceeds the max cost {}; raise the cap or make the run cheaper",
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
    if let Some((name, table)) = &table {
        let rows = rows::row_nodes(&workflow, table);
        started["nodes"] = rows
            .iter()
            .flat_map(|(_, nodes)| nodes.as_slice())
            .map(String::as_str)
            .collect();
        started["table"] = json!(name);
        started["rows"] = rows
            .iter()
            .map(|(row, nodes)| json!({ "row": row, "nodes": nodes }))
            .collect();
    }
    state.hub.publish(&started);
    let task_state = Arc::clone(&state);
    tokio::spawn(async move {
        let state = task_state;
        let tally = RunTally::default();
        let on_event = {
            let (state, tally) = (Arc::clone(&state), tally.clone());
            move |event: RunEvent| {
                state.hub.publish(&event_json(&event, &state.out_dir));
                if let Some(amount) = tally.notice(&event) {
                    state
                        .hub
                        .publish(&json!({ "kind": "spent", "amount": amount }));
                }
            }
        };
        let out_dir = &state.out_dir;
        let result = match &table {
            // The rows stream through, as `run --rows` runs them: a row's nodes exist while
            // it runs.
            Some((_, table)) => match TableFlow::new(&workflow, table, &state.registry) {
                Ok(rows) => executor
                    .run_rows(&rows, cancel, on_event, |_| {})
                    .await
                    .map(|report| rows_finished_json(run, &report, &tally, out_dir)),
                // Checked before the run began: the flow cannot have changed since.
                Err(problems) => {
                    Ok(json!({ "kind": "run_error", "run": run, "error": problems.join("; ") }))
                }
            },
            None => executor
                .run(&workflow, cancel, on_event)
                .await
                .map(|report| finished_json(run, &report, out_dir)),
        };
        let end = match result {
            Ok(end) => end,
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
            .map(|stopped| stopped_json(&stopped.taskid, &stopped.how))
            .collect::<Vec<_>>(),
        "files": files,
        "report": report,
    })
}

/// A stopped task as `run_finished` lists it.
fn stopped_json(taskid: &str, how: &HowStopped) -> Value {
    json!({ "taskid": taskid, "how": how.to_string() })
}

/// A table's run's end for the page: as [`finished_json`] says a run's, with each row's
/// result (its files with their URLs) and the results table, written as the CLI writes it.
fn rows_finished_json(run: u64, report: &RowsReport, tally: &RunTally, out_dir: &Path) -> Value {
    let outcome = if report.cancelled {
        "cancelled"
    } else if report
        .rows
        .iter()
        .all(|row| row.outcome == RowOutcome::Done)
    {
        "succeeded"
    } else {
        "failed"
    };
    let files: Vec<PathBuf> = report
        .rows
        .iter()
        .flat_map(|row| row.files.clone())
        .collect();
    let mut end = json!({
        "kind": "run_finished",
        "run": run,
        "outcome": outcome,
        // What this run spent, as the page showed it live; with what earlier runs of its
        // resumed rows spent, as the CLI's "charged for its rows".
        "spent": tally.charge([]),
        "charged_in_all": sum_usd(report.rows.iter().map(|row| row.cost)),
        "stopped": tally.stopped(),
        "files": output_files(out_dir, &files),
    });
    // As the CLI tells them: files moved out of the row folders, tasks left running.
    let aside = set_aside_earlier_files(out_dir, &report.rows);
    let notes: Vec<String> = (aside.warnings.iter())
        .chain(&left_running_warnings(&report.left_running))
        .map(|warning| format!("warning: {warning}"))
        .chain(aside.note.map(|note| format!("note: {note}")))
        .chain(stale_row_folders(out_dir, &report.rows).map(|note| format!("note: {note}")))
        .collect();
    end["notes"] = json!(notes);
    let summed = rows::finish(out_dir, &report.rows, |file| output_file(out_dir, file));
    if let (Value::Object(end), Value::Object(summed)) = (&mut end, summed) {
        end.extend(summed);
    }
    end
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

/// What a run's events tell as they come: "spent so far" (what the finished nodes' task
/// records say was charged, each task once: a wait and a detail of one task report the same
/// charge), and the tasks stopped on a cancel.
#[derive(Clone, Default)]
struct RunTally {
    charged: Arc<Mutex<BTreeMap<String, f64>>>,
    stopped: Arc<Mutex<Vec<Value>>>,
}

impl RunTally {
    /// The new total spent when `event` tells of a charge.
    fn notice(&self, event: &RunEvent) -> Option<f64> {
        match event {
            RunEvent::Finished { charged, .. } if !charged.is_empty() => {
                Some(self.charge(charged.iter().map(|(task, cost)| (task, *cost))))
            }
            RunEvent::Progress {
                event:
                    NodeEvent::TaskStopped {
                        taskid,
                        how,
                        charged,
                    },
                ..
            } => {
                self.stopped
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(stopped_json(taskid, how));
                // A task that ended, billed, before the stop reached it is spent too.
                Some(self.charge([(taskid, (*charged)?)]))
            }
            _ => None,
        }
    }

    /// Counts `charges` (by task: each task once) and gives the new total spent.
    fn charge<'a>(&self, charges: impl IntoIterator<Item = (&'a String, f64)>) -> f64 {
        let mut known = self.charged.lock().unwrap_or_else(PoisonError::into_inner);
        known.extend(charges.into_iter().map(|(task, cost)| (task.clone(), cost)));
        sum_usd(known.values().copied())
    }

    /// The tasks stopped so far, as `run_finished` lists them.
    fn stopped(&self) -> Vec<Value> {
        self.stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
