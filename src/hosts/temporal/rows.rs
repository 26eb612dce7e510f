//! The results of a table's batch (`submit --rows`: every row's copy of the flow in one
//! document), as `run --rows` gives them: the report's nodes read through their declared port
//! kinds, as a local run reads them, and summed up per row by `graph::rows`.

use std::path::{Path, PathBuf};

use super::messages::{BatchReport, NodeLine, NodeState, PartLine, PartState, RefusedRow, Report};
use crate::graph::rows::{row_results, split_row, RowOutcome, RowResult};
use crate::graph::{NodeOutcome, NodeReport, RunReport};
use crate::node::Registry;

/// Each row's result, in row order; files relative to the workflow's folder on the worker
/// that wrote them (`row-0002/…`, as `run --rows` names them under `--out`).
pub fn row_results_of(report: &Report, registry: &Registry) -> Vec<RowResult> {
    let nodes = report
        .nodes
        .iter()
        .map(|line| node_report(line, registry))
        .collect();
    row_results(&RunReport {
        nodes,
        cancelled: report.cancelled,
        journal: None,
        tasks: Default::default(),
    })
}

/// The nodes of the rows on `lines` in `report`, a workflow's that ran a whole table: what a
/// part of those rows would report.
pub fn rows_of(report: &Report, lines: &[usize]) -> Report {
    let of_rows = |id: &str| split_row(id).is_some_and(|(line, _)| lines.contains(&line));
    Report {
        nodes: (report.nodes.iter())
            .filter(|line| of_rows(&line.id))
            .cloned()
            .collect(),
        refused_rows: Vec::new(),
        ..report.clone()
    }
}

/// Notes on `part` that its workflow ended with `report`: how many of its rows were done,
/// how many not, and what they cost.
pub fn part_ended(part: &mut PartLine, report: &Report, registry: &Registry) {
    let rows = row_results_of(report, registry);
    let done = rows
        .iter()
        .filter(|row| row.outcome == RowOutcome::Done)
        .count();
    part.state = PartState::Ended;
    part.done = done;
    part.failed = rows.len() - done;
    part.cost = crate::graph::sum_usd(rows.iter().map(|row| row.cost));
}

/// Each row's result of a batch run in parts, in row order: a part's rows as its report
/// (`reports`, by part; `None` for a part that did not start) gives them, and the rows of a
/// part that did not start skipped, or failed with the reason it could not.
pub fn batch_row_results(
    batch: &BatchReport,
    reports: &[Option<Report>],
    registry: &Registry,
) -> Vec<RowResult> {
    let mut results = Vec::new();
    for (part, report) in batch.parts.iter().zip(reports) {
        if let Some(report) = report {
            let rows = row_results_of(report, registry);
            match (part.state, &part.message) {
                // Its rows as its own or an earlier run left them (with their tasks); the
                // ones not done say why the part did not end.
                (PartState::Failed, Some(why)) => {
                    results.extend(rows.into_iter().map(|row| match row.outcome {
                        RowOutcome::Done => row,
                        _ => RowResult {
                            outcome: RowOutcome::Failed,
                            error: Some(format!("its part failed: {why}")),
                            ..row
                        },
                    }))
                }
                _ => results.extend(rows),
            }
            continue;
        }
        let (outcome, why) = match part.state {
            PartState::Failed => (RowOutcome::Failed, "its part could not run"),
            _ => (RowOutcome::Skipped, "its part did not start"),
        };
        let error = match &part.message {
            Some(message) => format!("{why}: {message}"),
            None => why.to_owned(),
        };
        results.extend(part.lines.iter().map(|&line| RowResult {
            error: Some(error.clone()),
            ..RowResult::new(line, outcome)
        }));
    }
    results
}

/// The rows `--skip-invalid-rows` refused, as the batch carries them to its report.
pub fn refused_rows(refused: Vec<RowResult>) -> Vec<RefusedRow> {
    refused
        .into_iter()
        .map(|result| RefusedRow {
            row: result.row,
            problems: result.error.unwrap_or_default(),
        })
        .collect()
}

