//! Following a task for a tool call: a bounded wait with progress notifications, then the
//! files downloaded into the output folder (one folder per task) and a [`RunReport`]. The wait
//! ends when its time is up or the client goes away; the task is never stopped by either.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{CallToolResult, ContentBlock, ProgressNotificationParam, Resource};
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::journal::TaskRecord;
use super::tools::FOLLOW;
use super::Host;
use crate::api::{Error, LocalFile, OutputFile, Task, TaskEvent, TaskHandle, WaitOptions};
use crate::node::{NodeContext, NodeError};

/// Where a task stands when a call answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Still queued or running: follow it again.
    Working,
    /// Ended with its outputs, downloaded.
    Completed,
    /// Ended in failure (not billed).
    Failed,
    /// Cancelled or killed (not billed).
    Cancelled,
}

/// One output file: on this machine, readable as a resource, and at Wiro's CDN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportedFile {
    /// The resource to read it through (`resources/read`).
    pub uri: String,
    /// Its name.
    pub name: String,
    /// Where it is on this machine.
    pub path: String,
    /// Where Wiro serves it (empty for a text answer).
    pub url: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its content type.
    pub content_type: String,
    /// Its SHA-256, in hex.
    pub sha256: String,
}

/// What a paid call (or [`FOLLOW`]) answers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    /// The Wiro task.
    pub task_id: String,
    /// Where it stands.
    pub state: RunState,
    /// Its last status as Wiro words it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The price accepted before the Run, in dollars, when it was known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_usd: Option<f64>,
    /// What Wiro says it cost, once it has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// The files it made.
    pub files: Vec<ReportedFile>,
    /// A chat model's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why it failed, in the server's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// This call repeated an earlier one: no Run was sent, this is the earlier call's task.
    pub repeated: bool,
    /// What to do next, when there is something to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl RunReport {
    /// A report on a task that has not ended.
    fn working(record: &TaskRecord, status: Option<String>) -> Self {
        Self {
            task_id: record.handle.taskid.clone(),
            state: RunState::Working,
            status,
            price_usd: record.price_usd,
            cost_usd: None,
            files: Vec::new(),
            text: None,
            error: None,
            repeated: false,
            next: Some(format!(
                "The task is still running; call {FOLLOW} with task_id {:?} to wait again (free). Wiro's own progress continues meanwhile.",
                record.handle.taskid
            )),
        }
    }

    /// The tool result: a summary, a link per file, and the report as structured content.
    pub fn into_result(self) -> CallToolResult {
        let mut content = vec![ContentBlock::text(self.summary())];
        for file in &self.files {
            let mut link = Resource::new(file.uri.clone(), file.name.clone());
            link.mime_type = Some(file.content_type.clone());
            link.size = Some(file.size);
            if !file.url.is_empty() {
                link.description = Some(format!("also at {}", file.url));
            }
            content.push(ContentBlock::resource_link(link));
        }
        let failed = matches!(self.state, RunState::Failed | RunState::Cancelled);
        let structured = serde_json::to_value(&self).unwrap_or_default();
        let mut result = if failed {
            CallToolResult::error(content)
        } else {
            CallToolResult::success(content)
        };
        result.structured_content = Some(structured);
        result
    }

    fn summary(&self) -> String {
        let repeated = if self.repeated {
            " (the same call was made shortly before: this is its task, nothing was paid again)"
        } else {
            ""
        };
        let mut text = match self.state {
            RunState::Working => format!("Task {} is running{repeated}.", self.task_id),
            RunState::Completed => format!(
                "Task {} completed{repeated}: {} file(s) in the output folder.",
                self.task_id,
                self.files.len()
            ),
            RunState::Failed => format!("Task {} failed (not billed){repeated}.", self.task_id),
            RunState::Cancelled => {
                format!("Task {} was stopped (not billed){repeated}.", self.task_id)
            }
        };
        for (label, value) in [
            ("Answer", &self.text),
            ("Error", &self.error),
            ("Next", &self.next),
        ] {
            if let Some(value) = value {
                text.push_str(&format!("\n{label}: {value}"));
            }
        }
        if let Some(cost) = self.cost_usd {
            text.push_str(&format!("\nCost: ${cost:.4}"));
        }
        text
    }
}

