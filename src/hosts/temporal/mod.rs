//! The nodes on Temporal: every node type of the registry through one activity, one durable
//! workflow per workflow document, and the client side that submits, follows, cancels and
//! resumes it.
//!
//! - [`activities`] — a worker's activities: `wiro.node` runs any node type (the call names
//!   it); `wiro.reconcile` looks for a lost Run's task; `wiro.task-ended` and `wiro.stop-task`
//!   ask after and stop a task.
//! - [`workflow`] — [`GraphWorkflow`]: validates a document, then runs its nodes on the local
//!   executor's scheduler (`graph::Schedule`: `$from` references, bounded file movers, paid
//!   Runs one at a time, cancellation that stops remote tasks), taking over what a resumed
//!   execution finished.
//! - [`batch`] — [`BatchWorkflow`]: a table too big for one workflow, as one durable batch
//!   of parts, each a child [`GraphWorkflow`] of as many rows as one holds, run in turn.
//! - `reconcile` — a Run whose answer was lost, looked for by the workflow on durable timers.
//! - `calls` — how the workflow calls each node: one attempt for a paid Run, a durable
//!   timer after a code-96 refusal, retries with heartbeats for the rest.
//! - [`messages`] — what travels through Temporal's history: the workflow's input, each
//!   activity's call and result, and the report.
//! - [`client`] — connect, submit under an id derived from the document, status, cancel,
//!   result.
//! - [`rows`] — a table's batch summed up per row, the results table `run --rows` writes.
//! - [`limits`] — what one execution can hold: the report is kept within Temporal's payload
//!   limit (outputs cut to task, cost and files when the whole would not fit), a table too
//!   big even so runs as a batch of parts, and one too big for that is refused before it is
//!   submitted.
//!
//! Credentials never travel: each worker reads `WIRO_API_KEY` (and friends) from its own
//! environment, and nothing in a workflow's input or history carries them.

pub mod activities;
pub mod batch;
mod calls;
pub mod client;
pub mod limits;
pub mod messages;
mod reconcile;
pub mod rows;
pub mod workflow;

pub use activities::NodeHost;
pub use batch::BatchWorkflow;
pub use calls::RECONCILE_HOOK;
pub use client::{connect, workflow_id, Submitted};
pub use messages::{
    BatchInput, BatchReport, CarriedNode, LostRun, NodeCall, NodeDone, NodeLine, NodeState,
    PartLine, PartState, RefusedRow, Report, Resume, WorkflowInput,
};
pub use workflow::{use_registry, GraphWorkflow};

/// The task queue workers poll and submissions go to unless told otherwise.
pub const DEFAULT_TASK_QUEUE: &str = "wiro-nodes";

/// The Temporal namespace used unless told otherwise.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The workflow type name, as Temporal's history and UI show it. `.2`: the workflow is driven
/// by `graph::Schedule` and runs every node through one activity. `.3`: independent nodes
/// start in their written order (a table's rows from the first), so its histories differ
/// from `.2`'s; a worker of this build serves only this type (let workflows of an earlier
/// type end on the workers that started them).
pub const WORKFLOW_TYPE: &str = "wiro.workflow.3";

/// Activity failure types a worker reports, which the workflow acts on.
pub mod failure {
    /// A Run was refused with code 96 (or 429, or never reached the server): nothing was
    /// started, so the workflow waits for a slot and submits again.
    pub const NOT_STARTED: &str = "NotStarted";
    /// A Run was sent and its outcome stayed unknown (its lost answer could not be settled
    /// with Task/List): it may have been accepted. The workflow never sends it again.
    pub const OUTCOME_UNKNOWN: &str = "OutcomeUnknown";
    /// The node failed for good (bad input, a failed task, a refusal).
    pub const FAILED: &str = "NodeFailed";
    /// The node failed in a way worth another attempt (a dropped connection, a 5xx).
    pub const RETRYABLE: &str = "Retryable";
}
