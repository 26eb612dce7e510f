//! The results table of a run over rows: per row its number, outcome, task ids, cost and
//! files (or the error), as `results.csv`, or `results.jsonl`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::expand::split_row;
use crate::graph::{dollars, sum_usd, NodeOutcome, NodeReport, RunReport};
use crate::node::HowStopped;

/// How a row ended, as the results table writes it (`done`, `failed`, ...). In the order of
/// what says most: a row whose nodes ended differently takes its last node's outcome in this
/// order (a failure says more than the skips that follow from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowOutcome {
    /// Every node finished, now or in an earlier run.
    Done,
    /// It did not run: an input node did not finish, or the run was cancelled before it.
    Skipped,
    /// The run was cancelled while it ran.
    Cancelled,
    /// A node failed; `error` says which and why.
    Failed,
    /// Its cells failed the checks and `--skip-invalid-rows` left it out; `error` says why.
    Refused,
}

impl RowOutcome {
    /// The word the results table writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }
}

impl std::fmt::Display for RowOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one row ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowResult {
    /// The row's line in the table.
    pub row: usize,
    /// How it ended.
    pub outcome: RowOutcome,
    /// The remote tasks its nodes started or waited for.
    pub tasks: Vec<String>,
    /// What its tasks were charged, in dollars.
    pub cost: f64,
    /// The files it wrote.
    pub files: Vec<PathBuf>,
    /// The first node that failed, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its tasks whose end the run did not see (a Run no node waited for, a wait that
    /// failed): their charge is not in `cost`, and each is billed if it succeeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_counted: Vec<String>,
}

impl RowResult {
    /// The row on `line`, refused before the run for `problems` (each naming its column).
    pub fn refused(line: usize, problems: String) -> Self {
        Self {
            error: Some(problems),
            ..Self::new(line, RowOutcome::Refused)
        }
    }

    /// The row on `line`, with this outcome and nothing else yet.
    pub fn new(line: usize, outcome: RowOutcome) -> Self {
        Self {
            row: line,
            outcome,
            tasks: Vec::new(),
            cost: 0.0,
            files: Vec::new(),
            error: None,
            not_counted: Vec::new(),
        }
    }
}

/// Each row's result, in row order.
pub fn row_results(report: &RunReport) -> Vec<RowResult> {
    let mut rows: BTreeMap<usize, RowResult> = BTreeMap::new();
    let mut charged: BTreeMap<usize, BTreeMap<&str, f64>> = BTreeMap::new();
    for node in &report.nodes {
        let Some((line, id)) = split_row(&node.id) else {
            continue;
        };
        let row = rows
            .entry(line)
            .or_insert_with(|| RowResult::new(line, RowOutcome::Done));
        for task in &node.tasks {
            if !row.tasks.contains(task) {
                row.tasks.push(task.clone());
            }
        }
        for (task, cost) in &node.charged {
            charged.entry(line).or_default().insert(task, *cost);
        }
        // A task that had ended before the stop came was billed, cancelled run or not.
        for stopped in &node.stopped {
            if let Some(cost) = stopped.charged {
                charged
                    .entry(line)
                    .or_default()
                    .insert(&stopped.taskid, cost);
            }
        }
        row.files.extend(node.files.iter().cloned());
        let (outcome, error) = match &node.outcome {
            NodeOutcome::Finished | NodeOutcome::Resumed => continue,
            NodeOutcome::Failed(why) => (RowOutcome::Failed, Some(format!("{id}: {why}"))),
            NodeOutcome::Cancelled => (RowOutcome::Cancelled, not_stopped(id, node)),
            NodeOutcome::Skipped(why) => (RowOutcome::Skipped, Some(format!("{id}: {why}"))),
        };
        if outcome > row.outcome {
            row.outcome = outcome;
            row.error = error.or(row.error.take());
        }
    }
    let unseen = report.tasks_not_seen_ending();
    for row in rows.values_mut() {
        let not_counted = row
            .tasks
            .iter()
            .filter(|task| unseen.binary_search(&task.as_str()).is_ok());
        row.not_counted = not_counted.cloned().collect();
        if let Some(costs) = charged.remove(&row.row) {
            row.cost = sum_usd(costs.into_values());
        }
    }
    rows.into_values().collect()
}

/// What a cancelled node could not stop, in words for its row's error: a task that may
/// still run and be billed, which the row's cost does not hold.
fn not_stopped(id: &str, node: &NodeReport) -> Option<String> {
    let said: Vec<String> = (node.stopped.iter())
        .filter_map(|stopped| match &stopped.how {
            HowStopped::NotStopped { error } => Some(format!(
                "{id}: task {} could not be stopped ({error}): it may still run, and is billed if it succeeds",
                stopped.taskid
            )),
            _ => None,
        })
        .collect();
    (!said.is_empty()).then(|| said.join("; "))
}

/// The results table's file name in `--out`: `results.csv`, or `results.jsonl` (`json`).
pub fn results_file(json: bool) -> &'static str {
    if json {
        "results.jsonl"
    } else {
        "results.csv"
    }
}

