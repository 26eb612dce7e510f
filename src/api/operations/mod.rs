//! The operations added for batches: listing recent tasks (Task/List), a model's parameters
//! and prices (Tool/Detail, typed), deleting a finished task's files
//! (Task/InputOutputDelete), and finding the task of a Run whose answer was lost.
//!
//! Each file adds an `impl Client` block; requests go through the client's one signed,
//! retrying path, as reads and idempotent changes.

mod find_run;
mod model_detail;
mod task_files;
mod task_list;

pub use find_run::{RunLookup, FIND_RUN_CLOCK_MARGIN};
pub use task_list::{TaskListPage, TaskListQuery};
