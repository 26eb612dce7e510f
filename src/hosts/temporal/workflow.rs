//! [`GraphWorkflow`]: one workflow document as one durable Temporal workflow, with the local
//! executor's meaning — validation before anything starts, `$from` references, independent
//! nodes concurrently within a bound, a failed node skipping what depends on it, and
//! cancellation that stops remote tasks. How each node is called (the money rules) is in
//! `calls`.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use futures_util::future::select_all;
use serde_json::Value;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ApplicationFailure, WorkflowContext, WorkflowContextView, WorkflowResult, WorkflowTermination,
};

use super::calls::{in_turn, run_node, stop_started_tasks, Outcome};
use super::limits::fitted;
use super::messages::{NodeCall, NodeLine, NodeState, Report, Resume, WorkflowInput};
use super::reconcile::ended_without_result;
use crate::graph::schedule::{Next, Schedule, SkipReason};
use crate::graph::{resolve_inputs, validate, Workflow};
use crate::node::Registry;

/// Runs one workflow document; the `progress` query shows where each node stands.
#[workflow]
#[derive(Default)]
pub struct GraphWorkflow {
    pub(super) report: Report,
    /// The server's limit on one payload, which the report is given within.
    payload_limit: usize,
    /// The nodes a paid node reads, by position: their outputs stay whole in a cut report.
    read_by_paid: Vec<bool>,
}

type Running<'a> = Pin<Box<dyn Future<Output = (usize, Outcome)> + 'a>>;

/// The tasks the workflow's paid nodes started so far, read from their declared ports.
fn claimed_tasks(workflow: &Workflow, schedule: &Schedule<'_>) -> Vec<String> {
    workflow
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(position, node)| {
            let spec = registry().get(&node.type_id)?.spec();
            Some(spec.kinds.started_task(schedule.output(position)?)?.taskid)
        })
        .collect()
}

/// The kinds of slot a node waits for: file movers share the document's concurrency, and
/// paid Runs leave one at a time (so each submit knows every task the others started, and a
/// lost answer is never matched to another node's task). API calls and waits take none.
const FILE_SLOTS: usize = 0;
const RUN_SLOT: usize = 1;

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// Sets the node types this process's workflows run (static nodes and a catalog's models);
/// call it before the worker starts. Without it, workflows see the static node types. Every
/// worker of a task queue must use the same catalog: a workflow validates its document
/// against it, on every worker that replays it.
pub fn use_registry(registry: Registry) {
    if REGISTRY.set(registry).is_err() {
        tracing::warn!("the workflows' node types were set already; keeping the first");
    }
}

pub(super) fn registry() -> &'static Registry {
    REGISTRY.get_or_init(Registry::from_inventory)
}

