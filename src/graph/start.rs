//! Starting a node: its inputs resolved, its journal key, and what an earlier run left for it
//! (reuse, wait for its paid task, refuse to pay twice) — or, when nothing, a spawned run.

use std::sync::Arc;

use futures_util::{FutureExt, TryFutureExt};
use serde_json::Value;

use super::executor::{ActiveRun, SentFileId};
use super::inputs::resolve_inputs;
use super::journal::{fields_key, JournalEvent, SentRun};
use super::reference::Reference;
use super::resume::{decide, moves_with_row, Resume};
use super::schedule::SkipReason;
use super::workflow::reference_text;
use super::{NodeOutcome, RunError, RunEvent};
use crate::api::{RunLookup, TaskHandle};
use crate::node::{find_started_task, Node, NodeContext, NodeEvent, NodeSpec, ProgressSink};

/// How a journal key tells a value taken from an upload.
#[derive(Debug, Clone, Copy)]
enum UploadMarker {
    /// By the file the upload sent: its content and name.
    SentFile,
    /// By the upload's own journal key (its path, size and time), as builds before 6
    /// December 2026 keyed it.
    UploadKey,
}

/// An upload: a free node that moves a file to the server and writes none here.
fn sends_files(spec: &NodeSpec) -> bool {
    spec.transfers_files && !spec.spends_money && moves_with_row(spec)
}

