//! The wire types of the Wiro API, shared by the client and the emulator.
//!
//! Every type parses leniently (numbers as strings, `null` lists, numeric ids) and keeps the
//! fields it does not model, so nothing the server says is lost.

mod envelope;
mod file;
pub(crate) mod lenient;
mod number;
mod parameter_list;
mod socket;
mod status;
mod task;
mod tool;

pub use envelope::{codes, ApiErrorItem, Envelope};
pub use file::{
    upload_content_type, FileList, Folder, UploadedFile, MAX_UPLOAD_BYTES, UPLOAD_TYPES,
};
pub use number::WireNumber;
pub use parameter_list::read_parameter_list;
pub use socket::{SocketFrame, TaskInfoRequest};
pub use status::TaskStatus;
pub use task::{OutputFile, RunAccepted, Task, TaskHandle, TaskList};
pub use tool::{ModelDetail, ModelParameter, ParameterOption, PriceTier};
