//! What one workflow execution can hold. Temporal refuses a payload above 2 MiB (its default
//! `limit.blobSize.error`) and ends a workflow whose history passes 51,200 events or 50 MB.
//! The workflow's result, its report, is one payload: a report that does not fit leaves the
//! workflow unable to end after every Run was paid, and neither `status` nor `result` can
//! read it.
//!
//! - [`fitted`] keeps the report within one payload: when the whole would not fit, each
//!   node's outputs are cut to what a results table reads (task, cost, files), so a real
//!   task's long log or a chat model's long answer cannot strand a paid batch.
//! - [`check_fits`] measures a document before it is submitted, and says when its input,
//!   cut report or history would not fit, and for a table how many rows one workflow holds
//!   (a bigger table runs as a batch of parts that size); [`too_big`] says the same of a
//!   resume, and [`resume_room`] how much of its input the outputs it carries may take.
//! - [`check_batch_fits`] refuses a table too big even for a batch of parts (its input, the
//!   table, is one payload; its history holds each part's input, report and resume), saying
//!   how many rows fit.

use serde::Serialize;
use serde_json::{Map, Value};

use super::messages::{BatchInput, Report, WorkflowInput};
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

/// The share of the payload limit a resume's input may take with the outputs it carries:
/// below the estimate's, so a resume that carried outputs within it passes the check after.
const RESUME_PERCENT: usize = 80;

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

/// The longest message or problem the last step of cutting keeps, in characters.
const LAST_MESSAGE_CHARS: usize = 80;

/// The report as the workflow gives it (its result, its cancelled details, its `progress`
/// answer): whole when it fits within `limit`; else, step by step until it fits, with each
/// node's outputs cut to [`cut_outputs`], long messages shortened, files named within their
/// node's folder, and at last without files, folders or workers (each row's files stay in
/// its folder on the worker) and with every message and problem at most 80 characters:
/// what `submit` accepts fits at that last step, as its estimate goes, whatever the workers'
/// folders and the models' numbers of files, so a batch whose Runs were paid can end. The
/// outputs of the nodes a paid node reads (`read_by_paid`, by position) stay whole at every
/// step: a resume carries them, so a lost Run is looked for with the inputs it was sent with.
/// A `limit` of 0 (not set yet) is the default.
pub fn fitted(report: &Report, registry: &Registry, limit: usize, read_by_paid: &[bool]) -> Report {
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
    let kinds = |type_id: &str| registry.get(type_id).map(|node| &node.spec().kinds);
    let whole = |position: usize| read_by_paid.get(position).copied().unwrap_or(false);
    for (position, line) in cut.nodes.iter_mut().enumerate() {
        if whole(position) {
            continue;
        }
        line.outputs = match (&line.outputs, kinds(&line.type_id)) {
            (Some(outputs), Some(kinds)) => Some(cut_outputs(outputs, kinds)),
            _ => None,
        };
    }
    if json_len(&cut) <= budget {
        return cut;
    }
    shorten_texts(&mut cut, CUT_MESSAGE_CHARS);
    if json_len(&cut) <= budget {
        return cut;
    }
    for line in &mut cut.nodes {
        let (Some(outputs), Some(folder), Some(kinds)) =
            (&mut line.outputs, &line.output_dir, kinds(&line.type_id))
        else {
            continue;
        };
        for port in kinds.ports(PortKind::LocalFiles) {
            within(outputs.get_mut(port), folder);
        }
    }
    if json_len(&cut) <= budget {
        return cut;
    }
    cut.files_cut = true;
    for line in &mut cut.nodes {
        line.output_dir = None;
        line.worker = None;
        if let (Some(Value::Object(outputs)), Some(kinds)) =
            (&mut line.outputs, kinds(&line.type_id))
        {
            for port in kinds.ports(PortKind::LocalFiles) {
                outputs.remove(port);
            }
        }
    }
    shorten_texts(&mut cut, LAST_MESSAGE_CHARS);
    cut
}

