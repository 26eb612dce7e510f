//! What one workflow execution can hold: Temporal refuses a payload above 2 MB (its default
//! blob size limit), and the workflow's result, its report, carries every node's outputs. A
//! batch whose report would not fit pays for every Run and then cannot complete: its
//! workflow task fails at the end, and neither `status` nor `result` can read it. So a
//! document is measured before it is submitted, and one that would not fit is refused.

use crate::graph::Workflow;
use crate::node::{PortKind, Registry};

/// Temporal's default limit on one payload (`limit.blobSize.error`), in bytes.
const PAYLOAD_LIMIT: usize = 2 * 1024 * 1024;

/// The share of the limit a report may be estimated at: the estimate is measured on the
/// emulator's records, and a real task's record (its log lines, say) may be longer.
const ESTIMATE_BUDGET: usize = PAYLOAD_LIMIT * 85 / 100;

/// What a node's line in the report takes besides its outputs: id, type, state, worker,
/// folder, and its outputs' smaller ports (a task handle, a file's path and hash).
const LINE_BYTES: usize = 300;

/// What a task record adds (a wait's or a detail's output): its fields and the output files,
/// which the record and the port each list (measured: 1.5 KB for a PixVerse wait).
const TASK_RECORD_BYTES: usize = 1300;

/// The report's size for `workflow`, estimated before it runs: each node's line, a task
/// record where a node gives one, and the node's inputs (a paid node's come back in its
/// task's record).
pub fn report_bytes(workflow: &Workflow, registry: &Registry) -> usize {
    workflow
        .nodes
        .iter()
        .map(|node| {
            let records = registry.get(&node.type_id).is_some_and(|target| {
                target
                    .spec()
                    .kinds
                    .iter()
                    .any(|(_, kind)| kind == PortKind::TaskRecord)
            });
            let inputs = serde_json::to_string(&node.inputs).map_or(0, |text| text.len());
            LINE_BYTES + inputs + if records { TASK_RECORD_BYTES } else { 0 }
        })
        .sum()
}

/// Refuses a document whose report would not fit in one Temporal payload, saying how big
/// it would be and, for a table of `rows`, how many rows a batch may have.
pub fn check_fits(
    workflow: &Workflow,
    registry: &Registry,
    rows: Option<usize>,
) -> Result<(), String> {
    let bytes = report_bytes(workflow, registry);
    if bytes <= ESTIMATE_BUDGET {
        return Ok(());
    }
    let megabytes = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    let split = match rows {
        Some(rows) => {
            let per_row = bytes.div_ceil(rows.max(1));
            let most = ESTIMATE_BUDGET / per_row.max(1);
            format!(
                "split the table into tables of at most {most} rows, each with the header line, one `submit --rows` each"
            )
        }
        None => "split the document into smaller ones".to_owned(),
    };
    Err(format!(
        "the batch is too big for one Temporal workflow: its report (every node's outputs) would be about {:.1} MB, too near Temporal's {:.0} MB payload limit (a report above it leaves the workflow unable to end, after every Run was paid); {split}",
        megabytes(bytes),
        megabytes(PAYLOAD_LIMIT)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::rows::{expand, Cell, Row, Table};

    fn table_of(rows: usize) -> (Workflow, Table) {
        let flow: Workflow = serde_json::from_value(serde_json::json!({"version": 1, "nodes": [
            {"id": "video", "type": "pixverse/text-to-video-v4", "inputs": {"prompt": "x"}},
            {"id": "wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "video.task"}}},
            {"id": "save", "type": "wiro/output.download",
             "inputs": {"outputs": {"$from": "wait.outputs"}}}
        ]}))
        .unwrap();
        let rows = (0..rows)
            .map(|row| Row {
                line: row + 2,
                cells: vec![Some(Cell::Text(format!(
                    "Product {row}: a ceramic mug turning slowly on a wooden table, soft morning light, steam rising"
                )))],
            })
            .collect();
        let table = Table {
            columns: vec!["video.prompt".into()],
            rows,
            blank: Vec::new(),
        };
        (flow, table)
    }

    #[test]
    fn five_hundred_rows_fit_and_eleven_hundred_are_refused_saying_how_to_split() {
        let registry = Registry::from_inventory();
        let (flow, table) = table_of(500);
        let batch = expand(&flow, &table, &registry).unwrap();
        assert_eq!(check_fits(&batch, &registry, Some(500)), Ok(()));
        // Measured: 1,100 rows of this flow made a 2.4 MB report that Temporal refused.
        let (flow, table) = table_of(1100);
        let batch = expand(&flow, &table, &registry).unwrap();
        let refused = check_fits(&batch, &registry, Some(1100)).unwrap_err();
        assert!(
            refused.contains("split the table into tables of at most"),
            "{refused}"
        );
        let most: usize = refused
            .split("at most ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!((500..1100).contains(&most), "{refused}");
    }
}
