//! One workflow over a table: every row becomes a copy of the flow whose node ids start with
//! the row's name (`row-0007-video`), its cells set on the inputs their columns name, its
//! references kept inside the row, and its downloads in the row's folder (`row-0007/`). The
//! copies share the account's task slots, the journal (a row that changed runs again alone)
//! and one price; [`TableFlow`] makes each copy when it is needed.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::table::{counted, Cell, Table};
use crate::api::leads_out;
use crate::graph::{validate, validate_for_run, Workflow, WorkflowNode, WorkflowProblem};
use crate::node::{Registry, Walls};

/// The name of the row starting on `line`: its node ids' prefix and its files' folder.
pub fn row_name(line: usize) -> String {
    format!("row-{line:04}")
}

/// The id of the flow's node `node` in the copy for the row on `line`: `row-0007-video`.
pub fn row_node(line: usize, node: &str) -> String {
    format!("{}-{node}", row_name(line))
}

/// The row line and the flow's node id of an expanded node id (`row-0007-video` → 7, `video`).
pub fn split_row(id: &str) -> Option<(usize, &str)> {
    let rest = id.strip_prefix("row-")?;
    let (line, node) = rest.split_once('-')?;
    Some((line.parse().ok()?, node))
}

/// A column as the flow knows it.
#[derive(Debug)]
struct Column {
    /// Its place among the table's columns (a column left out, an empty wired one, has no
    /// `Column`: the others keep their cells).
    index: usize,
    node: usize,
    input: String,
    /// The input takes text only: a cell is never read as JSON.
    text_only: bool,
    /// The input takes free text, kept as written; any other cell (a choice, a number, a URL,
    /// a file's path) is read without the spaces around it (`fox, 360p` by hand, `FALSE `
    /// from a spreadsheet), as none of them has any.
    free_text: bool,
    /// The input takes true or false: a cell reads them in any case (spreadsheets write
    /// `TRUE`).
    boolean: bool,
    /// The input takes whole numbers: a cell that is one however written (`1e1`, `8.0`) is
    /// the number, as the model reads it.
    integer: bool,
}

/// The flow over a table, ready to give each row's copy of the flow on demand: the columns
/// are matched with the flow's inputs once, and a row's copy exists only while it is used, so
/// a run (or a check) of ten thousand rows never holds the table's every node at once.
#[derive(Debug)]
pub struct TableFlow<'a> {
    flow: &'a Workflow,
    table: &'a Table,
    columns: Vec<Column>,
    /// For each node of the flow, whether it downloads files (into the row's folder).
    downloads: Vec<bool>,
    /// Each paid node's id and the nodes it reads from (itself included, see
    /// [`reads_from`]).
    paid: Vec<(String, Vec<usize>)>,
}

impl<'a> TableFlow<'a> {
    /// The flow over `table`. Fails, naming every column the flow does not have (a node, or
    /// an input of that node).
    pub fn new(
        flow: &'a Workflow,
        table: &'a Table,
        registry: &Registry,
    ) -> Result<Self, Vec<String>> {
        let columns = columns(flow, table, registry)?;
        let downloads = downloads(flow, registry);
        let paid = (flow.nodes.iter().enumerate())
            .filter(|(_, node)| {
                (registry.get(&node.type_id)).is_some_and(|target| target.spec().spends_money)
            })
            .map(|(at, node)| (node.id.clone(), reads_from(flow, at)))
            .collect();
        Ok(Self {
            flow,
            table,
            columns,
            downloads,
            paid,
        })
    }

