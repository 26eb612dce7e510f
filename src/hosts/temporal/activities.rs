//! A worker's activities: one activity, [`NODE_ACTIVITY`], runs any node type of the worker's
//! registry (the call names the type), with the worker's own client (credentials from its
//! environment); another stops a task a cancelled workflow had started.
//!
//! An activity heartbeats while its node runs, so a worker that dies is noticed within the
//! heartbeat timeout and the activity is tried again elsewhere — except a paid submit, which
//! the workflow schedules with one attempt. A cancellation request reaches the activity with
//! a heartbeat's answer and cancels the node, which stops its remote task before returning.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use temporalio_common::ActivityDefinition;
use temporalio_sdk::activities::{
    ActivityContext, ActivityDefinitions, ActivityError, ActivityImplementer, ExecutableActivity,
};
use temporalio_sdk::ApplicationFailure;
use tokio_util::sync::CancellationToken;

use super::client::{is_batch, no_longer_held, part_started, resume_part, resume_rows};
use super::failure;
use super::messages::{
    part_id, resume_chain, NodeCall, NodeDone, PartResumeCall, ReconcileCall, Reconciled, Resume,
};
use crate::api::{safe_file_name, Client, Error as ApiError, RunLookup};
use crate::graph::rows::expand;
use crate::node::{
    ended_without_result, look_for_lost_run, Fate, FileAccess, NodeContext, NodeError, NodeEvent,
    ProgressSink, Registry, TaskSlots,
};

/// How often a running activity heartbeats (and so notices a cancellation).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// What a worker's activities run with.
#[derive(Debug, Clone)]
pub struct NodeHost {
    /// The node types.
    pub registry: Registry,
    /// The Wiro client, from the worker's environment.
    pub client: Client,
    /// Downloads go to `output_root/<workflow id>/`.
    pub output_root: PathBuf,
    /// Relative input paths (files to upload) are read from here.
    pub input_dir: PathBuf,
    /// This worker's name in reports.
    pub identity: String,
    /// The worker's own connection to Temporal: a resumed batch asks it what each part of
    /// the batch it resumes finished.
    pub temporal: Option<temporalio_client::Client>,
}

