//! [`GraphWorkflow`]: one workflow document as one durable Temporal workflow, with the local
//! executor's meaning — validation before anything starts, `$from` references, independent
//! nodes concurrently within a bound, a failed node skipping what depends on it, and
//! cancellation that stops remote tasks. How each node is called (the money rules) is in
//! [`calls`](super::calls).

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use futures_util::future::select_all;
use serde_json::Value;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ApplicationFailure, WorkflowContext, WorkflowContextView, WorkflowResult, WorkflowTermination,
};

use super::calls::{run_node, stop_started_tasks, Outcome};
use super::messages::{NodeCall, NodeLine, NodeState, Report, WorkflowInput};
use crate::graph::{resolve_inputs, validate, Workflow};
use crate::node::Registry;

/// Runs one workflow document; the `progress` query shows where each node stands.
#[workflow]
#[derive(Default)]
pub struct GraphWorkflow {
    pub(super) report: Report,
}

type Running<'a> = Pin<Box<dyn Future<Output = (usize, Outcome)> + 'a>>;

/// The tasks the workflow's paid nodes started so far, read from their declared ports.
fn claimed_tasks(workflow: &Workflow, outputs: &[Option<Value>]) -> Vec<String> {
    workflow
        .nodes
        .iter()
        .zip(outputs)
        .filter_map(|(node, outputs)| {
            let spec = registry().get(&node.type_id)?.spec();
            Some(spec.kinds.started_task(outputs.as_ref()?)?.taskid)
        })
        .collect()
}

/// The patch that made a workflow's paid Runs leave one at a time.
const PAID_RUNS_ONE_AT_A_TIME: &str = "paid-runs-one-at-a-time";

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
    #[run(name = "wiro.workflow")]
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
        ctx.state_mut(|state| state.report = initial_report(&run_id, &workflow));
        let ctx = &*ctx;
        let limit = input.concurrency.max(1);
        let count = workflow.nodes.len();
        let mut outputs: Vec<Option<Value>> = vec![None; count];
        let mut running: Vec<Running<'_>> = Vec::new();
        // The scheduler's own copy of each node's state; `set` keeps the report in step.
        let mut states = vec![NodeState::Pending; count];
        // The paid node whose Run is being sent, if any: Runs leave one at a time, as they
        // do locally, so each submit knows every task the others started or adopted and a
        // lost answer is never matched to another node's task. Behind a patch marker: a
        // history recorded before this rule replays as it ran.
        let one_run_at_a_time = ctx.patched(PAID_RUNS_ONE_AT_A_TIME);
        let mut submitting: Option<usize> = None;
        loop {
            let cancelled = ctx.cancellation_token().is_cancelled();
            let mut progressed = true;
            while progressed {
                progressed = false;
                for &position in &plan.order {
                    if states[position] != NodeState::Pending {
                        continue;
                    }
                    let deps = &plan.depends_on[position];
                    let blocker = deps.iter().find(|&&d| {
                        matches!(
                            states[d],
                            NodeState::Failed | NodeState::Skipped | NodeState::Cancelled
                        )
                    });
                    let skip = match blocker {
                        Some(&d) => Some(format!(
                            "input node {:?} did not finish",
                            workflow.nodes[d].id
                        )),
                        None if cancelled => Some("the run was cancelled".to_owned()),
                        None => None,
                    };
                    if let Some(because) = skip {
                        set(
                            ctx,
                            &mut states,
                            position,
                            NodeState::Skipped,
                            Some(because),
                        );
                        progressed = true;
                        continue;
                    }
                    let node = &workflow.nodes[position];
                    let paid = registry()
                        .get(&node.type_id)
                        .is_some_and(|target| target.spec().spends_money);
                    if !deps.iter().all(|&d| states[d] == NodeState::Finished)
                        || running.len() >= limit
                        || (paid && one_run_at_a_time && submitting.is_some())
                    {
                        continue;
                    }
                    progressed = true;
                    let inputs = match resolve_inputs(&node.inputs, &workflow, deps, |source| {
                        outputs[source].as_ref()
                    }) {
                        Ok(inputs) => Value::Object(inputs),
                        Err(message) => {
                            set(ctx, &mut states, position, NodeState::Failed, Some(message));
                            continue;
                        }
                    };
                    let claimed = if paid {
                        claimed_tasks(&workflow, &outputs)
                    } else {
                        Vec::new()
                    };
                    let call = NodeCall {
                        run: run_id.clone(),
                        node: node.id.clone(),
                        type_id: node.type_id.clone(),
                        inputs,
                        claimed,
                    };
                    set(ctx, &mut states, position, NodeState::Running, None);
                    if paid {
                        submitting = Some(position);
                    }
                    running.push(Box::pin(run_node(ctx, position, call, paid)));
                }
            }
            if running.is_empty() {
                break;
            }
            let ((position, outcome), _, rest) = select_all(running).await;
            running = rest;
            if submitting == Some(position) {
                submitting = None;
            }
            match outcome {
                Outcome::Finished(done) => {
                    states[position] = NodeState::Finished;
                    outputs[position] = Some(done.outputs.clone());
                    ctx.state_mut(|s| {
                        let line = &mut s.report.nodes[position];
                        line.state = NodeState::Finished;
                        line.outputs = Some(done.outputs);
                        line.worker = Some(done.worker);
                        line.output_dir = Some(done.output_dir);
                    });
                }
                Outcome::Failed(message) => {
                    set(ctx, &mut states, position, NodeState::Failed, Some(message))
                }
                Outcome::Cancelled => set(ctx, &mut states, position, NodeState::Cancelled, None),
            }
        }
        let cancelled = ctx.cancellation_token().is_cancelled();
        if cancelled {
            stop_started_tasks(ctx).await;
        }
        let report = ctx.state_mut(|s| {
            s.report.cancelled = cancelled;
            s.report.clone()
        });
        if cancelled {
            return Err(WorkflowTermination::cancelled_with_details(report));
        }
        Ok(report)
    }

    /// Where each node stands, with the outputs of those that finished.
    #[query]
    pub fn progress(&self, _ctx: &WorkflowContextView) -> Report {
        self.report.clone()
    }
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
        cancelled: false,
    }
}

/// Sets a node's state in the scheduler's copy and in the report.
pub(super) fn set(
    ctx: &WorkflowContext<GraphWorkflow>,
    states: &mut [NodeState],
    position: usize,
    state: NodeState,
    message: Option<String>,
) {
    states[position] = state;
    report_state(ctx, position, state, message);
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