impl ActiveRun<'_> {
    /// Starts the node at `position`, or settles it from the journal without running it.
    pub(super) async fn start(&mut self, position: usize) -> Result<(), RunError> {
        let node = &self.workflow.nodes[position];
        let Some(target) = self.executor.registry.get(&node.type_id).map(Arc::clone) else {
            // `validate` refuses unknown types, so this does not happen.
            self.fail(position, format!("unknown node type {:?}", node.type_id));
            return Ok(());
        };
        let sources = self.schedule.inputs_of(position);
        let schedule = &self.schedule;
        let inputs = match resolve_inputs(&node.inputs, self.workflow, sources, |source| {
            schedule.output(source)
        }) {
            Ok(inputs) => Value::Object(inputs),
            Err(message) => {
                self.fail(position, message);
                return Ok(());
            }
        };
        // Only an upload's file keys what reads it (see `upload_marker`).
        let sent_file = (sends_files(target.spec()))
            .then(|| target.sent_file(&self.walls(), &inputs))
            .flatten();
        self.sent_files[position] = sent_file.as_ref().map(|file| SentFileId {
            name: file.name.clone(),
            sha256: None,
        });
        let (key, older_keys) = self.key(position, target.as_ref(), &inputs);
        self.keys[position] = key.clone();
        let spec = target.spec();
        let journal_name = self.journal_name(position, spec);
        let emit = Arc::clone(&self.emit);
        let id = node.id.clone();
        let note = |line: String| {
            emit(RunEvent::Progress {
                node: id.clone(),
                event: NodeEvent::Log {
                    line,
                    stderr: false,
                },
            })
        };
        let client = &self.executor.client;
        let resume = if self.executor.options.rerun.contains(&node.id) {
            None // the user asked for this node to run again
        } else {
            let mut found = None;
            for (older, tried) in std::iter::once(&key).chain(&older_keys).enumerate() {
                let decided = decide(
                    &self.journal,
                    (&journal_name, &node.id, tried),
                    spec,
                    client,
                    &self.executor.options.output_dir,
                    &note,
                );
                found = decided.await;
                if found.is_some() {
                    if older > 0 {
                        // Found as an earlier build keyed it: noted under today's key too,
                        // or the next run, the file touched, would not find it.
                        self.note_under(&journal_name, &key, found.as_ref())?;
                    }
                    break;
                }
            }
            if found.is_none() {
                let named = (key.as_str(), journal_name.as_str());
                found = (self.moved_here(position, target.as_ref(), &inputs, named, &note)).await?;
            }
            found
        };
        if let (Some(file), Some(Resume::Finished(outputs))) = (&sent_file, &resume) {
            if outputs.get("sha256").is_none() {
                // Uploaded by a build that did not note the bytes it sent: the file kept the
                // size and time it had then (the upload's key), so it holds those bytes.
                let digest = self.executor.digests.digest(file.path.clone()).await;
                if let Some(id) = &mut self.sent_files[position] {
                    id.sha256 = digest;
                }
            }
        }
        if spec.spends_money && resume.is_some() {
            // A task read back from the journal is on disk before this run uses it (the run
            // that wrote it may have crashed before syncing it).
            self.journal.settle().await?;
        }
        match resume {
            Some(Resume::Finished(outputs)) => {
                self.reuse(position, outputs, "finished earlier".into());
            }
            Some(Resume::TaskSubmitted(task)) => {
                // A paid task exists: wait for it, never submit again.
                let how = format!("task {} already submitted", task.taskid);
                self.take_started_task(position, &task, how);
            }
            Some(Resume::OutcomeUnknown {
                message,
                sent_at,
                sent,
            }) => {
                // Every task that already belongs to a node: this run's, and the journal's
                // (`Executor::task_slots`); two rows alike whose answers were lost must not
                // both adopt one task. What the journal says was sent; else what these
                // inputs send (a journal of an earlier build).
                let sent = sent.as_ref().map(|sent| (&*sent.model, &sent.parameters));
                let client = &self.executor.client;
                let lookup =
                    find_started_task(client, &self.tasks, target.as_ref(), &inputs, sent, sent_at)
                        .await;
                match lookup {
                    RunLookup::Found { handle: task, .. } => {
                        self.journal.record(
                            &journal_name,
                            &key,
                            JournalEvent::TaskStarted { task: task.clone() },
                        )?;
                        self.journal.settle().await?;
                        self.tasks.track(&task.taskid);
                        let how = format!(
                            "an earlier run's answer was lost, but its Run created task {}: adopted, not sent again",
                            task.taskid
                        );
                        self.take_started_task(position, &task, how);
                    }
                    RunLookup::NotCreated { .. } => self.spawn(position, target, inputs, key),
                    RunLookup::CannotTell { reason } => self.fail(
                        position,
                        format!("{message}; the task list could not tell ({reason})"),
                    ),
                }
            }
            None => self.spawn(position, target, inputs, key),
        }
        Ok(())
    }

    /// The journal key of a node run: its type, version, resolved inputs (a value taken from
    /// an upload as the file it sent, see `key_inputs`), the facts outside them (a file's size
    /// and time), and the server — a task id from one server (say, an emulator) is never
    /// waited on at another; inputs that change nothing in the result (a wait's timeout) are
    /// left out. Then the keys earlier builds gave it, newest first: when the node reads an
    /// upload, the upload's own key standing for the file, then the URL the upload got
    /// (both without those inputs); then the whole inputs, those in. An earlier run's entry
    /// under one of those counts too.
    pub(super) fn key(
        &self,
        position: usize,
        target: &dyn Node,
        inputs: &Value,
    ) -> (String, Vec<String>) {
        let spec = target.spec();
        let facts = target.resume_facts(&self.executor.options.input_dir, inputs);
        let key_of = |keyed: &Value| {
            let fields = vec![
                ("server", &self.executor.server),
                ("inputs", keyed),
                ("facts", &facts),
            ];
            fields_key(&spec.type_id, spec.version, fields)
        };
        // Without the inputs that change nothing in the result (a wait's timeout); with
        // them, the key earlier builds gave it.
        let result_inputs = spec.result_inputs(inputs);
        let keyed = result_inputs.as_ref().unwrap_or(inputs);
        let mut keys: Vec<String> = [UploadMarker::SentFile, UploadMarker::UploadKey]
            .into_iter()
            .filter_map(|marker| self.key_inputs(position, keyed, marker))
            .map(|keyed| key_of(&keyed))
            .chain(std::iter::once(key_of(keyed)))
            .chain(result_inputs.is_some().then(|| key_of(inputs)))
            .collect();
        keys.dedup();
        let key = keys.remove(0);
        (key, keys)
    }

    /// The inputs of the node at `position` as its journal key holds them, when they differ
    /// from `inputs`: a value taken from an upload (a free node that moves a file to the
    /// server and writes none here), wherever it sits in an input, is told by `marker`, not
    /// by the URL it got. Every upload of one file is one intent: a table row that moved, or
    /// that reads another place's upload of its image, keeps its paid Run's key.
    fn key_inputs(&self, position: usize, inputs: &Value, marker: UploadMarker) -> Option<Value> {
        let mut keyed = inputs.clone();
        let mut changed = false;
        for (field, written) in &self.workflow.nodes[position].inputs {
            if let Some(slot) = keyed.get_mut(field) {
                self.key_uploads(written, slot, marker, &mut changed);
            }
        }
        changed.then_some(keyed)
    }

    /// Walks an input as written and as resolved side by side, putting an upload's marker
    /// where the written input takes a value from an upload.
    fn key_uploads(
        &self,
        written: &Value,
        slot: &mut Value,
        marker: UploadMarker,
        changed: &mut bool,
    ) {
        match written {
            Value::Object(map) => match reference_text(map) {
                Some(text) => {
                    if let Some(marked) = self.upload_marker(text, marker) {
                        *slot = marked;
                        *changed = true;
                    }
                }
                None => {
                    for (field, inner) in map {
                        if let Some(slot) = slot.get_mut(field) {
                            self.key_uploads(inner, slot, marker, changed);
                        }
                    }
                }
            },
            Value::Array(items) => {
                for (index, inner) in items.iter().enumerate() {
                    if let Some(slot) = slot.get_mut(index) {
                        self.key_uploads(inner, slot, marker, changed);
                    }
                }
            }
            _ => {}
        }
    }

    /// What a key holds for a value the reference `text` takes from an upload that started
    /// this run, and the field read from it: the file the upload sent (its content and name)
    /// or, as the build before wrote it and when the file could not be read, the upload's
    /// key; never its node's id (a table row's copy is named after its line). `None` for any
    /// other source.
    fn upload_marker(&self, text: &str, marker: UploadMarker) -> Option<Value> {
        let reference = Reference::parse(text).ok()?;
        let nodes = &self.workflow.nodes;
        let source = nodes.iter().position(|node| node.id == reference.node)?;
        let spec = self.executor.registry.get(&nodes[source].type_id)?.spec();
        if !sends_files(spec) || self.keys[source].is_empty() {
            return None;
        }
        let (port, path) = (reference.port, reference.path);
        let sent = self.sent_files[source].as_ref().and_then(|id| {
            let outputs = self.schedule.output(source);
            let told = outputs.and_then(|outputs| outputs.get("sha256")?.as_str());
            let sha256 = told.or(id.sha256.as_deref())?;
            Some(serde_json::json!({ "sha256": sha256, "name": id.name }))
        });
        Some(match (marker, sent) {
            (UploadMarker::SentFile, Some(file)) => {
                serde_json::json!({ "file": file, "port": port, "path": path })
            }
            _ => serde_json::json!({ "upload": self.keys[source], "port": port, "path": path }),
        })
    }

    /// Writes what an earlier run left for a node (found under a key an earlier build gave
    /// it) under `key`, the node's key now.
    pub(super) fn note_under(
        &self,
        journal_name: &str,
        key: &str,
        found: Option<&Resume>,
    ) -> Result<(), RunError> {
        let event = match found {
            Some(Resume::Finished(outputs)) => JournalEvent::Finished {
                outputs: outputs.clone(),
            },
            Some(Resume::TaskSubmitted(task)) => JournalEvent::TaskStarted { task: task.clone() },
            _ => return Ok(()),
        };
        self.journal.record(journal_name, key, event)
    }

    fn spawn(&mut self, position: usize, target: Arc<dyn Node>, inputs: Value, key: String) {
        let node = &self.workflow.nodes[position];
        (self.emit)(RunEvent::Started {
            node: node.id.clone(),
            type_id: node.type_id.clone(),
        });
        let options = &self.executor.options;
        let ctx = NodeContext {
            node_id: node.id.clone(),
            client: self.executor.client.clone(),
            cancel: self.cancel.clone(),
            progress: self.progress_sink(position, &key, target.as_ref(), &inputs),
            tasks: self.tasks.clone(),
            input_dir: options.input_dir.clone(),
            file_access: self.file_access.clone(),
            output_dir: options.output_dir.clone(),
        };
        self.keys[position] = key;
        self.schedule.running(position);
        let file_slot = self
            .shared_files
            .as_ref()
            .filter(|_| target.spec().transfers_files)
            .map(Arc::clone);
        self.running.spawn(position, target, ctx, inputs, file_slot);
    }

    /// Gives a paid node the task an earlier run started, on its declared TaskHandle port.
    fn take_started_task(&mut self, position: usize, task: &TaskHandle, how: String) {
        let node = &self.workflow.nodes[position];
        let Some(spec) = self.executor.registry.get(&node.type_id).map(|n| n.spec()) else {
            return self.fail(position, how);
        };
        match spec.kinds.outputs_for_started_task(task) {
            Some(outputs) => self.reuse(position, outputs, how),
            None => {
                let message = format!(
                    "{how}, but {} declares no TaskHandle output to give it on",
                    spec.type_id
                );
                self.fail(position, message);
            }
        }
    }

    /// Takes an earlier run's outputs for the node.
    fn reuse(&mut self, position: usize, outputs: Value, how: String) {
        let node = &self.workflow.nodes[position];
        let report = &mut self.reports[position];
        if let Some(target) = self.executor.registry.get(&node.type_id) {
            report.read_outputs(NodeOutcome::Resumed, &target.spec().kinds, &outputs);
        }
        (self.emit)(RunEvent::Resumed {
            node: node.id.clone(),
            how,
            files: report.files.clone(),
        });
        self.schedule.done(position, outputs);
    }

    /// The node fails before it runs.
    pub(super) fn fail(&mut self, position: usize, message: String) {
        (self.emit)(RunEvent::Failed {
            node: self.workflow.nodes[position].id.clone(),
            error: message.clone(),
        });
        self.reports[position].outcome = NodeOutcome::Failed(message);
        self.schedule.failed(position);
    }

    /// The node will not run.
    pub(super) fn skip(&mut self, position: usize, reason: SkipReason) {
        let because = match reason {
            SkipReason::InputDidNotFinish(input) => format!(
                "input node {:?} did not finish",
                self.workflow.nodes[input].id
            ),
            SkipReason::Cancelled => "the run was cancelled".to_owned(),
        };
        (self.emit)(RunEvent::Skipped {
            node: self.workflow.nodes[position].id.clone(),
            because: because.clone(),
        });
        self.reports[position].outcome = NodeOutcome::Skipped(because);
        self.schedule.skipped(position);
    }

    /// A node's progress sink: forwards events, and journals a paid Run's steps the moment
    /// they happen — about to be sent, refused, accepted with its task — so a crash of the
    /// process loses none (see [`super::journal`] for what a power cut could). A Run that
    /// cannot be journaled is not sent.
    fn progress_sink(
        &self,
        position: usize,
        key: &str,
        target: &dyn Node,
        inputs: &Value,
    ) -> ProgressSink {
        let spec = target.spec();
        // What a paid Run sends, kept in its `submitting` line for a run that finds its
        // answer lost.
        let sent = (spec.spends_money)
            .then(|| target.sent_run(inputs))
            .flatten()
            .map(|run| SentRun {
                model: run.model,
                parameters: run.parameters,
            });
        let node = self.workflow.nodes[position].id.clone();
        let journal_name = self.journal_name(position, spec);
        let key = key.to_owned();
        let emit = Arc::clone(&self.emit);
        let journal = self.journal.clone();
        ProgressSink::recording_owed(move |event| {
            let step = match &event {
                NodeEvent::Submitting => Some(JournalEvent::Submitting { sent: sent.clone() }),
                NodeEvent::RunRefused { reason } => Some(JournalEvent::Refused {
                    reason: reason.clone(),
                }),
                NodeEvent::TaskStarted(task) => {
                    Some(JournalEvent::TaskStarted { task: task.clone() })
                }
                _ => None,
            };
            // A Run about to be sent waits for its line's sync, run off this thread.
            let recorded = match step {
                Some(step) => journal
                    .record_owing(&journal_name, &key, step)
                    .map(|paying| {
                        paying.map(|paying| paying.map_err(|error| error.to_string()).boxed())
                    }),
                None => Ok(None),
            }
            .map_err(|error| error.to_string());
            emit(RunEvent::Progress {
                node: node.clone(),
                event,
            });
            recorded
        })
    }
}
