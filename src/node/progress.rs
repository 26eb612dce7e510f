//! Progress from a running node: its phase, log lines, task and transfer news — and the one
//! JSON shape they travel in, for every host that streams them (`node exec --progress json`,
//! the editor's event socket): see [`NodeEvent`].

use std::sync::Arc;

use serde::Serialize;

use super::HowStopped;
use crate::api::{TaskHandle, TaskStatus};

/// The phase of a paid node whose Run waits for one of the account's task slots (a table's
/// and a batch's progress count such nodes).
pub const WAITING_FOR_TASK_SLOT: &str = "waiting for a task slot";

/// Something a running node reports.
///
/// # The event contract (JSON)
///
/// Each event is one JSON object whose `event` field names it; the other fields are the
/// variant's (`NodeEvent::TaskStatus { status }` is `{"event": "task_status", "status":
/// "task_start"}`):
///
/// | `event` | fields |
/// |---|---|
/// | `phase` | `phase`: what the node is doing (`uploading`, `submitting`, `waiting for a task slot`, ...) |
/// | `submitting` | a paid Run is about to be sent |
/// | `run_refused` | `reason`: the server refused the Run for a limit; nothing started |
/// | `task_started` | `taskid`, `socketaccesstoken`: a Run was accepted |
/// | `task_status` | `status`: the task's status (`task_queue` ... `task_postprocess_end`, `task_cancel`) |
/// | `log` | `line`, `stderr`: a log line of the task |
/// | `transfer` | `file`, `done`, `total` (null when unknown): bytes moved |
/// | `task_stopped` | `taskid`, `how` (`cancelled`, `killed`, `already ended`, `could not be stopped: ...`), `charged` (dollars, when it had ended billed) |
///
/// A host adds its own fields beside them (the editor: `kind` and `node`). Readers ignore
/// events and fields they do not know.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum NodeEvent {
    /// The node entered a phase (`uploading`, `submitting`, `waiting`, `downloading`, ...).
    Phase {
        /// The phase, in words.
        phase: String,
    },
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
    TaskStatus {
        /// The new status.
        status: TaskStatus,
    },
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
        /// What the stop did, in words.
        #[serde(serialize_with = "in_words")]
        how: HowStopped,
        /// What the task was billed, in dollars, when it had ended before the stop came.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        charged: Option<f64>,
    },
}

/// A value as its `Display` writes it.
fn in_words<S: serde::Serializer>(
    value: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Work that recording an event leaves to finish before the node goes on: a journal's sync,
/// run away from the caller's thread.
pub type OwedRecord = futures_util::future::BoxFuture<'static, Result<(), String>>;

type Record = dyn Fn(NodeEvent) -> Result<Option<OwedRecord>, String> + Send + Sync;

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
        Self::recording_owed(move |event| record(event).map(|()| None))
    }

    /// A sink whose recording of an event may leave work to finish (a journal's sync, which
    /// waits for the disk): [`ProgressSink::record`] awaits it before the node goes on.
    pub fn recording_owed(
        record: impl Fn(NodeEvent) -> Result<Option<OwedRecord>, String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            emit: Arc::new(record),
        }
    }

    /// Reports an event nothing waits on; a failure to record it is logged. Work the
    /// recording leaves (see [`ProgressSink::recording_owed`]) is not awaited.
    pub fn emit(&self, event: NodeEvent) {
        match (self.emit)(event) {
            Err(error) => tracing::error!(%error, "could not record a node event"),
            // A mistake in a node: such an event goes through `record`.
            Ok(Some(_)) => tracing::error!(
                "an event that must be recorded before the node goes on was only emitted"
            ),
            Ok(None) => {}
        }
    }

    /// Reports an event that must be recorded before the node goes on.
    pub async fn record(&self, event: NodeEvent) -> Result<(), String> {
        match (self.emit)(event)? {
            Some(owed) => owed.await,
            None => Ok(()),
        }
    }

    /// Reports a phase.
    pub fn phase(&self, phase: impl Into<String>) {
        self.emit(NodeEvent::Phase {
            phase: phase.into(),
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_one_object_named_by_its_event_field() {
        let shown = |event: NodeEvent| serde_json::to_value(event).expect("serialisable");
        assert_eq!(
            shown(NodeEvent::TaskStatus {
                status: TaskStatus::Start
            }),
            serde_json::json!({"event": "task_status", "status": "task_start"})
        );
        assert_eq!(
            shown(NodeEvent::TaskStarted(TaskHandle {
                taskid: "7".into(),
                socketaccesstoken: "t".into(),
            })),
            serde_json::json!({"event": "task_started", "taskid": "7", "socketaccesstoken": "t"})
        );
        assert_eq!(
            shown(NodeEvent::TaskStopped {
                taskid: "7".into(),
                how: HowStopped::NotStopped {
                    error: "timeout".into()
                },
                charged: None,
            }),
            serde_json::json!({"event": "task_stopped", "taskid": "7", "how": "could not be stopped: timeout"})
        );
        assert_eq!(
            shown(NodeEvent::Submitting),
            serde_json::json!({"event": "submitting"})
        );
        assert_eq!(
            shown(NodeEvent::Phase {
                phase: "uploading".into()
            }),
            serde_json::json!({"event": "phase", "phase": "uploading"})
        );
    }
}
