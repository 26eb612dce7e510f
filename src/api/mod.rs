//! The Wiro wire contract: credentials and signing, request and answer types, the HTTP client
//! (timeouts, retries, errors), task events over the WebSocket with polling as fallback, and
//! streamed downloads.
//!
//! ```no_run
//! # async fn demo() -> wiro_nodes::api::Result<()> {
//! use wiro_nodes::api::{Client, WaitOptions};
//! let client = Client::from_env()?;
//! let mut parameters = serde_json::Map::new();
//! parameters.insert("prompt".into(), "a rabbit and a turtle race".into());
//! let handle = client.run("PixVerse/text-to-video-v4", &parameters).await?;
//! let task = client.wait_for_task(&handle, &WaitOptions::default(), |_| {}).await?;
//! println!("{} outputs", task.outputs.len());
//! # Ok(()) }
//! ```

mod address;
mod answer;
mod client;
mod config;
mod credentials;
mod download;
mod error;
mod fetch_rules;
mod file_sink;
mod operations;
mod partial_download;
mod prices;
mod resolve;
mod retry;
pub mod signing;
mod task_socket;
pub(crate) mod tls;
mod wait;
pub mod wire;

pub use address::inside_network;
pub use client::{clean_slug, Client};
pub use config::{ClientConfig, RetryPolicy, DEFAULT_BASE_URL, DEFAULT_SOCKET_URL};
pub use credentials::{Credentials, Secret};
pub use download::{
    earlier_name, leads_out, safe_file_name, safe_relative, unused_name, DownloadProgress,
    LocalFile,
};
pub(crate) use download::{is_link, link_below, through_a_link};
pub use error::{Error, Result};
pub use fetch_rules::{AllowedHost, FetchRules, SealKey};
pub use operations::{
    RunLookup, StopOutcome, TaskListPage, TaskListQuery, TaskLookup, FIND_RUN_CLOCK_MARGIN,
};
pub use prices::{estimate, Estimate};
#[cfg(feature = "emulator")]
pub(crate) use resolve::SystemResolver;
pub use wait::{EventSource, TaskEvent, WaitOptions};
pub use wire::{ModelDetail, ModelParameter, OutputFile, PriceTier, Task, TaskHandle, TaskStatus};
