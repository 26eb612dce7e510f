//! How the workflow calls its activities: the options of each role and the money rules,
//! mapped onto Temporal:
//! - a paid node (one that starts a task) is an activity with **one attempt**; its result,
//!   the task handle, is in the history before anything that uses it is scheduled;
//! - a Run refused because nothing could start (code 96, 429, no connection) is sent again
//!   after a durable timer — it waits for a slot;
//! - a Run whose answer is lost is looked up by its activity with Task/List, as the local
//!   executor does: its task adopted, or, provably not created, the Run sent once more;
//! - a Run whose outcome stays unknown (the list could not tell, or the worker was lost while
//!   sending) is looked for by the workflow itself (module `reconcile`), on
//!   durable timers, for a bounded time; it is sent again only when provably not created, and
//!   after that time the node fails and says how to check ([`RECONCILE_HOOK`]);
//! - every other node heartbeats and is retried with backoff, on any worker.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use temporalio_common::error::IncomingError;
use temporalio_common::RetryPolicy;
use temporalio_sdk::{
    ActivityCancellationType, ActivityExecutionError, ActivityOptions, TimerResult,
    WorkflowCancellationToken, WorkflowContext,
};

use super::activities::{NodeActivity, StopTask};
use super::failure;
use super::messages::{NodeCall, NodeDone, NodeState};
use super::reconcile::{after_lost_answer, AfterLoss};
use super::workflow::{report_state, GraphWorkflow};
use crate::api::TaskHandle;

/// What the user is told about a Run whose outcome stayed unknown: the workflow does not send
/// it again, so its task, if any, is to be found by hand before submitting again.
pub const RECONCILE_HOOK: &str =
    "look for its task with wiro/task.list (Task/List) before submitting again";

/// How long a heartbeat may be missing before the activity counts as lost (its worker died).
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// A paid submit's whole budget: the Run request with the client's own timeouts.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(120);

/// Any other node's budget per attempt (a wait is bounded by its own `timeout_seconds`).
const NODE_TIMEOUT: Duration = Duration::from_secs(26 * 3600);

/// The first and the longest pause before a paid Run refused for lack of a slot is sent again.
const SLOT_WAIT: (Duration, Duration) = (Duration::from_secs(2), Duration::from_secs(30));

/// How a node's activity ended.
pub(super) enum Outcome {
    /// Its outputs.
    Finished(NodeDone),
    /// Why it failed.
    Failed(String),
    /// It was cancelled (its task stopped).
    Cancelled,
}

/// After a cancellation: stops every task a paid node started (its wait may not have run, or
/// the submit may have finished just as the cancellation came). Stopping an ended task does
/// nothing, so a task its wait already stopped is left as it is.
pub(super) async fn stop_started_tasks(ctx: &WorkflowContext<GraphWorkflow>) {
    let started: Vec<(usize, TaskHandle)> = ctx.state(|s| {
        s.report
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, line)| line.submits > 0 && line.state == NodeState::Finished)
            .filter_map(|(position, line)| {
                // The task is where the node's spec declares it, not where it looks to be.
                let spec = super::workflow::registry().get(&line.type_id)?.spec();
                let task = spec.kinds.started_task(line.outputs.as_ref()?)?;
                Some((position, task))
            })
            .collect()
    });
    let stops = started.into_iter().map(|(position, task)| async move {
        let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(60))
            .retry_policy(RetryPolicy::builder().maximum_attempts(5).build())
            // The run is cancelled; this cleanup must still run.
            .cancellation_token(WorkflowCancellationToken::new())
            .build();
        let how = match ctx.execute_activity(StopTask, task, options).await {
            Ok(how) => format!("the run was cancelled: its task was {how}"),
            Err(error) => format!(
                "the run was cancelled; stopping its task failed: {}",
                describe(&error)
            ),
        };
        ctx.state_mut(|s| s.report.nodes[position].message = Some(how));
    });
    in_turn(stops, usize::MAX).await;
}

/// Runs `futures` to their ends, at most `at_once` at a time, polled in turn with the
/// workflow's own waker: `join_all` of more than 30 futures wakes them through a waker of its
/// own, which the SDK takes for nondeterminism (a cancelled batch of 35 started tasks could
/// never end). Gives their outputs in the order they ended.
pub(super) async fn in_turn<F: Future>(
    futures: impl IntoIterator<Item = F>,
    at_once: usize,
) -> Vec<F::Output> {
    let mut waiting = futures.into_iter();
    let mut running: Vec<Pin<Box<F>>> = Vec::new();
    let mut ended = Vec::new();
    loop {
        let room = at_once.saturating_sub(running.len());
        running.extend(waiting.by_ref().take(room).map(Box::pin));
        if running.is_empty() {
            return ended;
        }
        let (output, _, rest) = futures_util::future::select_all(running).await;
        ended.push(output);
        running = rest;
    }
}

