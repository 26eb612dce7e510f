//! What became of a paid task that an earlier run started: the question a resume asks before
//! it waits for that task again. It needs the API, so it lives here, not in the executor.

use std::fmt;

use crate::api::{Client, TaskHandle, TaskLookup, TaskStatus};

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
    if record.status == TaskStatus::Cancel {
        Some(EndedWithoutResult::Cancelled)
    } else if record.is_terminal() && !record.succeeded() {
        Some(EndedWithoutResult::Failed)
    } else {
        None
    }
}
