//! The client side: connect to a Temporal server, submit a document under an id derived from
//! it (so submitting the same thing twice runs it once), read its status, cancel it, wait for
//! its result, and say what a resume of a closed execution takes over from it.

use std::collections::HashSet;
use std::time::SystemTime;

use serde_json::Value;
use temporalio_client::errors::{
    WorkflowGetResultError, WorkflowInteractionError, WorkflowQueryError, WorkflowStartError,
};
use temporalio_client::{
    Client, ClientOptions, Connection, ConnectionOptions, WorkflowCancelOptions,
    WorkflowDescribeOptions, WorkflowExecutionDescription, WorkflowExecutionStatus,
    WorkflowGetResultOptions, WorkflowHandle, WorkflowIdReusePolicy, WorkflowQueryOptions,
    WorkflowStartOptions,
};

use super::batch::BatchWorkflow;
use super::limits::cut_outputs;
use super::messages::{
    resume_round, round_id, BatchInput, BatchReport, CarriedNode, LostRun, NodeState, PartLine,
    Report, Resume, WorkflowInput,
};
use super::workflow::GraphWorkflow;

use crate::graph::rows::Table;
use crate::graph::{input_key, Workflow};
use crate::node::Registry;

/// Connects to `host:port` (or a full `http(s)://` address) in `namespace`.
pub async fn connect(address: &str, namespace: &str) -> Result<Client, String> {
    let url = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let target: temporalio_client::Url = url
        .parse()
        .map_err(|error| format!("--temporal {address:?}: {error}"))?;
    let connection =
        Connection::connect(ConnectionOptions::new(target).identity(identity()).build())
            .await
            .map_err(|error| format!("could not connect to Temporal at {address}: {error}"))?;
    Client::new(connection, ClientOptions::new(namespace).build())
        .map_err(|error| format!("Temporal client: {error}"))
}

/// This process's name in Temporal: `host:pid`.
pub fn identity() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// The workflow id for a document with its inputs: the same document (key order aside) gives
/// the same id, so a second submission finds the first instead of paying again.
pub fn workflow_id(workflow: &Workflow) -> String {
    let document = serde_json::to_value(workflow).unwrap_or_default();
    let key = input_key("wiro.workflow", 1, &document);
    format!("wiro-{}", &key[..24])
}

/// What `submit` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// A new execution was started.
    Started(String),
    /// An execution with this id exists already (running or closed); nothing new started.
    AlreadyThere(String),
}

/// Starts the document as a workflow on `task_queue`, unless one with its id exists.
pub async fn submit(
    client: &Client,
    task_queue: &str,
    input: WorkflowInput,
) -> Result<Submitted, String> {
    let id = match &input.resume {
        Some(resume) => resumed_id(&resume.from, &workflow_id(&input.workflow))?,
        None => workflow_id(&input.workflow),
    };
    start(client, (task_queue, id), GraphWorkflow::run, input).await
}

/// Starts `workflow` as `id` on `task_queue`, unless an execution with that id exists.
async fn start<W>(
    client: &Client,
    (task_queue, id): (&str, String),
    workflow: W,
    input: W::Input,
) -> Result<Submitted, String>
where
    W: temporalio_common::HasWorkflowDefinition,
    W::Input: Send,
{
    let options = WorkflowStartOptions::new(task_queue, id.clone())
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .build();
    match client.start_workflow(workflow, input, options).await {
        Ok(_) => Ok(Submitted::Started(id)),
        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(Submitted::AlreadyThere(id)),
        Err(error) => Err(format!("could not start {id}: {error}")),
    }
}

/// The id of the execution that resumes `old`, an execution of the document whose id is
/// `base`: `base-r1`, then `base-r2` for a resume of that one. The same resume twice gives
/// the same id, so it starts once.
pub fn resumed_id(old: &str, base: &str) -> Result<String, String> {
    match resume_round(old) {
        (first, round) if first == base => Ok(round_id(base, round + 1)),
        _ => Err(format!(
            "{old} ran another document: --resume takes an execution of this very document (with the same --set values), whose id is {base} or {base}-rN"
        )),
    }
}

