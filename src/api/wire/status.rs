//! `TaskStatus`: where a task is in Wiro's lifecycle, with a catch-all for statuses added later.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A task's status, as Task/Detail and the WebSocket report it.
///
/// The documented order is `task_queue → task_accept → task_preprocess_start →
/// task_preprocess_end → task_assign → task_start → task_output… → task_output_full →
/// task_end → task_postprocess_start → task_postprocess_end`; `task_error`/`task_error_full`
/// carry stderr lines and are **not** failures; `task_cancel` ends a cancelled or killed task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Waiting in the queue for a worker.
    Queue,
    /// Accepted by a worker.
    Accept,
    /// Preparing inputs.
    PreprocessStart,
    /// Inputs prepared.
    PreprocessEnd,
    /// Assigned to a machine.
    Assign,
    /// Running.
    Start,
    /// Running; a log line was written.
    Output,
    /// All log output written.
    OutputFull,
    /// Error output (stderr); the task may still succeed.
    Error,
    /// All error output written; the task may still succeed.
    ErrorFull,
    /// The model finished running.
    End,
    /// Outputs are being stored.
    PostprocessStart,
    /// Finished: outputs stored. Terminal.
    PostprocessEnd,
    /// Cancelled (queued) or killed (running). Terminal.
    Cancel,
    /// A status this crate does not know yet, kept verbatim.
    Other(String),
}

impl TaskStatus {
    /// Every known status in lifecycle order (without the error and cancel side paths).
    pub const LIFECYCLE: [TaskStatus; 11] = [
        TaskStatus::Queue,
        TaskStatus::Accept,
        TaskStatus::PreprocessStart,
        TaskStatus::PreprocessEnd,
        TaskStatus::Assign,
        TaskStatus::Start,
        TaskStatus::Output,
        TaskStatus::OutputFull,
        TaskStatus::End,
        TaskStatus::PostprocessStart,
        TaskStatus::PostprocessEnd,
    ];

    /// Parses a wire string; unknown values become [`TaskStatus::Other`].
    pub fn parse(text: &str) -> Self {
        match text {
            "task_queue" => Self::Queue,
            "task_accept" => Self::Accept,
            "task_preprocess_start" => Self::PreprocessStart,
            "task_preprocess_end" => Self::PreprocessEnd,
            "task_assign" => Self::Assign,
            "task_start" => Self::Start,
            "task_output" => Self::Output,
            "task_output_full" => Self::OutputFull,
            "task_error" => Self::Error,
            "task_error_full" => Self::ErrorFull,
            "task_end" => Self::End,
            "task_postprocess_start" => Self::PostprocessStart,
            "task_postprocess_end" => Self::PostprocessEnd,
            "task_cancel" => Self::Cancel,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire string, e.g. `task_postprocess_end`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queue => "task_queue",
            Self::Accept => "task_accept",
            Self::PreprocessStart => "task_preprocess_start",
            Self::PreprocessEnd => "task_preprocess_end",
            Self::Assign => "task_assign",
            Self::Start => "task_start",
            Self::Output => "task_output",
            Self::OutputFull => "task_output_full",
            Self::Error => "task_error",
            Self::ErrorFull => "task_error_full",
            Self::End => "task_end",
            Self::PostprocessStart => "task_postprocess_start",
            Self::PostprocessEnd => "task_postprocess_end",
            Self::Cancel => "task_cancel",
            Self::Other(text) => text,
        }
    }

    /// Only `task_postprocess_end` and `task_cancel` end a task.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::PostprocessEnd | Self::Cancel)
    }

    /// Still waiting for a worker: time here does not count against a wait's deadline.
    pub fn is_queued(&self) -> bool {
        matches!(self, Self::Queue)
    }

    /// A short phase name for progress displays.
    pub fn phase(&self) -> &'static str {
        match self {
            Self::Queue => "queued",
            Self::Accept | Self::PreprocessStart | Self::PreprocessEnd | Self::Assign => {
                "preparing"
            }
            Self::Start | Self::Output | Self::OutputFull | Self::Error | Self::ErrorFull => {
                "running"
            }
            Self::End | Self::PostprocessStart => "storing outputs",
            Self::PostprocessEnd => "finished",
            Self::Cancel => "cancelled",
            Self::Other(_) => "unknown",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::parse(&text))
    }
}

impl schemars::JsonSchema for TaskStatus {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TaskStatus".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Wiro task status such as task_queue, task_start or task_postprocess_end. Terminal: task_postprocess_end, task_cancel.",
            "type": "string",
            "examples": ["task_queue", "task_start", "task_postprocess_end", "task_cancel"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_status_round_trips() {
        for status in TaskStatus::LIFECYCLE
            .iter()
            .chain([TaskStatus::Error, TaskStatus::ErrorFull, TaskStatus::Cancel].iter())
        {
            assert_eq!(&TaskStatus::parse(status.as_str()), status);
        }
    }

    #[test]
    fn unknown_status_is_kept_not_refused() {
        let status: TaskStatus = serde_json::from_str(r#""task_paused""#).unwrap();
        assert_eq!(status, TaskStatus::Other("task_paused".into()));
        assert_eq!(serde_json::to_string(&status).unwrap(), r#""task_paused""#);
        assert!(!status.is_terminal());
    }

    #[test]
    fn only_postprocess_end_and_cancel_are_terminal() {
        let terminal: Vec<_> = TaskStatus::LIFECYCLE
            .iter()
            .chain([TaskStatus::Error, TaskStatus::ErrorFull, TaskStatus::Cancel].iter())
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(terminal, [&TaskStatus::PostprocessEnd, &TaskStatus::Cancel]);
    }
}
