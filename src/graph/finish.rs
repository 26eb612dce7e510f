//! Finishing a node that came back: its outputs (or failure) into the journal, the report and
//! the schedule. A paid node's Run answer is synced first; its failure is journaled only when it
//! proves nothing is left started.

use super::executor::ActiveRun;
use super::journal::JournalEvent;
use super::running::Completion;
use super::{NodeOutcome, RunError, RunEvent};
use crate::node::NodeError;

impl ActiveRun<'_> {
    /// Takes in a node that came back.
    pub(super) async fn finish(&mut self, completion: Completion) -> Result<(), RunError> {
        let Completion {
            position,
            result,
            elapsed,
        } = completion;
        let node = &self.workflow.nodes[position];
        let Some(target) = self.executor.registry.get(&node.type_id) else {
            return Ok(()); // only known types are started
        };
        let spec = target.spec();
        let key = &self.keys[position];
        let journal_name = self.journal_name(position, spec);
        self.reports[position].elapsed = elapsed;
        if spec.spends_money {
            // The Run's answer reaches the disk before anything uses the node's task.
            self.journal.settle().await?;
        }
        match result {
            Ok(outputs) => {
                self.journal.record(
                    &journal_name,
                    key,
                    JournalEvent::Finished {
                        outputs: outputs.clone(),
                    },
                )?;
                let report = &mut self.reports[position];
                report.read_outputs(NodeOutcome::Finished, &spec.kinds, &outputs);
                (self.emit)(RunEvent::Finished {
                    node: node.id.clone(),
                    elapsed,
                    charged: report.charged.clone(),
                    files: report.files.clone(),
                });
                self.schedule.done(position, outputs);
            }
            Err(error) => {
                let message = error.to_string();
                // A paid node's journal keeps its Submitting or TaskStarted entry unless the
                // error proves nothing is left started: the next run must not pay again for a
                // task that may exist.
                if !spec.spends_money || error.fate().leaves_nothing_started() {
                    self.journal.record(
                        &journal_name,
                        key,
                        JournalEvent::Failed {
                            error: message.clone(),
                        },
                    )?;
                }
                let report = &mut self.reports[position];
                if let NodeError::Cancelled { stopped } = &error {
                    if let Some(stopped) = stopped {
                        report.tasks.push(stopped.taskid.clone());
                        if let Some(cost) = stopped.charged {
                            // It ended before the stop came: billed, and counted.
                            report.charged.insert(stopped.taskid.clone(), cost);
                        }
                        report.stopped.push(stopped.clone());
                    }
                    report.outcome = NodeOutcome::Cancelled;
                } else {
                    if let NodeError::Api(api) = &error {
                        // Its end was seen: it failed, and a failed task is charged nothing.
                        if let Some(task) = api.unbilled_task() {
                            report.charged.insert(task.to_owned(), 0.0);
                        }
                    }
                    report.outcome = NodeOutcome::Failed(message.clone());
                }
                (self.emit)(RunEvent::Failed {
                    node: node.id.clone(),
                    error: message,
                });
                self.schedule.failed(position);
            }
        }
        Ok(())
    }
}