#[workflow_methods]
impl GraphWorkflow {
    /// Validates the document (an invalid one fails the workflow before any activity), then
    /// runs it. A cancelled run ends as cancelled, with the report as its details.
    #[run(name = "wiro.workflow.3")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: WorkflowInput,
    ) -> WorkflowResult<Report> {
        let workflow = input.workflow;
        let plan = match validate(&workflow, registry()) {
            Ok(plan) => plan,
            Err(problems) => {
                let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
                return Err(ApplicationFailure::non_retryable(format!(
                    "the workflow is invalid; nothing was started: {}",
                    lines.join("; ")
                ))
                .into());
            }
        };
        let run_id = ctx.workflow_id().to_owned();
        // Where its nodes' files go: a batch's part writes into its batch's folder.
        let folder = input.folder.clone().unwrap_or_else(|| run_id.clone());
        let started_at_ms = now_ms(ctx);
        ctx.state_mut(|state| {
            state.report = initial_report(&run_id, &workflow);
            state.report.started_at_ms = started_at_ms;
            state.report.refused_rows = input.refused_rows.clone();
            state.payload_limit = input.payload_limit;
        });
        let ctx = &*ctx;
        let spec = |position: usize| {
            registry()
                .get(&workflow.nodes[position].type_id)
                .map(|node| node.spec())
        };
        let paid: Vec<bool> = (0..workflow.nodes.len())
            .map(|position| spec(position).is_some_and(|spec| spec.spends_money))
            .collect();
        let mut read_by_paid = vec![false; paid.len()];
        for (position, inputs) in plan.depends_on.iter().enumerate() {
            if paid[position] {
                inputs.iter().for_each(|&input| read_by_paid[input] = true);
            }
        }
        ctx.state_mut(|state| state.read_by_paid = read_by_paid);
        // The same rule as the local executor's (graph::Schedule), deterministic and free
        // of I/O, with one more kind of slot for paid Runs.
        let mut schedule = Schedule::with_slots(&plan, vec![input.concurrency, 1], |position| {
            if paid[position] {
                Some(RUN_SLOT)
            } else {
                spec(position)
                    .is_some_and(|spec| spec.transfers_files)
                    .then_some(FILE_SLOTS)
            }
        });
        let reconcile_for = std::time::Duration::from_secs(input.reconcile_minutes * 60);
        let lost_since = match &input.resume {
            Some(resume) => take_over(ctx, &workflow, &mut schedule, resume).await,
            None => Vec::new(),
        };
        let mut running: Vec<Running<'_>> = Vec::new();
        loop {
            let cancelled = ctx.cancellation_token().is_cancelled();
            while let Some(next) = schedule.next(cancelled) {
                let position = match next {
                    Next::Skip(position, reason) => {
                        schedule.skipped(position);
                        let because = match reason {
                            SkipReason::InputDidNotFinish(input) => {
                                format!("input node {:?} did not finish", workflow.nodes[input].id)
                            }
                            SkipReason::Cancelled => "the run was cancelled".to_owned(),
                        };
                        report_state(ctx, position, NodeState::Skipped, Some(because));
                        continue;
                    }
                    Next::Start(position) => position,
                };
                let node = &workflow.nodes[position];
                let resolved = resolve_inputs(
                    &node.inputs,
                    &workflow,
                    schedule.inputs_of(position),
                    |source| schedule.output(source),
                );
                let inputs = match resolved {
                    Ok(inputs) => Value::Object(inputs),
                    Err(message) => {
                        schedule.failed(position);
                        report_state(ctx, position, NodeState::Failed, Some(message));
                        continue;
                    }
                };
                let claimed = if paid[position] {
                    claimed_tasks(&workflow, &schedule)
                } else {
                    Vec::new()
                };
                let call = NodeCall {
                    run: folder.clone(),
                    node: node.id.clone(),
                    type_id: node.type_id.clone(),
                    inputs,
                    claimed,
                };
                schedule.running(position);
                report_state(ctx, position, NodeState::Running, None);
                running.push(Box::pin(run_node(
                    ctx,
                    position,
                    call,
                    paid[position],
                    reconcile_for,
                    lost_since.get(position).copied().flatten(),
                )));
            }
            if running.is_empty() {
                break;
            }
            let ((position, outcome), _, rest) = select_all(running).await;
            running = rest;
            match outcome {
                Outcome::Finished(done) => {
                    schedule.done(position, done.outputs.clone());
                    let accepted_at = paid[position].then(|| now_ms(ctx));
                    ctx.state_mut(|s| {
                        if let Some(accepted_at) = accepted_at {
                            s.report.last_run_ms = accepted_at;
                        }
                        let line = &mut s.report.nodes[position];
                        line.state = NodeState::Finished;
                        line.outputs = Some(done.outputs);
                        line.worker = Some(done.worker);
                        line.output_dir = Some(done.output_dir);
                    });
                }
                Outcome::Failed(message) => {
                    schedule.failed(position);
                    report_state(ctx, position, NodeState::Failed, Some(message));
                }
                Outcome::Cancelled => {
                    schedule.failed(position);
                    report_state(ctx, position, NodeState::Cancelled, None);
                }
            }
        }
        let cancelled = ctx.cancellation_token().is_cancelled();
        if cancelled {
            stop_started_tasks(ctx).await;
        }
        let report = ctx.state_mut(|s| {
            s.report.cancelled = cancelled;
            fitted(&s.report, registry(), s.payload_limit, &s.read_by_paid)
        });
        if cancelled {
            return Err(WorkflowTermination::cancelled_with_details(report));
        }
        Ok(report)
    }

    /// Where each node stands, with the outputs of those that finished (cut when the whole
    /// would not fit in one payload, as the result is).
    #[query]
    pub fn progress(&self, _ctx: &WorkflowContextView) -> Report {
        fitted(
            &self.report,
            registry(),
            self.payload_limit,
            &self.read_by_paid,
        )
    }
}