    /// The table.
    pub fn table(&self) -> &'a Table {
        self.table
    }

    /// The flow.
    pub fn flow(&self) -> &'a Workflow {
        self.flow
    }

    /// How many rows the table has.
    pub fn len(&self) -> usize {
        self.table.rows.len()
    }

    /// The table has no rows.
    pub fn is_empty(&self) -> bool {
        self.table.rows.is_empty()
    }

    /// The copy of the flow for the row at `index` (in table order, not its line): node ids
    /// prefixed by [`row_name`], its cells set, references kept inside the row, downloads in
    /// the row's folder.
    pub fn row(&self, index: usize) -> Workflow {
        let row = &self.table.rows[index];
        let name = row_name(row.line);
        let mut copies: Vec<WorkflowNode> = self.flow.nodes.clone();
        for column in &self.columns {
            let Some(cell) = row.cells.get(column.index).and_then(Option::as_ref) else {
                continue;
            };
            copies[column.node]
                .inputs
                .insert(column.input.clone(), column.value(cell));
        }
        for (node, downloads) in copies.iter_mut().zip(&self.downloads) {
            node.id = row_node(row.line, &node.id);
            for value in node.inputs.values_mut() {
                inside_row(value, &name);
            }
            if *downloads {
                let folder = match node.inputs.get("directory") {
                    // Left as written, for the node's check to refuse in the user's words.
                    Some(Value::String(sub)) if leads_out(sub) => continue,
                    Some(Value::String(sub)) if !sub.is_empty() => format!("{name}/{sub}"),
                    // Not a folder's name (a number, a list): refused by the check, not
                    // taken for none.
                    Some(Value::Bool(_) | Value::Number(_) | Value::Array(_)) => continue,
                    Some(Value::Object(map)) if !map.contains_key("$from") => continue,
                    _ => name.clone(),
                };
                node.inputs
                    .insert("directory".into(), Value::String(folder));
            }
        }
        Workflow {
            version: self.flow.version,
            description: None,
            nodes: copies,
        }
    }

    /// For each paid node of the flow, a digest of what it reads in the row at `index`: the
    /// inputs of it and of the nodes it reads from, the row's cells set as the inputs take
    /// them (a flow's value a cell replaces, or a cell written `8.0` for 8, changes
    /// nothing). A row whose other cells changed (a download's folder) still takes the paid
    /// node's entries: the journal tells them apart by this (`Journal::for_other_cells`).
    pub(crate) fn paid_digests(&self, index: usize) -> BTreeMap<String, String> {
        let row = &self.table.rows[index];
        (self.paid.iter())
            .map(|(id, read)| {
                let values: Vec<Value> = (read.iter())
                    .map(|&at| {
                        let node = &self.flow.nodes[at];
                        let mut inputs = node.inputs.clone();
                        for column in self.columns.iter().filter(|column| column.node == at) {
                            if let Some(cell) = row.cells.get(column.index).and_then(Option::as_ref)
                            {
                                inputs.insert(column.input.clone(), column.value(cell));
                            }
                        }
                        json!([node.id, node.type_id, inputs])
                    })
                    .collect();
                let digest = crate::graph::journal::input_key("paid", 1, &Value::Array(values));
                (id.clone(), digest)
            })
            .collect()
    }

    /// Every row's copy of the flow, in table order, one at a time.
    pub fn rows(&self) -> impl Iterator<Item = Workflow> + '_ {
        (0..self.len()).map(|index| self.row(index))
    }
}

/// The flow once per row of `table`, as one workflow (for hosts that run one document, such
/// as Temporal; `run --rows` streams the rows through [`TableFlow`] instead). Fails, naming
/// every column the flow does not have (a node, or an input of that node).
pub fn expand(
    flow: &Workflow,
    table: &Table,
    registry: &Registry,
) -> Result<Workflow, Vec<String>> {
    let rows = TableFlow::new(flow, table, registry)?;
    let mut nodes = Vec::with_capacity(flow.nodes.len() * table.rows.len());
    for row in rows.rows() {
        nodes.extend(row.nodes);
    }
    Ok(Workflow {
        nodes,
        ..flow.clone()
    })
}

