//! What travels through Temporal's history: the workflow's input, an activity's call and
//! result, and the report. None of it carries credentials.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::graph::rows::Table;
use crate::graph::Workflow;

/// The input of one [`GraphWorkflow`](super::GraphWorkflow) execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowInput {
    /// The workflow document, with `--set` values already applied.
    pub workflow: Workflow,
    /// At most this many uploads and downloads run at once (0 counts as 1).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// How long a Run whose answer was lost is looked for (Task/List, on durable timers)
    /// before its node fails saying the task may exist, in minutes.
    #[serde(default = "default_reconcile_minutes")]
    pub reconcile_minutes: u64,
    /// What an earlier, failed or cancelled execution of the same document leaves this one
    /// (`submit --resume`): nothing finished is run again, no started task is paid again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
    /// The rows of a table that `submit --rows --skip-invalid-rows` left out, with their
    /// problems: not run, but in the report, so the results table lists every row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused_rows: Vec<RefusedRow>,
    /// The Temporal server's limit on one payload, in bytes (its `limit.blobSize.error`,
    /// 2 MiB unless its operator changed it): a report that would pass it whole carries each
    /// node's outputs cut to what a results table reads (see [`Report::outputs_cut`]).
    #[serde(default = "default_payload_limit")]
    pub payload_limit: usize,
    /// The folder its files go to on a worker, under the worker's `--out`: a part of a
    /// [`BatchWorkflow`](super::BatchWorkflow) downloads into its batch's folder, so a
    /// table's files are in one `OUT/<batch id>/row-NNNN/` whatever part ran them. `None`:
    /// the execution's own id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
}

/// A row of a table refused before the batch was submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RefusedRow {
    /// The row's line in the table.
    pub row: usize,
    /// Why it was refused: each problem, naming its column.
    pub problems: String,
}

/// What a resumed execution takes over from the one it resumes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    /// The execution it resumes.
    pub from: String,
    /// Nodes that finished there, with their outputs.
    pub finished: Vec<CarriedNode>,
    /// Paid nodes that sent a Run there (or in an execution it resumed) without getting its
    /// answer: their task is looked for (Task/List) before a Run is sent again.
    pub lost: Vec<LostRun>,
    /// When that execution started (Unix milliseconds): the lost Runs left after it.
    pub started_at_ms: u64,
}

/// A paid node whose Run's answer was lost in an earlier execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LostRun {
    /// The node's id.
    pub node: String,
    /// When its earliest lost Run was scheduled (Unix ms): the look starts there.
    pub since_ms: u64,
}

/// A node that finished in the execution being resumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarriedNode {
    /// The node's id.
    pub node: String,
    /// Its outputs there.
    pub outputs: Value,
    /// A paid node whose task was not waited to its end there: ask whether it ended without
    /// a result (cancelled, failed: not billed) before taking it over; such a node runs again.
    #[serde(default)]
    pub check_task: bool,
    /// The worker that ran it there, and the folder its files are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<String>,
}

fn default_concurrency() -> usize {
    8
}

fn default_reconcile_minutes() -> u64 {
    30
}

/// `2 finished, 1 skipped`: each state's count and name, those with none left out.
fn counted<S: Copy>(states: &[(S, &str)], count: impl Fn(S) -> usize) -> String {
    let parts: Vec<String> = states
        .iter()
        .filter_map(|&(state, name)| {
            let count = count(state);
            (count > 0).then(|| format!("{count} {name}"))
        })
        .collect();
    parts.join(", ")
}

fn no_time(ms: &u64) -> bool {
    *ms == 0
}

fn default_payload_limit() -> usize {
    super::limits::DEFAULT_PAYLOAD_LIMIT
}

/// A paid node whose Run's answer was lost (its worker died, it timed out), to be looked for
/// with Task/List: its call, and when the workflow scheduled the submit (the Run left after
/// that), in Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconcileCall {
    /// The submit's call, with the tasks the workflow already holds.
    pub call: NodeCall,
    /// When the submit was scheduled, by the workflow's clock.
    pub scheduled_at_ms: u64,
}

/// What Task/List says about a lost Run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Reconciled {
    /// The Run created this task: the node's outputs, with it adopted.
    Found {
        /// The node's outputs (its task handle).
        outputs: Value,
        /// The worker that found it.
        worker: String,
    },
    /// The listing covers the window, read twice, and holds no such task: send it again.
    NotCreated,
    /// The listing cannot tell yet.
    CannotTell {
        /// Why.
        reason: String,
    },
}

