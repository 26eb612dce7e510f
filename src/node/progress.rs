//! Progress from a running node: its phase, fraction done, log lines, task and download news.

use std::sync::Arc;

use super::HowStopped;
use crate::api::{TaskHandle, TaskStatus};

/// Something a running node reports.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeEvent {
    /// The node entered a phase (`uploading`, `submitting`, `waiting`, `downloading`, ...).
    Phase(String),
    /// A paid Run is about to be sent. A host that journals must record it before returning
    /// (see [`ProgressSink::record`]): if no `TaskStarted` or `RunRefused` follows, the Run's
    /// outcome is unknown.
    Submitting,
    /// The server refused the Run for a limit (code 96, or HTTP 429): nothing was started; the
    /// node sends it again when a slot frees up.
    RunRefused {
        /// The server's answer.
        reason: String,
    },
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

type Record = dyn Fn(NodeEvent) -> Result<(), String> + Send + Sync;

/// Where a node sends its [`NodeEvent`]s. Cheap to clone; a no-op sink is the default.
#[derive(Clone)]
pub struct ProgressSink {
    emit: Arc<Record>,
}

impl ProgressSink {
    /// A sink calling `emit` for every event.
    pub fn new(emit: impl Fn(NodeEvent) + Send + Sync + 'static) -> Self {
        Self::recording(move |event| {
            emit(event);
            Ok(())
        })
    }

    /// A sink that may fail to record an event (a journal that cannot be written): nodes
    /// learn it through [`ProgressSink::record`] and send nothing that would go unrecorded.
    pub fn recording(
        record: impl Fn(NodeEvent) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            emit: Arc::new(record),
        }
    }

    /// Reports an event; a failure to record it is logged.
    pub fn emit(&self, event: NodeEvent) {
        if let Err(error) = (self.emit)(event) {
            tracing::error!(%error, "could not record a node event");
        }
    }

    /// Reports an event that must be recorded before the node goes on.
    pub fn record(&self, event: NodeEvent) -> Result<(), String> {
        (self.emit)(event)
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
