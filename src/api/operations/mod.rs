//! The Wiro operations, a file per area: file storage (File/FolderCreate, File/Upload),
//! starting a task (Run), a task's record and its stops (Task/Detail, Kill, Cancel), listing
//! recent tasks (Task/List), a model's description, parameters and prices (Tool/Detail, raw
//! and typed), deleting a finished task's files (Task/InputOutputDelete), and finding the task
//! of a Run whose answer was lost.
//!
//! Each file adds an `impl Client` block; requests go through the client's one signed,
//! retrying path in [`client`](super::client).

mod files;
mod find_run;
mod model_detail;
mod run;
mod task_files;
mod task_list;
mod tasks;
mod tools;

pub use find_run::{RunLookup, FIND_RUN_CLOCK_MARGIN};
pub use task_list::{TaskListPage, TaskListQuery};
pub use tasks::{StopOutcome, TaskLookup};