/// What a new execution of `workflow` takes over from `old`, a closed execution of it: the
/// nodes that finished there (a paid node whose task was not waited to its end is checked by
/// the workflow first), and the paid nodes whose Run left without an answer (looked for
/// before sending again). When all it carries (each node with its outputs, worker and
/// folder) would take more than `room` bytes of the new execution's input, or `old`'s report
/// had its outputs cut, the outputs are carried cut: a finished free node only when every
/// node that reads it is carried too (the others run again, at no cost).
pub async fn resume_from(
    client: &Client,
    old: &str,
    document: (&Workflow, &Registry),
    room: usize,
) -> Result<Resume, String> {
    resumed_id(old, &workflow_id(document.0))?;
    resume_part(client, old, document, room)
        .await?
        .ok_or_else(|| format!("workflow {old}: not found"))
}

/// What a part of a resumed batch takes over from `old`, the same part of the batch it
/// resumes ([`resume_from`] without its check that `old` ran this document, which the batch
/// made): `None` when that part never started.
pub async fn resume_part(
    client: &Client,
    old: &str,
    (workflow, registry): (&Workflow, &Registry),
    room: usize,
) -> Result<Option<Resume>, String> {
    let document = (workflow, registry);
    (last_state(client, old).await?)
        .map(|report| resume_with(report, old, document, room))
        .transpose()
}

/// What a part of a batch takes over from `whole`, the closed workflow that ran the batch's
/// table whole ([`BatchInput::began_as`]): the nodes of the part's rows there, as
/// [`resume_part`] takes them from a part; `None` when Temporal no longer holds `whole`.
pub async fn resume_rows(
    client: &Client,
    whole: &str,
    (part, registry): (&Workflow, &Registry),
    room: usize,
) -> Result<Option<Resume>, String> {
    let Some(mut report) = last_state(client, whole).await? else {
        return Ok(None);
    };
    let ids: HashSet<&str> = part.nodes.iter().map(|node| node.id.as_str()).collect();
    report.nodes.retain(|line| ids.contains(line.id.as_str()));
    resume_with(report, whole, (part, registry), room).map(Some)
}

/// Whether part `index` of the closed batch `batch` started its child workflow, as the
/// batch's report says; `None` when Temporal no longer holds the batch.
pub async fn part_started(
    client: &Client,
    batch: &str,
    index: usize,
) -> Result<Option<bool>, String> {
    if status_if_any(client, batch).await?.is_none() {
        return Ok(None);
    }
    let report = batch_progress(client, batch).await?;
    Ok(Some(report.parts.get(index).is_some_and(PartLine::started)))
}

/// Why a resume does not run the rows `id` ran: Temporal no longer holds that execution, so
/// what it finished, paid for, cannot be read.
pub fn no_longer_held(id: &str) -> String {
    format!(
        "{id} ran, but Temporal no longer holds it (its namespace's retention period ended): \
         its rows are not run again, as they may have been paid for; their files are in the \
         batch's folder"
    )
}

/// The last state of `id`, a closed execution, as a resume takes it over; `None` when there
/// is no execution `id`.
async fn last_state(client: &Client, id: &str) -> Result<Option<Report>, String> {
    match status_if_any(client, id).await? {
        None => Ok(None),
        Some(WorkflowExecutionStatus::Running) => Err(still_running(id)),
        Some(_) => progress(client, id).await.map(Some),
    }
}

/// Why a resume of `id` waits: it has not closed.
pub fn still_running(id: &str) -> String {
    format!("{id} is still running: wait for it (`wiro-nodes result {id}`) or cancel it first")
}