/// Every node's message and refused row's problems at most `most` characters.
fn shorten_texts(report: &mut Report, most: usize) {
    let messages = report
        .nodes
        .iter_mut()
        .filter_map(|line| line.message.as_mut());
    let problems = report.refused_rows.iter_mut().map(|row| &mut row.problems);
    for text in messages.chain(problems) {
        shorten(text, most);
    }
}

/// The local files in `files` (one, or a list) named within `folder`, where they are.
fn within(files: Option<&mut Value>, folder: &str) {
    let name = |file: &mut Value| {
        if let Some(Value::String(path)) = file.get_mut("path") {
            if let Ok(inside) = std::path::Path::new(path.as_str()).strip_prefix(folder) {
                *path = inside.to_string_lossy().into_owned();
            }
        }
    };
    match files {
        Some(Value::Array(items)) => items.iter_mut().for_each(name),
        Some(file) => name(file),
        None => {}
    }
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

/// Keeps the first `most` characters of `text`, saying how many were cut.
fn shorten(text: &mut String, most: usize) {
    if let Some((end, _)) = text.char_indices().nth(most) {
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
    /// What does not grow with the rows: the refused rows' problems, in the input and the
    /// report alike.
    fixed: usize,
}

impl Load {
    fn of(input: &WorkflowInput, registry: &Registry) -> Self {
        let workflow = &input.workflow;
        let mut load = Load {
            fixed: json_len(&input.refused_rows),
            ..Load::default()
        };
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
            fixed: self.fixed,
        }
    }

    fn claimed_bytes(&self) -> usize {
        self.paid * self.paid.saturating_sub(1) / 2 * CLAIMED_TASK_BYTES
    }

    /// The first limit this load passes, as a sentence; `None` when it fits. `input` is
    /// the input's bytes besides [`Self::fixed`].
    fn passes(&self, input: usize, limit: usize) -> Option<String> {
        let payload = limit / 100 * ESTIMATE_PERCENT;
        let (input, cut) = (input + self.fixed, self.cut + self.fixed);
        if input > payload {
            return Some(format!(
                "its input (the document, one copy of the flow per row) would be about {}, too near Temporal's {} payload limit",
                size(input),
                size(limit)
            ));
        }
        if cut > payload {
            return Some(format!(
                "its report would be about {} even with each node's outputs cut to its task, cost and files, too near Temporal's {} payload limit (a report above it leaves the workflow unable to end, after every Run was paid)",
                size(cut),
                size(limit)
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
                "its history would be about {}, too near Temporal's limit of {} (a workflow past it is ended, with its Runs paid)",
                size(history),
                size(HISTORY_BYTES)
            ));
        }
        None
    }
}

/// `bytes` for a person, in the binary units Temporal's limits are set in: `2.0 MiB`,
/// `58.6 KiB` (a `--payload-limit 60000`), `900 bytes`.
fn size(bytes: usize) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// What `input` would make, and its own bytes besides the refused rows' (counted in the load).
fn measured(input: &WorkflowInput, registry: &Registry) -> (Load, usize) {
    let load = Load::of(input, registry);
    let own = json_len(input).saturating_sub(load.fixed);
    (load, own)
}

/// What of `input` one Temporal workflow cannot hold (its input, its report even with outputs
/// cut, its history), as a sentence; `None` when it fits.
pub fn too_big(input: &WorkflowInput, registry: &Registry) -> Option<String> {
    let (load, own) = measured(input, registry);
    load.passes(own, input.payload_limit)
}

/// How many bytes what a resume of `input` carries (each node with its outputs, the lost
/// Runs) may take, so that the resume's input still fits.
pub fn resume_room(input: &WorkflowInput) -> usize {
    (input.payload_limit / 100 * RESUME_PERCENT).saturating_sub(json_len(input))
}

/// Refuses a document that one Temporal workflow cannot hold (its input, its report even
/// with outputs cut, its history), saying why and, for a table of `rows`, how many rows a
/// batch may have. Says whether the report will carry every node's outputs or cut ones.
pub fn check_fits(
    input: &WorkflowInput,
    registry: &Registry,
    rows: Option<usize>,
) -> Result<Fit, TooBig> {
    let limit = input.payload_limit;
    let (load, input_bytes) = measured(input, registry);
    let Some(why) = load.passes(input_bytes, limit) else {
        let whole_fits = load.whole + load.fixed <= limit / 100 * ESTIMATE_PERCENT;
        return Ok(if whole_fits { Fit::Whole } else { Fit::Cut });
    };
    let split = match rows {
        Some(rows) => Split::Rows(most_rows(&load, input_bytes, limit, rows)),
        None => Split::Document,
    };
    Err(TooBig { why, split })
}

/// Why a document is too big for one workflow, and how it may be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooBig {
    /// The first limit it passes, as a sentence.
    pub why: String,
    /// How it may be split.
    pub split: Split,
}

