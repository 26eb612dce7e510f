//! Workflows: the document, its validation, the reference executor and the run journal.
//!
//! The graph layer never names a concrete node: it finds them through the
//! [`Registry`](crate::node::Registry).

mod executor;
mod export;
mod file_digest;
mod file_kinds;
mod finish;
mod inputs;
mod journal;
mod kept_files;
pub mod out_folder;
mod price;
mod reference;
mod report;
mod resume;
pub mod rows;
mod running;
pub(crate) mod schedule;
mod start;
mod validate;
mod workflow;
mod workflow_shape;

pub use executor::{Executor, RunOptions};
pub use export::{
    node_schema_document, schema_file_name, schema_file_text, schema_files, workflow_schema,
};
/// For other hosts of the graph (Temporal): inputs with their references resolved.
#[cfg_attr(not(feature = "temporal"), allow(unused_imports))]
pub(crate) use inputs::resolve_inputs;
pub use journal::{input_key, Journal, JournalEntry, JournalEvent, JOURNAL_FILE};
pub use price::{
    dollars, price_workflow, price_workflows, spending_cap, sum_usd, usd, NodePrice, OverCap,
    WorkflowPrice,
};
pub use reference::Reference;
pub use report::{NodeOutcome, NodeReport, RunError, RunEvent, RunReport};
pub use validate::{validate, validate_for_run, Plan, WorkflowProblem};
pub use workflow::{Workflow, WorkflowNode, WORKFLOW_VERSION};