/// What `workflow` takes over from `report`, the last state of `old` (a closed execution of
/// the same nodes), cut when whole it would take more than `room` bytes (see [`resume_from`]).
fn resume_with(
    report: Report,
    old: &str,
    (workflow, registry): (&Workflow, &Registry),
    room: usize,
) -> Result<Resume, String> {
    let (paid, consumers) = paid_and_readers(workflow, registry)?;
    let (paid, consumers) = (paid.as_slice(), consumers.as_slice());
    let same_nodes = report.nodes.len() == workflow.nodes.len()
        && report
            .nodes
            .iter()
            .zip(&workflow.nodes)
            .all(|(line, node)| line.id == node.id && line.type_id == node.type_id);
    if !same_nodes {
        return Err(format!("{old}'s nodes are not this document's"));
    }
    let whole = resume_of(&report, old, (paid, consumers), None);
    // All it carries, each node's worker and folder with its outputs, and the lost Runs.
    let carried = serde_json::to_vec(&whole).map_or(usize::MAX, |bytes| bytes.len());
    if !report.outputs_cut && carried <= room {
        return Ok(whole);
    }
    // What a paid node reads is carried whole (see `carried_nodes`).
    let read_by_paid = read_by_paid(paid, consumers);
    let cut = |position: usize, outputs: &Value| match registry.get(&report.nodes[position].type_id)
    {
        Some(node) if !read_by_paid[position] => cut_outputs(outputs, &node.spec().kinds),
        _ => outputs.clone(),
    };
    Ok(resume_of(&report, old, (paid, consumers), Some(&cut)))
}

/// By node position: whether it spends money, and which nodes read its outputs.
fn paid_and_readers(
    workflow: &Workflow,
    registry: &Registry,
) -> Result<(Vec<bool>, Vec<Vec<usize>>), String> {
    let plan = crate::graph::validate(workflow, registry).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        lines.join("; ")
    })?;
    let paid = workflow
        .nodes
        .iter()
        .map(|node| {
            registry
                .get(&node.type_id)
                .is_some_and(|target| target.spec().spends_money)
        })
        .collect();
    let mut readers = vec![Vec::new(); workflow.nodes.len()];
    for (position, inputs) in plan.depends_on.iter().enumerate() {
        for &input in inputs {
            readers[input].push(position);
        }
    }
    Ok((paid, readers))
}

/// How a carried node's outputs are cut, by its position.
type Cut<'a> = &'a dyn Fn(usize, &Value) -> Value;

/// What a new execution takes over from `old`'s `report`. With `cut`, each carried node's
/// outputs are cut, so a finished free node is carried only when every node that reads it
/// is carried too (nothing reads its cut outputs); the others run again, at no cost. A
/// paid node is always carried (its only output, its task, is kept whole), its task
/// checked first when a node that reads it runs again. So nothing that ended is done twice:
/// a row that deleted its task's files is not waited for again.
fn resume_of(
    report: &Report,
    old: &str,
    (paid, consumers): (&[bool], &[Vec<usize>]),
    cut: Option<Cut<'_>>,
) -> Resume {
    let finished: Vec<bool> = report
        .nodes
        .iter()
        .map(|line| line.state == NodeState::Finished && line.outputs.is_some())
        .collect();
    let carried = carried_nodes((&finished, paid), consumers, cut.is_some());
    let carried = |position: usize| carried[position];
    let mut resume = Resume {
        from: old.to_owned(),
        started_at_ms: report.started_at_ms,
        ..Resume::default()
    };
    for (position, line) in report.nodes.iter().enumerate() {
        match (&line.outputs, carried(position)) {
            (Some(outputs), true) => resume.finished.push(CarriedNode {
                node: line.id.clone(),
                outputs: cut.map_or_else(|| outputs.clone(), |cut| cut(position, outputs)),
                check_task: paid[position]
                    && !consumers[position].iter().all(|&later| carried(later)),
                worker: line.worker.clone(),
                output_dir: line.output_dir.clone(),
            }),
            _ if paid[position] && (line.submits > 0 || line.lost_since_ms.is_some()) => {
                resume.lost.push(LostRun {
                    node: line.id.clone(),
                    since_ms: line.lost_since_ms.unwrap_or(report.started_at_ms),
                })
            }
            _ => {}
        }
    }
    resume
}

