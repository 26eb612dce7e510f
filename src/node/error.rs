//! `NodeError`: why a node did not produce its outputs.

use serde::{Deserialize, Serialize};

use super::InputProblem;

/// A remote task that a node stopped because its run was cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoppedTask {
    /// The task's id.
    pub taskid: String,
    /// `cancelled` (it was queued), `killed` (it was running) or `already ended`.
    pub how: String,
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
