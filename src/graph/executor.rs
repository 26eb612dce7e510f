//! The reference executor: validates a workflow, then runs its nodes — independent ones
//! concurrently, within a bound — journaling each step, resuming from the journal, and
//! stopping every running node (and its remote task) when the run is cancelled or dropped.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::inputs::{resolve_inputs, task_ids};
use super::journal::{input_key, JournalEvent, JOURNAL_FILE};
use super::report::local_files;
use super::resume::{leaves_nothing_started, Resume, SharedJournal};
use super::{validate, NodeOutcome, NodeReport, RunError, RunEvent, RunReport, Workflow};
use crate::api::{Client, TaskLookup, TaskStatus};
use crate::node::{NodeContext, NodeError, NodeEvent, ProgressSink, Registry};

/// How to run a workflow.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// At most this many nodes run at once.
    pub concurrency: usize,
    /// Relative input paths are taken from here (the workflow file's folder).
    pub input_dir: PathBuf,
    /// Downloads and the journal go here.
    pub output_dir: PathBuf,
    /// Keep a journal (in `output_dir`) and resume from it.
    pub journal: bool,
    /// Forget the journal and run everything again.
    pub fresh: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            input_dir: PathBuf::from("."),
            output_dir: PathBuf::from("out"),
            journal: true,
            fresh: false,
        }
    }
}

/// Runs workflows with the nodes of a registry against one client.
#[derive(Debug, Clone)]
pub struct Executor {
    registry: Registry,
    client: Client,
    options: RunOptions,
}

type Emit = Arc<dyn Fn(RunEvent) + Send + Sync>;

#[derive(Debug, Clone, PartialEq)]
enum State {
    Pending,
    Running,
    Done(Value),
    Failed,
    Skipped,
}

struct Completion {
    position: usize,
    result: Result<Value, NodeError>,
    elapsed: Duration,
}

impl Executor {
    /// An executor over these nodes and this client.
    pub fn new(registry: Registry, client: Client, options: RunOptions) -> Self {
        Self {
            registry,
            client,
            options,
        }
    }

