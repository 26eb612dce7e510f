//! A paid node's Run whose answer was lost (its worker died while sending, the submit timed
//! out, the answer never came): the workflow itself asks Task/List, through the
//! `wiro.reconcile` activity ([`ReconcileRun`]), until it can tell. Found: the task is
//! adopted, waited for and paid once. Provably not created (the list covers the window, read twice): the Run is sent
//! again. Cannot tell yet: asked again on a durable timer, with backoff, for a bounded time;
//! only then does the node fail, saying how to check.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use temporalio_common::RetryPolicy;
use temporalio_sdk::{ActivityOptions, TimerResult, WorkflowContext};

use super::activities::{ReconcileRun, TaskEnded};
use super::calls::RECONCILE_HOOK;
use super::messages::{NodeCall, NodeDone, NodeState, ReconcileCall, Reconciled};
use super::workflow::{report_state, GraphWorkflow};
use crate::api::TaskHandle;

/// The first and the longest pause between two looks when the list cannot tell yet.
const LOOK_AGAIN: (Duration, Duration) = (Duration::from_secs(5), Duration::from_secs(120));

/// What the workflow does after a lost answer.
pub(super) enum AfterLoss {
    /// The Run made this task: the node is done, with it.
    Adopted(NodeDone),
    /// The Run made nothing: send it again.
    SendAgain,
    /// The list could not tell within the time allowed.
    GaveUp(String),
    /// The workflow was cancelled while looking.
    Cancelled,
}

/// How a task an earlier execution started ended without a result (it was not billed), or
/// `None` when it did not, or when that cannot be told now (the wait that follows will tell).
pub(super) async fn ended_without_result(
    ctx: &WorkflowContext<GraphWorkflow>,
    task: &TaskHandle,
) -> Option<String> {
    ctx.execute_activity(TaskEnded, task.clone(), look_options())
        .await
        .ok()
        .flatten()
}

/// Looks for the task of `call`'s Run, scheduled at `scheduled_at`, for at most `give_up_after`.
pub(super) async fn after_lost_answer(
    ctx: &WorkflowContext<GraphWorkflow>,
    position: usize,
    call: &NodeCall,
    scheduled_at: SystemTime,
    give_up_after: Duration,
    lost: &str,
) -> AfterLoss {
    let began = ctx.workflow_time().unwrap_or(scheduled_at);
    let lost_call = ReconcileCall {
        call: call.clone(),
        scheduled_at_ms: scheduled_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64),
    };
    let mut pause = LOOK_AGAIN.0;
    // A new task may take a while to be listed: "not created" counts only when a second
    // look, a durable pause later, says it too.
    let mut not_created_once = false;
    loop {
        report_state(
            ctx,
            position,
            NodeState::Running,
            Some(format!(
                "the Run's answer was lost ({lost}): looking for its task with Task/List"
            )),
        );
        let verdict = ctx
            .execute_activity(ReconcileRun, lost_call.clone(), look_options())
            .await;
        let reason = match verdict {
            Ok(Reconciled::Found { outputs, worker }) => {
                return AfterLoss::Adopted(NodeDone {
                    outputs,
                    worker,
                    output_dir: String::new(),
                })
            }
            Ok(Reconciled::NotCreated) if not_created_once => return AfterLoss::SendAgain,
            Ok(Reconciled::NotCreated) => {
                not_created_once = true;
                "no such task is listed yet; looking once more".to_owned()
            }
            Ok(Reconciled::CannotTell { reason }) => reason,
            Err(error) if error.as_cancelled().is_some() => return AfterLoss::Cancelled,
            Err(error) => error.to_string(),
        };
        let now = ctx.workflow_time().unwrap_or(began);
        if now.duration_since(began).unwrap_or_default() >= give_up_after {
            return AfterLoss::GaveUp(format!(
                "the Run may have been accepted but its answer was lost ({lost}), and Task/List could not tell within {} min ({reason}); it was not sent again — {RECONCILE_HOOK}",
                give_up_after.as_secs() / 60
            ));
        }
        report_state(
            ctx,
            position,
            NodeState::Running,
            Some(format!(
                "Task/List cannot tell yet ({reason}); looking again in {} s",
                pause.as_secs()
            )),
        );
        if matches!(ctx.timer(pause).await, TimerResult::Cancelled) {
            return AfterLoss::Cancelled;
        }
        pause = (pause * 2).min(LOOK_AGAIN.1);
    }
}

/// A look is a read: retried by Temporal on any worker.
fn look_options() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(120))
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(1))
                .maximum_interval(Duration::from_secs(30))
                .maximum_attempts(5)
                .build(),
        )
        .build()
}
