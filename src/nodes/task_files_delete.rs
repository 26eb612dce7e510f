//! `wiro/task.files.delete`: deletes a finished task's files from Wiro's storage, e.g. once
//! they are downloaded, for users who must not leave media on a CDN.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::task_detail::TaskRecordOutput;
use crate::api::{TaskHandle, TaskLookup};
use crate::node::{NodeContext, NodeError, TypedNode};

/// Deletes a task's files.
#[derive(Debug, Default)]
pub struct TaskFilesDelete;

/// The task, and what must be done before its files go.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskFilesDeleteInput {
    /// The task, as a run node gave it. It must have ended.
    pub task: TaskHandle,
    /// Anything this node must wait for; connect the download's `files` so that the files
    /// are deleted only once they are safely on disk. The value itself is not used.
    #[serde(default)]
    pub after: Option<Value>,
}

#[async_trait]
impl TypedNode for TaskFilesDelete {
    type Input = TaskFilesDeleteInput;
    type Output = TaskRecordOutput;
    const TYPE_ID: &'static str = "wiro/task.files.delete";
    const TITLE: &'static str = "Delete task files";
    const CATEGORY: &'static str = "tasks";
    const DESCRIPTION: &'static str = "Deletes the files of a task that has ended from Wiro's storage; the task's record stays, with no outputs (Task/InputOutputDelete). Connect `after` to the download so the files are saved first. Deleting twice is fine.";

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        ctx.progress.phase("deleting files");
        let lookup = if input.task.socketaccesstoken.is_empty() {
            TaskLookup::from(&input.task)
        } else {
            TaskLookup::Token(input.task.socketaccesstoken.clone())
        };
        ctx.client.delete_task_files(lookup).await?;
        let detail = ctx.client.task_detail(&input.task).await?;
        Ok(TaskRecordOutput { detail })
    }
}

crate::register_node!(TaskFilesDelete);