/// One node, as the workflow asks a worker to run it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeCall {
    /// The workflow execution's id, or its batch's for a batch's part
    /// ([`WorkflowInput::folder`]): downloads land in a folder of that name.
    pub run: String,
    /// The node's id in the document.
    pub node: String,
    /// The node type's id; also the activity's name.
    pub type_id: String,
    /// The inputs, references already replaced by the outputs they point at.
    pub inputs: Value,
    /// The tasks this workflow's paid nodes already started: a lost Run's answer is never
    /// matched to one of them.
    #[serde(default)]
    pub claimed: Vec<String>,
}

/// A node's outputs, and where it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeDone {
    /// The node's outputs, as its output schema says.
    pub outputs: Value,
    /// The worker that ran it (`--identity`, by default `host:pid`).
    pub worker: String,
    /// The folder it wrote files to on that worker (absolute).
    pub output_dir: String,
}

/// Where a node stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Not started yet.
    #[default]
    Pending,
    /// Its activity is scheduled or running.
    Running,
    /// A paid submit was refused for lack of a slot (code 96): waiting to submit again.
    WaitingForSlot,
    /// It gave its outputs.
    Finished,
    /// It failed; `message` says why.
    Failed,
    /// It was cancelled (its remote task stopped).
    Cancelled,
    /// It never ran: an input node did not finish, or the run was cancelled first.
    Skipped,
}

impl NodeState {
    /// Whether the node will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Finished | Self::Failed | Self::Cancelled | Self::Skipped
        )
    }
}

/// One node in the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeLine {
    /// The node's id.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub type_id: String,
    /// Where it stands.
    pub state: NodeState,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Its outputs, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Value>,
    /// The worker that produced the outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// The folder on that worker where its files are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<String>,
    /// How many times a paid Run was sent (refusals with code 96 included; only one can
    /// have been accepted).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub submits: u32,
    /// When the earliest Run of this node whose answer was lost was scheduled (Unix ms), in
    /// this execution or one it resumed: a later look for its task starts there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_since_ms: Option<u64>,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

/// The workflow's result, and its progress while it runs (the `progress` query).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The workflow execution's id.
    pub workflow_id: String,
    /// The nodes, in document order.
    pub nodes: Vec<NodeLine>,
    /// Whether the run was cancelled.
    pub cancelled: bool,
    /// When the execution started, by the workflow's clock (Unix milliseconds).
    #[serde(default)]
    pub started_at_ms: u64,
    /// When its last paid Run was accepted, by the workflow's clock (Unix milliseconds; 0
    /// when it sent none): a batch starts its next part no sooner than a lost Run's search
    /// could still see that task.
    #[serde(default, skip_serializing_if = "no_time")]
    pub last_run_ms: u64,
    /// The table's rows refused before the batch was submitted (see
    /// [`WorkflowInput::refused_rows`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused_rows: Vec<RefusedRow>,
    /// The nodes' outputs are cut to what a results table reads (each paid node's task,
    /// each task record's id, status and cost, each node's local files): the whole report
    /// would have passed Temporal's payload limit, and a workflow whose result does not fit
    /// cannot end. Each node's activity result in the workflow's history holds its outputs
    /// whole.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outputs_cut: bool,
    /// Even cut, the outputs did not fit: the report names no files, folders or workers
    /// (each row's files are in its folder on the worker, `OUT/<workflow id>/row-NNNN/`),
    /// and its messages are short.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub files_cut: bool,
}

impl Report {
    /// How many nodes are in `state`.
    pub fn count(&self, state: NodeState) -> usize {
        self.nodes.iter().filter(|node| node.state == state).count()
    }

    /// Whether every node finished.
    pub fn succeeded(&self) -> bool {
        self.nodes
            .iter()
            .all(|node| node.state == NodeState::Finished)
    }

    /// For a table's batch (nodes named `row-NNNN-…`), one line: rows whose every node
    /// finished, rows with a node that failed, was cancelled or skipped, and the rest, still
    /// to run. `None` for a document of its own.
    pub fn rows_summary(&self) -> Option<String> {
        let mut rows: std::collections::BTreeMap<usize, NodeState> = Default::default();
        for node in &self.nodes {
            let (line, _) = crate::graph::rows::split_row(&node.id)?;
            let ended_short = |state| {
                matches!(
                    state,
                    NodeState::Failed | NodeState::Cancelled | NodeState::Skipped
                )
            };
            let row = rows.entry(line).or_insert(NodeState::Finished);
            *row = if ended_short(*row) || ended_short(node.state) {
                NodeState::Failed
            } else if *row == NodeState::Finished && node.state == NodeState::Finished {
                NodeState::Finished
            } else {
                NodeState::Pending
            };
        }
        let count = |state| rows.values().filter(|row| **row == state).count();
        Some(format!(
            "rows: {} done, {} not done, {} to go",
            count(NodeState::Finished),
            count(NodeState::Failed),
            count(NodeState::Pending)
        ))
    }

