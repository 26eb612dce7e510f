//! The line of a run over a table: rows done, failed (cancelled), in flight, waiting for a
//! task slot and not started yet, and what the Runs this run sent were charged.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use crate::graph::rows::{split_row, RowOutcome, RowResult};
use crate::graph::RunEvent;
use crate::node::{NodeEvent, WAITING_FOR_TASK_SLOT};

/// The counts of a running table, kept per row (never per node).
#[derive(Debug, Default)]
pub(crate) struct RowsTally {
    total: usize,
    done: usize,
    failed: usize,
    cancelled: usize,
    /// Rows that started and have not ended, by line.
    in_flight: BTreeSet<usize>,
    /// Rows whose Run waits for one of the account's task slots, by line.
    waiting_for_slot: BTreeSet<usize>,
    /// The tasks whose Runs this run sent, until their charge is counted (a row resumed
    /// from an earlier run was charged to that run).
    sent: HashSet<String>,
    charged: f64,
}

impl RowsTally {
    /// A table of `total` rows.
    pub(crate) fn new(total: usize) -> Self {
        Self {
            total,
            ..Self::default()
        }
    }

    /// Counts one event of a row's node; true when it is worth showing at once (a failure).
    pub(crate) fn count(&mut self, event: &RunEvent) -> bool {
        let (node, urgent) = match event {
            RunEvent::Progress { node, event } => {
                if let Some((line, _)) = split_row(node) {
                    match event {
                        NodeEvent::Phase { phase } if phase == WAITING_FOR_TASK_SLOT => {
                            self.waiting_for_slot.insert(line);
                        }
                        NodeEvent::Submitting => {
                            self.waiting_for_slot.remove(&line);
                        }
                        NodeEvent::TaskStarted(task) => {
                            self.sent.insert(task.taskid.clone());
                        }
                        // It ended, billed, before the cancel's stop reached it.
                        NodeEvent::TaskStopped {
                            taskid,
                            charged: Some(cost),
                            ..
                        } if self.sent.remove(taskid) => self.charged += cost,
                        _ => {}
                    }
                }
                (node, false)
            }
            RunEvent::Failed { node, .. } => (node, true),
            RunEvent::Finished { node, charged, .. } => {
                for (task, cost) in charged {
                    if self.sent.remove(task) {
                        self.charged += cost;
                    }
                }
                (node, false)
            }
            RunEvent::Started { node, .. }
            | RunEvent::Resumed { node, .. }
            | RunEvent::Skipped { node, .. } => (node, false),
        };
        if let Some((line, _)) = split_row(node) {
            self.in_flight.insert(line);
            if urgent {
                self.waiting_for_slot.remove(&line);
            }
        }
        urgent
    }

    /// Counts a row that ended.
    pub(crate) fn row_ended(&mut self, result: &RowResult) {
        self.in_flight.remove(&result.row);
        self.waiting_for_slot.remove(&result.row);
        match result.outcome {
            RowOutcome::Done => self.done += 1,
            RowOutcome::Cancelled => self.cancelled += 1,
            _ => self.failed += 1,
        }
    }
}

impl fmt::Display for RowsTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ended = self.done + self.failed + self.cancelled;
        let not_started = self.total.saturating_sub(ended + self.in_flight.len());
        let cancelled = match self.cancelled {
            0 => String::new(),
            count => format!(", {count} cancelled"),
        };
        write!(
            f,
            "rows: {}/{} done, {} failed{cancelled}, {} in flight ({} waiting for a task slot), {} not started, spent {}",
            self.done,
            self.total,
            self.failed,
            self.in_flight.len(),
            self.waiting_for_slot.len(),
            not_started,
            super::money::money(self.charged)
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::api::TaskHandle;

    use super::*;

    fn progress(node: &str, event: NodeEvent) -> RunEvent {
        RunEvent::Progress {
            node: node.into(),
            event,
        }
    }

    fn ended(row: usize, outcome: RowOutcome, cost: f64) -> RowResult {
        RowResult {
            cost,
            ..RowResult::new(row, outcome)
        }
    }

    #[test]
    fn the_line_counts_rows_slots_and_money() {
        let mut tally = RowsTally::new(10);
        let waiting = || NodeEvent::Phase {
            phase: WAITING_FOR_TASK_SLOT.into(),
        };
        for line in [2, 3, 4] {
            tally.count(&RunEvent::Started {
                node: format!("row-{line:04}-video"),
                type_id: "pixverse/text-to-video-v4".into(),
            });
            tally.count(&progress(&format!("row-{line:04}-video"), waiting()));
        }
        tally.count(&progress("row-0002-video", NodeEvent::Submitting));
        tally.count(&progress(
            "row-0002-video",
            NodeEvent::TaskStarted(TaskHandle {
                taskid: "7".into(),
                socketaccesstoken: String::new(),
            }),
        ));
        assert_eq!(
            tally.to_string(),
            "rows: 0/10 done, 0 failed, 3 in flight (2 waiting for a task slot), 7 not started, spent $0.00"
        );
        let charged = |node: &str, task: &str| RunEvent::Finished {
            node: node.into(),
            elapsed: std::time::Duration::ZERO,
            charged: [(task.to_owned(), 0.45)].into(),
            files: Vec::new(),
        };
        tally.count(&charged("row-0002-wait", "7"));
        tally.row_ended(&ended(2, RowOutcome::Done, 0.45));
        assert!(tally.count(&RunEvent::Failed {
            node: "row-0003-video".into(),
            error: "x".into()
        }));
        tally.row_ended(&ended(3, RowOutcome::Failed, 0.0));
        assert_eq!(
            tally.to_string(),
            "rows: 1/10 done, 1 failed, 1 in flight (1 waiting for a task slot), 7 not started, spent $0.45"
        );
        // A row an earlier run paid for costs this run nothing; a cancelled row is no failure.
        tally.count(&charged("row-0005-wait", "5"));
        tally.row_ended(&ended(5, RowOutcome::Done, 0.45));
        // Row 4's task ended, billed, before the cancel's stop reached it: spent.
        let started = NodeEvent::TaskStarted(TaskHandle {
            taskid: "8".into(),
            socketaccesstoken: String::new(),
        });
        tally.count(&progress("row-0004-video", started));
        let stopped = NodeEvent::TaskStopped {
            taskid: "8".into(),
            how: crate::node::HowStopped::AlreadyEnded,
            charged: Some(0.45),
        };
        tally.count(&progress("row-0004-wait", stopped));
        tally.row_ended(&ended(4, RowOutcome::Cancelled, 0.45));
        assert_eq!(
            tally.to_string(),
            "rows: 2/10 done, 1 failed, 1 cancelled, 0 in flight (0 waiting for a task slot), 6 not started, spent $0.90"
        );
    }
}
