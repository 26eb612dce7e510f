//! What several nodes share: submitting a paid Run exactly once, and stopping an owned task.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use std::time::{Duration, SystemTime};

use crate::api::{Error as ApiError, RunLookup, StopOutcome, TaskHandle, TaskStatus};
use crate::node::{
    look_for_lost_run, AfterRefusal, HowStopped, NodeContext, NodeError, NodeEvent, StoppedTask,
    WAITING_FOR_TASK_SLOT,
};

/// The output of every node that starts a task: its handle, known the moment it is accepted.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StartedTask {
    /// The accepted task: connect it to `wiro/task.wait`. Keep it: the task is paid for.
    pub task: TaskHandle,
}

/// Submits one Run and returns as soon as it is accepted.
///
/// The Run waits for one of the run's task slots; a refusal for a limit (code 96, HTTP 429)
/// started nothing, so the Run waits for a slot again (or backs off) and is sent again. The
/// request is never raced against cancellation: dropping it half-sent would leave the user not
/// knowing whether they paid. If the run was cancelled meanwhile, the new task is stopped at
/// once and the node reports which.
pub(crate) async fn submit_run(
    ctx: &NodeContext,
    model: &str,
    parameters: &Map<String, Value>,
) -> Result<StartedTask, NodeError> {
    let cancelled = || NodeError::Cancelled { stopped: None };
    let mut wait = ctx.tasks.acquire();
    let mut probe_after: Option<Duration> = None;
    let mut attempt = 0u32;
    loop {
        if !wait.is_ready() {
            ctx.progress.phase(WAITING_FOR_TASK_SLOT);
        }
        let slot = tokio::select! {
            slot = wait.granted() => slot,
            _ = tokio::time::sleep(probe_after.unwrap_or_default()), if probe_after.is_some() => {
                ctx.tasks.probe()
            }
            _ = ctx.cancel.cancelled() => return Err(cancelled()),
        };
        let sending = tokio::select! {
            guard = ctx.tasks.sending() => guard.map_err(NodeError::NotRecorded)?,
            _ = ctx.cancel.cancelled() => return Err(cancelled()),
        };
        // A limit learned while this Run waited to be sent may leave no room after all (a
        // probe goes past the limit on purpose).
        let slot = match slot.confirm() {
            Ok(slot) => slot,

            Err(queued) => {
                wait = queued;
                continue;
            }
        };
        if let Some(message) = ctx.tasks.balance_refusal() {
            // A Run the balance did not cover: this one would be refused the same way.
            return Err(ApiError::InsufficientBalance {
                message: format!("not sent: an earlier Run of this run was refused ({message}); top up, then run the same command again"),
            }
            .into());
        }
        attempt += 1;
        let answer = {
            ctx.progress.phase("submitting");
            ctx.progress
                .record(NodeEvent::Submitting)
                .await
                .map_err(NodeError::NotRecorded)?;
            let sent_at = SystemTime::now();
            let answer = match ctx.client.run(model, parameters).await {
                // Still one Run at a time: no other Run of this run can be confused with it.
                Err(lost @ ApiError::OutcomeUnknown { .. }) => {
                    reconcile(ctx, model, parameters, sent_at, lost).await
                }
                answer => answer,
            };
            // Claimed and journaled before the next Run may leave, in any process sharing the
            // run's claims (one sync of the journal then takes this answer and the next Run's
            // start to the disk). A claim or line that cannot be written loses no task: the
            // node still returns it.
            if let Ok(handle) = &answer {
                ctx.progress.emit(NodeEvent::TaskStarted(handle.clone()));
                if let Err(error) = ctx.tasks.claim_shared(&handle.taskid) {
                    ctx.progress.emit(NodeEvent::Log {
                        line: format!(
                            "task {} is not in the shared claims ({error}): another process whose Run's answer is lost could take it for its own",
                            handle.taskid
                        ),
                        stderr: true,
                    });
                }
            }
            drop(sending);
            answer
        };
        let refusal = match answer {
            Ok(handle) => {
                slot.accepted(&handle.taskid);
                return accepted(ctx, handle).await;
            }
            Err(error @ (ApiError::ConcurrencyLimit { .. } | ApiError::RateLimited { .. })) => {
                error
            }
            Err(error) => {
                if let ApiError::InsufficientBalance { message } = &error {
                    ctx.tasks.out_of_balance(message);
                }
                return Err(error.into());
            }
        };
        ctx.progress.emit(NodeEvent::RunRefused {
            reason: refusal.to_string(),
        });
        if !ctx.tasks.holds_refused() {
            return Err(refusal.into()); // the host sends it again on its own terms
        }
        let after = if let ApiError::RateLimited { retry_after, .. } = &refusal {
            slot.rate_limited();
            AfterRefusal::BackOff(retry_after.unwrap_or_else(|| ctx.tasks.backoff(attempt)))
        } else {
            slot.refused(attempt)
        };
        match after {
            AfterRefusal::WaitForSlot(next) => {
                wait = next;
                probe_after = Some(ctx.tasks.probe_after());
            }
            AfterRefusal::BackOff(pause) => {
                ctx.progress.phase(format!(
                    "refused ({refusal}); sending again in {:.0} s",
                    pause.as_secs_f64()
                ));
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = ctx.cancel.cancelled() => return Err(cancelled()),
                }
                wait = ctx.tasks.acquire();
                probe_after = None;
            }
        }
    }
}

