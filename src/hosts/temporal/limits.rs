//! What one workflow execution can hold. Temporal refuses a payload above 2 MiB (its default
//! `limit.blobSize.error`) and ends a workflow whose history passes 51,200 events or 50 MB.
//! The workflow's result, its report, is one payload: a report that does not fit leaves the
//! workflow unable to end after every Run was paid, and neither `status` nor `result` can
//! read it.
//!
//! - [`fitted`] keeps the report within one payload: when the whole would not fit, each
//!   node's outputs are cut to what a results table reads (task, cost, files), so a real
//!   task's long log or a chat model's long answer cannot strand a paid batch.
//! - [`check_fits`] measures a document before it is submitted, and refuses one whose input,
//!   cut report or history would not fit, saying how many rows a batch may have.

use serde::Serialize;
use serde_json::{Map, Value};

use super::messages::{Report, WorkflowInput};
use crate::graph::Workflow;
use crate::node::{PortKind, PortKinds, Registry};

/// Temporal's default limit on one payload (`limit.blobSize.error`), in bytes.
pub const DEFAULT_PAYLOAD_LIMIT: usize = 2 * 1024 * 1024;

/// Temporal's default limits on one history: events (`limit.historyCount.error`) and bytes
/// (`limit.historySize.error`).
const HISTORY_EVENTS: usize = 51_200;
const HISTORY_BYTES: usize = 50 * 1024 * 1024;

/// The share of the payload limit a report is kept within (the payload's metadata takes a
/// little), and the share an estimate made before the run may reach (a real task's record,
/// with its log lines, is longer than the emulator's on which the estimate was measured).
const FIT_PERCENT: usize = 95;
const ESTIMATE_PERCENT: usize = 85;

/// The share of the history limits an estimate may reach.
const HISTORY_PERCENT: usize = 80;

/// What a node's line in the report takes besides its outputs: id, type, state, worker,
/// folder, a short message.
const LINE_BYTES: usize = 300;

/// What a task record adds to a node's whole outputs (a wait's or a detail's): its fields
/// and the output files, which the record and the port each list (measured: 1.5 KB for a
/// PixVerse wait). A paid node's inputs come back in the record's parameters.
const TASK_RECORD_BYTES: usize = 1300;

/// What each kind of port keeps in a cut report: a started task's handle, a record's
/// summary ([`RECORD_FIELDS`]), one local file (path, size, hash, content type). Measured
/// on 1,100 rows of a PixVerse chain: lines of 257, 276 and 378 bytes with their outputs,
/// folders 40 characters long.
const CUT_STARTED_TASK_BYTES: usize = 100;
const CUT_RECORD_BYTES: usize = 130;
const CUT_LOCAL_FILE_BYTES: usize = 250;

/// History events a node makes (its activity scheduled, started and completed, and its
/// share of workflow tasks): measured 5.3 and 5.8 a node (800 and 1,100 rows).
const EVENTS_PER_NODE: usize = 6;

/// History bytes a node makes besides its inputs and outputs: the events' own fields. With
/// the claimed lists, the estimate for 1,100 rows of a PixVerse chain is 13.8 MB; the
/// history measured 10.8 MB.
const EVENT_BYTES_PER_NODE: usize = 1000;

/// What one task id takes in a paid Run's call, which lists every task the workflow
/// started before it (so a lost answer is never matched to another node's task).
const CLAIMED_TASK_BYTES: usize = 12;

/// The fields of a task record a cut report keeps.
const RECORD_FIELDS: [&str; 5] = ["id", "status", "pexit", "totalcost", "elapsedseconds"];

/// The longest message or refused row's problem a cut report keeps whole, in characters.
const CUT_MESSAGE_CHARS: usize = 300;

