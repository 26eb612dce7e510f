//! Hosts: programs that run our nodes inside something else, each a thin adapter over
//! [`node`](crate::node) and [`graph`](crate::graph).
//!
//! - `editor` (feature `editor`) — the browser workflow editor: a local server and the page
//!   it embeds, drawn from the node specs alone.

#[cfg(feature = "editor")]
pub mod editor;
