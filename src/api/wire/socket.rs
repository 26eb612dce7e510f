//! WebSocket messages: the `task_info` registration and the event frames that follow.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The message a client sends after connecting, to follow one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfoRequest {
    /// Always `task_info`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The task's `socketaccesstoken`.
    pub tasktoken: String,
}

impl TaskInfoRequest {
    /// Registration for the task with this token.
    pub fn new(tasktoken: impl Into<String>) -> Self {
        Self {
            kind: "task_info".into(),
            tasktoken: tasktoken.into(),
        }
    }
}

/// One frame from the socket: `{"type", "id", "tasktoken", "message", "result"}`.
///
/// `type` is a task status (or `connected`, or a type this crate does not know); on
/// `task_output`/`task_error` `message` is a log line, on `task_postprocess_end` the outputs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SocketFrame {
    /// The frame type: usually a task status such as `task_start`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The task's id.
    #[serde(
        default,
        deserialize_with = "super::lenient::opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The task's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasktoken: Option<String>,
    /// A log line, the outputs array, or an error text.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub message: Value,
    /// Whether the registration or event is good news.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<bool>,
    /// Fields of newer servers (`success`, `terminal`, `exitCode`) and any others, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SocketFrame {
    /// The message as text: log lines are strings; anything else is rendered as JSON.
    pub fn message_text(&self) -> String {
        match &self.message {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}
