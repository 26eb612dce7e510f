//! `wiro/task.list`: the project's recent tasks, newest first, optionally of one model.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::api::{Task, TaskListQuery};
use crate::node::{NodeContext, NodeError, TypedNode};

/// Lists recent tasks.
#[derive(Debug, Default)]
pub struct TaskList;

/// Which tasks to list.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskListInput {
    /// Only tasks of this model, as `owner/model` (e.g. `PixVerse/text-to-video-v4`); every
    /// model when left out.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$"))]
    pub model: Option<String>,
    /// How many of the newest tasks to skip (for the next page: the previous `start` plus
    /// its number of tasks).
    #[serde(default)]
    pub start: u64,
    /// At most this many tasks.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: u64,
}

fn default_limit() -> u64 {
    20
}

/// One page of tasks.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TaskListOutput {
    /// The tasks, newest first: status, parameters, cost, outputs, ...
    pub tasks: Vec<Task>,
    /// How many tasks the listing has in all, when the server said.
    pub total: Option<u64>,
    /// Whether this is the last page.
    pub last_page: bool,
}

#[async_trait]
impl TypedNode for TaskList {
    type Input = TaskListInput;
    type Output = TaskListOutput;
    const TYPE_ID: &'static str = "wiro/task.list";
    const TITLE: &'static str = "List tasks";
    const CATEGORY: &'static str = "tasks";
    const DESCRIPTION: &'static str =
        "Lists the project's recent tasks, newest first, optionally of one model, a page at a time (Task/List).";

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        let query = TaskListQuery {
            model: input.model,
            start: input.start,
            limit: input.limit,
        };
        let page = ctx.client.task_list(&query).await?;
        Ok(TaskListOutput {
            last_page: page.is_last(),
            total: page.total,
            tasks: page.tasks,
        })
    }
}

crate::register_node!(TaskList);
