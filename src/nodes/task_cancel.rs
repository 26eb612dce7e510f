//! `wiro/task.cancel`: removes a task that is still queued.

use async_trait::async_trait;

use super::support::task_id;
use super::task_detail::{TaskInput, TaskRecordOutput};
use crate::node::{NodeContext, NodeError, TypedNode};

/// Cancels a queued task.
#[derive(Debug, Default)]
pub struct TaskCancel;

#[async_trait]
impl TypedNode for TaskCancel {
    type Input = TaskInput;
    type Output = TaskRecordOutput;
    const TYPE_ID: &'static str = "wiro/task.cancel";
    const TITLE: &'static str = "Cancel task";
    const CATEGORY: &'static str = "tasks";
    const DESCRIPTION: &'static str = "Removes a task that is still in the queue (Task/Cancel). A running task is stopped with wiro/task.kill.";

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        ctx.progress.phase("cancelling");
        let detail = ctx
            .client
            .task_cancel(&task_id(ctx, &input.task).await?)
            .await?;
        Ok(TaskRecordOutput { detail })
    }
}

crate::register_node!(TaskCancel);