/// Takes over what the execution being resumed finished: each finished node is done here with
/// its outputs (a paid node whose task was not waited to its end there is checked first: a
/// task that ended without a result was not billed, and its node runs again). Gives, by
/// position, when each lost Run left (its task is looked for before sending again).
async fn take_over(
    ctx: &WorkflowContext<GraphWorkflow>,
    workflow: &Workflow,
    schedule: &mut Schedule<'_>,
    resume: &Resume,
) -> Vec<Option<std::time::SystemTime>> {
    let position_of = |id: &str| workflow.nodes.iter().position(|node| node.id == id);
    let ended = ended_there(ctx, workflow, resume).await;
    for (carried, ended) in resume.finished.iter().zip(ended) {
        let Some(position) = position_of(&carried.node) else {
            continue;
        };
        if let Some((task, how)) = ended {
            let message = format!(
                "its task {task} in {} {how} (not billed): it runs again",
                resume.from
            );
            report_state(ctx, position, NodeState::Pending, Some(message));
            continue;
        }
        schedule.done(position, carried.outputs.clone());
        ctx.state_mut(|s| {
            let line = &mut s.report.nodes[position];
            line.state = NodeState::Finished;
            line.outputs = Some(carried.outputs.clone());
            line.message = Some(format!("taken over from {}", resume.from));
            line.submits = u32::from(carried.check_task);
            line.worker = carried.worker.clone();
            line.output_dir = carried.output_dir.clone();
        });
    }
    let mut lost = vec![None; workflow.nodes.len()];
    for run in &resume.lost {
        if let Some(position) = position_of(&run.node) {
            lost[position] =
                Some(std::time::UNIX_EPOCH + std::time::Duration::from_millis(run.since_ms));
        }
    }
    lost
}

/// How many carried tasks a resume asks after at once.
const CHECKS_AT_ONCE: usize = 32;

/// For each node `resume` carries (in its order), its task's id and how it ended without a
/// result there, when the node's task was not waited to its end and it did (cancelled,
/// failed: not billed). Asked [`CHECKS_AT_ONCE`] at a time: a cut resume of a thousand rows
/// asks after a thousand tasks.
async fn ended_there(
    ctx: &WorkflowContext<GraphWorkflow>,
    workflow: &Workflow,
    resume: &Resume,
) -> Vec<Option<(String, String)>> {
    let checks = resume
        .finished
        .iter()
        .enumerate()
        .filter(|(_, carried)| carried.check_task)
        .filter_map(|(index, carried)| {
            let node = workflow.nodes.iter().find(|node| node.id == carried.node)?;
            let spec = registry().get(&node.type_id)?.spec();
            Some((index, spec.kinds.started_task(&carried.outputs)?))
        });
    let asks = checks.map(|(index, task)| async move {
        let how = ended_without_result(ctx, &task).await;
        (index, task.taskid, how)
    });
    let mut ended = vec![None; resume.finished.len()];
    for (index, task, how) in in_turn(asks, CHECKS_AT_ONCE).await {
        ended[index] = how.map(|how| (task, how));
    }
    ended
}

/// The workflow's clock, in Unix milliseconds (0 before it has one).
pub(super) fn now_ms<W>(ctx: &WorkflowContext<W>) -> u64 {
    ctx.workflow_time()
        .and_then(|now| now.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_millis() as u64)
}

fn initial_report(run_id: &str, workflow: &Workflow) -> Report {
    Report {
        workflow_id: run_id.to_owned(),
        nodes: workflow
            .nodes
            .iter()
            .map(|node| NodeLine {
                id: node.id.clone(),
                type_id: node.type_id.clone(),
                ..NodeLine::default()
            })
            .collect(),
        ..Report::default()
    }
}

/// Sets a node's state in the report only (a running node's own changes).
pub(super) fn report_state(
    ctx: &WorkflowContext<GraphWorkflow>,
    position: usize,
    state: NodeState,
    message: Option<String>,
) {
    ctx.state_mut(|s| {
        let line = &mut s.report.nodes[position];
        line.state = state;
        line.message = message;
    });
}