/// The nodes a paid node reads, by position.
fn read_by_paid(paid: &[bool], consumers: &[Vec<usize>]) -> Vec<bool> {
    consumers
        .iter()
        .map(|readers| readers.iter().any(|&reader| paid[reader]))
        .collect()
}

/// Which nodes a resume carries, by position: every finished one; when `cutting`, a free one
/// only when a paid node reads it (its outputs, kept whole in a cut report, are the inputs a
/// lost Run is looked for with: an upload run again would give a new URL, and the Run would
/// be sent again) or when every node that reads it is carried too.
fn carried_nodes(
    (finished, paid): (&[bool], &[bool]),
    consumers: &[Vec<usize>],
    cutting: bool,
) -> Vec<bool> {
    type Facts<'a> = (&'a [bool], &'a [bool], &'a [Vec<usize>], bool, &'a [bool]);
    fn carried(position: usize, known: &mut [Option<bool>], facts: Facts<'_>) -> bool {
        if let Some(known) = known[position] {
            return known;
        }
        let (finished, paid, consumers, cutting, read_by_paid) = facts;
        let answer = finished[position]
            && (!cutting
                || paid[position]
                || read_by_paid[position]
                || consumers[position]
                    .iter()
                    .all(|&next| carried(next, known, facts)));
        known[position] = Some(answer);
        answer
    }
    let read_by_paid = read_by_paid(paid, consumers);
    let mut known = vec![None; finished.len()];
    (0..finished.len())
        .map(|position| {
            let facts = (finished, paid, consumers, cutting, read_by_paid.as_slice());
            carried(position, &mut known, facts)
        })
        .collect()
}

fn handle(client: &Client, id: &str) -> WorkflowHandle<Client, GraphWorkflow> {
    client.get_workflow_handle::<GraphWorkflow>(id)
}

/// The execution's status as Temporal names it (`Running`, `Completed`, `Canceled`, ...).
pub async fn status(client: &Client, id: &str) -> Result<WorkflowExecutionStatus, String> {
    status_if_any(client, id)
        .await?
        .ok_or_else(|| format!("workflow {id}: not found"))
}

/// The execution's status, or `None` when there is no execution `id`.
pub async fn status_if_any(
    client: &Client,
    id: &str,
) -> Result<Option<WorkflowExecutionStatus>, String> {
    Ok(described(client, id)
        .await?
        .map(|description| description.status()))
}

/// When the execution `id` started, or `None` when there is none.
pub async fn started_at(client: &Client, id: &str) -> Result<Option<SystemTime>, String> {
    Ok(described(client, id)
        .await?
        .and_then(|description| description.start_time()))
}

/// What the server says of the execution `id`, or `None` when there is none.
async fn described(
    client: &Client,
    id: &str,
) -> Result<Option<WorkflowExecutionDescription>, String> {
    match handle(client, id)
        .describe(WorkflowDescribeOptions::default())
        .await
    {
        Ok(description) => Ok(Some(description)),
        Err(WorkflowInteractionError::NotFound(_)) => Ok(None),
        Err(error) => Err(format!("workflow {id}: {error}")),
    }
}

/// Where each node stands (asks a worker, which replays the history).
pub async fn progress(client: &Client, id: &str) -> Result<Report, String> {
    handle(client, id)
        .query(GraphWorkflow::progress, (), WorkflowQueryOptions::default())
        .await
        .map_err(|error| query_failed("workflow", id, error))
}

