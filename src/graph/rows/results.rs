//! The results table of a run over rows: per row its number, outcome, task ids, cost and
//! files (or the error), as `results.csv`, or `results.jsonl`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::expand::split_row;
use crate::graph::{dollars, sum_usd, NodeOutcome, RunReport};

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
        row.files.extend(node.files.iter().cloned());
        let (outcome, error) = match &node.outcome {
            NodeOutcome::Finished | NodeOutcome::Resumed => continue,
            NodeOutcome::Failed(why) => (RowOutcome::Failed, Some(format!("{id}: {why}"))),
            NodeOutcome::Cancelled => (RowOutcome::Cancelled, None),
            NodeOutcome::Skipped(why) => (RowOutcome::Skipped, Some(format!("{id}: {why}"))),
        };
        if outcome > row.outcome {
            row.outcome = outcome;
            row.error = error.or(row.error.take());
        }
    }
    for (line, costs) in charged {
        if let Some(row) = rows.get_mut(&line) {
            row.cost = sum_usd(costs.into_values());
        }
    }
    rows.into_values().collect()
}

/// The results table's file name in `--out`: `results.csv`, or `results.jsonl` (`json`).
pub fn results_file(json: bool) -> &'static str {
    if json {
        "results.jsonl"
    } else {
        "results.csv"
    }
}

/// Writes `results.csv` (or `results.jsonl` when `json`) into `out`; file paths are written
/// relative to `out`, costs in dollars as billed (`0.45`), and a cell's list of tasks or
/// files an item per line. Gives the file written.
pub fn write_results(out: &Path, results: &[RowResult], json: bool) -> std::io::Result<PathBuf> {
    let relative = |path: &Path| path.strip_prefix(out).unwrap_or(path).display().to_string();
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
                dollars(result.cost),
                files.join("\n"),
                result.error.clone().unwrap_or_default(),
            ];
            let quoted: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
            text.push_str(&quoted.join(","));
            text.push('\n');
        }
    }
    let path = out.join(results_file(json));
    std::fs::create_dir_all(out)?;
    std::fs::write(&path, text)?;
    Ok(path)
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
}
