//! wiro-nodes
pub mod api;
