//! What several nodes share: submitting a paid Run exactly once, and stopping an owned task.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::{TaskHandle, TaskStatus};
use crate::node::{HowStopped, NodeContext, NodeError, NodeEvent, StoppedTask};

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
    let how = match ctx.client.stop_task(task).await {
        Ok(outcome) => HowStopped::from(&outcome),
        Err(error) => HowStopped::NotStopped {
            error: error.to_string(),
        },
    };
    ctx.progress.emit(NodeEvent::TaskStopped {
        taskid: task.taskid.clone(),
        how: how.clone(),
    });
    StoppedTask {
        taskid: task.taskid.clone(),
        how,
    }
}

/// The task's id; for a handle with only a token, read from the task's record.
pub(crate) async fn task_id(ctx: &NodeContext, task: &TaskHandle) -> Result<String, NodeError> {
    if !task.taskid.is_empty() {
        return Ok(task.taskid.clone());
    }
    Ok(ctx.client.task_detail(task).await?.id)
}
