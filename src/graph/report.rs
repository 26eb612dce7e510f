//! What a run tells while it goes ([`RunEvent`]) and when it ends ([`RunReport`]).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::WorkflowProblem;
use crate::node::{NodeEvent, StoppedTask};

/// Progress of a run, node by node.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// A node started.
    Started {
        /// The node's id.
        node: String,
        /// Its type.
        type_id: String,
    },
    /// A node's result was taken from the journal instead of running it again.
    Resumed {
        /// The node's id.
        node: String,
        /// `finished earlier` or `task already submitted`.
        how: String,
    },
    /// A running node reported progress.
    Progress {
        /// The node's id.
        node: String,
        /// What it reported.
        event: NodeEvent,
    },
    /// A node finished.
    Finished {
        /// The node's id.
        node: String,
        /// How long it ran.
        elapsed: Duration,
    },
    /// A node failed.
    Failed {
        /// The node's id.
        node: String,
        /// Why.
        error: String,
    },
    /// A node was not run.
    Skipped {
        /// The node's id.
        node: String,
        /// Why.
        because: String,
    },
}

/// How one node ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "snake_case")]
pub enum NodeOutcome {
    /// It ran and finished.
    Finished,
    /// Its result came from the journal of an earlier run.
    Resumed,
    /// It failed.
    Failed(String),
    /// It did not run (an input node failed, or the run was cancelled).
    Skipped(String),
    /// It was running when the run was cancelled.
    Cancelled,
}

/// One node's part of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReport {
    /// The node's id.
    pub id: String,
    /// Its type.
    pub type_id: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: NodeOutcome,
    /// How long it ran.
    pub elapsed: Duration,
    /// Its outputs, when it has them.
    pub outputs: Option<Value>,
    /// Remote tasks it started.
    pub tasks: Vec<String>,
    /// Remote tasks it stopped because the run was cancelled.
    pub stopped: Vec<StoppedTask>,
}

impl NodeReport {
    /// Marks the node as taken from an earlier run's journal, with these outputs.
    pub(crate) fn resumed(&mut self, outputs: Value) {
        self.outcome = NodeOutcome::Resumed;
        self.tasks = super::inputs::task_ids(&outputs);
        self.outputs = Some(outputs);
    }
}

/// The end of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// Every node, in workflow order.
    pub nodes: Vec<NodeReport>,
    /// The run was cancelled.
    pub cancelled: bool,
    /// The journal used, if any.
    pub journal: Option<PathBuf>,
}

impl RunReport {
    /// Every node finished (now or in an earlier run).
    pub fn succeeded(&self) -> bool {
        !self.cancelled
            && self
                .nodes
                .iter()
                .all(|node| matches!(node.outcome, NodeOutcome::Finished | NodeOutcome::Resumed))
    }

    /// What the finished tasks cost, from the task records in the outputs; a task seen by
    /// several nodes (a detail and a wait) counts once.
    pub fn total_cost(&self) -> f64 {
        let mut costs = std::collections::BTreeMap::new();
        for outputs in self.nodes.iter().filter_map(|node| node.outputs.as_ref()) {
            visit(outputs, &mut |value| {
                if let (Some(_), Some(Value::String(id)), Some(cost)) =
                    (value.get("status"), value.get("id"), value.get("totalcost"))
                {
                    costs.insert(id.clone(), number(cost).unwrap_or(0.0));
                }
            });
        }
        costs.values().sum()
    }

    /// The local files the run wrote (every `path` of a file record in the outputs).
    pub fn files(&self) -> Vec<PathBuf> {
        self.nodes
            .iter()
            .filter_map(|node| node.outputs.as_ref())
            .flat_map(local_files)
            .collect()
    }

    /// Every remote task the run stopped.
    pub fn stopped_tasks(&self) -> Vec<&StoppedTask> {
        self.nodes
            .iter()
            .flat_map(|node| node.stopped.iter())
            .collect()
    }
}

/// The local files named in a node's outputs: every `path` of a file record (path + sha256).
pub(crate) fn local_files(outputs: &Value) -> Vec<PathBuf> {
    let mut files = Vec::new();
    visit(outputs, &mut |value| {
        if let (Some(Value::String(path)), Some(_)) = (value.get("path"), value.get("sha256")) {
            files.push(PathBuf::from(path));
        }
    });
    files
}

/// Calls `found` for every object inside `value`.
fn visit(value: &Value, found: &mut impl FnMut(&Value)) {
    match value {
        Value::Object(map) => {
            found(value);
            map.values().for_each(|inner| visit(inner, found));
        }
        Value::Array(items) => items.iter().for_each(|inner| visit(inner, found)),
        _ => {}
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The workflow is invalid; nothing was sent.
    #[error("the workflow is invalid ({} problems); nothing was sent:\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<WorkflowProblem>),
    /// The journal could not be read or written.
    #[error("journal {}: {source}", path.display())]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
