//! `wiro/task.detail`: a task's current record.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::api::{Task, TaskHandle, TaskLookup};
use crate::node::{NodeContext, NodeError, TypedNode};

/// Reads a task's record.
#[derive(Debug, Default)]
pub struct TaskDetail;

/// The task to look at.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// The task, as a run node gave it.
    pub task: TaskHandle,
}

/// The task's record.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TaskRecordOutput {
    /// The record: status, pexit, debugerror, cost, outputs, ...
    #[schemars(extend("x-file-kind-of-task" = "task"))]
    pub detail: Task,
}

#[async_trait]
impl TypedNode for TaskDetail {
    type Input = TaskInput;
    type Output = TaskRecordOutput;
    const TYPE_ID: &'static str = "wiro/task.detail";
    const TITLE: &'static str = "Task detail";
    const CATEGORY: &'static str = "tasks";
    const DESCRIPTION: &'static str = "Reads a task's current record (Task/Detail).";

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        let detail = ctx
            .client
            .task_detail(TaskLookup::from(&input.task))
            .await?;
        Ok(TaskRecordOutput { detail })
    }
}

crate::register_node!(TaskDetail);
