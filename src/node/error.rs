//! `NodeError`: why a node did not produce its outputs.

use serde::{Deserialize, Serialize};

use super::InputProblem;

/// A remote task that a node stopped because its run was cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoppedTask {
    /// The task's id.
    pub taskid: String,
    /// What the stop did.
    pub how: HowStopped,
    /// What the task was charged, in dollars, when it had ended before the stop came (its
    /// record's `totalcost`): a task that finished is billed, cancelled or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charged: Option<f64>,
}

/// What stopping a task did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HowStopped {
    /// It was queued and is now cancelled: it never ran and is not billed.
    Cancelled,
    /// It was running and is now killed: it is not billed.
    Killed,
    /// It had already ended; nothing was done.
    AlreadyEnded,
    /// The stop request failed: the task may still be running.
    NotStopped {
        /// Why the stop failed.
        error: String,
    },
}

impl HowStopped {
    /// The task is stopped and will not finish (so it is not billed and leaves nothing
    /// running): it was cancelled or killed.
    pub fn leaves_nothing_running(&self) -> bool {
        matches!(self, Self::Cancelled | Self::Killed)
    }
}

impl From<&crate::api::StopOutcome> for HowStopped {
    fn from(outcome: &crate::api::StopOutcome) -> Self {
        match outcome {
            crate::api::StopOutcome::Cancelled(_) => Self::Cancelled,
            crate::api::StopOutcome::Killed(_) => Self::Killed,
            crate::api::StopOutcome::AlreadyEnded(_) => Self::AlreadyEnded,
        }
    }
}

impl std::fmt::Display for HowStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cancelled => f.write_str("cancelled"),
            Self::Killed => f.write_str("killed"),
            Self::AlreadyEnded => f.write_str("already ended"),
            Self::NotStopped { error } => write!(f, "could not be stopped: {error}"),
        }
    }
}

/// Compares with the words the summary prints (`"killed"`, `"cancelled"`, ...).
impl PartialEq<&str> for HowStopped {
    fn eq(&self, other: &&str) -> bool {
        match self {
            Self::Cancelled => *other == "cancelled",
            Self::Killed => *other == "killed",
            Self::AlreadyEnded => *other == "already ended",
            Self::NotStopped { error } => {
                other.strip_prefix("could not be stopped: ") == Some(error.as_str())
            }
        }
    }
}

/// Why a node failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The inputs break the node's schema or rules; nothing was sent.
    #[error("invalid inputs: {}", list(.0))]
    InvalidInputs(Vec<InputProblem>),
    /// The Wiro API said no, or could not be reached.
    #[error(transparent)]
    Api(#[from] crate::api::Error),
    /// The run was cancelled; the remote task, if the node owned one, was stopped.
    #[error("cancelled{}", stopped.as_ref().map(|s| format!("; task {} {}", s.taskid, s.how)).unwrap_or_default())]
    Cancelled {
        /// The task the node stopped, if any.
        stopped: Option<StoppedTask>,
    },
    /// The host could not record that a paid Run is about to be sent, so it was not sent.
    #[error("could not record the Run before sending it, so it was not sent: {0}")]
    NotRecorded(String),
    /// The node's code panicked: what it did remotely is unknown.
    #[error("the node stopped unexpectedly: {0}")]
    Panicked(String),
    /// The outputs could not be written as the node's output schema says.
    #[error("could not encode the outputs: {0}")]
    Outputs(String),
}

fn list(problems: &[InputProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