/// Declares an activity that runs on the worker's [`NodeHost`]: its name, input and output,
/// and what it does with the host, the activity's context and its input.
macro_rules! host_activity {
    (
        $(#[$doc:meta])* $activity:ident,
        $(#[$name_doc:meta])* $name:ident = $id:literal,
        |$host:ident, $ctx:ident, $input:ident: $input_type:ty| -> $output:ty $body:block
    ) => {
        $(#[$doc])*
        pub struct $activity;

        $(#[$name_doc])*
        pub const $name: &str = $id;

        impl ActivityDefinition for $activity {
            type Input = $input_type;
            type Output = $output;

            fn name(&self) -> &str {
                $name
            }
        }

        impl ExecutableActivity for $activity {
            type Implementer = NodeHost;
            const REQUIRES_INSTANCE: bool = true;

            fn definition() -> Self {
                Self
            }

            fn execute(
                host: Option<Arc<NodeHost>>,
                $ctx: ActivityContext,
                $input: $input_type,
            ) -> BoxFuture<'static, Result<$output, ActivityError>> {
                Box::pin(async move {
                    let Some($host) = host else {
                        return Err(fail(failure::FAILED, "the worker has no node host".into()));
                    };
                    $body
                })
            }
        }
    };
}

host_activity!(
    /// The activity that runs one node of any type the worker's registry holds (the call's
    /// `type_id`): a worker hosts every node type, the catalog's hundreds of models included.
    NodeActivity,
    /// The name of [`NodeActivity`]: any node type, named by the call.
    NODE_ACTIVITY = "wiro.node",
    |host, ctx, call: NodeCall| -> NodeDone { host.run(ctx, call).await }
);

host_activity!(
    /// The activity that looks for the task of a paid node's Run whose answer was lost, with
    /// Task/List: found (adopted), provably not created (read twice), or cannot tell yet. A
    /// read: Temporal may retry it on any worker.
    ReconcileRun,
    /// The name of [`ReconcileRun`].
    RECONCILE_RUN = "wiro.reconcile",
    |host, _ctx, call: ReconcileCall| -> Reconciled { Ok(host.reconcile(call).await) }
);

host_activity!(
    /// The activity that asks whether a task an earlier execution started ended without a
    /// result (cancelled or failed: not billed), before a resumed execution takes it over: how
    /// it ended (`cancelled`, `failed`), or `None`. A read.
    TaskEnded,
    /// The name of [`TaskEnded`].
    TASK_ENDED = "wiro.task-ended",
    |host, _ctx, task: crate::api::TaskHandle| -> Option<String> {
        Ok(ended_without_result(&host.client, &task)
            .await
            .map(|ended| ended.to_string()))
    }
);

host_activity!(
    /// The activity that stops a task a cancelled workflow had started: Cancel while queued,
    /// Kill once running, nothing when it already ended. Its result says which.
    StopTask,
    /// The name of [`StopTask`].
    STOP_TASK = "wiro.stop-task",
    |host, _ctx, task: crate::api::TaskHandle| -> String {
        match host.client.stop_task(&task).await {
            Ok(outcome) => {
                tracing::info!(taskid = task.taskid, how = outcome.how(), "task stopped");
                Ok(outcome.how().to_owned())
            }
            Err(error) => Err(ActivityError::application(
                ApplicationFailure::builder(format!("task {}: {error}", task.taskid))
                    .type_name(failure::RETRYABLE.to_owned())
                    .build(),
            )),
        }
    }
);

host_activity!(
    /// The activity that says what a part of a resumed batch takes over from the same part
    /// of the batch it resumes, or of the one before it in the resume chain when that one
    /// never started the part (see `client::resume_part`), or from its rows in the workflow
    /// that first ran the table whole: `None` when none of them started it. A read: retried
    /// on any worker.
    PartResume,
    /// The name of [`PartResume`].
    PART_RESUME = "wiro.part-resume",
    |host, _ctx, call: PartResumeCall| -> Option<Resume> {
        let failed = |why: String| {
            ActivityError::application(
                ApplicationFailure::builder(why)
                    .type_name(failure::RETRYABLE.to_owned())
                    .build(),
            )
        };
        let Some(temporal) = &host.temporal else {
            return Err(failed("this worker has no connection to Temporal".into()));
        };
        let part = expand(&call.flow, &call.table, &host.registry)
            .map_err(|problems| failed(problems.join("; ")))?;
        let document = (&part, &host.registry);
        let batches = match is_batch(&call.old_batch) {
            true => resume_chain(&call.old_batch),
            false => Vec::new(),
        };
        // An execution Temporal no longer holds is never read as one that never ran: its
        // rows would be paid for again.
        let gone = |id: &str| fail(failure::FAILED, no_longer_held(id));
        for batch in batches {
            let old = part_id(&batch, call.part);
            match resume_part(temporal, &old, document, call.room).await {
                Ok(None) => {}
                Ok(found) => return Ok(found),
                Err(error) => return Err(failed(format!("{old}: {error}"))),
            }
            match part_started(temporal, &batch, call.part).await {
                Ok(Some(false)) => continue,
                Ok(Some(true)) => return Err(gone(&old)),
                Ok(None) => return Err(gone(&batch)),
                Err(error) => return Err(failed(format!("{batch}: {error}"))),
            }
        }
        let Some(whole) = &call.began_as else {
            return Ok(None);
        };
        match resume_rows(temporal, whole, document, call.room).await {
            Ok(None) => Err(gone(whole)),
            Ok(found) => Ok(found),
            Err(error) => Err(failed(format!("{whole}: {error}"))),
        }
    }
);

impl ActivityImplementer for NodeHost {
    fn register_all(self: Arc<Self>, defs: &mut ActivityDefinitions) {
        defs.register_activity::<PartResume>(self.clone());
        defs.register_activity::<StopTask>(self.clone());
        defs.register_activity::<ReconcileRun>(self.clone());
        defs.register_activity::<TaskEnded>(self.clone());
        defs.register_activity::<NodeActivity>(self);
    }
}

impl NodeHost {
    /// Task/List's verdict on a paid node's lost Run (see [`ReconcileRun`]).
    async fn reconcile(&self, lost: ReconcileCall) -> Reconciled {
        let call = &lost.call;
        let Some(node) = self.registry.get(&call.type_id) else {
            return Reconciled::CannotTell {
                reason: format!("this worker has no node type {:?}", call.type_id),
            };
        };
        let Some(run) = node.sent_run(&call.inputs) else {
            return Reconciled::CannotTell {
                reason: "the node does not say which Run it sends".into(),
            };
        };
        let claimed: HashSet<String> = call.claimed.iter().cloned().collect();
        let scheduled = UNIX_EPOCH + Duration::from_millis(lost.scheduled_at_ms);
        let label = format!("{}/{}", call.run, call.node);
        match look_for_lost_run(
            &self.client,
            &run.model,
            &run.parameters,
            scheduled,
            &claimed,
        )
        .await
        {
            Ok(RunLookup::Found { handle, .. }) => {
                match node.spec().kinds.outputs_for_started_task(&handle) {
                    Some(outputs) => {
                        tracing::info!(node = label, taskid = handle.taskid, "lost Run found: task adopted");
                        Reconciled::Found {
                            outputs,
                            worker: self.identity.clone(),
                        }
                    }
                    None => Reconciled::CannotTell {
                        reason: format!(
                            "task {} matches, but the node's outputs cannot be made from its handle",
                            handle.taskid
                        ),
                    },
                }
            }
            Ok(RunLookup::NotCreated { .. }) => Reconciled::NotCreated,
            Ok(RunLookup::CannotTell { reason }) => Reconciled::CannotTell { reason },
            Err(error) => Reconciled::CannotTell {
                reason: error.to_string(),
            },
        }
    }

    /// The folder a workflow execution's files go to on this worker.
    pub fn output_dir(&self, run: &str) -> PathBuf {
        absolute(&self.output_root.join(safe_file_name(run)))
    }

    async fn run(
        &self,
        activity: ActivityContext,
        call: NodeCall,
    ) -> Result<NodeDone, ActivityError> {
        let Some(node) = self.registry.get(&call.type_id).cloned() else {
            return Err(fail(
                failure::FAILED,
                format!("this worker has no node type {:?}", call.type_id),
            ));
        };
        let paid = node.spec().spends_money;
        let cancel = CancellationToken::new();
        let output_dir = self.output_dir(&call.run);
        let label = format!("{}/{}", call.run, call.node);
        let ctx = NodeContext {
            node_id: call.node.clone(),
            client: self.client.clone(),
            cancel: cancel.clone(),
            progress: log_sink(label.clone()),
            // A refused Run comes back to the workflow, which waits on a durable timer (a
            // worker may die meanwhile) and sends it again.
            tasks: {
                let slots = TaskSlots::returning_refusals();
                call.claimed.iter().for_each(|taskid| slots.claim(taskid));
                slots
            },
            input_dir: self.input_dir.clone(),
            file_access: FileAccess::inside([&self.input_dir]),
            output_dir: output_dir.clone(),
        };
        let run = crate::node::invoke(node.as_ref(), &ctx, call.inputs);
        tokio::pin!(run);
        let result = loop {
            tokio::select! {
                result = &mut run => break result,
                _ = activity.cancelled(), if !cancel.is_cancelled() => {
                    tracing::info!(node = label, "cancellation requested: stopping the node");
                    cancel.cancel();
                }
                _ = tokio::time::sleep(HEARTBEAT_EVERY) => {
                    if let Err(error) = activity.record_heartbeat(()).await {
                        tracing::warn!(node = label, %error, "heartbeat failed");
                    }
                }
            }
        };
        match result {
            Ok(outputs) => Ok(NodeDone {
                outputs,
                worker: self.identity.clone(),
                output_dir: output_dir.display().to_string(),
            }),
            Err(error) => {
                match &error {
                    NodeError::Cancelled { .. } => {
                        tracing::info!(node = label, %error, "node cancelled")
                    }
                    NodeError::Api(ApiError::ConcurrencyLimit { .. }) => {
                        tracing::info!(node = label, %error, "no slot: the workflow submits again later")
                    }
                    _ => tracing::warn!(node = label, %error, "node failed"),
                }
                Err(activity_error(error, paid))
            }
        }
    }
}

/// A progress sink that logs what matters to an operator reading the worker's output.
fn log_sink(label: String) -> ProgressSink {
    ProgressSink::new(move |event| match event {
        NodeEvent::TaskStarted(task) => {
            tracing::info!(node = label, taskid = task.taskid, "task accepted")
        }
        NodeEvent::TaskStopped { taskid, how, .. } => {
            tracing::info!(node = label, taskid, %how, "task stopped")
        }
        _ => {}
    })
}

/// Maps a node's error onto Temporal by its [`Fate`]: which failures the workflow may act
/// on, which Temporal may retry. A paid node's errors are never retried by Temporal (its
/// activity has one attempt): nothing started and worth another try comes back as
/// [`failure::NOT_STARTED`] (the workflow sends the Run again after a pause), nothing started
/// for good as [`failure::FAILED`], and what may have started a task as
/// [`failure::OUTCOME_UNKNOWN`]. A free node's passing failures are Temporal's to retry. A
/// cancelled node is a cancellation, unless it is a paid node whose task could not be
/// stopped: that one fails, and its message names the task.
fn activity_error(error: NodeError, paid: bool) -> ActivityError {
    let message = error.to_string();
    match reply(&error, paid) {
        Reply::Cancelled => ActivityError::cancelled(),
        Reply::Fails(kind) => fail(kind, message),
        Reply::Retries => ActivityError::application(
            ApplicationFailure::builder(message)
                .type_name(failure::RETRYABLE.to_owned())
                .build(),
        ),
    }
}

/// How a node's failure goes back to the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// The node was cancelled, and left nothing running that only it knows of.
    Cancelled,
    /// A failure of this type, not retried by Temporal.
    Fails(&'static str),
    /// A failure Temporal retries with backoff.
    Retries,
}

fn reply(error: &NodeError, paid: bool) -> Reply {
    let fate = error.fate();
    if matches!(error, NodeError::Cancelled { .. }) {
        // A paid node's task that could not be stopped may still run, and this failure's
        // message is the only place that names it: it goes back as a failure, not lost in
        // a plain cancellation.
        if paid && fate == Fate::MayHaveStarted {
            return Reply::Fails(failure::FAILED);
        }
        return Reply::Cancelled;
    }
    match (fate, paid) {
        (Fate::TryAgainLater, true) => Reply::Fails(failure::NOT_STARTED),
        (Fate::NothingStarted, true) => Reply::Fails(failure::FAILED),
        (Fate::MayHaveStarted, true) => Reply::Fails(failure::OUTCOME_UNKNOWN),
        (Fate::TryAgainLater, false) => Reply::Retries,
        (_, false) => Reply::Fails(failure::FAILED),
    }
}

/// A failure Temporal does not retry, with a type the workflow reads.
fn fail(kind: &str, message: String) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(message)
            .type_name(kind.to_owned())
            .non_retryable(true)
            .build(),
    )
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{HowStopped, StoppedTask};

    #[test]
    fn a_paid_task_that_could_not_be_stopped_comes_back_named_not_as_a_cancellation() {
        let cancelled = |how| NodeError::Cancelled {
            stopped: Some(StoppedTask {
                taskid: "7".into(),
                how,
                charged: None,
            }),
        };
        let not_stopped = cancelled(HowStopped::NotStopped {
            error: "timeout".into(),
        });
        assert_eq!(reply(&not_stopped, true), Reply::Fails(failure::FAILED));
        assert!(not_stopped.to_string().contains("task 7"), "{not_stopped}");
        assert_eq!(
            reply(&cancelled(HowStopped::Killed), true),
            Reply::Cancelled
        );
        assert_eq!(reply(&not_stopped, false), Reply::Cancelled);
        let limit = NodeError::Api(ApiError::ConcurrencyLimit {
            message: "full".into(),
        });
        assert_eq!(reply(&limit, true), Reply::Fails(failure::NOT_STARTED));
        assert_eq!(reply(&limit, false), Reply::Retries);
    }
}