/// Waits up to `wait` for `record`'s task (progress goes to the client when it asked for
/// it), downloads what it made, journals its end, and reports. The client leaving ends the
/// wait, not the task.
pub(crate) async fn follow(
    host: &Arc<Host>,
    record: TaskRecord,
    wait: Duration,
    ctx: &RequestContext<RoleServer>,
) -> RunReport {
    let progress = Progress::start(ctx);
    let report = watch(
        host,
        record,
        Some(wait),
        progress.sender(),
        ctx.ct.cancelled(),
    )
    .await;
    progress.finish().await;
    report
}

/// Follows `record`'s task until it ends, `wait` passes (no limit when `None`) or `until`
/// resolves, sending each status and log line to `lines`; then downloads, journals, reports.
pub(crate) async fn watch(
    host: &Arc<Host>,
    record: TaskRecord,
    wait: Option<Duration>,
    lines: tokio::sync::mpsc::UnboundedSender<String>,
    until: impl std::future::Future<Output = ()>,
) -> RunReport {
    if let Some(report) = &record.ended {
        return report.clone();
    }
    let options = WaitOptions::default();
    let waiting = host
        .config
        .client
        .wait_for_task(&record.handle, &options, move |event| {
            let line = match event {
                TaskEvent::Status { status, .. } => format!("status: {status}"),
                TaskEvent::Log { line, .. } => line,
                TaskEvent::SocketLost { reason } => {
                    format!("live updates lost ({reason}); polling")
                }
            };
            let _ = lines.send(line);
        });
    let limit = wait.unwrap_or(Duration::from_secs(u64::from(u32::MAX)));
    let started = tokio::time::Instant::now();
    tokio::pin!(until);
    let stopped =
        |record: &TaskRecord| RunReport::working(record, Some("the client stopped waiting".into()));
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(limit, waiting) => outcome,
        _ = &mut until => return stopped(&record),
    };
    // Calls that follow one task together download it one at a time, until its end is
    // journaled: the first writes the files, the others report them.
    let mut downloading = None;
    let report = match outcome {
        Err(_elapsed) => return RunReport::working(&record, None),
        Ok(Ok(task)) => {
            let taskid = &record.handle.taskid;
            // Within the call's wait: another call's download may take long.
            let left = limit.saturating_sub(started.elapsed());
            let lock = format!("download {taskid}");
            let claimed = tokio::time::timeout(left, host.claim(&lock));
            downloading = Some(tokio::select! {
                claimed = claimed => match claimed {
                    Ok(claimed) => claimed,
                    Err(_elapsed) => {
                        let mut report = RunReport::working(&record, Some(task.status.to_string()));
                        report.next = Some(format!(
                            "The task has ended and another call is downloading its files; call {FOLLOW} with task_id {taskid:?} to get them (free)."
                        ));
                        return report;
                    }
                },
                _ = &mut until => return stopped(&record),
            });
            if let Some(ended) = (host.journal.task(taskid)).and_then(|record| record.ended) {
                return ended;
            }
            match download(host, &record.handle, &task).await {
                Ok((files, text)) => completed(&record, &task, files, text),
                Err(error) => {
                    // The task is done and paid: a failed download is tried again by the
                    // next follow, never by another Run.
                    let status = Some(task.status.to_string());
                    let mut report = RunReport::working(&record, status);
                    report.error = Some(format!(
                        "the task completed but its files could not be downloaded: {error}"
                    ));
                    report.next = Some(format!(
                        "call {FOLLOW} with task_id {taskid:?} to download them again (free)"
                    ));
                    return report;
                }
            }
        }
        Ok(Err(Error::TaskFailed {
            status,
            debugerror,
            pexit,
            ..
        })) => {
            let state = RunState::Failed;
            let error = format!("{status} (exit {pexit}): {debugerror}");
            ended_without(&record, state, Some(status), error)
        }
        Ok(Err(Error::TaskCancelled { debugerror, .. })) => {
            let why = if debugerror.is_empty() {
                "the task was cancelled".to_owned()
            } else {
                debugerror
            };
            ended_without(
                &record,
                RunState::Cancelled,
                Some("task_cancel".into()),
                why,
            )
        }
        Ok(Err(error)) => {
            let mut report = RunReport::working(&record, None);
            report.error = Some(format!("following the task failed for now: {error}"));
            return report;
        }
    };
    host.settle(&record, &report);
    drop(downloading);
    report
}