impl Column {
    /// The input's value a cell of this column gives, as the input takes it.
    fn value(&self, cell: &Cell) -> Value {
        let value = match cell {
            Cell::Json(value) => value.clone(),
            Cell::Text(text) if self.free_text => Value::String(text.clone()),
            Cell::Text(text) => {
                let text = text.trim();
                match text {
                    _ if self.text_only => Value::String(text.to_owned()),
                    _ if self.boolean && text.eq_ignore_ascii_case("true") => Value::Bool(true),
                    _ if self.boolean && text.eq_ignore_ascii_case("false") => Value::Bool(false),
                    _ => serde_json::from_str(text)
                        .unwrap_or_else(|_| Value::String(text.to_owned())),
                }
            }
        };
        // Pandas writes a whole-number column with a gap in it as 8.0.
        match value {
            Value::Number(number) if self.integer => {
                whole(&number).map_or(Value::Number(number), |whole| Value::Number(whole.into()))
            }
            value => value,
        }
    }
}

/// The node at `at` and every node it reads from, directly or through others (by their
/// `{"$from": ...}`), in flow order.
fn reads_from(flow: &Workflow, at: usize) -> Vec<usize> {
    let mut read = vec![at];
    let mut next = 0;
    while next < read.len() {
        for (_, reference) in flow.nodes[read[next]].references() {
            let Ok(reference) = reference else { continue };
            let from = flow.nodes.iter().position(|node| node.id == reference.node);
            if let Some(from) = from.filter(|from| !read.contains(from)) {
                read.push(from);
            }
        }
        next += 1;
    }
    read.sort_unstable();
    read
}

/// For each node of `flow`, whether it downloads files into its `directory` (inside the
/// output folder; a row's own folder in a table).
pub(crate) fn downloads(flow: &Workflow, registry: &Registry) -> Vec<bool> {
    (flow.nodes.iter())
        .map(|node| {
            registry.get(&node.type_id).is_some_and(|target| {
                let spec = target.spec();
                spec.transfers_files && spec.input_ports().contains(&"directory")
            })
        })
        .collect()
}

fn columns(
    flow: &Workflow,
    table: &Table,
    registry: &Registry,
) -> Result<Vec<Column>, Vec<String>> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (index, name) in table.columns.iter().enumerate() {
        // A JSON Lines key is a column from the line it first appears on: a problem names
        // that line (looked for only when there is a problem to name).
        let shown = || {
            let first_line = (table.rows.iter())
                .find(|row| matches!(row.cells[index], Some(Cell::Json(_))))
                .map(|row| row.line);
            match first_line {
                Some(line) => format!("{name:?} (line {line})"),
                None => format!("{name:?}"),
            }
        };
        let Some((node_id, input)) = name.split_once('.') else {
            // The nodes with an input of that name, as the user likely meant.
            let meant: Vec<String> = (flow.nodes.iter())
                .filter(|node| {
                    (registry.get(&node.type_id))
                        .is_some_and(|target| target.spec().input_ports().contains(&name.as_str()))
                })
                .map(|node| format!("{}.{name}", node.id))
                .collect();
            let name_shown = shown();
            problems.push(match meant.is_empty() {
                true => format!("column {name_shown} is not NODE.INPUT"),
                false => format!(
                    "column {name_shown} is not NODE.INPUT: did you mean {}?",
                    meant.join(" or ")
                ),
            });
            continue;
        };
        let Some(node) = flow.nodes.iter().position(|node| node.id == node_id) else {
            let ids: Vec<&str> = flow.nodes.iter().map(|node| node.id.as_str()).collect();
            let name_shown = shown();
            problems.push(format!(
                "column {name_shown}: the workflow has no node {node_id:?}; its nodes are: {}",
                ids.join(", ")
            ));
            continue;
        };
        let type_id = &flow.nodes[node].type_id;
        let Some(target) = registry.get(type_id) else {
            continue; // the workflow's own check names an unknown type
        };
        let spec = target.spec();
        if !spec.input_ports().contains(&input) {
            let name_shown = shown();
            problems.push(format!(
                "column {name_shown}: node {node_id:?} ({type_id}) has no input {input:?}; its inputs are: {}",
                spec.input_ports().join(", ")
            ));
            continue;
        }
        if let Some(wire) = flow.nodes[node].wire(input) {
            // Empty cells keep the flow's value: a wire, here.
            let Some(given) = table.rows.iter().find(|row| row.cells[index].is_some()) else {
                continue;
            };
            let name_shown = shown();
            problems.push(format!(
                "column {name_shown}: the flow wires {name} to {wire}, and row {} gives it a value; a table's cells replace the flow's values, not what a node reads from another (the node it is wired to would still run, and a paid one be paid for)",
                given.line
            ));
            continue;
        }
        let schema = &spec.inputs["properties"][input];
        let kind = &schema["type"];
        let takes = |name: &str| {
            kind == name
                || kind
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k == name))
        };
        found.push(Column {
            index,
            node,
            input: input.to_owned(),
            text_only: kind == "string",
            // Choices, URLs, patterns and file paths have no spaces at their ends.
            free_text: kind == "string"
                && ["enum", "format", "pattern"]
                    .iter()
                    .all(|keyword| schema.get(keyword).is_none())
                && schema["x-ui-widget"] != "local-file",
            boolean: takes("boolean") && !takes("string"),
            integer: takes("integer") && !takes("string"),
        });
    }
    // A table of thousands of stray columns is one mistake, not thousands of lines.
    const LISTED: usize = 20;
    if problems.len() > LISTED {
        let more = problems.len() - LISTED;
        problems.truncate(LISTED);
        problems.push(format!("and {} like these", counted(more, "more column")));
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(problems)
    }
}