    /// One line: how many nodes are in each state.
    pub fn summary(&self) -> String {
        let states = [
            (NodeState::Finished, "finished"),
            (NodeState::Running, "running"),
            (NodeState::WaitingForSlot, "waiting for a slot"),
            (NodeState::Pending, "pending"),
            (NodeState::Failed, "failed"),
            (NodeState::Cancelled, "cancelled"),
            (NodeState::Skipped, "skipped"),
        ];
        let counts = counted(&states, |state| self.count(state));
        format!("{} nodes: {counts}", self.nodes.len())
    }
}

/// The input of one [`BatchWorkflow`](super::BatchWorkflow): a table too big for one
/// workflow, run in parts of `part_rows` rows, each part a child workflow of the flow once
/// per row, one part after another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchInput {
    /// The flow, with `--set` values already applied.
    pub flow: Workflow,
    /// The rows to run (those `--skip-invalid-rows` refused are in `refused_rows`).
    pub table: Table,
    /// How many rows each part takes: as many as one workflow holds (see `limits`).
    pub part_rows: usize,
    /// Each part's [`WorkflowInput::concurrency`].
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Each part's [`WorkflowInput::reconcile_minutes`].
    #[serde(default = "default_reconcile_minutes")]
    pub reconcile_minutes: u64,
    /// Each part's [`WorkflowInput::payload_limit`].
    #[serde(default = "default_payload_limit")]
    pub payload_limit: usize,
    /// The rows refused before the batch was submitted, with their problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused_rows: Vec<RefusedRow>,
    /// A closed batch of the same table this one resumes (`submit --resume`): each part
    /// takes over what the same part finished there, as a resumed workflow does. Or the
    /// closed workflow that ran the table whole (see `began_as`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes: Option<String>,
    /// The workflow that first ran this table whole, when the table went on in parts (a
    /// resume at a smaller `--payload-limit`): a part that no batch of the resume chain
    /// started takes over what that workflow finished of its rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub began_as: Option<String>,
    /// The folder its files go to (see [`WorkflowInput::folder`]); `None`: the first batch
    /// of its resume chain's id ([`batch_folder`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
}

impl BatchInput {
    /// The parts, in table order: each a table of at most `part_rows` rows.
    pub fn parts(&self) -> Vec<Table> {
        self.table
            .rows
            .chunks(self.part_rows.max(1))
            .map(|rows| Table {
                columns: self.table.columns.clone(),
                rows: rows.to_vec(),
                blank: Vec::new(),
            })
            .collect()
    }
}

/// The id of part `index` (from 0) of the batch `batch`: `BATCH-p1`, `BATCH-p2`, ...
pub fn part_id(batch: &str, index: usize) -> String {
    format!("{batch}-p{}", index + 1)
}

/// The batches a resume chain went through, newest first: `B-r2` gives `B-r2`, `B-r1`, `B`.
pub fn resume_chain(batch: &str) -> Vec<String> {
    let (first, rounds) = resume_round(batch);
    (0..=rounds)
        .rev()
        .map(|round| round_id(first, round))
        .collect()
}

/// The folder a batch's files go to: the first batch's id, for its resumes too (`BATCH-r2`
/// downloads into `BATCH`), so a table's files are in one folder however often it resumed.
pub fn batch_folder(batch: &str) -> &str {
    resume_round(batch).0
}

/// The id of resume round `round` of the execution `first`: `X-r2`; round 0 is `X` itself.
/// The inverse of [`resume_round`].
pub fn round_id(first: &str, round: u32) -> String {
    match round {
        0 => first.to_owned(),
        round => format!("{first}-r{round}"),
    }
}

/// An execution's id split into the first execution's and its resume's round: `X-r2` gives
/// `X` and 2, an id without `-rN` itself and 0.
pub fn resume_round(id: &str) -> (&str, u32) {
    match id.rsplit_once("-r") {
        Some((first, round)) if !round.is_empty() && round.bytes().all(|b| b.is_ascii_digit()) => {
            round.parse().map_or((id, 0), |round| (first, round))
        }
        _ => (id, 0),
    }
}