/// The report as the workflow gives it (its result, its cancelled details, its `progress`
/// answer): whole when it fits within `limit`, else with each node's outputs cut to
/// [`cut_outputs`], and when even that does not fit, long messages shortened.
/// A `limit` of 0 (not set yet) is the default.
pub fn fitted(report: &Report, registry: &Registry, limit: usize) -> Report {
    let limit = if limit == 0 {
        DEFAULT_PAYLOAD_LIMIT
    } else {
        limit
    };
    let budget = limit / 100 * FIT_PERCENT;
    if json_len(report) <= budget {
        return report.clone();
    }
    let mut cut = report.clone();
    cut.outputs_cut = true;
    for line in &mut cut.nodes {
        line.outputs = match (&line.outputs, registry.get(&line.type_id)) {
            (Some(outputs), Some(node)) => Some(cut_outputs(outputs, &node.spec().kinds)),
            _ => None,
        };
    }
    if json_len(&cut) <= budget {
        return cut;
    }
    for line in &mut cut.nodes {
        if let Some(message) = &mut line.message {
            shorten(message);
        }
    }
    for row in &mut cut.refused_rows {
        shorten(&mut row.problems);
    }
    cut
}

/// A node's outputs cut to what a results table and a resumed execution read: each paid
/// node's started task whole, each task record's id, status, exit code, cost and time, each
/// local file whole; ports of no kind are left out.
pub fn cut_outputs(outputs: &Value, kinds: &PortKinds) -> Value {
    let mut kept = Map::new();
    for (port, kind) in kinds.iter() {
        let Some(value) = outputs.get(port) else {
            continue;
        };
        let value = match (kind, value) {
            (PortKind::TaskRecord, Value::Object(record)) => RECORD_FIELDS
                .iter()
                .filter_map(|&field| Some((field.to_owned(), record.get(field)?.clone())))
                .collect::<Map<_, _>>()
                .into(),
            _ => value.clone(),
        };
        kept.insert(port.to_owned(), value);
    }
    Value::Object(kept)
}

/// Keeps the first [`CUT_MESSAGE_CHARS`] characters of `text`, saying how many were cut.
fn shorten(text: &mut String) {
    if let Some((end, _)) = text.char_indices().nth(CUT_MESSAGE_CHARS) {
        let more = text[end..].chars().count();
        text.truncate(end);
        text.push_str(&format!("… ({more} more characters)"));
    }
}

fn json_len(value: &impl Serialize) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len())
}

/// How a document's report will travel, as measured before it is submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Whole: every node's outputs.
    Whole,
    /// Cut: the whole report would pass the payload limit, so it will carry each node's
    /// task, cost and files only ([`cut_outputs`]); the history keeps the rest.
    Cut,
}

/// What a document would make, estimated before it runs, in bytes and events.
#[derive(Debug, Clone, Copy, Default)]
struct Load {
    /// The report with every node's outputs.
    whole: usize,
    /// The report with outputs cut.
    cut: usize,
    /// History events.
    events: usize,
    /// History bytes, the paid Runs' lists of claimed tasks aside.
    history: usize,
    /// Paid nodes (each lists the tasks of those before it).
    paid: usize,
}

impl Load {
    fn of(workflow: &Workflow, registry: &Registry) -> Self {
        let mut load = Load::default();
        for node in &workflow.nodes {
            let spec = registry.get(&node.type_id).map(|target| target.spec());
            let has =
                |kind: PortKind| spec.is_some_and(|spec| spec.kinds.iter().any(|(_, k)| k == kind));
            let inputs = json_len(&node.inputs);
            let records = if has(PortKind::TaskRecord) {
                TASK_RECORD_BYTES
            } else {
                0
            };
            let whole = LINE_BYTES + inputs + records;
            load.whole += whole;
            load.cut += LINE_BYTES
                + [
                    (PortKind::StartedTask, CUT_STARTED_TASK_BYTES),
                    (PortKind::TaskRecord, CUT_RECORD_BYTES),
                    (PortKind::LocalFiles, CUT_LOCAL_FILE_BYTES),
                ]
                .iter()
                .filter(|(kind, _)| has(*kind))
                .map(|(_, bytes)| bytes)
                .sum::<usize>();
            load.events += EVENTS_PER_NODE;
            // The activity's input (the node's inputs resolved) and its result.
            load.history += EVENT_BYTES_PER_NODE + inputs + whole;
            load.paid += usize::from(spec.is_some_and(|spec| spec.spends_money));
        }
        load
    }

    /// This load scaled from `from` rows to `to` rows (the claimed lists grow with the
    /// square of the paid nodes).
    fn scaled(self, from: usize, to: usize) -> Self {
        let scale = |value: usize| value * to / from.max(1);
        Load {
            whole: scale(self.whole),
            cut: scale(self.cut),
            events: scale(self.events),
            history: scale(self.history),
            paid: scale(self.paid),
        }
    }