/// A number with nothing after the point, as a whole number (`1e1` is 10, `8.0` is 8).
fn whole(number: &serde_json::Number) -> Option<i64> {
    if let Some(whole) = number.as_i64() {
        return Some(whole);
    }
    let float = number.as_f64()?;
    // Beyond 2^53 a float no longer says which whole number was written.
    (float.fract() == 0.0 && float.abs() <= 9_007_199_254_740_992.0).then_some(float as i64)
}

/// References (`{"$from": "video.task"}`) point at the same row's nodes.
fn inside_row(value: &mut Value, row: &str) {
    match value {
        Value::Object(object) => {
            if let (1, Some(Value::String(target))) = (object.len(), object.get("$from")) {
                let renamed = format!("{row}-{target}");
                object.insert("$from".into(), Value::String(renamed));
                return;
            }
            object.values_mut().for_each(|v| inside_row(v, row));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| inside_row(v, row)),
        _ => {}
    }
}

/// A table's problems by row (see [`problems_by_row`]), and those of no one row.
pub type RowProblems = (BTreeMap<usize, Vec<String>>, Vec<String>);

/// Every row of `table` checked against `flow` before anything is sent (each row's copy made,
/// checked and dropped in turn, so a big table is checked in little memory): against the
/// schemas and rules, and with `walls` the local files and fetches too (without them, as a
/// Temporal submit checks: the workers judge those). The problems in words, by row; `Err`
/// when the table's columns do not fit the flow. How every host checks a table.
pub fn check_rows(
    flow: &Workflow,
    table: &Table,
    registry: &Registry,
    walls: Option<&Walls>,
) -> Result<RowProblems, Vec<String>> {
    let rows = TableFlow::new(flow, table, registry)?;
    let mut problems = Vec::new();
    for row in rows.rows() {
        let checked = match walls {
            Some(walls) => validate_for_run(&row, registry, walls).map(drop),
            None => validate(&row, registry).map(drop),
        };
        problems.extend(checked.err().into_iter().flatten());
    }
    Ok(problems_by_row(table, &problems))
}