/// A resumed batch's question to a worker: what part `part` (from 0) of `flow` over `table`
/// takes over from the batch it resumes, in at most `room` bytes of outputs: from the same
/// part of `old_batch`, or of the batch that one resumed when it never started that part,
/// or from its rows in the workflow `began_as` (which `old_batch` names when the batch
/// resumes that workflow itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartResumeCall {
    /// The batch resumed.
    pub old_batch: String,
    /// The workflow that first ran the table whole ([`BatchInput::began_as`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub began_as: Option<String>,
    /// The part's index, from 0.
    pub part: usize,
    /// The batch's flow.
    pub flow: Workflow,
    /// The part's rows.
    pub table: Table,
    /// How many bytes the carried outputs may take (see `limits::resume_room`).
    pub room: usize,
}

/// Where a part of a batch stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    /// Not started: the parts before it run first.
    #[default]
    Pending,
    /// Its child workflow runs.
    Running,
    /// Its child workflow ended (its rows done or failed: see `done` and `failed`).
    Ended,
    /// It was cancelled while it ran.
    Cancelled,
    /// Its child workflow could not run (`message` says why): its rows did not run.
    Failed,
    /// The batch was cancelled before it started.
    Skipped,
}

/// One part of a batch in its report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartLine {
    /// Its child workflow's id (`status`, `result` and Temporal's UI take it too).
    pub id: String,
    /// The table lines of its first and last row.
    pub first_row: usize,
    /// See `first_row`.
    pub last_row: usize,
    /// How many rows it holds.
    pub rows: usize,
    /// Each row's line in the table (so a results table lists the rows of a part that
    /// did not run).
    #[serde(default)]
    pub lines: Vec<usize>,
    /// Where it stands.
    pub state: PartState,
    /// Whether its child workflow started (so its rows may have been paid for), whatever
    /// became of it; see [`PartLine::started`].
    #[serde(default)]
    pub child_started: bool,
    /// Rows that finished, once it ended.
    #[serde(default)]
    pub done: usize,
    /// Rows that failed, were skipped or cancelled, once it ended.
    #[serde(default)]
    pub failed: usize,
    /// What its tasks were charged, in dollars, once it ended.
    #[serde(default)]
    pub cost: f64,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl PartLine {
    /// Whether its child workflow started: noted since it started, or said by a state only a
    /// started child reaches (a report written before the note was kept).
    pub fn started(&self) -> bool {
        self.child_started
            || matches!(
                self.state,
                PartState::Running | PartState::Ended | PartState::Cancelled
            )
    }
}

/// A batch's report: its parts (each row's results are in its part's report) and the rows
/// refused before it was submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    /// The batch's workflow id.
    pub batch_id: String,
    /// The folder its files are in on the workers, under each worker's `--out`.
    pub folder: String,
    /// The payload limit it was submitted with (a resume keeps it; 0: not known).
    #[serde(default)]
    pub payload_limit: usize,
    /// The workflow that first ran the table whole ([`BatchInput::began_as`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub began_as: Option<String>,
    /// The parts, in table order.
    pub parts: Vec<PartLine>,
    /// The rows refused before the batch was submitted.
    #[serde(default)]
    pub refused_rows: Vec<RefusedRow>,
    /// Whether the batch was cancelled.
    pub cancelled: bool,
}

impl BatchReport {
    /// Whether every part ran and every row in it finished.
    pub fn succeeded(&self) -> bool {
        self.parts
            .iter()
            .all(|part| part.state == PartState::Ended && part.failed == 0)
    }

