//! The node types: one file per node, each registering itself with `inventory`; every model
//! (the built-in ones and a catalog file's) is served by one of them, [`CatalogNode`].
//!
//! | type id | what it does |
//! |---|---|
//! | `wiro/folder.create` | creates a storage folder |
//! | `wiro/file.upload` | uploads a local file; its URL feeds model inputs |
//! | `wiro/model.run` | starts any model; returns the task handle |
//! | `wiro/model.detail` | a model's parameters and prices, and a run's price before paying |
//! | `pixverse/text-to-video-v4` | starts PixVerse text-to-video v4 with typed parameters (a built-in model, [`CatalogNode`]) |
//! | `pixverse/image-to-video-v4` | starts PixVerse image-to-video v4 with typed parameters (a built-in model, [`CatalogNode`]) |
//! | `wiro/task.detail` | reads a task's record |
//! | `wiro/task.wait` | follows a task to its end |
//! | `wiro/task.kill` | stops a running task |
//! | `wiro/task.cancel` | removes a queued task |
//! | `wiro/task.list` | lists recent tasks, optionally of one model |
//! | `wiro/task.files.delete` | deletes a finished task's files from Wiro's storage |
//! | `wiro/output.download` | downloads output files |
//! | *`owner/model`* | every model of a catalog file ([`CatalogNode`]): typed inputs from the model's published parameters |

mod catalog_model;
mod file_upload;
mod folder_create;
mod model_detail;
mod model_run;
mod output_download;
mod support;
mod task_cancel;
mod task_detail;
mod task_files_delete;
mod task_kill;
mod task_list;
mod task_wait;
mod upload_checks;

pub use catalog_model::CatalogNode;
pub use file_upload::{FileUpload, FileUploadInput, FileUploadOutput};
pub use folder_create::{FolderCreate, FolderCreateInput, FolderCreateOutput};
pub use model_detail::{ModelDetailInput, ModelDetailNode, ModelDetailOutput};
pub use model_run::{ModelRun, ModelRunInput};
pub use output_download::{OutputDownload, OutputDownloadInput, OutputDownloadOutput};
pub use support::StartedTask;
pub use task_cancel::TaskCancel;
pub use task_detail::{TaskDetail, TaskInput, TaskRecordOutput};
pub use task_files_delete::{TaskFilesDelete, TaskFilesDeleteInput};
pub use task_kill::TaskKill;
pub use task_list::{TaskList, TaskListInput, TaskListOutput};
pub use task_wait::{TaskWait, TaskWaitInput, TaskWaitOutput};

use crate::node::NodeRegistration;

/// Every node type of this crate, as a plain list: for an engine that builds its registry by
/// hand, to offer some node types and not others, or where a linker drops the static
/// constructors `inventory` relies on. Use with [`crate::node::Registry::from_registrations`].
/// The built-in models (PixVerse v4) are one registration of several node types.
pub fn all() -> Vec<NodeRegistration> {
    vec![
        NodeRegistration::of::<FolderCreate>(),
        NodeRegistration::of::<FileUpload>(),
        NodeRegistration::of::<ModelRun>(),
        NodeRegistration::of::<ModelDetailNode>(),
        catalog_model::BUILT_IN,
        NodeRegistration::of::<TaskDetail>(),
        NodeRegistration::of::<TaskWait>(),
        NodeRegistration::of::<TaskKill>(),
        NodeRegistration::of::<TaskCancel>(),
        NodeRegistration::of::<TaskList>(),
        NodeRegistration::of::<TaskFilesDelete>(),
        NodeRegistration::of::<OutputDownload>(),
    ]
}
