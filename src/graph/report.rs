//! What a run tells while it goes ([`RunEvent`]) and when it ends ([`RunReport`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::{sum_usd, WorkflowProblem};
use crate::node::{NodeEvent, PortKinds, StoppedTask, TaskSlotsReport};

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
        /// The local files its taken outputs name.
        files: Vec<PathBuf>,
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
        /// What the task records in its outputs say was charged, by task id.
        charged: BTreeMap<String, f64>,
        /// The local files its outputs name (a download's, say): on disk under their names
        /// when this is told, before the run ends.
        files: Vec<PathBuf>,
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
    /// Remote tasks it started or reported on.
    pub tasks: Vec<String>,
    /// What its task records say was charged, by task id.
    pub charged: BTreeMap<String, f64>,
    /// Local files it wrote.
    pub files: Vec<PathBuf>,
    /// Remote tasks it stopped because the run was cancelled.
    pub stopped: Vec<StoppedTask>,
}

impl NodeReport {
    /// A node that has not run (yet).
    pub(crate) fn not_reached(id: &str, type_id: &str) -> Self {
        Self {
            id: id.to_owned(),
            type_id: type_id.to_owned(),
            outcome: NodeOutcome::Skipped("not reached".into()),
            elapsed: Duration::ZERO,
            outputs: None,
            tasks: Vec::new(),
            charged: BTreeMap::new(),
            files: Vec::new(),
            stopped: Vec::new(),
        }
    }

    /// Records what the node's outputs say: tasks, costs and files, read from its declared
    /// port kinds. The outputs themselves stay with the schedule (its inputs for later nodes)
    /// and move here when the run ends, so a run of thousands of nodes holds one copy.
    pub(crate) fn read_outputs(
        &mut self,
        outcome: NodeOutcome,
        kinds: &PortKinds,
        outputs: &Value,
    ) {
        self.outcome = outcome;
        self.tasks = kinds.task_ids(outputs);
        self.charged = kinds
            .task_records(outputs)
            .iter()
            .filter_map(|task| Some((task.id.clone(), task.total_cost()?)))
            .collect();
        self.files = kinds.local_paths(outputs);
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
    /// The paid tasks: Runs refused for a limit (nothing started; sent again), the account's
    /// limit as learned, the most active at once.
    pub tasks: TaskSlotsReport,
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
        let charged: BTreeMap<&str, f64> = self
            .nodes
            .iter()
            .flat_map(|node| node.charged.iter())
            .map(|(task, cost)| (task.as_str(), *cost))
            .collect();
        sum_usd(charged.into_values())
    }

    /// The remote tasks the run started or read whose end it did not see (a `wiro/model.run`
    /// no node waited for, a wait that failed): no charge of theirs is in
    /// [`RunReport::total_cost`], and each is billed if it succeeds. Sorted.
    pub fn tasks_not_seen_ending(&self) -> Vec<&str> {
        let seen: std::collections::BTreeSet<&str> = (self.nodes.iter())
            .flat_map(|node| node.charged.keys().map(String::as_str))
            .chain(self.stopped_tasks().into_iter().map(|s| s.taskid.as_str()))
            .collect();
        let mut unseen: Vec<&str> = (self.nodes.iter())
            .flat_map(|node| node.tasks.iter().map(String::as_str))
            .filter(|task| !seen.contains(task))
            .collect();
        unseen.sort_unstable();
        unseen.dedup();
        unseen
    }

    /// The local files the run wrote.
    pub fn files(&self) -> Vec<PathBuf> {
        self.nodes
            .iter()
            .flat_map(|node| node.files.iter().cloned())
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