/// The problems of a table's workflow in words, each row's under its line in the file:
/// `row 7, column video.quality: ... [rule]`; then those of no row (the flow's own), and
/// those every row of a longer table has (`every row, node "i2v", ...`: the flow's wiring,
/// not a cell), once each. Node ids in a message are the flow's (`clip`, not
/// `row-0007-clip`). How every host words a refused row.
pub fn problems_by_row(table: &Table, problems: &[WorkflowProblem]) -> RowProblems {
    // Each row's problems as (place within the row, the rest), to find the ones in every row.
    let mut rows: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    let mut outside = Vec::new();
    for problem in problems {
        let place = problem
            .node
            .as_deref()
            .and_then(|node| describe_place(table, node, &problem.path));
        match place {
            Some((line, place)) => {
                let message = flow_names(&problem.message, &row_name(line));
                rows.entry(line)
                    .or_default()
                    .push((place, format!("{message} [{}]", problem.rule)));
            }
            None if !outside.contains(&problem.to_string()) => outside.push(problem.to_string()),
            None => {}
        }
    }
    let in_every_row = |problem: &(String, String)| {
        table.rows.len() > 1
            && rows.len() == table.rows.len()
            && rows.values().all(|problems| problems.contains(problem))
    };
    let mut everywhere: Vec<(String, String)> = Vec::new();
    for problem in rows.values().next().into_iter().flatten() {
        if in_every_row(problem) && !everywhere.contains(problem) {
            everywhere.push(problem.clone());
        }
    }
    for (place, rest) in &everywhere {
        outside.push(format!("every row, {place}: {rest}"));
    }
    let rows = rows
        .into_iter()
        .map(|(line, problems)| {
            let lines: Vec<String> = problems
                .into_iter()
                .filter(|problem| !everywhere.contains(problem))
                .map(|(place, rest)| format!("row {line}, {place}: {rest}"))
                .collect();
            (line, lines)
        })
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    (rows, outside)
}

/// `message` with the row's copies named as the flow names them: `row-0007-clip.task` →
/// `clip.task`; a file's name inside a folder (`row-0007/row-0007-save-0.mp4`) stays.
fn flow_names(message: &str, row: &str) -> String {
    let prefix = format!("{row}-");
    let mut named = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(&prefix) {
        let copy = rest[..at].chars().next_back().is_none_or(|before| {
            before.is_whitespace()
                || matches!(before, '"' | '\'' | '(' | '`' | '[' | ',' | '=' | ':')
        });
        named.push_str(&rest[..at]);
        if !copy {
            named.push_str(&prefix);
        }
        rest = &rest[at + prefix.len()..];
    }
    named.push_str(rest);
    named
}

