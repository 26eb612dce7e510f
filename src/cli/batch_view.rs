//! The compact view of a big batch: one line of counts — tasks in flight, Runs waiting for a
//! task slot, nodes done and failed, money spent so far — instead of a bar per node.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::graph::RunEvent;
use crate::node::{NodeEvent, WAITING_FOR_TASK_SLOT};

/// Workflows with more nodes than this get the compact view.
pub(crate) const BATCH_VIEW_FROM: usize = 24;

/// The counts of a running batch.
#[derive(Debug, Default)]
pub(crate) struct BatchTally {
    total: usize,
    done: usize,
    failed: usize,
    skipped: usize,
    /// Nodes whose Run waits for one of the account's task slots.
    waiting_for_slot: BTreeSet<String>,
    /// Tasks accepted.
    accepted: usize,
    /// Nodes that saw their task end (a wait reaching a final status, a stop).
    ended: BTreeSet<String>,
    refusals: u64,
    charged: BTreeMap<String, f64>,
}

impl BatchTally {
    /// A batch of `total` nodes.
    pub(crate) fn new(total: usize) -> Self {
        Self {
            total,
            ..Self::default()
        }
    }

    /// Counts one event; true when the line changed in a way worth showing at once (a failure).
    pub(crate) fn count(&mut self, event: &RunEvent) -> bool {
        match event {
            RunEvent::Progress { node, event } => match event {
                NodeEvent::Phase { phase } if phase == WAITING_FOR_TASK_SLOT => {
                    self.waiting_for_slot.insert(node.clone());
                }
                NodeEvent::Submitting => {
                    self.waiting_for_slot.remove(node);
                }
                NodeEvent::RunRefused { .. } => self.refusals += 1,
                NodeEvent::TaskStarted(_) => self.accepted += 1,
                NodeEvent::TaskStatus { status } if status.is_terminal() => {
                    self.ended.insert(node.clone());
                }
                NodeEvent::TaskStopped {
                    taskid, charged, ..
                } => {
                    self.ended.insert(node.clone());
                    if let Some(cost) = charged {
                        self.charged.insert(taskid.clone(), *cost); // ended before the stop
                    }
                }
                _ => {}
            },
            RunEvent::Finished { charged, .. } => {
                self.done += 1;
                for (task, cost) in charged {
                    self.charged.insert(task.clone(), *cost);
                }
            }
            RunEvent::Resumed { .. } => self.done += 1,
            RunEvent::Failed { node, .. } => {
                self.failed += 1;
                self.waiting_for_slot.remove(node);
                return true;
            }
            RunEvent::Skipped { .. } => self.skipped += 1,
            RunEvent::Started { .. } => {}
        }
        false
    }
}

impl fmt::Display for BatchTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spent: f64 = self.charged.values().fold(0.0, |sum, cost| sum + cost);
        write!(
            f,
            "{} tasks in flight, {} waiting for a slot, {}/{} nodes done, {} failed",
            self.accepted.saturating_sub(self.ended.len()),
            self.waiting_for_slot.len(),
            self.done,
            self.total,
            self.failed
        )?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
        }
        if self.refusals > 0 {
            write!(
                f,
                ", {} Runs refused by the limit and sent again",
                self.refusals
            )?;
        }
        write!(f, ", spent {}", super::money::money(spent))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::api::TaskHandle;

    #[test]
    fn the_line_counts_tasks_slots_nodes_and_money() {
        let mut tally = BatchTally::new(6);
        let progress = |node: &str, event| RunEvent::Progress {
            node: node.into(),
            event,
        };
        tally.count(&progress(
            "a",
            NodeEvent::Phase {
                phase: WAITING_FOR_TASK_SLOT.into(),
            },
        ));
        tally.count(&progress(
            "b",
            NodeEvent::Phase {
                phase: WAITING_FOR_TASK_SLOT.into(),
            },
        ));
        tally.count(&progress("b", NodeEvent::Submitting));
        tally.count(&progress(
            "b",
            NodeEvent::TaskStarted(TaskHandle {
                taskid: "7".into(),
                socketaccesstoken: String::new(),
            }),
        ));
        assert_eq!(
            tally.to_string(),
            "1 tasks in flight, 1 waiting for a slot, 0/6 nodes done, 0 failed, spent $0.00"
        );
        tally.count(&progress(
            "b-wait",
            NodeEvent::TaskStatus {
                status: crate::api::TaskStatus::PostprocessEnd,
            },
        ));
        tally.count(&RunEvent::Finished {
            node: "b-wait".into(),
            elapsed: Duration::ZERO,
            charged: BTreeMap::from([("7".to_owned(), 0.45)]),
            files: Vec::new(),
        });
        assert!(tally.count(&RunEvent::Failed {
            node: "c".into(),
            error: "x".into()
        }));
        assert_eq!(
            tally.to_string(),
            "0 tasks in flight, 1 waiting for a slot, 1/6 nodes done, 1 failed, spent $0.45"
        );
    }
}
