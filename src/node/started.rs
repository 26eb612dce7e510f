//! What became of a paid task that an earlier run started or may have started: the questions
//! a resume asks before it waits for a task again or sends a Run again. They need the API, so
//! they live here, not in the executor.

use std::fmt;

use super::{Node, TaskSlots};
use crate::api::{Client, RunLookup, TaskHandle, TaskLookup, TaskStatus};

/// Why a task an earlier run started will never deliver its outputs. Such a task was not
/// billed, so running the node again is a new intent, not a second payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedWithoutResult {
    /// It was cancelled or killed.
    Cancelled,
    /// It ended in failure.
    Failed,
}

impl fmt::Display for EndedWithoutResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cancelled => "was cancelled",
            Self::Failed => "failed",
        })
    }
}

/// Whether `task` ended without a result. `None` when it is running, succeeded, or cannot be
/// told right now: then the wait that follows finds out and reports it.
pub async fn ended_without_result(
    client: &Client,
    task: &TaskHandle,
) -> Option<EndedWithoutResult> {
    let record = client.task_detail(TaskLookup::from(task)).await.ok()?;
    // Only a record that charged nothing may be run again: a task billed for whatever
    // reason is not a free retry.
    if record.total_cost().is_some_and(|cost| cost > 0.0) {
        return None;
    }
    if record.status == TaskStatus::Cancel {
        Some(EndedWithoutResult::Cancelled)
    } else if record.is_terminal() && !record.succeeded() {
        Some(EndedWithoutResult::Failed)
    } else {
        None
    }
}

/// The task a Run of `node` created, when its answer was lost: the exact parameters `sent`
/// (as a journal kept them: `(model, parameters)`), else those the node sends for `inputs`,
/// looked for as [`claim_lost_run`] does.
pub async fn find_started_task(
    client: &Client,
    tasks: &TaskSlots,
    node: &dyn Node,
    inputs: &serde_json::Value,
    sent: Option<(&str, &serde_json::Map<String, serde_json::Value>)>,
    sent_at: std::time::SystemTime,
) -> RunLookup {
    let from_inputs = sent.is_none().then(|| node.sent_run(inputs)).flatten();
    let from_inputs = from_inputs.as_ref();
    let run = sent.or(from_inputs.map(|run| (run.model.as_str(), &run.parameters)));
    let Some((model, parameters)) = run else {
        return RunLookup::CannotTell {
            reason: "the node does not say what it sent".into(),
        };
    };
    claim_lost_run(client, tasks, model, parameters, sent_at).await
}

/// The task a Run of `model` with `parameters` sent at `sent_at` created, when its answer
/// was lost and it is found again later (a journal's `submitting` line with no answer): one
/// look-up at a time, as Runs are sent (`tasks`' sending lock), every task that already
/// belongs to a node left out ([`TaskSlots::claimed`]), and a task found claimed, here and
/// for other runs, before the next looks: two lost Runs alike never adopt one task.
pub async fn claim_lost_run(
    client: &Client,
    tasks: &TaskSlots,
    model: &str,
    parameters: &serde_json::Map<String, serde_json::Value>,
    sent_at: std::time::SystemTime,
) -> RunLookup {
    let cannot_tell = |reason: String| RunLookup::CannotTell { reason };
    let _sending = match tasks.sending().await {
        Ok(sending) => sending,
        Err(reason) => return cannot_tell(reason),
    };
    let claimed = match tasks.claimed(sent_at) {
        Ok(claimed) => claimed,
        Err(reason) => return cannot_tell(reason),
    };
    let lookup = (look_for_lost_run(client, model, parameters, sent_at, &claimed).await)
        .unwrap_or_else(|error| cannot_tell(error.to_string()));
    if let RunLookup::Found { handle, .. } = &lookup {
        // A claim not written loses no task: the caller journals it.
        let _ = tasks.claim_shared(&handle.taskid);
    }
    lookup
}

/// Task/List's verdict on a Run of `model` with `parameters` sent at `sent_at` whose answer
/// was lost, other than the `claimed` tasks: the one place that decides, for a node that lost
/// the answer just now and for a run that finds the loss in its journal. "Not created" only
/// when the task is not listed a second time either, [`NOT_LISTED_YET`] later: a new task
/// may take a moment to be listed, and sending again on a first miss could pay twice.
pub async fn look_for_lost_run(
    client: &Client,
    model: &str,
    parameters: &serde_json::Map<String, serde_json::Value>,
    sent_at: std::time::SystemTime,
    claimed: &std::collections::HashSet<String>,
) -> Result<RunLookup, crate::api::Error> {
    let lookup = client.find_run(model, parameters, sent_at, claimed).await?;
    if !matches!(lookup, RunLookup::NotCreated { .. }) {
        return Ok(lookup);
    }
    tokio::time::sleep(NOT_LISTED_YET).await;
    client.find_run(model, parameters, sent_at, claimed).await
}

/// How long a Run that seems not to have created a task is given to show up in Task/List.
pub const NOT_LISTED_YET: std::time::Duration = std::time::Duration::from_secs(2);