/// A problem's place within its row, for a person: `column video.prompt` (the column when
/// the input is one of the table's), or `node "video", input "quality"`; with the row's line.
fn describe_place(table: &Table, node_id: &str, path: &str) -> Option<(usize, String)> {
    let (line, node) = split_row(node_id)?;
    let input = path.split('/').next().unwrap_or_default();
    let column = format!("{node}.{input}");
    let place = if table.columns.contains(&column) {
        format!("column {column}")
    } else if input.is_empty() {
        format!("node {node:?}")
    } else {
        format!("node {node:?}, input {path:?}")
    };
    Some((line, place))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use serde_json::Map;

    use super::super::table::Row;
    use super::*;

    /// The inputs of a node, as `Map`, for tests.
    fn inputs(workflow: &Workflow, id: &str) -> Map<String, Value> {
        workflow
            .nodes
            .iter()
            .find(|node| node.id == id)
            .map(|node| node.inputs.clone())
            .unwrap()
    }

    fn flow() -> Workflow {
        serde_json::from_value(json!({"version": 1, "nodes": [
            {"id": "video", "type": "pixverse/text-to-video-v4", "inputs": {"prompt": "x"}},
            {"id": "wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "video.task"}}},
            {"id": "save", "type": "wiro/output.download",
             "inputs": {"outputs": {"$from": "wait.outputs"}}}
        ]}))
        .unwrap()
    }

    #[test]
    fn each_row_is_a_copy_with_its_cells_references_and_folder() {
        let table = Table {
            columns: vec![
                "video.prompt".into(),
                "video.seed".into(),
                "video.Watermark".into(),
                "video.duration".into(),
            ],
            rows: vec![
                Row {
                    line: 2,
                    cells: vec![
                        Some(Cell::Text(" 123".into())),
                        Some(Cell::Text("42".into())),
                        Some(Cell::Text("TRUE ".into())),
                        Some(Cell::Text("8e0".into())),
                    ],
                },
                Row {
                    line: 3,
                    cells: vec![None, None, None, Some(Cell::Json(json!(10.0)))],
                },
            ],
            blank: Vec::new(),
        };
        let expanded = expand(&flow(), &table, &Registry::from_inventory()).unwrap();
        assert_eq!(expanded.nodes.len(), 6);
        let first = inputs(&expanded, "row-0002-video");
        assert_eq!(first["prompt"], " 123", "free text is kept as written");
        assert_eq!(first["seed"], 42, "other inputs read the cell as JSON");
        assert_eq!(
            first["Watermark"], true,
            "a spreadsheet's TRUE is true, spaces and all"
        );
        assert_eq!(
            first["duration"],
            json!(8),
            "a whole number however written"
        );
        let second = inputs(&expanded, "row-0003-video");
        assert_eq!(second["duration"], json!(10), "JSON's 10.0 is ten too");
        assert_eq!(inputs(&expanded, "row-0003-video")["prompt"], "x");
        assert_eq!(
            inputs(&expanded, "row-0003-wait")["task"]["$from"],
            "row-0003-video.task"
        );
        assert_eq!(inputs(&expanded, "row-0002-save")["directory"], "row-0002");
        assert_eq!(split_row("row-0002-save"), Some((2, "save")));
    }

    #[test]
    fn a_column_may_not_replace_a_wire() {
        // A row that waited for another task would leave its own Run's task unread.
        let text = |text: &str| Some(Cell::Text(text.into()));
        let mut table = Table {
            columns: vec!["video.prompt".into(), "wait.task".into()],
            rows: vec![
                Row {
                    line: 2,
                    cells: vec![text("a fox"), None],
                },
                Row {
                    line: 3,
                    cells: vec![text("a cat"), text(r#"{"taskid": "7"}"#)],
                },
            ],
            blank: Vec::new(),
        };
        let problems = expand(&flow(), &table, &Registry::from_inventory()).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains(
                r#"column "wait.task": the flow wires wait.task to {"$from":"video.task"}, and row 3 gives it a value"#
            ),
            "{}",
            problems[0]
        );
        // A column left empty keeps the flow's value, the wire; the columns after it keep
        // their cells.
        table.rows[1].cells[1] = None;
        table.columns.reverse();
        table.rows.iter_mut().for_each(|row| row.cells.reverse());
        let rows = expand(&flow(), &table, &Registry::from_inventory()).unwrap();
        assert_eq!(
            inputs(&rows, "row-0003-wait")["task"],
            json!({"$from": "row-0003-video.task"})
        );
        assert_eq!(inputs(&rows, "row-0003-video")["prompt"], "a cat");
        assert_eq!(inputs(&rows, "row-0002-video")["prompt"], "a fox");
    }

    #[test]
    fn a_download_folder_cell_that_leads_out_is_refused_as_written() {
        let text = |text: &str| Some(Cell::Text(text.into()));
        let table = Table {
            columns: vec!["save.directory".into()],
            rows: vec![
                Row {
                    line: 2,
                    cells: vec![text("/tmp/elsewhere")],
                },
                Row {
                    line: 3,
                    cells: vec![text("..")],
                },
                Row {
                    line: 4,
                    cells: vec![text("clips")],
                },
                // Not a folder's name: refused, never taken for the row's own folder.
                Row {
                    line: 5,
                    cells: vec![Some(Cell::Json(json!(["a"])))],
                },
                Row {
                    line: 6,
                    cells: vec![Some(Cell::Json(json!(5)))],
                },
            ],
            blank: Vec::new(),
        };
        let walls = Walls {
            input_dir: ".".into(),
            access: crate::node::FileAccess::Anywhere,
            fetch: crate::api::FetchRules::new(
                Vec::new(),
                &[],
                crate::api::SealKey::from_bytes([0; 32]),
            ),
        };
        let registry = Registry::from_inventory();
        let (by_row, _) = check_rows(&flow(), &table, &registry, Some(&walls)).unwrap();
        assert!(
            by_row[&2][0].contains(r#""/tmp/elsewhere" leads out"#),
            "{by_row:?}"
        );
        assert!(by_row[&3][0].contains(r#"".." leads out"#), "{by_row:?}");
        assert!(!by_row.contains_key(&4), "{by_row:?}");
        for line in [5, 6] {
            assert!(by_row[&line][0].contains("directory"), "{by_row:?}");
        }
    }

    #[test]
    fn unknown_columns_are_named_with_what_exists() {
        let table = Table {
            columns: vec![
                "clip.prompt".into(),
                "video.colour".into(),
                "nodot".into(),
                "prompt".into(),
            ],
            rows: Vec::new(),
            blank: Vec::new(),
        };
        let problems = expand(&flow(), &table, &Registry::from_inventory()).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(
            problems[3].ends_with("did you mean video.prompt?"),
            "{}",
            problems[3]
        );
        assert!(problems[0].contains("no node \"clip\""), "{}", problems[0]);
        assert!(
            problems[1].contains("no input \"colour\""),
            "{}",
            problems[1]
        );
    }

    #[test]
    fn a_json_lines_key_naming_no_input_is_named_with_its_first_line() {
        let row = |line, cells| Row { line, cells };
        let table = Table {
            columns: vec!["video.prompt".into(), "video.promt".into()],
            rows: vec![
                row(1, vec![Some(Cell::Json(json!("a"))), None]),
                row(2, vec![Some(Cell::Json(json!("b"))), None]),
                row(3, vec![None, Some(Cell::Json(json!("c")))]),
            ],
            blank: Vec::new(),
        };
        let problems = expand(&flow(), &table, &Registry::from_inventory()).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(r#"column "video.promt" (line 3): node "video""#),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn thousands_of_stray_columns_are_one_short_message() {
        let table = Table {
            columns: (0..5000).map(|n| format!("video.x{n}")).collect(),
            rows: Vec::new(),
            blank: Vec::new(),
        };
        let problems = expand(&flow(), &table, &Registry::from_inventory()).unwrap_err();
        assert_eq!(problems.len(), 21, "{:?}", &problems[..3]);
        assert!(problems[19].contains(r#""video.x19""#), "{}", problems[19]);
        assert_eq!(problems[20], "and 4980 more columns like these");
    }

    #[test]
    fn a_problem_of_every_row_is_named_once_in_the_flow_s_own_names() {
        let rows = (2..5)
            .map(|line| Row {
                line,
                cells: vec![Some(Cell::Text(format!("p{line}")))],
            })
            .collect();
        let table = Table {
            columns: vec!["video.prompt".into()],
            rows,
            blank: Vec::new(),
        };
        let wiring = |line: usize| WorkflowProblem {
            node: Some(format!("row-{line:04}-i2v")),
            path: "inputImageUrl".into(),
            rule: "file-kind".into(),
            message: format!("row-{line:04}-w.outputs.0.url is a file of \"row-{line:04}-clip\""),
        };
        let mut problems: Vec<WorkflowProblem> = (2..5).map(wiring).collect();
        problems.push(WorkflowProblem {
            node: Some("row-0003-save".into()),
            path: "".into(),
            rule: "x".into(),
            message: "row-0003/row-0003-save-0.mp4 is a folder".into(),
        });
        let (by_row, outside) = problems_by_row(&table, &problems);
        assert_eq!(
            outside,
            ["every row, node \"i2v\", input \"inputImageUrl\": w.outputs.0.url is a file of \"clip\" [file-kind]"]
        );
        assert_eq!(by_row.len(), 1);
        assert_eq!(
            by_row[&3],
            ["row 3, node \"save\": row-0003/row-0003-save-0.mp4 is a folder [x]"]
        );
        // In one row of three it is that row's.
        let (by_row, outside) = problems_by_row(&table, &problems[..1]);
        assert!(outside.is_empty());
        assert_eq!(
            by_row[&2],
            ["row 2, node \"i2v\", input \"inputImageUrl\": w.outputs.0.url is a file of \"clip\" [file-kind]"]
        );
    }
}
