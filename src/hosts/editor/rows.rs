//! Tables of rows in the editor, and its one use of [`graph::rows`](crate::graph::rows): a
//! table the page stored in the workspace is read and every row's copy of the open workflow
//! checked before anything runs, as `wiro-nodes run --rows` does; the run streams the rows as
//! the CLI's does (a row's nodes exist while it runs), and when it ends each row's result goes
//! to the page and `results.csv` into the output folder, as the CLI writes it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::api::{inside, parse_workflow, refuse};
use super::AppState;
use crate::graph::rows::{check_rows, row_node, write_results, Cell, RowResult, Table, TableFlow};
use crate::graph::{price_workflows, Workflow};
use crate::node::{Registry, Walls};

/// One row of a checked table, for the page.
#[derive(Debug, Serialize)]
pub struct RowView {
    /// Its line in the file (the header is line 1 of a CSV): the number every message names.
    row: usize,
    /// Its cells by column; `null` keeps the flow's own value.
    cells: Map<String, Value>,
    /// Why it cannot run, each line as `wiro-nodes run --rows` prints it; empty when it can.
    problems: Vec<String>,
}

/// A table checked against a workflow, every row before anything runs.
#[derive(Debug, Serialize)]
pub struct TableCheck {
    /// The table, relative to the workspace.
    table: String,
    /// Its columns, `NODE.INPUT`.
    columns: Vec<String>,
    /// Its rows, in file order.
    rows: Vec<RowView>,
    /// What the reader left out (rows with every cell empty), in the CLI's words.
    notes: Vec<String>,
    /// Problems of the table as a whole (it cannot be read, a column the flow lacks, a
    /// problem outside every row), in the CLI's words.
    problems: Vec<String>,
    /// The table, when every row passed: what runs.
    #[serde(skip)]
    runnable: Option<Table>,
}

/// Reads the table at `table` (relative to the workspace) and checks `flow` over each of its
/// rows in turn, as the CLI does before the first Run.
fn check(
    flow: &Workflow,
    table: &str,
    workspace: &Path,
    registry: &Registry,
    walls: &Walls,
) -> TableCheck {
    let mut check = TableCheck {
        table: table.to_owned(),
        columns: Vec::new(),
        rows: Vec::new(),
        notes: Vec::new(),
        problems: Vec::new(),
        runnable: None,
    };
    let Some(path) = inside(workspace, table) else {
        check.problems.push(format!(
            "{table}: a table is a file inside the workspace (a link out of it is not followed)"
        ));
        return check;
    };
    let read = match Table::read(&path) {
        Ok(read) => read,
        Err(problem) => {
            // The reader names the file by its full path; the page knows it by `table`.
            let problem = problem.replace(&path.display().to_string(), table);
            check.problems.push(problem);
            return check;
        }
    };
    check.columns = read.columns.clone();
    check.notes.extend(read.left_out());
    let mut by_row = BTreeMap::new();
    let mut runnable = false;
    match check_rows(flow, &read, registry, Some(walls)) {
        Err(problems) => check.problems = problems,
        Ok((rows, outside)) => {
            runnable = rows.is_empty() && outside.is_empty();
            by_row = rows;
            check.problems.extend(outside);
        }
    }
    check.rows = read
        .rows
        .iter()
        .map(|row| RowView {
            row: row.line,
            cells: read
                .columns
                .iter()
                .zip(&row.cells)
                .map(|(column, cell)| {
                    let value = match cell {
                        None => Value::Null,
                        Some(Cell::Text(text)) => Value::String(text.clone()),
                        Some(Cell::Json(value)) => value.clone(),
                    };
                    (column.clone(), value)
                })
                .collect(),
            problems: by_row.remove(&row.line).unwrap_or_default(),
        })
        .collect();
    check.runnable = runnable.then_some(read);
    check
}

/// Checks `table` against `flow` away from the async threads (it reads files).
async fn check_in_background(
    state: &Arc<AppState>,
    flow: Workflow,
    table: String,
) -> Result<TableCheck, Response> {
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        check(
            &flow,
            &table,
            &state.workspace,
            &state.registry,
            &state.walls(),
        )
    })
    .await
    .map_err(|error| refuse(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))
}

/// What `POST /api/rows` takes.
#[derive(Debug, Deserialize)]
pub struct RowsRequest {
    workflow: Value,
    /// The table, relative to the workspace (where `POST /api/files` stored it).
    table: String,
}

/// `POST /api/rows`: the table checked against the workflow — its rows and cells, each
/// refused row's problems naming its row and column, and for a table that passed, the price
/// of all its rows (Tool/Detail only: nothing is run).
pub async fn check_table(
    State(state): State<Arc<AppState>>,
    Json(request): Json<RowsRequest>,
) -> Response {
    let flow = match parse_workflow(request.workflow) {
        Ok(flow) => flow,
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let check = match check_in_background(&state, flow.clone(), request.table).await {
        Ok(check) => check,
        Err(response) => return response,
    };
    let mut answer = json!(check);
    let rows = check
        .runnable
        .as_ref()
        .and_then(|table| TableFlow::new(&flow, table, &state.registry).ok());
    if let Some(rows) = rows {
        let price = price_workflows(rows.rows(), &state.registry, &state.client).await;
        answer["total"] = json!(price.total());
        answer["paid_nodes"] = json!(price.nodes.len());
    }
    Json(answer).into_response()
}

/// The table to run `flow` over, every row checked; or the answer refusing it (422, every
/// problem in the CLI's words) when a row or the table cannot run.
pub async fn runnable(
    state: &Arc<AppState>,
    flow: Workflow,
    table: String,
) -> Result<Table, Response> {
    let mut check = check_in_background(state, flow, table).await?;
    if let Some(table) = check.runnable.take() {
        return Ok(table);
    }
    let mut problems = check.problems;
    problems.extend(check.rows.into_iter().flat_map(|row| row.problems));
    Err((
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": "the table cannot run; nothing was sent", "table_problems": problems })),
    )
        .into_response())
}

/// Each row's line and its nodes' ids (`row-0007-video`, as the run's events name them), for
/// the page to follow a row through the run.
pub fn row_nodes(flow: &Workflow, table: &Table) -> Vec<(usize, Vec<String>)> {
    table
        .rows
        .iter()
        .map(|row| {
            let nodes = flow
                .nodes
                .iter()
                .map(|node| row_node(row.line, &node.id))
                .collect();
            (row.line, nodes)
        })
        .collect()
}

/// A table's run has ended: each row's result (its files with the page's URLs) and the
/// results table, written in `out_dir` as `wiro-nodes run --rows` writes it.
pub fn finish(
    out_dir: &Path,
    results: &[RowResult],
    file_url: impl Fn(&Path) -> Option<Value>,
) -> Value {
    let written = write_results(out_dir, results, false);
    let rows: Vec<Value> = results
        .iter()
        .map(|result| {
            let mut row = json!(result);
            row["files"] = result
                .files
                .iter()
                .filter_map(|file| file_url(file))
                .collect();
            row
        })
        .collect();
    match written {
        Ok(path) => json!({ "rows": rows, "results": file_url(&path) }),
        Err(error) => json!({
            "rows": rows,
            "results_error": format!("the results table could not be written in {}: {error}", out_dir.display()),
        }),
    }
}
