//! # wiro-nodes
//!
//! [Wiro](https://wiro.ai)'s hosted AI models — first of all the PixVerse v4 video models — as
//! typed, schema-described **node types** for workflow graph engines, with a reference
//! executor, a command line, and a local emulator of the Wiro API.
//!
//! Every API operation is a node (upload → generate → wait → download). Each node declares its
//! input and output ports as JSON Schema 2020-12 (derived with `schemars`) and registers itself
//! with `inventory`, so an engine that links this crate finds them all:
//!
//! ```
//! use wiro_nodes::node::Registry;
//!
//! let registry = Registry::from_inventory();
//! let node = registry.get("pixverse/text-to-video-v4").expect("registered");
//! assert!(node.spec().spends_money);
//! assert!(node.spec().input_ports().contains(&"prompt"));
//!
//! // Impossible parameter combinations are refused before anything is sent:
//! let inputs = serde_json::json!({ "prompt": "a fox", "quality": "1080p", "duration": 8 });
//! let problems = node.check_inputs(inputs.as_object().unwrap(), &Default::default());
//! assert_eq!(problems[0].rule, "pixverse/1080p-max-5s");
//! ```
//!
//! # Layout
//!
//! The layers import downward only: `api ← models ← node ← nodes`, `node ← graph ← cli`,
//! `api ← emulator ← cli`.
//!
//! - [`api`] — the Wiro wire contract: credentials and signing, wire types, the HTTP client
//!   (timeouts, retries that never repeat a Run or an Upload, typed errors), task events over
//!   the WebSocket with polling as fallback, streamed and resumable downloads.
//! - [`models`] — models as data: the catalog (a model's parameters, schema, wire mapping,
//!   prices and rules between parameters) and the built-in PixVerse text-to-video-v4 and
//!   image-to-video-v4, with their cross-field rules in data and in the schema.
//! - [`node`] — the plugin contract: [`node::TypedNode`], [`node::Node`], [`node::NodeSpec`],
//!   [`node::NodeContext`] and the `inventory` [`node::Registry`].
//! - [`nodes`] — one file per node type; each registers itself.
//! - [`graph`] — the workflow document, its validation, the executor and the run journal.
//! - `emulator` (feature `emulator`) — a local Wiro-compatible server: same paths,
//!   signatures, task lifecycle, WebSocket events, and real H.264 MP4 outputs.
//! - [`hosts`] — programs that run the nodes inside something else: the browser workflow
//!   `editor` (feature `editor`), the n8n package generator, and the Temporal worker
//!   (feature `temporal`: the nodes as activities, one durable workflow per document).
//! - `cli` (feature `cli`) — the `wiro-nodes` binary over graph, hosts and emulator.

/// `eprintln!` for the whole crate (it shadows the standard one in every module below): a
/// standard error that is closed or full (`2>&1 | head`, `2>/dev/full`) drops what cannot be
/// written instead of panicking, which would end a run with a paid task in flight.
macro_rules! eprintln {
    () => {
        $crate::write_stderr(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` for the whole crate: see `eprintln!`.
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::write_stderr(format_args!($($arg)*))
    };
}

/// Writes to standard error, dropping what cannot be written (see `eprintln!`).
#[doc(hidden)]
pub fn write_stderr(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_fmt(text);
}

pub mod api;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod graph;
pub mod hosts;
pub mod models;
pub mod node;
pub mod nodes;

#[doc(hidden)]
pub use inventory;