/// The rows refused before the batch was submitted (`--skip-invalid-rows`), as `run --rows`
/// lists them: outcome `refused`, with their problems.
pub fn refused_results_of(refused_rows: &[RefusedRow]) -> Vec<RowResult> {
    refused_rows
        .iter()
        .map(|refused| RowResult::refused(refused.row, refused.problems.clone()))
        .collect()
}

/// A node of the report as a local run reports it.
fn node_report(line: &NodeLine, registry: &Registry) -> NodeReport {
    let mut node = NodeReport::not_reached(&line.id, &line.type_id);
    let why = line.message.clone().unwrap_or_default();
    node.outcome = match line.state {
        NodeState::Finished => {
            let target = registry.get(&line.type_id);
            if let (Some(outputs), Some(target)) = (&line.outputs, target) {
                node.read_outputs(NodeOutcome::Finished, &target.spec().kinds, outputs);
            }
            if let Some(folder) = &line.output_dir {
                node.files = node
                    .files
                    .into_iter()
                    .map(|file| relative(file, Path::new(folder)))
                    .collect();
            }
            NodeOutcome::Finished
        }
        NodeState::Failed => NodeOutcome::Failed(why),
        NodeState::Cancelled => NodeOutcome::Cancelled,
        NodeState::Skipped => NodeOutcome::Skipped(why),
        NodeState::Pending | NodeState::Running | NodeState::WaitingForSlot => {
            NodeOutcome::Skipped("not reached".into())
        }
    };
    node
}