/// The report on a task that completed, its outputs downloaded.
fn completed(
    record: &TaskRecord,
    task: &Task,
    files: Vec<ReportedFile>,
    text: Option<String>,
) -> RunReport {
    RunReport {
        task_id: record.handle.taskid.clone(),
        state: RunState::Completed,
        status: Some(task.status.to_string()),
        price_usd: record.price_usd,
        cost_usd: task.total_cost(),
        files,
        text,
        error: None,
        repeated: false,
        next: None,
    }
}

/// The report on a task that ended without outputs (failed or stopped: not billed).
fn ended_without(
    record: &TaskRecord,
    state: RunState,
    status: Option<String>,
    error: String,
) -> RunReport {
    RunReport {
        task_id: record.handle.taskid.clone(),
        state,
        status,
        price_usd: record.price_usd,
        cost_usd: None,
        files: Vec::new(),
        text: None,
        error: Some(error),
        repeated: false,
        next: None,
    }
}

/// Downloads a finished task's outputs into `OUT/<task id>/` with the download node (the
/// walls and fetch rules of every host), and collects a chat model's text.
async fn download(
    host: &Arc<Host>,
    handle: &TaskHandle,
    task: &Task,
) -> Result<(Vec<ReportedFile>, Option<String>), NodeError> {
    let answers: Vec<&str> = task
        .outputs
        .iter()
        .filter_map(OutputFile::text_answer)
        .collect();
    let text = (!answers.is_empty()).then(|| answers.join("\n\n"));
    let node = host.download_node();
    let mut ctx = NodeContext::new("mcp", host.config.client.clone(), &host.config.out_dir);
    ctx.file_access = crate::node::FileAccess::inside([&host.config.out_dir]);
    let inputs = json!({
        "outputs": task.outputs,
        "directory": handle.taskid,
        "prefix": "",
    });
    let outputs = crate::node::invoke(node.as_ref(), &ctx, inputs).await?;
    let files: Vec<LocalFile> = serde_json::from_value(outputs["files"].clone())
        .map_err(|error| NodeError::Panicked(format!("the download node's answer: {error}")))?;
    // The download node saves one file per output, in order.
    let reported = files
        .iter()
        .enumerate()
        .map(|(position, file)| {
            let url = task
                .outputs
                .get(position)
                .map_or("", |output| output.url.as_str());
            host.reported_file(&handle.taskid, file, url)
        })
        .collect();
    Ok((reported, text))
}

/// Progress notifications for one call, when the client gave a progress token: each event
/// of the task (a status, a log line) is one notification, sent in order.
struct Progress {
    sender: tokio::sync::mpsc::UnboundedSender<String>,
    _forward: Option<tokio_util::task::AbortOnDropHandle<()>>,
}

impl Progress {
    fn start(ctx: &RequestContext<RoleServer>) -> Self {
        let (sender, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
        let forward = ctx.meta.get_progress_token().map(|token| {
            let peer = ctx.peer.clone();
            tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
                let mut step = 0.0;
                while let Some(line) = lines.recv().await {
                    step += 1.0;
                    let mut param = ProgressNotificationParam::new(token.clone(), step);
                    param.message = Some(line);
                    if peer.notify_progress(param).await.is_err() {
                        break;
                    }
                }
            }))
        });
        Self {
            sender,
            _forward: forward,
        }
    }

    fn sender(&self) -> tokio::sync::mpsc::UnboundedSender<String> {
        self.sender.clone()
    }

    /// Sends what is still queued (for at most two seconds), then ends.
    async fn finish(self) {
        drop(self.sender);
        if let Some(forward) = self._forward {
            let _ = tokio::time::timeout(Duration::from_secs(2), forward).await;
        }
    }
}