/// Why `what` `id` did not answer its progress query, in words: a query is answered by a
/// worker, so one the server cannot hand to a worker (none polls the task queue) or that
/// times out (the worker is stuck) is said to be the worker's.
fn query_failed(what: &str, id: &str, error: WorkflowQueryError) -> String {
    use temporalio_client::tonic::Code;
    match error {
        WorkflowQueryError::Rpc(status)
            if matches!(
                status.code(),
                Code::DeadlineExceeded | Code::FailedPrecondition | Code::Cancelled
            ) =>
        {
            format!("{what} {id}: no worker answered its progress query: is `wiro-nodes worker` running on its task queue, and not stuck? ({})", status.message())
        }
        error => format!("{what} {id}: progress query: {error}"),
    }
}

/// Asks the execution to stop: running nodes stop their remote tasks, the rest are skipped.
pub async fn cancel(client: &Client, id: &str) -> Result<(), String> {
    handle(client, id)
        .cancel(
            WorkflowCancelOptions::builder()
                .reason("cancelled with wiro-nodes cancel".to_owned())
                .build(),
        )
        .await
        .map_err(|error| format!("workflow {id}: cancel: {error}"))
}

/// Waits for the execution to close and gives its report (a cancelled run's report too).
pub async fn result(client: &Client, id: &str) -> Result<Report, String> {
    closed(handle(client, id), id).await
}

/// Waits for the execution to close and gives its report, or, for one that has no result
/// (terminated, failed, timed out), its last state as a worker replays it, with why it has
/// no result.
pub async fn result_or_last_state(
    client: &Client,
    id: &str,
) -> Result<(Report, Option<String>), String> {
    or_last_state(result(client, id).await, progress(client, id)).await
}

/// `closed`, an execution's result, or when it has none, what `last` (its progress query)
/// gives, with why it has no result; `closed`'s error when neither answers.
async fn or_last_state<T>(
    closed: Result<T, String>,
    last: impl std::future::Future<Output = Result<T, String>>,
) -> Result<(T, Option<String>), String> {
    match closed {
        Ok(report) => Ok((report, None)),
        Err(error) => match last.await {
            Ok(report) => Ok((report, Some(error))),
            Err(_) => Err(error),
        },
    }
}

/// Waits for an execution of `W` to close and gives its result, or a cancelled one's details.
async fn closed<W>(handle: WorkflowHandle<Client, W>, id: &str) -> Result<W::Output, String>
where
    W: temporalio_common::HasWorkflowDefinition,
    W::Output: serde::de::DeserializeOwned,
{
    match handle.get_result(WorkflowGetResultOptions::default()).await {
        Ok(report) => Ok(report),
        Err(WorkflowGetResultError::Cancelled { details }) => details
            .deserialize::<W::Output>()
            .map_err(|error| format!("workflow {id} was cancelled (no report: {error})")),
        Err(error) => Err(format!("workflow {id}: {error}")),
    }
}

/// What a batch's id starts with; a workflow's is `wiro-` and 24 hex digits.
const BATCH_PREFIX: &str = "wiro-batch-";

/// The id of a batch of `flow` over `table` (with `--set` values applied to the flow): the
/// same table of the same flow gives the same id, so a second submission finds the first.
pub fn batch_id(flow: &Workflow, table: &Table) -> String {
    let document = serde_json::json!({ "flow": flow, "table": table });
    let key = input_key("wiro.batch", 1, &document);
    format!("{BATCH_PREFIX}{}", &key[..24])
}

