//! Progress from a running node: its phase, fraction done, log lines, task and download news.

use std::sync::Arc;

use super::HowStopped;
use crate::api::{TaskHandle, TaskStatus};

/// Something a running node reports.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeEvent {
    /// The node entered a phase (`uploading`, `submitting`, `waiting`, `downloading`, ...).
    Phase(String),
    /// A remote task was accepted: its handle is known and must not be lost.
    TaskStarted(TaskHandle),
    /// The remote task's status changed.
    TaskStatus(TaskStatus),
    /// A log line of the remote task.
    Log {
        /// The line.
        line: String,
        /// From the task's error stream (not a failure by itself).
        stderr: bool,
    },
    /// Bytes moved for a file.
    Transfer {
        /// The file's name.
        file: String,
        /// Bytes done.
        done: u64,
        /// Bytes in all, when known.
        total: Option<u64>,
    },
    /// The remote task was stopped because the run was cancelled.
    TaskStopped {
        /// The task's id.
        taskid: String,
        /// What the stop did.
        how: HowStopped,
    },
}

/// Where a node sends its [`NodeEvent`]s. Cheap to clone; a no-op sink is the default.
#[derive(Clone)]
pub struct ProgressSink {
    emit: Arc<dyn Fn(NodeEvent) + Send + Sync>,
}

impl ProgressSink {
    /// A sink calling `emit` for every event.
    pub fn new(emit: impl Fn(NodeEvent) + Send + Sync + 'static) -> Self {
        Self {
            emit: Arc::new(emit),
        }
    }

    /// Reports an event.
    pub fn emit(&self, event: NodeEvent) {
        (self.emit)(event);
    }

    /// Reports a phase.
    pub fn phase(&self, phase: impl Into<String>) {
        self.emit(NodeEvent::Phase(phase.into()));
    }
}

impl Default for ProgressSink {
    fn default() -> Self {
        Self::new(|_| {})
    }
}

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}