    fn claimed_bytes(&self) -> usize {
        self.paid * self.paid.saturating_sub(1) / 2 * CLAIMED_TASK_BYTES
    }

    /// The first limit this load passes, as a sentence; `None` when it fits.
    fn passes(&self, input: usize, limit: usize) -> Option<String> {
        let payload = limit / 100 * ESTIMATE_PERCENT;
        let megabytes = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
        if input > payload {
            return Some(format!(
                "its input (the document, one copy of the flow per row) would be about {:.1} MB, too near Temporal's {:.1} MB payload limit",
                megabytes(input),
                megabytes(limit)
            ));
        }
        if self.cut > payload {
            return Some(format!(
                "its report would be about {:.1} MB even with each node's outputs cut to its task, cost and files, too near Temporal's {:.1} MB payload limit (a report above it leaves the workflow unable to end, after every Run was paid)",
                megabytes(self.cut),
                megabytes(limit)
            ));
        }
        if self.events > HISTORY_EVENTS / 100 * HISTORY_PERCENT {
            return Some(format!(
                "its history would hold about {} events, too near Temporal's limit of {HISTORY_EVENTS} (a workflow past it is ended, with its Runs paid)",
                self.events
            ));
        }
        let history = self.history + self.claimed_bytes();
        if history > HISTORY_BYTES / 100 * HISTORY_PERCENT {
            return Some(format!(
                "its history would be about {:.0} MB, too near Temporal's limit of {:.0} MB (a workflow past it is ended, with its Runs paid)",
                megabytes(history),
                megabytes(HISTORY_BYTES)
            ));
        }
        None
    }
}

