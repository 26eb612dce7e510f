//! Running a table: each row's copy of the flow runs as a small run of its own, a window of
//! rows at a time, all of them sharing the account's task slots, the file slots, the journal
//! and the cancel. The client holds the rows in flight and each ended row's result, never the
//! whole table's nodes: a row's states, outputs and reports go when its chain ends.
//!
//! The window follows the account: the rows whose tasks may be active (the limit, set or
//! learned from code 96, else twice the tasks active now), the file slots, and a few rows
//! waiting for a task slot, so a slot that frees is taken at once.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::expand::{row_name, split_row, TableFlow};
use super::results::{row_results, RowOutcome, RowResult};
use crate::api::{RunLookup, TaskHandle, TaskLookup};
use crate::graph::executor::{ActiveRun, Shared};
use crate::graph::journal::{split_entries, JournalEntry, JournalEvent, JOURNAL_FILE};
use crate::graph::resume::SharedJournal;
use crate::graph::{validate_for_run, Executor, RunError, RunEvent, RunReport, WorkflowProblem};
use crate::node::{claim_lost_run, TaskSlots, TaskSlotsReport, Walls};

/// Rows waiting for a task slot besides those whose tasks are active: a slot that frees is
/// taken by a row that is already there.
const SPARE_ROWS: usize = 16;

/// The most rows in flight when the account's limit is not known (no code 96 yet): an
/// account that takes every Run is still not handed the whole table at once.
const MAX_ROWS_UNKNOWN_LIMIT: usize = 256;

/// Why a row has no result of its own after a cancel.
const NOT_STARTED: &str = "not started: the run was cancelled";

/// How far back a finished run looks for paid tasks an earlier run left running for cells the
/// table no longer has: a task older than this has ended.
const LEFT_RUNNING_WITHIN: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A paid task an earlier run started for a row whose cells (or flow) changed since, which no
/// row of this run took: still running (it will be billed when it ends), or ended with a
/// charge no run saw (the run that started it stopped before the task's end).
#[derive(Debug, Clone, PartialEq)]
pub struct LeftRunning {
    /// The node that started it, as the journal names it (`row-0003-video`).
    pub node: String,
    /// The task; `None` for a Run whose answer was lost and whose task Task/List could
    /// neither find nor rule out (it may have started one, counted as running).
    pub task: Option<TaskHandle>,
    /// What it was charged, in dollars, when it has ended; `None` while it runs.
    pub charged: Option<f64>,
    /// Its end was recorded by the run that waited for it: its charge was in that run's
    /// results, not in this table's.
    pub seen: bool,
}

impl LeftRunning {
    /// The flow's node that started it (`video` of `row-0007~1-video`).
    pub fn flow_node(&self) -> Option<&str> {
        split_entries(&self.node).map(|(_, name)| name)
    }

    /// The node as the run that started it showed it: `row-0007-video` (the journal's
    /// `row-0007~1-video` is the second place of line 7's rows).
    pub fn shown(&self) -> String {
        match split_entries(&self.node) {
            Some((place, name)) => {
                let line = place.split('~').next().unwrap_or(place);
                format!("{line}-{name}")
            }
            None => self.node.clone(),
        }
    }

    /// Its task in words: `task 2221`, or `a Run whose answer was lost`.
    pub fn named(&self) -> String {
        match &self.task {
            Some(task) => format!("task {}", task.taskid),
            None => "a Run whose answer was lost".into(),
        }
    }

    /// Whether it is `taskid`.
    fn is(&self, taskid: &str) -> bool {
        self.task.as_ref().is_some_and(|task| task.taskid == taskid)
    }
}

