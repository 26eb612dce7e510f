//! `--rows TABLE` for `run` and `validate`: the flow once per row, every row checked before the
//! first Run (one impossible row refuses the table, naming its row and column, unless
//! `--skip-invalid-rows`), and the results table written when the run ends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{EXIT_FAILED, EXIT_INVALID};
use crate::graph::rows::{describe_place, expand, row_results, write_results, Table};
use crate::graph::{validate, validate_for_run, RunReport, Workflow, WorkflowProblem};
use crate::node::{Registry, Walls};

/// The table options of `run` and `validate`.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct RowsArgs {
    /// Run the flow once per row of TABLE (CSV, TSV, or JSON Lines by its ending): each column
    /// is NODE.INPUT, as in --set; an empty cell keeps the flow's value. Every row is checked
    /// before the first Run; files go to OUT/row-NNNN/ (NNNN: the row's line in TABLE), and
    /// OUT/results.csv (results.jsonl with --json) says how each row ended.
    #[arg(long, value_name = "TABLE")]
    pub rows: Option<PathBuf>,
    /// Run the valid rows of a table that has invalid ones, listing the refused rows.
    #[arg(long, requires = "rows")]
    pub skip_invalid_rows: bool,
}

/// The workflow to check and run: the flow itself, or once per row of the table (the rows
/// that pass their checks, with `--skip-invalid-rows`). Problems are printed, each naming its
/// row and column; the error is the exit status.
pub(crate) fn apply(
    args: &RowsArgs,
    flow: Workflow,
    registry: &Registry,
    walls: Option<&Walls>,
) -> Result<(Workflow, Option<Table>), u8> {
    let Some(path) = &args.rows else {
        return Ok((flow, None));
    };
    let refuse = |lines: &[String]| {
        eprintln!(
            "{}: the table cannot run; nothing was sent:",
            path.display()
        );
        for line in lines {
            eprintln!("  - {line}");
        }
        EXIT_INVALID
    };
    let mut table = Table::read(path).map_err(|problem| refuse(&[problem]))?;
    let expanded = expand(&flow, &table, registry).map_err(|problems| refuse(&problems))?;
    // Without walls (a Temporal submit: the workers judge files and fetches), the schemas
    // and rules alone.
    let checked = match walls {
        Some(walls) => validate_for_run(&expanded, registry, walls).map(drop),
        None => validate(&expanded, registry).map(drop),
    };
    let problems = match checked {
        Ok(()) => return Ok((expanded, Some(table))),
        Err(problems) => problems,
    };
    let (by_row, outside) = by_row(&table, &problems);
    if !outside.is_empty() || !args.skip_invalid_rows {
        let mut lines = outside;
        lines.extend(by_row.into_values().flatten());
        return Err(refuse(&lines));
    }
    eprintln!(
        "{}: {} of {} rows are refused and skipped (--skip-invalid-rows):",
        path.display(),
        by_row.len(),
        table.rows.len()
    );
    for line in by_row.values().flatten() {
        eprintln!("  - {line}");
    }
    table.rows.retain(|row| !by_row.contains_key(&row.line));
    let expanded = expand(&flow, &table, registry).map_err(|problems| refuse(&problems))?;
    Ok((expanded, Some(table)))
}

/// The problems of each row, in words naming row and column; and those of no row.
fn by_row(
    table: &Table,
    problems: &[WorkflowProblem],
) -> (BTreeMap<usize, Vec<String>>, Vec<String>) {
    let mut rows: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut outside = Vec::new();
    for problem in problems {
        let place = problem
            .node
            .as_deref()
            .and_then(|node| describe_place(table, node, &problem.path));
        match place {
            Some((line, place)) => rows
                .entry(line)
                .or_default()
                .push(format!("{place}: {} [{}]", problem.message, problem.rule)),
            None => outside.push(problem.to_string()),
        }
    }
    (rows, outside)
}

/// Writes the results table into `out` and says how the rows ended; the exit status (1 when
/// a row failed, naming the results file).
pub(crate) fn finish(out: &Path, report: &RunReport, json: bool) -> Option<u8> {
    let results = row_results(report);
    let path = match write_results(out, &results, json) {
        Ok(path) => path,
        Err(error) => {
            eprintln!(
                "error: the results table could not be written in {}: {error}",
                out.display()
            );
            return Some(EXIT_FAILED);
        }
    };
    let failed = results.iter().filter(|row| row.outcome != "done").count();
    let spent = results.iter().fold(0.0, |total, row| total + row.cost);
    eprintln!(
        "rows: {} done, {failed} not done, ${spent:.4} charged; results in {}",
        results.len() - failed,
        path.display()
    );
    (failed > 0).then(|| {
        eprintln!(
            "error: {failed} row(s) did not finish: see {}",
            path.display()
        );
        EXIT_FAILED
    })
}
