//! `wiro/task.kill`: stops a running task.

use async_trait::async_trait;

use super::support::task_id;
use super::task_detail::{TaskInput, TaskRecordOutput};
use crate::node::{NodeContext, NodeError, TypedNode};

/// Kills a running task.
#[derive(Debug, Default)]
pub struct TaskKill;

#[async_trait]
impl TypedNode for TaskKill {
    type Input = TaskInput;
    type Output = TaskRecordOutput;
    const TYPE_ID: &'static str = "wiro/task.kill";
    const TITLE: &'static str = "Kill task";
    const CATEGORY: &'static str = "tasks";
    const DESCRIPTION: &'static str =
        "Stops a running task (Task/Kill). A queued task is stopped with wiro/task.cancel.";

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        ctx.progress.phase("killing");
        let detail = ctx
            .client
            .task_kill(&task_id(ctx, &input.task).await?)
            .await?;
        Ok(TaskRecordOutput { detail })
    }
}

crate::register_node!(TaskKill);