    /// One line: rows done and failed, parts by state, spent so far.
    pub fn summary(&self) -> String {
        let rows: usize = self.parts.iter().map(|part| part.rows).sum();
        let done: usize = self.parts.iter().map(|part| part.done).sum();
        let failed: usize = self.parts.iter().map(|part| part.failed).sum();
        let cost = crate::graph::sum_usd(self.parts.iter().map(|part| part.cost));
        let count = |state| self.parts.iter().filter(|part| part.state == state).count();
        let states = [
            (PartState::Ended, "ended"),
            (PartState::Running, "running"),
            (PartState::Pending, "pending"),
            (PartState::Cancelled, "cancelled"),
            (PartState::Failed, "failed"),
            (PartState::Skipped, "skipped"),
        ];
        format!(
            "{rows} rows in {} parts ({}): in the parts that ended, {done} done, {failed} not done, {} charged",
            self.parts.len(),
            counted(&states, count),
            crate::graph::usd(cost)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_that_may_have_paid_for_rows_reads_as_started_in_old_reports_too() {
        let read = |json: &str| serde_json::from_str::<PartLine>(json).unwrap().started();
        let old = |state: &str| {
            format!(r#"{{"id":"b-p1","first_row":2,"last_row":3,"rows":2,"state":"{state}"}}"#)
        };
        for state in ["running", "ended", "cancelled"] {
            assert!(read(&old(state)), "{state}");
        }
        for state in ["pending", "skipped", "failed"] {
            assert!(!read(&old(state)), "{state}");
        }
        // A child that started and then failed: its rows may have been paid for.
        let failed_after_start = PartLine {
            state: PartState::Failed,
            child_started: true,
            ..PartLine::default()
        };
        assert!(failed_after_start.started());
        let written = serde_json::to_string(&failed_after_start).unwrap();
        assert!(read(&written));
    }

    #[test]
    fn the_summary_counts_nodes_by_state() {
        let line = |state| NodeLine {
            state,
            ..NodeLine::default()
        };
        let report = Report {
            workflow_id: "wiro-x".into(),
            nodes: vec![
                line(NodeState::Finished),
                line(NodeState::Finished),
                line(NodeState::WaitingForSlot),
                line(NodeState::Skipped),
            ],
            cancelled: false,
            started_at_ms: 0,
            last_run_ms: 0,
            refused_rows: Vec::new(),
            outputs_cut: false,
            files_cut: false,
        };
        assert_eq!(
            report.summary(),
            "4 nodes: 2 finished, 1 waiting for a slot, 1 skipped"
        );
        assert!(!report.succeeded());
        assert_eq!(
            report.rows_summary(),
            None,
            "a document of its own has no rows"
        );
    }

    #[test]
    fn a_tables_progress_counts_rows_done_not_done_and_to_go() {
        let node = |id: &str, state| NodeLine {
            id: id.into(),
            state,
            ..NodeLine::default()
        };
        let report = Report {
            nodes: vec![
                node("row-0002-video", NodeState::Finished),
                node("row-0002-save", NodeState::Finished),
                node("row-0003-video", NodeState::Failed),
                node("row-0003-save", NodeState::Skipped),
                node("row-0004-video", NodeState::Finished),
                node("row-0004-save", NodeState::Running),
                node("row-0005-video", NodeState::WaitingForSlot),
                node("row-0005-save", NodeState::Pending),
            ],
            ..Report::default()
        };
        assert_eq!(
            report.rows_summary().as_deref(),
            Some("rows: 1 done, 1 not done, 2 to go")
        );
    }

    #[test]
    fn a_resume_round_and_its_id_go_both_ways() {
        assert_eq!(resume_round("wiro-0fcc5e-r12"), ("wiro-0fcc5e", 12));
        assert_eq!(resume_round("wiro-0fcc5e"), ("wiro-0fcc5e", 0));
        assert_eq!(round_id("wiro-0fcc5e", 12), "wiro-0fcc5e-r12");
        assert_eq!(round_id("wiro-0fcc5e", 0), "wiro-0fcc5e");
    }

    #[test]
    fn a_resumed_batch_downloads_into_the_first_batchs_folder() {
        assert_eq!(batch_folder("wiro-batch-0fcc5e-r2"), "wiro-batch-0fcc5e");
        assert_eq!(batch_folder("wiro-batch-0fcc5e"), "wiro-batch-0fcc5e");
        assert_eq!(
            part_id("wiro-batch-0fcc5e-r2", 0),
            "wiro-batch-0fcc5e-r2-p1"
        );
        assert_eq!(
            resume_chain("wiro-batch-0fcc5e-r2"),
            [
                "wiro-batch-0fcc5e-r2",
                "wiro-batch-0fcc5e-r1",
                "wiro-batch-0fcc5e"
            ]
        );
        assert_eq!(resume_chain("wiro-batch-0fcc5e"), ["wiro-batch-0fcc5e"]);
    }

    #[test]
    fn a_workflow_input_without_concurrency_runs_eight_at_once() {
        let input: WorkflowInput = serde_json::from_str(r#"{"workflow": {"nodes": []}}"#).unwrap();
        assert_eq!(input.concurrency, 8);
    }
}
