//! The plugin contract: the [`Node`] trait and its typed form [`TypedNode`], the [`NodeSpec`]
//! engines read, the [`NodeContext`] a node runs in, and the `inventory` [`Registry`].
//!
//! A node is written as a [`TypedNode`] and registered with [`register_node!`](crate::register_node);
//! an engine calls [`Registry::from_inventory`] and finds every node linked into the program.

mod context;
mod error;
mod port_type;
mod problem;
mod progress;
mod registry;
mod spec;
mod typed;

pub use context::NodeContext;
pub use error::{NodeError, StoppedTask};
pub use port_type::PortType;
pub use problem::InputProblem;
pub use progress::{NodeEvent, ProgressSink};
pub use registry::{NodeRegistration, Registry};
pub use spec::{NodeSpec, PortDescription};
pub use typed::{schema_value, Node, TypedNode};