    /// Validates and runs `workflow`. Cancelling `cancel` (or dropping the returned future)
    /// cancels every running node; nodes that own remote tasks stop them before returning.
    pub async fn run(
        &self,
        workflow: &Workflow,
        cancel: CancellationToken,
        on_event: impl Fn(RunEvent) + Send + Sync + 'static,
    ) -> Result<RunReport, RunError> {
        let plan = validate(workflow, &self.registry).map_err(RunError::Invalid)?;
        let emit: Emit = Arc::new(on_event);
        let journal = SharedJournal::open(
            &self.options.output_dir.join(JOURNAL_FILE),
            self.options.journal,
            self.options.fresh,
        )?;
        // Dropping this future cancels the nodes; they are spawned, so they get to stop
        // their remote tasks even then.
        let cancel = cancel.child_token();
        let _cancel_on_drop = cancel.clone().drop_guard();

        let count = workflow.nodes.len();
        let mut states = vec![State::Pending; count];
        let mut reports: Vec<NodeReport> = workflow
            .nodes
            .iter()
            .map(|node| NodeReport {
                id: node.id.clone(),
                type_id: node.type_id.clone(),
                outcome: NodeOutcome::Skipped("not reached".into()),
                elapsed: Duration::ZERO,
                outputs: None,
                tasks: Vec::new(),
                stopped: Vec::new(),
            })
            .collect();
        let mut keys = vec![String::new(); count];
        let (done_sender, mut done) = mpsc::unbounded_channel::<Completion>();
        let mut running = 0usize;

        loop {
            // Start what can start.
            let mut progressed = true;
            while progressed {
                progressed = false;
                for &position in &plan.order {
                    if states[position] != State::Pending {
                        continue;
                    }
                    let node = &workflow.nodes[position];
                    let deps = &plan.depends_on[position];
                    let blocker = deps
                        .iter()
                        .find(|&&d| matches!(states[d], State::Failed | State::Skipped));
                    let skip_because = match blocker {
                        Some(&blocker) => Some(format!(
                            "input node {:?} did not finish",
                            workflow.nodes[blocker].id
                        )),
                        None if cancel.is_cancelled() => Some("the run was cancelled".to_owned()),
                        None => None,
                    };
                    if let Some(because) = skip_because {
                        emit(RunEvent::Skipped {
                            node: node.id.clone(),
                            because: because.clone(),
                        });
                        reports[position].outcome = NodeOutcome::Skipped(because);
                        states[position] = State::Skipped;
                        progressed = true;
                        continue;
                    }
                    if !deps.iter().all(|&d| matches!(states[d], State::Done(_))) {
                        continue;
                    }
                    if running >= self.options.concurrency.max(1) {
                        continue;
                    }
                    progressed = true;
                    let outputs: Vec<Option<&Value>> = states
                        .iter()
                        .map(|state| match state {
                            State::Done(value) => Some(value),
                            _ => None,
                        })
                        .collect();
                    let Some(target) = self.registry.get(&node.type_id).map(Arc::clone) else {
                        // `validate` refuses unknown types, so this does not happen.
                        states[position] = State::Failed;
                        continue;
                    };
                    let spec = target.spec();
                    let inputs = match resolve_inputs(&node.inputs, workflow, &outputs) {
                        Ok(inputs) => Value::Object(inputs),
                        Err(message) => {
                            emit(RunEvent::Failed {
                                node: node.id.clone(),
                                error: message.clone(),
                            });
                            reports[position].outcome = NodeOutcome::Failed(message);
                            states[position] = State::Failed;
                            continue;
                        }
                    };
                    // The server is part of the key: a task id from one server (say, an
                    // emulator) is never waited on at another.
                    let key = input_key(
                        spec.type_id,
                        spec.version,
                        &serde_json::json!({
                            "server": self.client.config().base_url,
                            "inputs": inputs,
                            "facts": target.resume_facts(&self.options.input_dir, &inputs),
                        }),
                    );
                    let mut resume = journal.resume(&node.id, &key, spec.spends_money);
                    let paid_task = resume
                        .as_ref()
                        .filter(|_| spec.spends_money)
                        .and_then(Resume::task);
                    if let Some(task) = paid_task {
                        // A task that was cancelled or failed (unbilled) fulfilled nothing:
                        // waiting on it again would fail forever, so it is submitted anew.
                        if let Some(reason) = self.ended_without_result(&task).await {
                            emit(RunEvent::Progress {
                                node: node.id.clone(),
                                event: NodeEvent::Log {
                                    line: format!(
                                        "task {} {reason}: submitting it again",
                                        task.taskid
                                    ),
                                    stderr: false,
                                },
                            });
                            resume = None;
                        }
                    }
                    if let Some(Resume::Finished(outputs)) = &resume {
                        if local_files(outputs).iter().any(|file| !file.exists()) {
                            resume = None; // what it wrote is gone: make it again
                        }
                    }
                    match resume {
                        Some(Resume::Finished(outputs)) => {
                            emit(RunEvent::Resumed {
                                node: node.id.clone(),
                                how: "finished earlier".into(),
                            });
                            reports[position].resumed(outputs.clone());
                            states[position] = State::Done(outputs);
                            continue;
                        }
                        Some(Resume::TaskSubmitted(task)) => {
                            // A paid task exists: wait for it, never submit again.
                            emit(RunEvent::Resumed {
                                node: node.id.clone(),
                                how: format!("task {} already submitted", task.taskid),
                            });
                            let outputs = serde_json::json!({ "task": task });
                            reports[position].resumed(outputs.clone());
                            states[position] = State::Done(outputs);
                            continue;
                        }
                        Some(Resume::OutcomeUnknown(message)) => {
                            emit(RunEvent::Failed {
                                node: node.id.clone(),
                                error: message.clone(),
                            });
                            reports[position].outcome = NodeOutcome::Failed(message);
                            states[position] = State::Failed;
                            continue;
                        }
                        None => {}
                    }
                    if spec.spends_money {
                        journal.record(&node.id, &key, JournalEvent::Submitting)?;
                    }
                    keys[position] = key.clone();
                    states[position] = State::Running;
                    running += 1;
                    emit(RunEvent::Started {
                        node: node.id.clone(),
                        type_id: node.type_id.clone(),
                    });
                    let ctx = NodeContext {
                        node_id: node.id.clone(),
                        client: self.client.clone(),
                        cancel: cancel.clone(),
                        progress: progress_sink(&node.id, &key, &emit, journal.clone()),
                        input_dir: self.options.input_dir.clone(),
                        output_dir: self.options.output_dir.clone(),
                    };
                    let done_sender = done_sender.clone();
                    tokio::spawn(async move {
                        let started = Instant::now();
                        let result = target.run(&ctx, inputs).await;
                        let _ = done_sender.send(Completion {
                            position,
                            result,
                            elapsed: started.elapsed(),
                        });
                    });
                }
            }
            if running == 0 {
                break;
            }
            let completion = tokio::select! {
                completion = done.recv() => completion,
                _ = cancel.cancelled(), if states.contains(&State::Pending) => {
                    continue; // pending nodes are skipped at the top of the loop
                }
            };
            let Some(Completion {
                position,
                result,
                elapsed,
            }) = completion
            else {
                break;
            };
            running -= 1;
            let node = &workflow.nodes[position];
            let report = &mut reports[position];
            report.elapsed = elapsed;
            let key = &keys[position];
            match result {
                Ok(outputs) => {
                    journal.record(
                        &node.id,
                        key,
                        JournalEvent::Finished {
                            outputs: outputs.clone(),
                        },
                    )?;
                    emit(RunEvent::Finished {
                        node: node.id.clone(),
                        elapsed,
                    });
                    report.tasks = task_ids(&outputs);
                    report.outputs = Some(outputs.clone());
                    report.outcome = NodeOutcome::Finished;
                    states[position] = State::Done(outputs);
                }
                Err(error) => {
                    let message = error.to_string();
                    let spends_money = self
                        .registry
                        .get(&node.type_id)
                        .is_some_and(|target| target.spec().spends_money);
                    // A paid node's journal keeps its Submitting or TaskStarted entry unless
                    // the error proves nothing is left started: the next run must not pay
                    // again for a task that may exist.
                    if !spends_money || leaves_nothing_started(&error) {
                        journal.record(
                            &node.id,
                            key,
                            JournalEvent::Failed {
                                error: message.clone(),
                            },
                        )?;
                    }
                    if let NodeError::Cancelled { stopped } = &error {
                        report.stopped.extend(stopped.iter().cloned());
                        if let Some(stopped) = stopped {
                            report.tasks.push(stopped.taskid.clone());
                        }
                        report.outcome = NodeOutcome::Cancelled;
                    } else {
                        report.outcome = NodeOutcome::Failed(message.clone());
                    }
                    emit(RunEvent::Failed {
                        node: node.id.clone(),
                        error: message,
                    });
                    states[position] = State::Failed;
                }
            }
        }
        Ok(RunReport {
            nodes: reports,
            cancelled: cancel.is_cancelled(),
            journal: journal.path(),
        })
    }
}

impl Executor {
    /// Why an earlier run's task gave nothing to wait for: cancelled, or ended in failure.
    /// `None` when it is fine or cannot be told (the wait will say).
    async fn ended_without_result(&self, task: &crate::api::TaskHandle) -> Option<String> {
        let record = self.client.task_detail(TaskLookup::from(task)).await.ok()?;
        if record.status == TaskStatus::Cancel {
            Some("was cancelled".into())
        } else if record.is_terminal() && !record.succeeded() {
            Some("failed".into())
        } else {
            None
        }
    }
}

/// A node's progress sink: forwards events, and writes a started task to the journal at once.
fn progress_sink(node: &str, key: &str, emit: &Emit, journal: SharedJournal) -> ProgressSink {
    let node = node.to_owned();
    let key = key.to_owned();
    let emit = Arc::clone(emit);
    ProgressSink::new(move |event| {
        if let NodeEvent::TaskStarted(task) = &event {
            let started = JournalEvent::TaskStarted { task: task.clone() };
            if let Err(error) = journal.record(&node, &key, started) {
                tracing::error!(node, taskid = task.taskid, %error, "could not journal the task id");
            }
        }
        emit(RunEvent::Progress {
            node: node.clone(),
            event,
        });
    })
}