/// Whether `id` is a batch's: [`batch_id`], or a resume of one (`-r1`, `-r2`...), not one
/// of its parts (`-p1`...), which are workflows.
pub fn is_batch(id: &str) -> bool {
    resume_round(id)
        .0
        .strip_prefix(BATCH_PREFIX)
        .is_some_and(|key| key.len() == 24 && key.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

/// The batch `id` is a part of, and the part's number (from 1), when `id` is one
/// ([`part_id`](super::messages::part_id)): `B-p2` gives `B` and 2.
pub fn part_of(id: &str) -> Option<(&str, usize)> {
    let (batch, number) = id.rsplit_once("-p")?;
    let number = number.parse().ok().filter(|&number| number > 0)?;
    is_batch(batch).then_some((batch, number))
}

/// The id a batch starts under: [`batch_id`], or for a resume the next round of the one it
/// resumes. A batch that resumes the workflow that ran its table whole counts on from it:
/// `wiro-X-r1` resumed in parts is `wiro-batch-Y-r2` (the same resume twice starts once; the
/// table never also ran as `wiro-batch-Y`, which `submit` refuses).
fn batch_execution_id(input: &BatchInput) -> Result<String, String> {
    let base = batch_id(&input.flow, &input.table);
    match &input.resumes {
        Some(old) if input.began_as.as_ref() == Some(old) => {
            Ok(round_id(&base, resume_round(old).1 + 1))
        }
        Some(old) => resumed_id(old, &base),
        None => Ok(base),
    }
}

/// Starts a batch on `task_queue`, unless one with its id exists.
pub async fn submit_batch(
    client: &Client,
    task_queue: &str,
    input: BatchInput,
) -> Result<Submitted, String> {
    let id = batch_execution_id(&input)?;
    start(client, (task_queue, id), BatchWorkflow::run, input).await
}

/// Where each part of a batch stands.
pub async fn batch_progress(client: &Client, id: &str) -> Result<BatchReport, String> {
    client
        .get_workflow_handle::<BatchWorkflow>(id)
        .query(BatchWorkflow::progress, (), WorkflowQueryOptions::default())
        .await
        .map_err(|error| query_failed("batch", id, error))
}

/// Waits for a batch to close and gives its report (a cancelled batch's too), or, for one
/// that has no result, its last state with why it has none (see [`result_or_last_state`]).
pub async fn batch_result_or_last_state(
    client: &Client,
    id: &str,
) -> Result<(BatchReport, Option<String>), String> {
    let closed = closed(client.get_workflow_handle::<BatchWorkflow>(id), id).await;
    or_last_state(closed, batch_progress(client, id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(text: &str) -> Workflow {
        Workflow::from_json(text).unwrap()
    }

    #[test]
    fn the_same_document_gets_the_same_id_whatever_its_key_order() {
        let one = document(
            r#"{"version": 1, "nodes": [{"id": "v", "type": "wiro/model.run",
                "inputs": {"model": "a/b", "parameters": {"x": 1, "y": 2}}}]}"#,
        );
        let two = document(
            r#"{"nodes": [{"inputs": {"parameters": {"y": 2, "x": 1}, "model": "a/b"},
                "type": "wiro/model.run", "id": "v"}], "version": 1}"#,
        );
        assert_eq!(workflow_id(&one), workflow_id(&two));
        assert!(workflow_id(&one).starts_with("wiro-"));
    }

    #[test]
    fn a_resume_of_a_resume_counts_up_and_another_documents_run_is_refused() {
        assert_eq!(resumed_id("wiro-abc", "wiro-abc").unwrap(), "wiro-abc-r1");
        assert_eq!(
            resumed_id("wiro-abc-r1", "wiro-abc").unwrap(),
            "wiro-abc-r2"
        );
        let refused = resumed_id("wiro-def", "wiro-abc").unwrap_err();
        assert!(refused.contains("another document"), "{refused}");
        assert!(resumed_id("wiro-abc-rx", "wiro-abc").is_err());
    }

    #[test]
    fn a_resume_from_a_cut_report_carries_what_ended_and_runs_again_only_what_is_read() {
        let line = |id: &str, state, outputs: Option<serde_json::Value>| super::super::NodeLine {
            id: id.into(),
            state,
            outputs,
            ..Default::default()
        };
        let task = serde_json::json!({"task": {"taskid": "7"}});
        let done = || Some(serde_json::json!({}));
        // Row 2 ended (its files then deleted); row 3's download failed.
        let mut report = Report {
            nodes: vec![
                line("r2-video", NodeState::Finished, Some(task.clone())),
                line("r2-wait", NodeState::Finished, done()),
                line("r2-save", NodeState::Finished, done()),
                line("r2-delete", NodeState::Finished, done()),
                line("r3-video", NodeState::Finished, Some(task.clone())),
                line("r3-wait", NodeState::Finished, done()),
                line("r3-save", NodeState::Failed, None),
                line("r3-delete", NodeState::Skipped, None),
            ],
            ..Report::default()
        };
        let paid = [true, false, false, false, true, false, false, false];
        let consumers = [
            vec![1],
            vec![2, 3],
            vec![3],
            vec![],
            vec![5],
            vec![6, 7],
            vec![7],
            vec![],
        ];
        let whole = resume_of(&report, "old", (&paid, &consumers), None);
        assert_eq!(whole.finished.len(), 6);
        assert!(whole.finished.iter().all(|node| !node.check_task));
        report.outputs_cut = true;
        let cut = |_: usize, outputs: &serde_json::Value| outputs.clone();
        let resumed = resume_of(&report, "old", (&paid, &consumers), Some(&cut));
        let carried: Vec<(&str, bool)> = resumed
            .finished
            .iter()
            .map(|node| (node.node.as_str(), node.check_task))
            .collect();
        assert_eq!(
            carried,
            [
                ("r2-video", false),
                ("r2-wait", false),
                ("r2-save", false),
                ("r2-delete", false),
                // Row 3's wait is read by its download, which runs again: the wait runs
                // again (free), and the task is asked after before it is taken over.
                ("r3-video", true),
            ]
        );
        assert!(resumed.lost.is_empty());
    }

    #[test]
    fn a_resume_is_carried_whole_only_when_all_of_it_fits_its_room() {
        let workflow = document(include_str!("../../../examples/text-to-video.json"));
        let registry = Registry::from_inventory();
        let line = |node: &crate::graph::WorkflowNode, outputs: serde_json::Value| {
            super::super::NodeLine {
                id: node.id.clone(),
                type_id: node.type_id.clone(),
                state: NodeState::Finished,
                outputs: Some(outputs),
                worker: Some("worker-with-a-long-name@a-host.example".into()),
                output_dir: Some("/srv/wiro/out/wiro-0123456789abcdef01234567".into()),
                ..super::super::NodeLine::default()
            }
        };
        let record = serde_json::json!({"id": "7", "status": "task_postprocess_end",
            "debugoutput": "a log line ".repeat(20)});
        let nodes = &workflow.nodes;
        let report = Report {
            nodes: vec![
                line(&nodes[0], serde_json::json!({"task": {"taskid": "7"}})),
                line(
                    &nodes[1],
                    serde_json::json!({"task": record, "outputs": []}),
                ),
                line(&nodes[2], serde_json::json!({"files": []})),
            ],
            ..Report::default()
        };
        let document = (&workflow, &registry);
        let whole = resume_with(report.clone(), "old", document, usize::MAX).unwrap();
        let size = |resume: &Resume| serde_json::to_vec(resume).unwrap().len();
        let outputs: usize = (whole.finished.iter())
            .map(|node| serde_json::to_vec(&node.outputs).unwrap().len())
            .sum();
        assert!(
            outputs < size(&whole),
            "the workers and folders take room too"
        );
        let at_size = resume_with(report.clone(), "old", document, size(&whole)).unwrap();
        assert_eq!(at_size, whole);
        // Room for the outputs, not for all it carries: cut.
        let cut = resume_with(report, "old", document, size(&whole) - 1).unwrap();
        assert!(size(&cut) < size(&whole));
        assert_eq!(cut.finished.len(), 3, "still takes over every node");
    }

    #[test]
    fn a_cut_resume_carries_what_a_lost_run_was_sent_with() {
        let upload = super::super::NodeLine {
            id: "upload".into(),
            state: NodeState::Finished,
            outputs: Some(serde_json::json!({"url": "https://files/abc/cat.png"})),
            ..Default::default()
        };
        let video = super::super::NodeLine {
            id: "video".into(),
            state: NodeState::Failed,
            submits: 1,
            lost_since_ms: Some(5),
            ..Default::default()
        };
        let report = Report {
            nodes: vec![upload, video],
            outputs_cut: true,
            ..Report::default()
        };
        let cut = |_: usize, _: &serde_json::Value| serde_json::json!({});
        let resumed = resume_of(
            &report,
            "old",
            (&[false, true], &[vec![1], vec![]]),
            Some(&cut),
        );
        // Run again, the upload would give a new URL, and the lost Run's task would not be
        // found with it: the Run would be paid twice.
        assert_eq!(resumed.finished.len(), 1);
        assert_eq!(resumed.finished[0].node, "upload");
        assert_eq!(resumed.lost.len(), 1);
    }

    #[test]
    fn a_batch_resuming_a_whole_workflow_counts_on_from_its_round() {
        let flow = document(r#"{"nodes":[]}"#);
        let table = Table {
            columns: vec!["video.prompt".into()],
            rows: Vec::new(),
            blank: Vec::new(),
        };
        let mut input = BatchInput {
            flow: flow.clone(),
            table: table.clone(),
            part_rows: 10,
            concurrency: 1,
            reconcile_minutes: 1,
            payload_limit: 60_000,
            refused_rows: Vec::new(),
            resumes: None,
            began_as: None,
            folder: None,
        };
        let base = batch_id(&flow, &table);
        assert_eq!(batch_execution_id(&input), Ok(base.clone()));
        input.resumes = Some("wiro-0123456789abcdef01234567-r1".into());
        input.began_as = input.resumes.clone();
        assert_eq!(batch_execution_id(&input), Ok(format!("{base}-r2")));
        // Its own resume counts on from it, as any batch's does.
        input.resumes = Some(format!("{base}-r2"));
        assert_eq!(batch_execution_id(&input), Ok(format!("{base}-r3")));
        input.resumes = Some("wiro-batch-0123456789abcdef01234567".into());
        assert!(batch_execution_id(&input).is_err(), "another table's batch");
    }

    #[test]
    fn a_part_names_its_batch_and_number() {
        let batch = format!("{BATCH_PREFIX}{}", "0123456789abcdef01234567");
        assert_eq!(part_of(&format!("{batch}-p2")), Some((batch.as_str(), 2)));
        let resumed = format!("{batch}-r3");
        assert_eq!(
            part_of(&format!("{resumed}-p10")),
            Some((resumed.as_str(), 10))
        );
        assert_eq!(part_of(&batch), None);
        assert_eq!(part_of(&format!("{batch}-p0")), None);
        assert_eq!(part_of(&format!("{batch}-px")), None);
        assert_eq!(part_of("wiro-0123456789abcdef01234567-p1"), None);
    }

    #[test]
    fn a_batch_and_its_resumes_are_batches_and_its_parts_are_workflows() {
        let batch = "wiro-batch-73245073264ea34b741195dc";
        assert!(is_batch(batch));
        assert!(is_batch(&format!("{batch}-r1")));
        assert!(is_batch(&format!("{batch}-r12")));
        assert!(!is_batch(&format!("{batch}-p2")));
        assert!(!is_batch(&format!("{batch}-r1-p2")));
        assert!(!is_batch(&format!("{batch}-r")));
        assert!(!is_batch("wiro-73245073264ea34b741195dc"));
        assert!(!is_batch("wiro-batch-short"));
    }

    #[test]
    fn a_different_input_gets_a_different_id() {
        let one = document(
            r#"{"nodes": [{"id": "v", "type": "wiro/model.run", "inputs": {"model": "a/b"}}]}"#,
        );
        let mut two = one.clone();
        two.set_input("v.model=a/c").unwrap();
        assert_ne!(workflow_id(&one), workflow_id(&two));
    }
}
