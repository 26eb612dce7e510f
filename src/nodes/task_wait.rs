//! `wiro/task.wait`: follows a task to its end and gives its record and outputs; stops the
//! task if the run is cancelled meanwhile.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::support::stop_owned_task;
use crate::api::{
    Error, EventSource, OutputFile, Task, TaskEvent, TaskHandle, TaskStatus, WaitOptions,
};
use crate::node::{NodeContext, NodeError, NodeEvent, TypedNode};

/// Waits for a task.
#[derive(Debug, Default)]
pub struct TaskWait;

/// The task to wait for, and how patiently.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskWaitInput {
    /// The task, as a run node gave it.
    pub task: TaskHandle,
    /// Give up after this many seconds of running; time in the queue does not count.
    /// The task is not stopped by a timeout: wait again with the same handle.
    #[serde(default = "default_timeout")]
    #[schemars(range(min = 1, max = 86400))]
    #[schemars(extend("x-changes-no-result" = true))]
    pub timeout_seconds: u64,
    /// Seconds between status checks when the live socket is not available.
    #[serde(default = "default_poll")]
    #[schemars(range(min = 0.05, max = 60.0))]
    #[schemars(extend("x-changes-no-result" = true))]
    pub poll_seconds: f64,
    /// Fail when the task succeeds without any output file (a video model always makes one).
    #[serde(default = "yes")]
    pub require_outputs: bool,
}

fn default_timeout() -> u64 {
    1800
}
fn default_poll() -> f64 {
    2.0
}
fn yes() -> bool {
    true
}

/// The finished task.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TaskWaitOutput {
    /// The final record (status, cost, timings).
    #[schemars(extend("x-file-kind-of-task" = "task"))]
    pub task: Task,
    /// The files it made: connect to `wiro/output.download` (which also saves text
    /// answers as `.txt` files).
    #[schemars(extend("x-file-kind-of-task" = "task"))]
    pub outputs: Vec<OutputFile>,
    /// What a chat model answered, as text (several answers one after another); absent when
    /// the task made only files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[async_trait]
impl TypedNode for TaskWait {
    type Input = TaskWaitInput;
    type Output = TaskWaitOutput;
    const TYPE_ID: &'static str = "wiro/task.wait";
    const TITLE: &'static str = "Wait for task";
    const CATEGORY: &'static str = "tasks";
    const DESCRIPTION: &'static str = "Follows a task over the WebSocket (polling Task/Detail as fallback) until it ends. Fails with the server's debugerror and the task id when the task fails or is cancelled; stops the task if the run is cancelled.";

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        let poll = Duration::from_secs_f64(input.poll_seconds);
        // Polling keeps to the interval asked for (no backing off past it), so without the
        // socket the end is noticed within `poll_seconds`.
        let options = WaitOptions {
            deadline: Some(Duration::from_secs(input.timeout_seconds)),
            min_poll: poll,
            max_poll: poll,
            ..WaitOptions::default()
        };
        ctx.progress.phase("waiting");
        let progress = ctx.progress.clone();
        let wait = ctx
            .client
            .wait_for_task(&input.task, &options, move |event| match event {
                TaskEvent::Status { status, source } => {
                    if status.is_terminal() {
                        progress.emit(NodeEvent::Log {
                            line: noticed(&status, source, input.poll_seconds),
                            stderr: false,
                        });
                    }
                    progress.emit(NodeEvent::TaskStatus { status })
                }
                TaskEvent::Log { line, stderr } => progress.emit(NodeEvent::Log { line, stderr }),
                TaskEvent::SocketLost { reason } => progress.emit(NodeEvent::Log {
                    line: format!("live updates lost ({reason}); polling"),
                    stderr: false,
                }),
            });
        // The task holds one of the run's task slots until it is seen ending here.
        ctx.tasks.track(&input.task.taskid);
        let result = tokio::select! {
            result = wait => result,
            _ = ctx.cancel.cancelled() => {
                let stopped = stop_owned_task(ctx, &input.task).await;
                return Err(NodeError::Cancelled { stopped: Some(stopped) });
            }
        };
        match &result {
            Ok(task) => ctx.tasks.ended(&task.id),
            Err(Error::TaskFailed { taskid, .. } | Error::TaskCancelled { taskid, .. }) => {
                ctx.tasks.ended(taskid)
            }
            Err(_) => {} // a timeout or a lost server: the task may still be active
        }
        let task = result?;
        if input.require_outputs && task.outputs.is_empty() {
            return Err(Error::TaskFailed {
                taskid: task.id.clone(),
                status: task.status.to_string(),
                pexit: task
                    .pexit
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                debugerror: "the task succeeded but produced no output file".into(),
            }
            .into());
        }
        let answers: Vec<&str> = task
            .outputs
            .iter()
            .filter_map(OutputFile::text_answer)
            .collect();
        Ok(TaskWaitOutput {
            text: (!answers.is_empty()).then(|| answers.join("\n\n")),
            outputs: task.outputs.clone(),
            task,
        })
    }
}

/// Says how the end of a task was learned: over the live socket or by polling.
fn noticed(status: &TaskStatus, source: EventSource, poll_seconds: f64) -> String {
    match source {
        EventSource::Socket => format!("{status}: noticed over the live socket"),
        EventSource::Poll => format!("{status}: noticed by polling (every {poll_seconds} s)"),
    }
}

crate::register_node!(TaskWait);
