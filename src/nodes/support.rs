//! What several nodes share: submitting a paid Run exactly once, and stopping an owned task.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::{TaskHandle, TaskStatus};
use crate::node::{NodeContext, NodeError, NodeEvent, StoppedTask};

/// The output of every node that starts a task: its handle, known the moment it is accepted.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StartedTask {
    /// The accepted task: connect it to `wiro/task.wait`. Keep it: the task is paid for.
    pub task: TaskHandle,
}

/// Submits one Run and returns as soon as it is accepted.
///
/// The request is never raced against cancellation: dropping it half-sent would leave the
/// user not knowing whether they paid. If the run was cancelled meanwhile, the new task is
/// stopped at once and the node reports which.
pub(crate) async fn submit_run(
    ctx: &NodeContext,
    model: &str,
    parameters: &Map<String, Value>,
) -> Result<StartedTask, NodeError> {
    if ctx.cancel.is_cancelled() {
        return Err(NodeError::Cancelled { stopped: None });
    }
    ctx.progress.phase("submitting");
    let handle = ctx.client.run(model, parameters).await?;
    ctx.progress.emit(NodeEvent::TaskStarted(handle.clone()));
    ctx.progress.emit(NodeEvent::TaskStatus(TaskStatus::Queue));
    if ctx.cancel.is_cancelled() {
        let stopped = stop_owned_task(ctx, &handle.taskid).await;
        return Err(NodeError::Cancelled {
            stopped: Some(stopped),
        });
    }
    Ok(StartedTask { task: handle })
}

/// Stops a task this node owns because the run was cancelled: Cancel while queued, Kill once
/// running. Never fails: what happened is reported, including a failure to stop.
pub(crate) async fn stop_owned_task(ctx: &NodeContext, taskid: &str) -> StoppedTask {
    ctx.progress.phase("stopping task");
    let how = match ctx.client.stop_task(taskid).await {
        Ok(outcome) => outcome.how().to_owned(),
        Err(error) => format!("could not be stopped: {error}"),
    };
    ctx.progress.emit(NodeEvent::TaskStopped {
        taskid: taskid.to_owned(),
        how: how.clone(),
    });
    StoppedTask {
        taskid: taskid.to_owned(),
        how,
    }
}
