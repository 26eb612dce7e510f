//! The Tasks extension (`io.modelcontextprotocol/tasks`): a paid call from a client that
//! declared it answers at once with an MCP task. The task sends the Run, follows the Wiro
//! task with each status and log line as its `statusMessage`, and ends with the call's
//! result; `tasks/cancel` cancels the Wiro task while queued and kills it once running.
//!
//! MCP tasks live in this server's memory (rmcp's task manager); the Wiro tasks behind them
//! are in the journal, so after a restart `wiro_follow_task` still answers for them.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{CreateTaskResult, ErrorData};
use rmcp::service::RequestContext;
use rmcp::task_manager::{TaskContext, TaskExit, TaskOptions};
use rmcp::RoleServer;
use serde_json::Value;

use super::consent::Reserved;
use super::follow::{watch, RunState};
use super::Host;
use crate::node::Node;

/// How long a finished MCP task stays readable, and the longest a Run is followed.
const TASK_TTL: Duration = Duration::from_secs(6 * 3600);
/// How often clients are asked to poll `tasks/get`.
const POLL: Duration = Duration::from_millis(500);

/// Whether the client of this request declared the Tasks extension.
pub(crate) fn wanted(ctx: &RequestContext<RoleServer>) -> bool {
    ctx.client_capabilities()
        .is_some_and(|capabilities| capabilities.supports_tasks())
}

/// A Run accepted by the user, to be sent inside a task.
pub(crate) struct AcceptedRun {
    pub tool: String,
    pub node: Arc<dyn Node>,
    pub key: String,
    pub inputs: Value,
    pub price_usd: Option<f64>,
    pub reserved: Reserved,
    /// Held until the Run's task is journaled (see `Host::claim`).
    pub claim: tokio::sync::OwnedMutexGuard<()>,
}

/// Starts `run` as an MCP task and answers with it.
pub(crate) fn start(host: &Arc<Host>, run: AcceptedRun) -> CreateTaskResult {
    let host = Arc::clone(host);
    let options = TaskOptions::new()
        .with_ttl_ms(TASK_TTL.as_millis() as u64)
        .with_poll_interval_ms(POLL.as_millis() as u64)
        .with_status_message(format!("sending the Run of {}", run.tool));
    let task = host
        .tasks
        .clone()
        .spawn(options, move |ctx| Box::pin(operate(host, run, ctx)));
    CreateTaskResult::new(task)
}

/// The task's work: send, follow, stop when cancelled.
async fn operate(
    host: Arc<Host>,
    run: AcceptedRun,
    ctx: TaskContext,
) -> Result<rmcp::model::CallToolResult, TaskExit> {
    let AcceptedRun {
        tool,
        node,
        key,
        inputs,
        price_usd,
        reserved,
        claim,
    } = run;
    let sent = host
        .inflight
        .track_future(super::paid::send(
            &host, &tool, node, &key, inputs, price_usd,
        ))
        .await;
    drop(claim);
    host.after_send(&sent, reserved);
    let record = match sent {
        Ok(record) => record,
        Err(error) => {
            return Err(TaskExit::Error(ErrorData::internal_error(
                format!("{tool}: {error}"),
                None,
            )));
        }
    };
    ctx.set_status_message(format!("task {} started", record.handle.taskid));
    let (lines, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    let status = {
        let ctx = ctx.clone();
        tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
            while let Some(line) = received.recv().await {
                ctx.set_status_message(line);
            }
        }))
    };
    let report = watch(
        &host,
        record.clone(),
        Some(TASK_TTL),
        lines,
        ctx.cancelled(),
    )
    .await;
    if report.state != RunState::Working || !ctx.is_cancel_requested() {
        drop(status);
        return Ok(report.into_result());
    }
    // tasks/cancel: stop the Wiro task, then record how it ended.
    let how = match host.config.client.stop_task(&record.handle).await {
        Ok(outcome) => outcome.how().to_owned(),
        Err(error) => {
            return Err(TaskExit::Error(ErrorData::internal_error(
                format!(
                    "Wiro task {} could not be stopped ({error}); it may still run: stop it with wiro_stop_task",
                    record.handle.taskid
                ),
                None,
            )))
        }
    };
    ctx.set_status_message(format!("task {}: {how}", record.handle.taskid));
    let (lines, _) = tokio::sync::mpsc::unbounded_channel::<String>();
    let ended = watch(
        &host,
        record,
        Some(Duration::from_secs(30)),
        lines,
        std::future::pending(),
    )
    .await;
    drop(status);
    match ended.state {
        RunState::Completed => Ok(ended.into_result()),
        RunState::Cancelled | RunState::Failed => Err(TaskExit::Cancelled),
        RunState::Working => Err(TaskExit::Error(ErrorData::internal_error(
            format!(
                "Wiro task {} was asked to stop ({how}) but has not ended yet; follow it with wiro_follow_task",
                ended.task_id
            ),
            None,
        ))),
    }
}