/// How a document too big for one workflow may be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// A table's batch: one workflow holds at most this many of its rows (0: not even one).
    Rows(usize),
    /// A document of its own: into smaller ones.
    Document,
}

impl std::fmt::Display for TooBig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = &self.why;
        match self.split {
            Split::Rows(rows) => write!(
                f,
                "the batch is too big for one Temporal workflow: {why}; split the table into tables of at most {rows} rows, each with the header line, one `submit --rows` each"
            ),
            Split::Document => write!(
                f,
                "the batch is too big for one Temporal workflow: {why}; split the document into smaller ones"
            ),
        }
    }
}

/// The most rows of a table of `rows` (whose `load` passes a limit) one workflow holds, with
/// room left in its input for what a resume of it carries (each node's outputs, cut): a part
/// of a batch must stay resumable.
fn most_rows(load: &Load, input_bytes: usize, limit: usize, rows: usize) -> usize {
    let per_row_input = input_bytes / rows.max(1);
    let fits = |count: usize| {
        let load = load.scaled(rows, count);
        let input = per_row_input * count;
        load.passes(input, limit).is_none() && input + load.cut <= limit / 100 * RESUME_PERCENT
    };
    most_that_fit(rows, fits)
}

/// The most rows, fewer than `rows` (which do not fit), for which `fits` holds (it holds for
/// every count below one that fits); 0 when not even one row does.
fn most_that_fit(rows: usize, fits: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, rows);
    while low + 1 < high {
        let middle = (low + high) / 2;
        if fits(middle) {
            low = middle;
        } else {
            high = middle;
        }
    }
    low
}

/// The first part of `part_rows` rows (of the `rows` of `whole`, the table as one document)
/// that one workflow cannot hold with room for what its resume carries, and why: parts are
/// sized by the average row, and a table's rows may be uneven.
pub fn uneven_part(
    whole: &WorkflowInput,
    registry: &Registry,
    rows: usize,
    part_rows: usize,
) -> Option<(usize, String)> {
    let limit = whole.payload_limit;
    let per_row = whole.workflow.nodes.len() / rows.max(1);
    let chunk = (per_row * part_rows).max(1);
    whole
        .workflow
        .nodes
        .chunks(chunk)
        .enumerate()
        .find_map(|(index, nodes)| {
            let part = WorkflowInput {
                workflow: crate::graph::Workflow {
                    version: whole.workflow.version,
                    description: None,
                    nodes: nodes.to_vec(),
                },
                concurrency: whole.concurrency,
                reconcile_minutes: whole.reconcile_minutes,
                resume: None,
                refused_rows: Vec::new(),
                payload_limit: limit,
                folder: whole.folder.clone(),
            };
            let (load, input) = measured(&part, registry);
            let resume_share = limit / 100 * RESUME_PERCENT;
            let why = load.passes(input, limit).or_else(|| {
                (input + load.cut > resume_share).then(|| {
                    format!(
                        "its input and a resume's carried outputs would be about {}, more than the {} of Temporal's {} payload limit a resume may take",
                        size(input + load.cut),
                        size(resume_share),
                        size(limit)
                    )
                })
            })?;
            Some((index, why))
        })
}

