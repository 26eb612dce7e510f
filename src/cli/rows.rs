//! `--rows TABLE` for `run` and `validate`: the flow once per row, every row checked before the
//! first Run (one impossible row refuses the table, naming its row and column, unless
//! `--skip-invalid-rows`), and the results table written when the run ends.

use std::path::{Path, PathBuf};

use super::money::money;
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::graph::rows::{
    check_rows, counted, first_few, stale_row_folders, write_results, LeftRunning, RowOutcome,
    RowResult, Table,
};
use crate::graph::{sum_usd, NodePrice, Workflow, WorkflowPrice};
use crate::node::{Registry, Walls};

/// The table options of `run` and `validate`.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct RowsArgs {
    /// Run the flow once per row of TABLE (CSV, TSV, or JSON Lines by its ending): each column
    /// is NODE.INPUT, as in --set; an empty cell keeps the flow's value. Every row is checked
    /// before the first Run; files go to OUT/row-NNNN/ (NNNN: the row's line in TABLE), and
    /// OUT/results.csv (and results.jsonl with --json, its lines also on stdout) says how each
    /// row ended.
    #[arg(long, value_name = "TABLE")]
    pub rows: Option<PathBuf>,
    /// Run the valid rows of a table that has invalid ones, listing the refused rows.
    #[arg(long, requires = "rows")]
    pub skip_invalid_rows: bool,
}

/// A table whose rows all passed the checks, and the rows `--skip-invalid-rows` refused
/// (outcome `refused`, with their problems), for the results table.
pub(crate) struct CheckedTable {
    pub table: Table,
    pub refused: Vec<RowResult>,
}

/// The table to run the flow over, if `--rows` names one: every row checked against the
/// schemas and rules (and, with `walls`, the local files) before anything is sent; the rows
/// that pass, with `--skip-invalid-rows`. Problems are printed, each naming its row and
/// column; the error is the exit status. Each row's copy of the flow is made, checked and
/// dropped in turn, so a big table is checked in little memory.
pub(crate) fn check(
    args: &RowsArgs,
    flow: &Workflow,
    registry: &Registry,
    walls: Option<&Walls>,
) -> Result<Option<CheckedTable>, u8> {
    let Some(path) = &args.rows else {
        return Ok(None);
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
    if let Some(note) = table.left_out() {
        eprintln!("{}: {note}", path.display());
    }
    let checked = check_rows(flow, &table, registry, walls);
    let (by_row, outside) = checked.map_err(|problems| refuse(&problems))?;
    if by_row.is_empty() && outside.is_empty() {
        let refused = Vec::new();
        return Ok(Some(CheckedTable { table, refused }));
    }
    if !outside.is_empty() || !args.skip_invalid_rows {
        let mut lines = outside;
        lines.extend(by_row.into_values().flatten());
        return Err(refuse(&lines));
    }
    eprintln!(
        "{}: {} of {} refused and skipped (--skip-invalid-rows):",
        path.display(),
        by_row.len(),
        counted(table.rows.len(), "row")
    );
    for line in by_row.values().flatten() {
        eprintln!("  - {line}");
    }
    table.rows.retain(|row| !by_row.contains_key(&row.line));
    if table.rows.is_empty() {
        return Err(refuse(&[
            "every row was refused: there is nothing to run".to_owned()
        ]));
    }
    let refused = by_row
        .into_iter()
        .map(|(line, problems)| RowResult::refused(line, problems.join("; ")))
        .collect();
    Ok(Some(CheckedTable { table, refused }))
}

/// Writes the results table into `out` (`results.csv`, and with `json` `results.jsonl`), with
/// the `refused` rows in their places, and says how the rows ended; the exit status (1 when a
/// row that was run did not finish, naming the results file).
pub(crate) fn finish(
    out: &Path,
    ran: Vec<RowResult>,
    refused: &[RowResult],
    json: bool,
) -> Option<u8> {
    let mut results = ran;
    results.extend(refused.iter().cloned());
    results.sort_by_key(|result| result.row);
    let results = results.as_slice();
    let written = write_results(out, results, json);
    let path = match written {
        Ok(path) => path,
        Err(error) => {
            eprintln!(
                "error: the results table could not be written in {}: {error}",
                out.display()
            );
            return Some(EXIT_FAILED);
        }
    };
    if let Some(note) = stale_row_folders(out, results) {
        eprintln!("note: {note}");
    }
    let failed = results
        .iter()
        .filter(|row| !matches!(row.outcome, RowOutcome::Done | RowOutcome::Refused))
        .count();
    let spent = sum_usd(results.iter().map(|row| row.cost));
    let skipped = match refused.len() {
        0 => String::new(),
        count => format!(", {count} refused"),
    };
    eprintln!(
        "rows: {} done, {failed} not done{skipped}, {} charged for its rows (earlier runs of a resumed row included); results in {}",
        results.len() - failed - refused.len(),
        money(spent),
        path.display()
    );
    let unseen: Vec<String> = (results.iter())
        .flat_map(|row| row.not_counted.iter().cloned())
        .collect();
    if let Some(line) = super::money::not_counted(&unseen) {
        eprintln!("  {line}");
    }
    (failed > 0).then(|| {
        eprintln!(
            "error: {} did not finish: see {}",
            counted(failed, "row"),
            path.display()
        );
        EXIT_FAILED
    })
}

/// The price of a table: its rows' total, one line (a line per row's node would bury it).
pub(crate) fn price_line(price: &WorkflowPrice, rows: usize) -> String {
    match price.total() {
        _ if price.nodes.is_empty() => String::new(),
        Some(total) => format!(
            "estimated price of the {}: {} if every paid task succeeds (failed tasks are not billed)\n",
            counted(rows, "row"),
            money(total)
        ),
        None => format!(
            "estimated price of the {}: unknown ({} without a known price, e.g. {})\n",
            counted(rows, "row"),
            counted(price.unknown().count(), "paid node"),
            price.unknown().next().map_or("", |node| node.node.as_str())
        ),
    }
}

/// The line saying what earlier runs here paid for cells no row of the table has now,
/// which `--max-cost` counts at `prices` (see `WorkflowPrice::paid_before`); none when
/// nothing was.
pub(crate) fn paid_before_line(earlier: &[LeftRunning], prices: &[NodePrice]) -> Option<String> {
    if earlier.is_empty() {
        return None;
    }
    let tasks: Vec<String> = (earlier.iter())
        .map(|left| match &left.task {
            Some(task) => task.taskid.clone(),
            None => format!(
                "a Run of {} whose answer was lost, which may have started one",
                left.shown()
            ),
        })
        .collect();
    let known: Option<Vec<f64>> = prices.iter().map(|p| p.estimate.usd()).collect();
    Some(format!(
        "earlier runs here paid {} for cells no row of this table has now, {} ({}); --max-cost counts {}, as it caps the whole run (another --out, or --fresh, begins a new one)",
        known.map_or("an unknown sum".into(), |usd| money(sum_usd(usd))),
        counted(tasks.len(), "task"),
        first_few(&tasks, "task"),
        if tasks.len() == 1 { "it" } else { "them" },
    ))
}