/// Refuses a document that one Temporal workflow cannot hold (its input, its report even
/// with outputs cut, its history), saying why and, for a table of `rows`, how many rows a
/// batch may have. Says whether the report will carry every node's outputs or cut ones.
pub fn check_fits(
    input: &WorkflowInput,
    registry: &Registry,
    rows: Option<usize>,
) -> Result<Fit, String> {
    let limit = input.payload_limit;
    let load = Load::of(&input.workflow, registry);
    let input_bytes = json_len(input);
    let Some(why) = load.passes(input_bytes, limit) else {
        let whole_fits = load.whole <= limit / 100 * ESTIMATE_PERCENT;
        return Ok(if whole_fits { Fit::Whole } else { Fit::Cut });
    };
    let split = match rows {
        Some(rows) => {
            let per_row_input = input_bytes / rows.max(1);
            let fits = |count: usize| {
                load.scaled(rows, count)
                    .passes(per_row_input * count, limit)
                    .is_none()
            };
            // The most rows that fit: fewer than `rows`, since `rows` do not.
            let (mut low, mut high) = (0, rows);
            while low + 1 < high {
                let middle = (low + high) / 2;
                if fits(middle) {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            format!(
                "split the table into tables of at most {low} rows, each with the header line, one `submit --rows` each"
            )
        }
        None => "split the document into smaller ones".to_owned(),
    };
    Err(format!(
        "the batch is too big for one Temporal workflow: {why}; {split}"
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::graph::rows::{expand, Cell, Row, Table};
    use crate::hosts::temporal::messages::{NodeLine, NodeState};

    fn table_of(rows: usize) -> (Workflow, Table) {
        let flow: Workflow = serde_json::from_value(json!({"version": 1, "nodes": [
            {"id": "video", "type": "pixverse/text-to-video-v4", "inputs": {"prompt": "x"}},
            {"id": "wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "video.task"}}},
            {"id": "save", "type": "wiro/output.download",
             "inputs": {"outputs": {"$from": "wait.outputs"}}}
        ]}))
        .unwrap();
        let rows = (0..rows)
            .map(|row| Row {
                line: row + 2,
                cells: vec![Some(Cell::Text(format!(
                    "Product {row}: a ceramic mug turning slowly on a wooden table, soft morning light, steam rising"
                )))],
            })
            .collect();
        let table = Table {
            columns: vec!["video.prompt".into()],
            rows,
            blank: Vec::new(),
        };
        (flow, table)
    }

    fn batch_of(rows: usize, registry: &Registry) -> WorkflowInput {
        let (flow, table) = table_of(rows);
        serde_json::from_value(json!({
            "workflow": expand(&flow, &table, registry).unwrap(),
        }))
        .unwrap()
    }

    #[test]
    fn a_batch_whose_whole_report_would_not_fit_runs_with_its_outputs_cut() {
        let registry = Registry::from_inventory();
        let fit = |rows| check_fits(&batch_of(rows, &registry), &registry, Some(rows));
        assert_eq!(fit(500), Ok(Fit::Whole));
        // Measured: 1,100 rows of this flow made a 2.4 MB report, which Temporal refused.
        assert_eq!(fit(1100), Ok(Fit::Cut));
    }

    #[test]
    fn a_batch_too_big_even_cut_is_refused_saying_how_many_rows_fit() {
        let registry = Registry::from_inventory();
        let refused = check_fits(&batch_of(4000, &registry), &registry, Some(4000)).unwrap_err();
        assert!(
            refused.contains("split the table into tables of at most"),
            "{refused}"
        );
        let most: usize = refused
            .split("at most ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!((1100..4000).contains(&most), "{refused}");
        let batch = batch_of(most, &registry);
        assert!(check_fits(&batch, &registry, Some(most)).is_ok());
    }

    fn finished(id: &str, type_id: &str, outputs: Value) -> NodeLine {
        NodeLine {
            id: id.into(),
            type_id: type_id.into(),
            state: NodeState::Finished,
            outputs: Some(outputs),
            ..NodeLine::default()
        }
    }

    #[test]
    fn a_report_too_big_for_one_payload_keeps_each_task_its_cost_and_files() {
        let registry = Registry::from_inventory();
        let log = "step 1 of 50\n".repeat(2000);
        let report = Report {
            workflow_id: "wf".into(),
            nodes: vec![
                finished(
                    "row-0002-video",
                    "pixverse/text-to-video-v4",
                    json!({"task": {"taskid": "7", "socketaccesstoken": "tok"}}),
                ),
                finished(
                    "row-0002-wait",
                    "wiro/task.wait",
                    json!({"task": {"id": "7", "status": "task_postprocess_end", "pexit": "0",
                        "totalcost": "0.45", "debugoutput": log, "outputs": [{"url": "u"}]},
                        "outputs": [{"url": "u"}], "text": null}),
                ),
                finished(
                    "row-0002-save",
                    "wiro/output.download",
                    json!({"files": [{"path": "/o/row-0002/a.mp4", "size": 3, "sha256": "00",
                        "contenttype": "video/mp4"}]}),
                ),
            ],
            ..Report::default()
        };
        assert_eq!(fitted(&report, &registry, 1 << 20), report);
        let cut = fitted(&report, &registry, 8 * 1024);
        assert!(cut.outputs_cut);
        assert!(json_len(&cut) < 8 * 1024);
        assert_eq!(cut.nodes[0].outputs, report.nodes[0].outputs);
        assert_eq!(
            cut.nodes[1].outputs,
            Some(
                json!({"task": {"id": "7", "status": "task_postprocess_end", "pexit": "0",
                "totalcost": "0.45"}})
            )
        );
        assert_eq!(cut.nodes[2].outputs, report.nodes[2].outputs);
        // What the results table reads is all there.
        let rows = super::super::rows::row_results_of(&cut, &registry);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].tasks, ["7"]);
        assert_eq!(
            rows[0].files,
            [std::path::PathBuf::from("/o/row-0002/a.mp4")]
        );
    }

    #[test]
    fn a_cut_report_shortens_long_messages_when_cutting_outputs_is_not_enough() {
        let registry = Registry::from_inventory();
        let mut line = finished("wait", "wiro/task.wait", json!({}));
        line.state = NodeState::Failed;
        line.message = Some("é".repeat(20_000));
        let report = Report {
            nodes: vec![line],
            ..Report::default()
        };
        let cut = fitted(&report, &registry, 8 * 1024);
        let message = cut.nodes[0].message.as_deref().unwrap();
        assert!(message.ends_with("… (19700 more characters)"), "{message}");
    }
}
