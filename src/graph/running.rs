//! The nodes of a run that are running right now, each a spawned task in one `JoinSet`.
//!
//! Every way out of a run waits for them: [`RunningNodes::stop_all`] cancels and awaits each
//! one, so a node that owns a remote task gets to stop it before the run returns. A dropped run
//! cannot wait: the nodes are cancelled and left to finish their stops on their own.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::node::{Node, NodeContext, NodeError};

/// A node that came back.
pub(crate) struct Completion {
    /// The node's position in the workflow.
    pub position: usize,
    /// Its outputs, or why it has none.
    pub result: Result<Value, NodeError>,
    /// How long it ran.
    pub elapsed: Duration,
}

/// The running nodes of one run.
pub(crate) struct RunningNodes {
    set: JoinSet<Completion>,
    positions: HashMap<Id, usize>,
    cancel: CancellationToken,
}

impl RunningNodes {
    /// No nodes yet; `cancel` is the token the nodes' contexts carry.
    pub(crate) fn new(cancel: CancellationToken) -> Self {
        Self {
            set: JoinSet::new(),
            positions: HashMap::new(),
            cancel,
        }
    }

    /// Runs `node` on `inputs` in its own task; with `file_slot`, once it holds one of those
    /// slots (shared with other runs), which it keeps until it comes back.
    pub(crate) fn spawn(
        &mut self,
        position: usize,
        node: Arc<dyn Node>,
        ctx: NodeContext,
        inputs: Value,
        file_slot: Option<Arc<Semaphore>>,
    ) {
        let handle = self.set.spawn(async move {
            let _slot = match file_slot {
                Some(slots) => tokio::select! {
                    slot = slots.acquire_owned() => slot.ok(),
                    _ = ctx.cancel.cancelled() => {
                        return Completion {
                            position,
                            result: Err(NodeError::Cancelled { stopped: None }),
                            elapsed: Duration::ZERO,
                        };
                    }
                },
                None => None,
            };
            let started = Instant::now();
            let result = crate::node::invoke(node.as_ref(), &ctx, inputs).await;
            Completion {
                position,
                result,
                elapsed: started.elapsed(),
            }
        });
        self.positions.insert(handle.id(), position);
    }

    /// No node is running.
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The next node to come back; `None` when none is running. A node that panicked comes
    /// back as [`NodeError::Panicked`]: what it did remotely is unknown.
    pub(crate) async fn next(&mut self) -> Option<Completion> {
        let joined = self.set.join_next_with_id().await?;
        Some(match joined {
            Ok((id, completion)) => {
                self.positions.remove(&id);
                completion
            }
            Err(error) => Completion {
                position: self.positions.remove(&error.id()).unwrap_or_default(),
                result: Err(NodeError::Panicked(error.to_string())),
                elapsed: Duration::ZERO,
            },
        })
    }

    /// Cancels every running node and waits for each to come back (having stopped its remote
    /// task, if it owned one).
    pub(crate) async fn stop_all(&mut self) -> Vec<Completion> {
        self.cancel.cancel();
        let mut completions = Vec::new();
        while let Some(completion) = self.next().await {
            completions.push(completion);
        }
        completions
    }
}

impl Drop for RunningNodes {
    fn drop(&mut self) {
        // Dropping a JoinSet aborts its tasks, which could cut a Kill request in half: the
        // nodes are cancelled instead and left to stop their remote tasks on their own.
        self.cancel.cancel();
        self.set.detach_all();
    }
}