fn relative(file: PathBuf, folder: &Path) -> PathBuf {
    match file.strip_prefix(folder) {
        Ok(inside) => inside.to_path_buf(),
        Err(_) => file,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::hosts::temporal::PartLine;

    #[test]
    fn a_batch_report_gives_the_rows_results_with_files_in_their_row_folders() {
        let line = |id: &str, type_id: &str, state, outputs| NodeLine {
            id: id.into(),
            type_id: type_id.into(),
            state,
            message: (state == NodeState::Failed).then(|| "boom".into()),
            outputs,
            worker: None,
            output_dir: Some("/w/out/wf-1".into()),
            submits: 0,
            lost_since_ms: None,
        };
        let report = Report {
            workflow_id: "wf-1".into(),
            nodes: vec![
                line(
                    "row-0002-save",
                    "wiro/output.download",
                    NodeState::Finished,
                    Some(json!({"files": [{"path": "/w/out/wf-1/row-0002/a.mp4",
                        "size": 3, "sha256": "00", "contenttype": "video/mp4"}]})),
                ),
                line(
                    "row-0003-video",
                    "pixverse/text-to-video-v4",
                    NodeState::Failed,
                    None,
                ),
                line(
                    "row-0003-save",
                    "wiro/output.download",
                    NodeState::Skipped,
                    None,
                ),
            ],
            cancelled: false,
            started_at_ms: 0,
            last_run_ms: 0,
            refused_rows: vec![RefusedRow {
                row: 4,
                problems: "row 4, column video.quality: not one of the choices [enum]".into(),
            }],
            outputs_cut: false,
            files_cut: false,
        };
        let results = row_results_of(&report, &Registry::from_inventory());
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].outcome, RowOutcome::Done);
        assert_eq!(results[0].files, [PathBuf::from("row-0002/a.mp4")]);
        assert_eq!(results[1].outcome, RowOutcome::Failed);
        assert_eq!(results[1].error.as_deref(), Some("video: boom"));
        let refused = refused_results_of(&report.refused_rows);
        assert_eq!(
            (refused[0].row, refused[0].outcome),
            (4, RowOutcome::Refused)
        );
        assert!(refused[0].error.as_ref().unwrap().contains("video.quality"));
    }

    #[test]
    fn a_batch_in_parts_lists_every_row_those_of_parts_that_did_not_run_too() {
        let save = |row: usize| NodeLine {
            id: format!("row-{row:04}-save"),
            type_id: "wiro/output.download".into(),
            state: NodeState::Finished,
            outputs: Some(
                json!({"files": [{"path": format!("/w/out/b/row-{row:04}/a.mp4"),
                "size": 3, "sha256": "00", "contenttype": "video/mp4"}]}),
            ),
            output_dir: Some("/w/out/b".into()),
            ..NodeLine::default()
        };
        let first = Report {
            workflow_id: "b-p1".into(),
            nodes: vec![save(2), save(3)],
            ..Report::default()
        };
        let part = |id: &str, lines: Vec<usize>, state, message: Option<&str>| PartLine {
            id: id.into(),
            rows: lines.len(),
            lines,
            state,
            message: message.map(Into::into),
            ..PartLine::default()
        };
        let batch = BatchReport {
            batch_id: "b".into(),
            parts: vec![
                part("b-p1", vec![2, 3], PartState::Ended, None),
                part("b-p2", vec![5, 6], PartState::Failed, Some("no worker")),
                part("b-p3", vec![7], PartState::Skipped, None),
            ],
            ..BatchReport::default()
        };
        let results = batch_row_results(
            &batch,
            &[Some(first), None, None],
            &Registry::from_inventory(),
        );
        let rows: Vec<(usize, RowOutcome)> = results.iter().map(|r| (r.row, r.outcome)).collect();
        assert_eq!(
            rows,
            [
                (2, RowOutcome::Done),
                (3, RowOutcome::Done),
                (5, RowOutcome::Failed),
                (6, RowOutcome::Failed),
                (7, RowOutcome::Skipped),
            ]
        );
        assert_eq!(results[1].files, [PathBuf::from("row-0003/a.mp4")]);
        assert_eq!(
            results[2].error.as_deref(),
            Some("its part could not run: no worker")
        );
        assert_eq!(results[4].error.as_deref(), Some("its part did not start"));
    }

    #[test]
    fn a_failed_parts_rows_not_done_say_why_and_keep_their_tasks() {
        let video = |row: usize, state| NodeLine {
            id: format!("row-{row:04}-video"),
            type_id: "pixverse/text-to-video-v4".into(),
            state,
            outputs: Some(json!({"task": {"taskid": format!("{row}0"), "socketaccesstoken": "t"}})),
            submits: 1,
            ..NodeLine::default()
        };
        let wait = NodeLine {
            id: "row-0003-wait".into(),
            type_id: "wiro/task.wait".into(),
            state: NodeState::Cancelled,
            ..NodeLine::default()
        };
        let earlier = Report {
            nodes: vec![
                video(2, NodeState::Finished),
                video(3, NodeState::Finished),
                wait,
            ],
            ..Report::default()
        };
        let batch = BatchReport {
            parts: vec![PartLine {
                id: "b-r1-p1".into(),
                lines: vec![2, 3],
                rows: 2,
                state: PartState::Failed,
                message: Some("its resume is too big".into()),
                ..PartLine::default()
            }],
            ..BatchReport::default()
        };
        let rows = batch_row_results(&batch, &[Some(earlier)], &Registry::from_inventory());
        assert_eq!(rows[0].outcome, RowOutcome::Done);
        assert_eq!(rows[1].outcome, RowOutcome::Failed);
        assert_eq!(
            rows[1].error.as_deref(),
            Some("its part failed: its resume is too big")
        );
        assert_eq!(rows[1].tasks, ["30"]);
    }

    #[test]
    fn a_part_of_a_table_that_ran_whole_takes_its_own_rows_of_it() {
        let node = |id: &str| NodeLine {
            id: id.into(),
            ..NodeLine::default()
        };
        let whole = Report {
            workflow_id: "wiro-x".into(),
            nodes: [
                "row-0002-video",
                "row-0002-save",
                "row-0003-video",
                "row-10001-video",
            ]
            .map(node)
            .to_vec(),
            refused_rows: vec![RefusedRow {
                row: 4,
                problems: "row 4, ...".into(),
            }],
            ..Report::default()
        };
        let ids = |report: Report| -> Vec<String> {
            report.nodes.into_iter().map(|line| line.id).collect()
        };
        assert_eq!(
            ids(rows_of(&whole, &[2])),
            ["row-0002-video", "row-0002-save"]
        );
        assert_eq!(
            ids(rows_of(&whole, &[3, 10001])),
            ["row-0003-video", "row-10001-video"]
        );
        assert!(
            rows_of(&whole, &[2]).refused_rows.is_empty(),
            "the batch lists those"
        );
    }
}
