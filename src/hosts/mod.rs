//! Hosts: everything that runs our nodes inside something else, each a thin adapter over
//! [`node`](crate::node) and [`graph`](crate::graph) that never reimplements validation,
//! resume or the money rules.
//!
//! - `editor` (feature `editor`) — the browser workflow editor: a local server and the page
//!   it embeds, drawn from the node specs alone.
//! - [`n8n`] — generates an n8n community node package whose nodes run `wiro-nodes node exec`.
//! - `mcp` (feature `mcp`) — a Model Context Protocol server: every node type a tool for AI
//!   agents, with the money rules asked of the user through the client.
//! - `temporal` (feature `temporal`) — a Temporal worker hosting every node as an activity,
//!   and one durable workflow per workflow document.

#[cfg(feature = "editor")]
pub mod editor;
#[cfg(any(feature = "editor", feature = "mcp"))]
pub mod guard;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod n8n;
#[cfg(feature = "temporal")]
pub mod temporal;