/// Runs one node: a paid one with one attempt per Run (sent again only when nothing was
/// started), any other with retries.
pub(super) async fn run_node(
    ctx: &WorkflowContext<GraphWorkflow>,
    position: usize,
    call: NodeCall,
    paid: bool,
    reconcile_for: Duration,
    lost_since: Option<std::time::SystemTime>,
) -> (usize, Outcome) {
    if !paid {
        let result = ctx
            .execute_activity(NodeActivity, call.clone(), node_options())
            .await;
        return (position, outcome(result));
    }
    // A Run an earlier execution sent without getting its answer: its task is looked for
    // before anything is sent.
    if let Some(since) = lost_since {
        note_lost_run(ctx, position, since);
        let lost = "an earlier execution sent it and did not get its answer";
        match after_lost_answer(ctx, position, &call, since, reconcile_for, lost).await {
            AfterLoss::SendAgain => {}
            ended => return (position, after_loss_outcome(ended)),
        }
    }
    let mut pause = SLOT_WAIT.0;
    let mut submits = 0;
    let mut sent_again = 0;
    loop {
        submits += 1;
        ctx.state_mut(|s| {
            let line = &mut s.report.nodes[position];
            line.state = NodeState::Running;
            line.submits = submits;
        });
        let scheduled_at = ctx.workflow_time().unwrap_or(std::time::UNIX_EPOCH);
        let result = ctx
            .execute_activity(NodeActivity, call.clone(), submit_options())
            .await;
        if let Err(error) = &result {
            if failure_type(error) == Some(failure::OUTCOME_UNKNOWN) || error.as_timeout().is_some()
            {
                let lost = describe(error);
                note_lost_run(ctx, position, scheduled_at);
                match after_lost_answer(ctx, position, &call, scheduled_at, reconcile_for, &lost)
                    .await
                {
                    AfterLoss::SendAgain if sent_again < MAX_SENT_AGAIN => {
                        sent_again += 1;
                        continue;
                    }
                    AfterLoss::SendAgain => {
                        return (
                            position,
                            Outcome::Failed(format!(
                                "{} Runs of this node lost their answers and none was found: not sent again — {RECONCILE_HOOK}",
                                sent_again + 1
                            )),
                        )
                    }
                    ended => return (position, after_loss_outcome(ended)),
                }
            }
        }
        let not_started =
            matches!(&result, Err(error) if failure_type(error) == Some(failure::NOT_STARTED));
        if !not_started {
            return (position, outcome(result));
        }
        let reason = result
            .err()
            .map(|error| describe(&error))
            .unwrap_or_default();
        report_state(ctx, position, NodeState::WaitingForSlot, Some(reason));
        if matches!(ctx.timer(pause).await, TimerResult::Cancelled) {
            return (position, Outcome::Cancelled);
        }
        pause = (pause * 2).min(SLOT_WAIT.1);
    }
}

/// How many times a node's Run is sent again after its answer was lost and Task/List said it
/// created nothing: a cap, so a server that lists new tasks late cannot make a loop of Runs.
const MAX_SENT_AGAIN: u32 = 2;

/// Notes in the report that a Run of this node scheduled at `scheduled_at` lost its answer (the
/// earliest such time is kept, for a resume's look), and that the node may hold a task.
fn note_lost_run(
    ctx: &WorkflowContext<GraphWorkflow>,
    position: usize,
    scheduled_at: std::time::SystemTime,
) {
    let ms = scheduled_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    ctx.state_mut(|s| {
        let line = &mut s.report.nodes[position];
        line.lost_since_ms = Some(line.lost_since_ms.map_or(ms, |earlier| earlier.min(ms)));
        line.submits = line.submits.max(1);
    });
}

/// A node's outcome after its lost Run's task was looked for. A cancellation while looking
/// is a failure that names the possible task: cancelling cannot stop a task nobody found.
fn after_loss_outcome(ended: AfterLoss) -> Outcome {
    match ended {
        AfterLoss::Adopted(done) => Outcome::Finished(done),
        AfterLoss::GaveUp(message) => Outcome::Failed(message),
        AfterLoss::Cancelled => Outcome::Failed(format!(
            "the run was cancelled while the task of a Run whose answer was lost was looked for: it may exist and run on — {RECONCILE_HOOK}"
        )),
        AfterLoss::SendAgain => Outcome::Failed("internal: sent again".into()),
    }
}

fn outcome(result: Result<NodeDone, ActivityExecutionError>) -> Outcome {
    let error = match result {
        Ok(done) => return Outcome::Finished(done),
        Err(error) => error,
    };
    if error.as_cancelled().is_some() {
        return Outcome::Cancelled;
    }
    // A paid node's lost answer was looked for before this (`after_lost_answer`).
    Outcome::Failed(describe(&error))
}

/// The failure type a worker gave the activity's error, if any.
fn failure_type(error: &ActivityExecutionError) -> Option<&str> {
    match error.reason() {
        Some(IncomingError::Application(failure)) => failure.type_name(),
        _ => None,
    }
}

/// The deepest message of an activity error: the node's own words.
pub(super) fn describe(error: &ActivityExecutionError) -> String {
    match error.reason() {
        Some(IncomingError::Application(failure)) => failure.source_error().to_string(),
        Some(other) => other.failure().message.clone(),
        None => error.to_string(),
    }
}

fn submit_options() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(SUBMIT_TIMEOUT)
        .heartbeat_timeout(HEARTBEAT_TIMEOUT)
        .retry_policy(RetryPolicy::builder().maximum_attempts(1).build())
        .cancellation_type(ActivityCancellationType::WaitCancellationCompleted)
        .build()
}

fn node_options() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(NODE_TIMEOUT)
        .heartbeat_timeout(HEARTBEAT_TIMEOUT)
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(1))
                .maximum_interval(Duration::from_secs(30))
                .maximum_attempts(20)
                .build(),
        )
        .cancellation_type(ActivityCancellationType::WaitCancellationCompleted)
        .build()
}