/// Parts of at most `part_rows` rows (as many as the average row allows) made smaller until
/// each part of `whole`'s `rows` fits one workflow with room for its resume, or one row.
pub fn even_parts(
    whole: &WorkflowInput,
    registry: &Registry,
    rows: usize,
    part_rows: usize,
) -> usize {
    let mut part_rows = part_rows;
    while part_rows > 1 && uneven_part(whole, registry, rows, part_rows).is_some() {
        part_rows = part_rows * 9 / 10;
    }
    part_rows
}

/// Checks a batch of parts of `part_rows` rows before it is submitted: each part must fit
/// one workflow with room for its resume (a resume of a batch keeps its part size, whatever
/// `--payload-limit` it is given), `batch` (the batch's input) must fit in one payload, and
/// the batch's own history holds, per part, the part's input and what a resume of it carries
/// (within the resume's share of a payload) and its report. `whole` is the table as one
/// document, which the estimates are made from. Refuses, saying how many rows fit.
pub fn check_batch_fits(
    batch: &BatchInput,
    part_rows: usize,
    whole: &WorkflowInput,
    registry: &Registry,
) -> Result<(), String> {
    let limit = batch.payload_limit;
    let rows = batch.table.rows.len();
    let payload = limit / 100 * ESTIMATE_PERCENT;
    let history = HISTORY_BYTES / 100 * HISTORY_PERCENT;
    if let Some((index, why)) = uneven_part(whole, registry, rows, part_rows) {
        let resuming = batch.resumes.is_some();
        return Err(format!(
            "part {} of {part_rows} rows would not fit one Temporal workflow with room for its resume: {why}{}",
            index + 1,
            if resuming {
                "; resume it with the --payload-limit it was submitted with"
            } else {
                ""
            }
        ));
    }
    let (load, _) = measured(whole, registry);
    let part = load.scaled(rows, part_rows);
    let report = (part.whole.min(limit / 100 * FIT_PERCENT)).max(part.cut);
    let per_part = limit / 100 * RESUME_PERCENT + report + 4096;
    let input = json_len(batch);
    let rows_bytes = json_len(&batch.table.rows);
    let per_row = rows_bytes.div_ceil(rows.max(1)).max(1);
    let fixed = input - rows_bytes;
    let input_of = |count: usize| fixed + per_row * count;
    let parts_of = |count: usize| count.div_ceil(part_rows.max(1));
    let fits = |count: usize| {
        input_of(count) <= payload && input_of(count) + parts_of(count) * per_part <= history
    };
    if fits(rows) {
        return Ok(());
    }
    let most = most_that_fit(rows, fits);
    let split = format!(
        "split the table into tables of at most {most} rows, each with the header line, one `submit --rows` each"
    );
    if input > payload {
        return Err(format!(
            "the batch is too big for Temporal: its input (the flow and the table) would be about {}, too near Temporal's {} payload limit; {split}",
            size(input),
            size(limit)
        ));
    }
    Err(format!(
        "the batch is too big for Temporal: its {} parts of {part_rows} rows would take its history near Temporal's limit of {} (each part's input, report and resume are kept there); {split}",
        parts_of(rows),
        size(HISTORY_BYTES)
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::graph::rows::{expand, Cell, Row, Table};
    use crate::graph::Workflow;
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
        // The rows --skip-invalid-rows left out travel with their problems, in the input
        // and the report alike.
        let mut batch = batch_of(500, &registry);
        batch.refused_rows = (0..3000)
            .map(|row| crate::hosts::temporal::messages::RefusedRow {
                row,
                problems: "x".repeat(500),
            })
            .collect();
        let refused = check_fits(&batch, &registry, Some(500)).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("too big for one Temporal workflow"),
            "{refused}"
        );
    }

    #[test]
    fn a_batch_too_big_even_cut_is_refused_saying_how_many_rows_fit() {
        let registry = Registry::from_inventory();
        let refused = check_fits(&batch_of(4000, &registry), &registry, Some(4000)).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("split the table into tables of at most"),
            "{refused}"
        );
        let Split::Rows(most) = refused.split else {
            panic!("{refused}");
        };
        // Room is left for a resume's carried outputs: fewer rows than the 1,100 measured to
        // fit without.
        assert!((800..1100).contains(&most), "{refused}");
        let batch = batch_of(most, &registry);
        assert!(check_fits(&batch, &registry, Some(most)).is_ok());
    }

    fn parts_of(rows: usize) -> BatchInput {
        let (flow, table) = table_of(rows);
        serde_json::from_value(json!({"flow": flow, "table": table, "part_rows": 1})).unwrap()
    }

    #[test]
    fn ten_thousand_rows_run_as_parts_and_a_table_past_what_a_batch_holds_is_refused() {
        let registry = Registry::from_inventory();
        let Split::Rows(part_rows) =
            check_fits(&batch_of(10_000, &registry), &registry, Some(10_000))
                .unwrap_err()
                .split
        else {
            panic!("a table's batch splits by rows");
        };
        let fits = |rows: usize| {
            let whole = batch_of(rows, &registry);
            let part_rows = even_parts(&whole, &registry, rows, part_rows);
            check_batch_fits(&parts_of(rows), part_rows, &whole, &registry)
        };
        assert!(fits(10_000).is_ok());
        let refused = fits(40_000).unwrap_err();
        assert!(refused.contains("tables of at most"), "{refused}");
        let most: usize = refused
            .split("at most ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!((8_000..40_000).contains(&most), "{refused}");
        assert!(fits(most).is_ok());
        // A resume at a smaller payload limit keeps the parts' size, which no longer fits.
        let mut smaller = parts_of(10_000);
        smaller.payload_limit = DEFAULT_PAYLOAD_LIMIT / 2;
        smaller.resumes = Some("wiro-batch-0".into());
        let mut whole = batch_of(10_000, &registry);
        whole.payload_limit = smaller.payload_limit;
        let refused = check_batch_fits(&smaller, part_rows, &whole, &registry).unwrap_err();
        assert!(
            refused.contains("resume it with the --payload-limit"),
            "{refused}"
        );
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
        assert_eq!(fitted(&report, &registry, 1 << 20, &[]), report);
        let cut = fitted(&report, &registry, 8 * 1024, &[]);
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
    fn a_report_that_does_not_fit_even_cut_ends_without_files_rather_than_not_at_all() {
        let registry = Registry::from_inventory();
        // A worker with a long folder and a model with many files a row: more than the
        // estimate allows for, which a batch must survive.
        let folder = format!("/srv/{}/out/wiro-1", "renders/project-x/".repeat(10));
        let files: Vec<Value> = (0..8)
            .map(|file| {
                json!({"path": format!("{folder}/row-0002/row-0002-save-{file}.png"),
                    "size": 3, "sha256": "0".repeat(64), "contenttype": "image/png"})
            })
            .collect();
        let line = |row: usize| NodeLine {
            output_dir: Some(folder.clone()),
            worker: Some("host:1".into()),
            ..finished(
                &format!("row-{row:04}-save"),
                "wiro/output.download",
                json!({ "files": files }),
            )
        };
        let report = Report {
            nodes: (2..100).map(line).collect(),
            ..Report::default()
        };
        let limit = 64 * 1024;
        let fit = fitted(&report, &registry, limit, &[]);
        assert!(
            json_len(&fit) <= limit / 100 * FIT_PERCENT,
            "{}",
            json_len(&fit)
        );
        assert!(fit.outputs_cut && fit.files_cut);
        // A little more room: files named within their folder, still listed.
        let fit = fitted(&report, &registry, 256 * 1024, &[]);
        assert!(!fit.files_cut);
        let path = &fit.nodes[0].outputs.as_ref().unwrap()["files"][7]["path"];
        assert_eq!(path, "row-0002/row-0002-save-7.png");
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
        let cut = fitted(&report, &registry, 8 * 1024, &[]);
        let message = cut.nodes[0].message.as_deref().unwrap();
        assert!(message.ends_with("… (19700 more characters)"), "{message}");
    }
}
