//! wiro-nodes
pub mod api;
pub mod graph;
pub mod models;
pub mod node;
pub mod nodes;
#[doc(hidden)]
pub use inventory;
