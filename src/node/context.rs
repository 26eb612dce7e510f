//! `NodeContext`: what a running node is given — the client, cancellation, progress, a file area.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::{FileAccess, ProgressSink, TaskSlots, Walls};
use crate::api::Client;

/// The context one node runs in.
#[derive(Debug, Clone)]
pub struct NodeContext {
    /// The node's id in its workflow (for messages).
    pub node_id: String,
    /// The Wiro client.
    pub client: Client,
    /// Cancelled when the run is stopped (Ctrl-C, a dropped run): a node that owns a remote
    /// task stops it before returning.
    pub cancel: CancellationToken,
    /// Where to report progress.
    pub progress: ProgressSink,
    /// The run's paid tasks: how many may be active at once on the account. Shared by every
    /// node of a run; paid nodes take a slot per Run, waits give it back when the task ends.
    pub tasks: TaskSlots,
    /// Relative paths in inputs (files to upload) are taken from here: the workflow's folder.
    pub input_dir: PathBuf,
    /// Which local files the node may read.
    pub file_access: FileAccess,
    /// Where the node writes files (downloads).
    pub output_dir: PathBuf,
}

impl NodeContext {
    /// A context with a fresh token and a no-op progress sink, reading relative paths from
    /// and writing files to `dir`.
    pub fn new(node_id: impl Into<String>, client: Client, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        Self {
            node_id: node_id.into(),
            client,
            cancel: CancellationToken::new(),
            progress: ProgressSink::default(),
            tasks: TaskSlots::default(),
            input_dir: dir.clone(),
            file_access: FileAccess::Anywhere,
            output_dir: dir,
        }
    }

    /// What the node may reach: where relative paths are read from, which files may be
    /// read, and which URLs fetched.
    pub fn walls(&self) -> Walls {
        Walls {
            input_dir: self.input_dir.clone(),
            access: self.file_access.clone(),
            fetch: self.client.fetch_rules().clone(),
        }
    }

    /// An input path: absolute as given, relative ones inside `input_dir`.
    pub fn input_path(&self, path: &str) -> PathBuf {
        let path = PathBuf::from(path);
        if path.is_absolute() {
            path
        } else {
            self.input_dir.join(path)
        }
    }
}
