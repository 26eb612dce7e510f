//! The plugin contract: the [`Node`] trait and its typed form [`TypedNode`], the [`NodeSpec`]
//! engines read, the [`NodeContext`] a node runs in, and the `inventory` [`Registry`].
//!
//! A node is written as a [`TypedNode`] and registered with [`register_node!`](crate::register_node);
//! an engine calls [`Registry::from_inventory`] and finds every node linked into the program.
//!
//! # The contract, as an engine reads it
//!
//! - **What a node is**: its [`NodeSpec`] — a permanent `type` id and `version`, texts for a
//!   palette, and JSON Schemas (2020-12) of its input and output objects. Each property is a
//!   port. Shared port types (`TaskHandle`, `Task`, `OutputFile`, `UploadedFile`, `Folder`,
//!   `LocalFile`) carry their name in [`PORT_TYPE_KEY`] (`x-port-type`); an edge may join an
//!   output to an input of the same type ([`PortType::fits`]). Our `x-` keywords form a
//!   JSON Schema vocabulary, described by a published meta-schema ([`vocabulary`]).
//! - **Which outputs need care**: [`NodeSpec::kinds`] names, per output port, a [`PortKind`]
//!   read from the declared type, never from a value's shape: the paid task the node started
//!   (`started_task`), task records with their cost (`task_record`), files it wrote
//!   (`local_files`). [`PortKinds`] reads those values typed.
//! - **Before running**: [`Node::check_inputs`] names every problem (port, rule, message) on
//!   partial inputs; a node whose `spends_money` is true is never run on inputs that fail it.
//! - **Running**: [`Node::run`] with a [`NodeContext`] — the client, a cancellation token, a
//!   progress sink, the input and output folders. Progress comes as [`NodeEvent`]s.
//! - **Money**: a paid node reports [`NodeEvent::TaskStarted`] the moment its Run is accepted
//!   (journal it then: it is the only way back to a paid task), returns that handle on its
//!   `started_task` port as soon as the task is accepted (waiting is another node's job), and,
//!   when cancelled, stops the task it owns and says how ([`StoppedTask`], [`HowStopped`]).
//!   A host resuming a journaled task asks [`ended_without_result`] first: a task that was
//!   cancelled or failed was not billed and may be submitted again; any other is waited for.
//! - **Errors**: [`NodeError`] separates refused inputs (nothing sent) from the API's answers
//!   ([`crate::api::Error`], with the server's words and codes) and from a cancelled run.

mod claim_book;
mod context;
mod error;
mod fate;
pub mod file_kind;
mod input_check;
mod invoke;
mod port_kind;
mod port_type;
mod price_book;
mod problem;
mod progress;
mod registry;
mod spec;
mod started;
mod task_slots;
mod typed;
pub mod vocabulary;
mod walls;

pub use claim_book::{AccountClaims, ClaimBook, SendingLock};
pub use context::NodeContext;
pub use error::{HowStopped, NodeError, StoppedTask};
pub use fate::Fate;
pub use input_check::InputCheck;
pub use invoke::{check, invoke};
pub use port_kind::{PortKind, PortKinds, PORT_TYPE_KEY};
pub use port_type::PortType;
pub use price_book::PriceBook;
pub use problem::{cut, shown, InputProblem};
pub use progress::{NodeEvent, ProgressSink, WAITING_FOR_TASK_SLOT};
pub use registry::{matches_pattern, NodeRegistration, NodeSource, Registry, SourceNodes};
pub use spec::{NodeSpec, PortDescription, CHANGES_NO_RESULT_KEY};
pub use started::{
    claim_lost_run, ended_without_result, find_started_task, look_for_lost_run, EndedWithoutResult,
    NOT_LISTED_YET,
};
pub use task_slots::{AfterRefusal, Sending, Slot, SlotWait, TaskSlots, TaskSlotsReport};
pub use typed::{schema_value, Node, PricedRun, SentFile, TypedNode};
pub use walls::{FileAccess, Walls};