/// A Run whose answer was lost: find out with Task/List whether it created a task. Found, the
/// task is adopted (paid once); provably not created, the Run is sent once more, and a lost
/// answer to that one is looked for the same way (at most [`MAX_RESENDS`] times); when it
/// cannot be told, the lost answer stands and the user is told how to check.
async fn reconcile(
    ctx: &NodeContext,
    model: &str,
    parameters: &Map<String, Value>,
    mut sent_at: SystemTime,
    mut lost: ApiError,
) -> Result<TaskHandle, ApiError> {
    // The task list is asked after each lost answer, the last resend's too.
    for resent in 0..=MAX_RESENDS {
        ctx.progress
            .phase("the Run's answer was lost: looking for its task");
        let claimed = match ctx.tasks.claimed(sent_at) {
            Ok(claimed) => claimed,
            Err(reason) => return Err(cannot_tell(lost, model, &reason)),
        };
        match look_for_lost_run(&ctx.client, model, parameters, sent_at, &claimed).await {
            Ok(RunLookup::Found { handle, .. }) => {
                ctx.progress.emit(NodeEvent::Log {
                    line: format!(
                        "the Run's answer was lost, but it created task {}: adopted, not sent again",
                        handle.taskid
                    ),
                    stderr: false,
                });
                return Ok(handle);
            }
            Ok(RunLookup::NotCreated { .. }) if resent == MAX_RESENDS => {
                return Err(gave_up(lost, resent + 1));
            }
            Ok(RunLookup::NotCreated { .. }) => {
                ctx.progress.emit(NodeEvent::Log {
                    line: "the Run's answer was lost and no task was created: sending it once more"
                        .to_owned(),
                    stderr: false,
                });
                ctx.progress
                    .record(NodeEvent::Submitting)
                    .await
                    .map_err(|error| ApiError::invalid("journal", error))?;
                sent_at = SystemTime::now();
                match ctx.client.run(model, parameters).await {
                    Err(again @ ApiError::OutcomeUnknown { .. }) => lost = again,
                    answer => return answer,
                }
            }
            Ok(RunLookup::CannotTell { reason }) => return Err(cannot_tell(lost, model, &reason)),
            Err(error) => return Err(cannot_tell(lost, model, &error.to_string())),
        }
    }
    Err(lost) // not reached: the last round returns
}

/// The Run's last answer lost after `sent` sendings, the task list showing none of them
/// created a task: nothing was started, the connection failing each time (no longer an
/// unknown outcome, which would say it may have been accepted). A rerun looks again.
fn gave_up(lost: ApiError, sent: usize) -> ApiError {
    match lost {
        ApiError::OutcomeUnknown {
            operation,
            message,
            source,
        } => ApiError::Connection {
            operation,
            message: format!("{message}; sent {sent} times, the answer lost each time, and the task list shows none of them created a task: nothing was started; run again to send it once more"),
            source,
        },
        other => other,
    }
}

/// How many times a Run whose answer was lost, and which provably created nothing, is sent
/// again within one node run; past that the run stops and a rerun settles it.
const MAX_RESENDS: usize = 3;

/// The lost answer, with why the task list could not settle it and how to check by hand.
fn cannot_tell(lost: ApiError, model: &str, reason: &str) -> ApiError {
    told(lost, format!("the task list could not tell whether it created a task ({reason}). Check with: wiro-nodes node exec wiro/task.list --inputs '{{\"model\": \"{model}\", \"limit\": 50}}'"))
}

/// A lost answer's message with `more` after it.
fn told(lost: ApiError, more: String) -> ApiError {
    match lost {
        ApiError::OutcomeUnknown {
            operation,
            message,
            source,
        } => ApiError::OutcomeUnknown {
            operation,
            message: format!("{message}; {more}"),
            source,
        },
        other => other,
    }
}

/// The Run was accepted (and reported): report it queued, and stop it if the run was
/// cancelled while the request was out.
async fn accepted(ctx: &NodeContext, handle: TaskHandle) -> Result<StartedTask, NodeError> {
    ctx.progress.emit(NodeEvent::TaskStatus {
        status: TaskStatus::Queue,
    });
    if ctx.cancel.is_cancelled() {
        let stopped = stop_owned_task(ctx, &handle).await;
        return Err(NodeError::Cancelled {
            stopped: Some(stopped),
        });
    }
    Ok(StartedTask { task: handle })
}

/// Stops a task this node owns because the run was cancelled: Cancel while queued, Kill once
/// running. Never fails: what happened is reported, including a failure to stop.
pub(crate) async fn stop_owned_task(ctx: &NodeContext, task: &TaskHandle) -> StoppedTask {
    ctx.progress.phase("stopping task");
    let (how, charged) = match ctx.client.stop_task(task).await {
        Ok(outcome) => {
            let charged = match &outcome {
                StopOutcome::AlreadyEnded(record) => record.total_cost(),
                StopOutcome::Cancelled(_) | StopOutcome::Killed(_) => None,
            };
            (HowStopped::from(&outcome), charged)
        }
        Err(error) => {
            let error = error.to_string();
            (HowStopped::NotStopped { error }, None)
        }
    };
    if how.leaves_nothing_running() || how == HowStopped::AlreadyEnded {
        ctx.tasks.ended(&task.taskid);
    }
    ctx.progress.emit(NodeEvent::TaskStopped {
        taskid: task.taskid.clone(),
        how: how.clone(),
        charged,
    });
    StoppedTask {
        taskid: task.taskid.clone(),
        how,
        charged,
    }
}

/// The task's id; for a handle with only a token, read from the task's record.
pub(crate) async fn task_id(ctx: &NodeContext, task: &TaskHandle) -> Result<String, NodeError> {
    if !task.taskid.is_empty() {
        return Ok(task.taskid.clone());
    }
    Ok(ctx.client.task_detail(task).await?.id)
}