/// Writes `results.csv` into `out`, and `results.jsonl` too when `json` (without it, one an
/// earlier run left is removed: it would tell of other rows than the CSV); file paths are
/// written relative to `out`, costs in dollars as billed (`0.45`; in the CSV, none for a row
/// with a task whose end was not seen, which JSON Lines lists as `not_counted`), and a CSV
/// cell's list of tasks or files an item per line. Gives the last file written.
pub fn write_results(out: &Path, results: &[RowResult], json: bool) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let csv = out.join(results_file(false));
    std::fs::write(&csv, results_text(out, results, false))?;
    let lines = out.join(results_file(true));
    if json {
        std::fs::write(&lines, results_text(out, results, true))?;
        return Ok(lines);
    }
    if std::fs::symlink_metadata(&lines).is_ok_and(|found| found.is_file()) {
        std::fs::remove_file(&lines)?;
    }
    Ok(csv)
}

/// The results table as CSV, or as JSON Lines when `json`.
fn results_text(out: &Path, results: &[RowResult], json: bool) -> String {
    let relative = |path: &Path| {
        let inside = crate::graph::out_folder::within(out, path);
        inside.as_deref().unwrap_or(path).display().to_string()
    };
    let mut text = String::new();
    if json {
        for result in results {
            let mut line = serde_json::to_value(result).unwrap_or_default();
            line["files"] = result.files.iter().map(|f| relative(f)).collect();
            text.push_str(&line.to_string());
            text.push('\n');
        }
    } else {
        text.push_str("row,outcome,tasks,cost,files,error\n");
        for result in results {
            let files: Vec<String> = result.files.iter().map(|f| relative(f)).collect();
            // A list holds an item per line: a file's name may hold spaces, never a newline.
            let fields = [
                result.row.to_string(),
                result.outcome.to_string(),
                result.tasks.join("\n"),
                // Unknown while a task's end was not seen: `0` would read as free.
                match result.not_counted.is_empty() {
                    true => dollars(result.cost),
                    false => String::new(),
                },
                files.join("\n"),
                result.error.clone().unwrap_or_default(),
            ];
            let quoted: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
            text.push_str(&quoted.join(","));
            text.push('\n');
        }
    }
    text
}

/// A CSV field, quoted when it holds a comma, a quote or a line break. A field a spreadsheet
/// would take for a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return:
/// an error naming a node of someone else's flow, say) starts with `'`, which spreadsheets
/// show as text.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let mut failed = RowResult::new(2, RowOutcome::Failed);
        failed.error = Some("=HYPERLINK(\"http://x\",\"y\"): failed, badly".into());
        let mut odd = RowResult::new(3, RowOutcome::Failed);
        odd.error = Some("@SUM(1)".into());
        let path = write_results(dir.path(), &[failed, odd], false).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            text.lines().skip(1).collect::<Vec<_>>(),
            [
                r#"2,failed,,0,,"'=HYPERLINK(""http://x"",""y""): failed, badly""#,
                "3,failed,,0,,'@SUM(1)",
            ]
        );
    }

    #[test]
    fn a_run_without_json_leaves_no_earlier_json_lines_to_contradict_its_csv() {
        let dir = tempfile::tempdir().unwrap();
        let two = [
            RowResult::new(2, RowOutcome::Done),
            RowResult::new(3, RowOutcome::Done),
        ];
        let lines = write_results(dir.path(), &two, true).unwrap();
        assert_eq!(std::fs::read_to_string(&lines).unwrap().lines().count(), 2);
        let csv = write_results(dir.path(), &two[..1], false).unwrap();
        assert_eq!(std::fs::read_to_string(csv).unwrap().lines().count(), 2);
        assert!(!lines.exists());
    }

    #[test]
    fn a_cancelled_row_names_the_task_it_could_not_stop_and_counts_one_that_had_ended() {
        let mut wait = NodeReport::not_reached("row-0002-wait", "wiro/task.wait");
        wait.outcome = NodeOutcome::Cancelled;
        wait.tasks = vec!["7".into(), "8".into()];
        wait.stopped = vec![
            crate::node::StoppedTask {
                taskid: "7".into(),
                how: HowStopped::NotStopped {
                    error: "server error (HTTP 500)".into(),
                },
                charged: None,
            },
            crate::node::StoppedTask {
                taskid: "8".into(),
                how: HowStopped::AlreadyEnded,
                charged: Some(0.45),
            },
        ];
        let report = RunReport {
            nodes: vec![wait],
            cancelled: true,
            journal: None,
            tasks: Default::default(),
        };
        let [row] = row_results(&report).try_into().unwrap();
        assert_eq!(row.outcome, RowOutcome::Cancelled);
        assert_eq!(row.cost, 0.45);
        assert_eq!(
            row.error.as_deref(),
            Some("wait: task 7 could not be stopped (server error (HTTP 500)): it may still run, and is billed if it succeeds")
        );
    }
}