/// The end of a run over a table.
#[derive(Debug, Clone, PartialEq)]
pub struct RowsReport {
    /// Each row's result, in table order.
    pub rows: Vec<RowResult>,
    /// The run was cancelled.
    pub cancelled: bool,
    /// The journal used, if any.
    pub journal: Option<PathBuf>,
    /// The paid tasks of every row: refusals, the account's limit, the most active at once.
    pub tasks: TaskSlotsReport,
    /// Paid tasks an earlier run started for cells the table no longer has, still running or
    /// ended with a charge no run saw.
    pub left_running: Vec<LeftRunning>,
}

impl Executor {
    /// Runs the flow once per row of `rows`, streaming the rows through: a window of rows is
    /// in flight at a time, sharing the task slots, the file slots (`concurrency`), the
    /// journal (one Run per row overall; a changed row runs again alone) and `cancel`. Each
    /// row's result goes to `on_row` as it ends. Check the table first (every row, with
    /// [`validate_for_run`](crate::graph::validate_for_run), so that an impossible row refuses
    /// the table before the first Run): a row found invalid here fails alone, sending nothing.
    /// Every way out first waits for the running nodes to stop.
    pub async fn run_rows(
        &self,
        rows: &TableFlow<'_>,
        cancel: CancellationToken,
        on_event: impl Fn(RunEvent) + Send + Sync + 'static,
        mut on_row: impl FnMut(&RowResult) + Send,
    ) -> Result<RowsReport, RunError> {
        self.check_rerun(rows)?;
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        let journal = SharedJournal::open(
            &self.options.output_dir.join(JOURNAL_FILE),
            self.options.journal,
            self.options.fresh,
        )?;
        let shared = Shared {
            tasks: self.task_slots(&journal),
            journal,
            files: Some(Arc::new(Semaphore::new(self.options.concurrency.max(1)))),
            emit: Arc::new(on_event),
        };
        // Where each row keeps its nodes' entries in the journal, its line moved or not.
        let table = rows.table();
        let placed: Vec<(String, String)> = (0..rows.len())
            .map(|index| (row_name(table.rows[index].line), table.cells_key(index)))
            .collect();
        let row_places = shared.journal.place_rows(&placed);
        let walls = self.options.walls(self.client.fetch_rules().clone());
        let cancel = cancel.child_token();
        let mut results = Vec::with_capacity(rows.len());
        let mut failure = None;
        let mut in_flight = FuturesUnordered::new();
        let mut next = 0;
        loop {
            while next < rows.len() && in_flight.len() < self.rows_window(&shared.tasks) {
                if cancel.is_cancelled() {
                    // Cancelled: the rows not started are listed as such, not made, checked
                    // and skipped one by one (a row an earlier run finished is not run now).
                    let line = rows.table().rows[next].line;
                    let result = RowResult {
                        error: Some(NOT_STARTED.into()),
                        ..RowResult::new(line, RowOutcome::Skipped)
                    };
                    on_row(&result);
                    results.push(result);
                    next += 1;
                    continue;
                }
                let place = (&placed[next], &row_places[next]);
                in_flight.push(self.run_row(rows, next, place, &shared, &walls, &cancel));
                next += 1;
            }
            let Some(ended) = in_flight.next().await else {
                break;
            };
            match ended {
                Ok(result) => {
                    on_row(&result);
                    results.push(result);
                }
                Err(error) => {
                    // The journal failed: stop every row (each waits for its nodes), start
                    // no other, and report this error.
                    cancel.cancel();
                    next = rows.len();
                    failure.get_or_insert(error);
                }
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        results.sort_by_key(|result| result.row);
        let cancelled = cancel.is_cancelled();
        let left_running = match cancelled {
            true => Vec::new(), // rows not reached still own their entries
            false => {
                let since = started_at.saturating_sub(LEFT_RUNNING_WITHIN.as_millis() as u64);
                let entries = shared.journal.left_behind(since, started_at);
                let asked = (entries, &shared.journal, &shared.tasks);
                self.left_running(rows, asked, false).await?
            }
        };
        Ok(RowsReport {
            rows: results,
            cancelled,
            journal: shared.journal.path(),
            tasks: shared.tasks.report(),
            left_running,
        })
    }

    /// What earlier runs in the output folder paid, or will be charged, for cells no row of
    /// `rows` has now (a row edited after its Run was sent, or while its task ran): the
    /// paid tasks of journal places no row of this table takes, however old, as
    /// the end of a table run finds them. Asked before the first Run, so that
    /// `--max-cost`, which caps the whole run, counts them; none with `--fresh` (which pays
    /// again on purpose) or when no journal is there. It asks Task/Detail about their
    /// tasks and Task/List about Runs whose answer was lost, and journals the tasks it
    /// finds; it sends no Run.
    pub async fn paid_for_other_cells(
        &self,
        rows: &TableFlow<'_>,
    ) -> Result<Vec<LeftRunning>, RunError> {
        let path = self.options.output_dir.join(JOURNAL_FILE);
        if self.options.fresh || !self.options.journal || !path.is_file() {
            return Ok(Vec::new());
        }
        let journal = SharedJournal::open(&path, true, false)?;
        let table = rows.table();
        let placed: Vec<(String, String)> = (0..rows.len())
            .map(|index| (row_name(table.rows[index].line), table.cells_key(index)))
            .collect();
        let places = journal.place_rows(&placed);
        let taken: HashMap<String, (String, BTreeMap<String, String>)> = (places.into_iter())
            .zip(placed.into_iter().map(|(_, cells)| cells))
            .enumerate()
            .map(|(index, (place, cells))| (place, (cells, rows.paid_digests(index))))
            .collect();
        let entries = journal.for_other_cells(&taken);
        let slots = self.task_slots(&journal);
        // Before Runs that a cap guards, a task that could not be asked counts as running.
        self.left_running(rows, (entries, &journal, &slots), true)
            .await
    }

    /// The paid tasks among `entries` (an earlier run's journal entries no row of this one
    /// took: their cells or the flow changed since): those still running, and those that
    /// ended with a charge while no run waited for them (a task whose end a node of that
    /// run recorded was in that run's results). A Run whose answer never came is looked for
    /// first (see [`Executor::lost_runs`]). Asked with Task/Detail, 8 at a time. A task
    /// Task/Detail could not be asked about, and a lost Run Task/List could not tell about,
    /// are kept as running when `keep_unasked`, else left out (a warning names only what it
    /// knows).
    async fn left_running(
        &self,
        rows: &TableFlow<'_>,
        (entries, journal, slots): (Vec<JournalEntry>, &SharedJournal, &TaskSlots),
        keep_unasked: bool,
    ) -> Result<Vec<LeftRunning>, RunError> {
        let mut tasks: Vec<LeftRunning> = Vec::new();
        let mut lost = Vec::new();
        // What each task whose end a node recorded was charged.
        let mut seen_ended: HashMap<String, f64> = HashMap::new();
        // The tasks paid nodes started here: what a node the flow no longer has finished
        // with is one of those, or no paid task.
        let paid_here = journal.task_ids();
        for entry in entries {
            let name = split_entries(&entry.node).map(|(_, name)| name);
            let spec = (name.and_then(|name| rows.flow().node(name)))
                .and_then(|flow_node| self.registry.get(&flow_node.type_id))
                .map(|target| target.spec());
            if let (Some(spec), JournalEvent::Finished { outputs }) = (spec, &entry.event) {
                let records = spec.kinds.task_records(outputs).into_iter();
                let ended = records.filter(|r| r.is_terminal());
                seen_ended.extend(ended.map(|r| (r.id.clone(), r.total_cost().unwrap_or(0.0))));
            }
            if spec.is_some_and(|spec| !spec.spends_money) {
                continue;
            }
            // A node renamed or removed since: only paid nodes write a Run's lines.
            let task = match entry.event {
                JournalEvent::TaskStarted { task } => Some(task),
                JournalEvent::Finished { outputs } => match spec {
                    Some(spec) => spec.kinds.started_task(&outputs),
                    None => (outputs.get("task").cloned())
                        .and_then(|task| serde_json::from_value::<TaskHandle>(task).ok())
                        .filter(|task| paid_here.contains(&task.taskid)),
                },
                JournalEvent::Submitting { .. } => {
                    lost.push(entry);
                    continue;
                }
                _ => None,
            };
            if let Some(task) = task.filter(|task| tasks.iter().all(|t| !t.is(&task.taskid))) {
                tasks.push(LeftRunning {
                    node: entry.node,
                    task: Some(task),
                    charged: None,
                    seen: false,
                });
            }
        }
        for (node, task) in self.lost_runs(lost, journal, slots).await? {
            let task = task.filter(|task| tasks.iter().all(|t| !t.is(&task.taskid)));
            if task.is_some() || keep_unasked {
                let (charged, seen) = (None, false);
                tasks.push(LeftRunning {
                    node,
                    task,
                    charged,
                    seen,
                });
            }
        }
        // A task whose end a node recorded is not asked about: its charge is known (a
        // rewritten results table no longer lists it).
        let ended_cost = |left: &LeftRunning| {
            let task = left.task.as_ref()?;
            seen_ended.get(&task.taskid).copied()
        };
        let (seen, tasks): (Vec<LeftRunning>, Vec<LeftRunning>) =
            (tasks.into_iter()).partition(|left| ended_cost(left).is_some());
        let seen = seen.into_iter().filter_map(|left| {
            let cost = ended_cost(&left)?;
            (cost > 0.0).then_some(LeftRunning {
                charged: Some(cost),
                seen: true,
                ..left
            })
        });
        let client = &self.client;
        let left = futures_util::stream::iter(tasks)
            .map(|mut left| async move {
                let Some(task) = &left.task else {
                    return Some(left); // kept only when `keep_unasked`
                };
                let record = match client.task_detail(TaskLookup::from(task)).await {
                    Ok(record) => record,
                    Err(_) => return keep_unasked.then_some(left),
                };
                if record.is_terminal() {
                    left.charged = Some(record.total_cost().filter(|cost| *cost > 0.0)?);
                }
                Some(left)
            })
            .buffer_unordered(8)
            .filter_map(std::future::ready);
        let mut left: Vec<LeftRunning> = left.collect().await;
        left.extend(seen);
        left.sort_by(|a, b| a.node.cmp(&b.node));
        Ok(left)
    }

    /// What became of each Run in `lost` (an earlier run's `submitting` lines for cells no
    /// row has now, with no answer after them), asked of Task/List as a node's own lost Run
    /// is ([`claim_lost_run`](crate::node::claim_lost_run)). A task found is journaled as started (no later run asks
    /// again, and a row whose cells come back to these takes it); a Run that started
    /// nothing is journaled as failed and left out. Each as its node and task: `None` when
    /// Task/List could not tell.
    async fn lost_runs(
        &self,
        lost: Vec<JournalEntry>,
        journal: &SharedJournal,
        tasks: &TaskSlots,
    ) -> Result<Vec<(String, Option<TaskHandle>)>, RunError> {
        let mut found = Vec::new();
        for entry in lost {
            let JournalEvent::Submitting { sent } = &entry.event else {
                continue;
            };
            let sent_at = UNIX_EPOCH + Duration::from_millis(entry.at);
            let Some(sent) = sent else {
                // A journal of an earlier build: it does not say what it sent.
                found.push((entry.node, None));
                continue;
            };
            let (model, parameters) = (&sent.model, &sent.parameters);
            let lookup = claim_lost_run(&self.client, tasks, model, parameters, sent_at).await;
            match lookup {
                // Dated when the Run was sent: the cells the row had then are its cells.
                RunLookup::Found { handle, .. } => {
                    let event = JournalEvent::TaskStarted {
                        task: handle.clone(),
                    };
                    (journal.record_as_of(&entry.node, &entry.key, event, entry.at)).await?;
                    found.push((entry.node, Some(handle)));
                }
                RunLookup::NotCreated { .. } => {
                    let error = "its Run's answer was lost, and Task/List shows no task it started";
                    let event = JournalEvent::Failed {
                        error: error.into(),
                    };
                    (journal.record_as_of(&entry.node, &entry.key, event, entry.at)).await?;
                }
                RunLookup::CannotTell { .. } => found.push((entry.node, None)),
            }
        }
        Ok(found)
    }

    /// How many rows may be in flight now.
    fn rows_window(&self, tasks: &TaskSlots) -> usize {
        let files = self.options.concurrency.max(1);
        match self.options.max_tasks.or(tasks.report().limit) {
            Some(limit) => limit + files + SPARE_ROWS,
            None => (2 * tasks.active() + files + SPARE_ROWS).min(MAX_ROWS_UNKNOWN_LIMIT),
        }
    }

    /// Runs the row at `index` to its end, its nodes' journal entries kept under `place`
    /// (`Journal::place_rows`), written down first for the next run; its result. A cancelled run still settles the row
    /// (every node not started is skipped).
    async fn run_row(
        &self,
        rows: &TableFlow<'_>,
        index: usize,
        ((row, cells), place): (&(String, String), &String),
        shared: &Shared,
        walls: &Walls,
        cancel: &CancellationToken,
    ) -> Result<RowResult, RunError> {
        let workflow = rows.row(index);
        let line = rows.table().rows[index].line;
        // The caller checked the table before the first Run; a row that does not pass here
        // fails alone, sending nothing.
        let plan = match validate_for_run(&workflow, &self.registry, walls) {
            Ok(plan) => plan,
            Err(problems) => {
                let described: Vec<String> = problems.iter().map(ToString::to_string).collect();
                return Ok(RowResult {
                    error: Some(described.join("; ")),
                    ..RowResult::new(line, RowOutcome::Failed)
                });
            }
        };
        // Written down before any Run: a run killed with this row's task out finds it next time
        // through the row's place, wherever the row's line goes.
        let mut earlier_lines = shared.journal.lines_of(cells, place);
        earlier_lines.retain(|line| line != row);
        shared
            .journal
            .record_row((row, cells, place), &rows.paid_digests(index))?;
        let mut run = ActiveRun::new(self, &workflow, &plan, shared.clone(), cancel.child_token());
        run.row_entries = Some(place.clone());
        run.earlier_lines = earlier_lines;
        let driven = run.drive().await;
        let cancelled = run.cancel.is_cancelled();
        for completion in run.running.stop_all().await {
            // The run already failed: its error is the one to report.
            let _ = run.finish(completion).await;
        }
        driven?;
        let report = RunReport {
            nodes: run.reports,
            cancelled,
            journal: None,
            tasks: TaskSlotsReport::default(),
        };
        // A valid flow has a node, so the row has its result.
        let result = row_results(&report).into_iter().next();
        Ok(result.unwrap_or_else(|| RowResult::new(line, RowOutcome::Done)))
    }

    /// Every `--rerun` names a node of some row (`row-0007-video`).
    fn check_rerun(&self, rows: &TableFlow<'_>) -> Result<(), RunError> {
        let known = |id: &str| {
            split_row(id).is_some_and(|(line, node)| {
                rows.flow().node(node).is_some()
                    && rows.table().rows.iter().any(|row| row.line == line)
            })
        };
        match self.options.rerun.iter().find(|id| !known(id)) {
            None => Ok(()),
            Some(unknown) => Err(RunError::Invalid(vec![WorkflowProblem {
                node: Some(unknown.clone()),
                path: String::new(),
                rule: "rerun".into(),
                message: "--rerun names a node the table's rows do not have (row-NNNN-NODE)".into(),
            }])),
        }
    }
}
