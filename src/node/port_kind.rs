//! Port kinds: what a node's spec declares about the outputs that engines must treat with care —
//! the paid task it started, the task records that carry a cost, the local files it wrote.
//!
//! A kind is read from the *declared* port type, never from the shape of a value: the shared
//! port types carry an `x-port-type` marker in their schema ([`PORT_TYPE_KEY`]), and a port is
//! of a kind only when its schema is that type (or a list of it). An output that merely looks
//! like a file (it has `path` and `sha256`) is just data.
//!
//! | kind | declared as | what hosts do with it |
//! |---|---|---|
//! | [`PortKind::StartedTask`] | a `TaskHandle` port of a node that spends money | journal it the moment it is known; on resume, wait for that task instead of paying again |
//! | [`PortKind::TaskRecord`] | a `Task` port | report the task's id and what it cost |
//! | [`PortKind::LocalFiles`] | a `LocalFile` port, or a list of them | list the files; a resumed node whose files are gone runs again |

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::{LocalFile, Task, TaskHandle};

/// The schema keyword that names a shared port type (`TaskHandle`, `Task`, `LocalFile`, ...).
pub const PORT_TYPE_KEY: &str = "x-port-type";

/// What an output port carries, as far as engines must know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortKind {
    /// The handle of the paid task this node started. Exactly one per paid node.
    StartedTask,
    /// A task's record: its id, status and `totalcost`.
    TaskRecord,
    /// Files the node wrote to the local disk.
    LocalFiles,
}

/// The kinds of a node's output ports, by port name; ports of no kind are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PortKinds(BTreeMap<String, PortKind>);

impl PortKinds {
    /// Reads the kinds from an output schema. `spends_money` says whether a `TaskHandle`
    /// output is a task the node started (and paid for) or one it only passes on.
    pub fn declared(outputs: &Value, spends_money: bool) -> Self {
        let mut kinds = BTreeMap::new();
        let Some(ports) = outputs.get("properties").and_then(Value::as_object) else {
            return Self(kinds);
        };
        for (port, schema) in ports {
            let kind = match declared_type(outputs, schema) {
                Some(("TaskHandle", false)) if spends_money => PortKind::StartedTask,
                Some(("Task", false)) => PortKind::TaskRecord,
                Some(("LocalFile", _)) => PortKind::LocalFiles,
                _ => continue,
            };
            kinds.insert(port.clone(), kind);
        }
        Self(kinds)
    }

    /// The kind of one port.
    pub fn get(&self, port: &str) -> Option<PortKind> {
        self.0.get(port).copied()
    }

    /// The ports of one kind, in name order.
    pub fn ports(&self, kind: PortKind) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(_, k)| **k == kind)
            .map(|(port, _)| port.as_str())
    }

    /// Every port with its kind.
    pub fn iter(&self) -> impl Iterator<Item = (&str, PortKind)> {
        self.0.iter().map(|(port, kind)| (port.as_str(), *kind))
    }

    /// The paid task a node's outputs hold, read from its `StartedTask` port.
    pub fn started_task(&self, outputs: &Value) -> Option<TaskHandle> {
        self.ports(PortKind::StartedTask)
            .find_map(|port| typed(outputs.get(port)?))
    }

    /// The outputs a paid node gives for a task it started (used when a run resumes a task
    /// that an earlier run started, before the node returned).
    pub fn outputs_for_started_task(&self, task: &TaskHandle) -> Option<Value> {
        let port = self.ports(PortKind::StartedTask).next()?;
        let mut outputs = Map::new();
        outputs.insert(port.to_owned(), serde_json::to_value(task).ok()?);
        Some(Value::Object(outputs))
    }

    /// The task records in a node's outputs.
    pub fn task_records(&self, outputs: &Value) -> Vec<Task> {
        self.ports(PortKind::TaskRecord)
            .filter_map(|port| typed(outputs.get(port)?))
            .collect()
    }

    /// The ids of the tasks a node's outputs name: the started task's, then the records'.
    pub fn task_ids(&self, outputs: &Value) -> Vec<String> {
        let mut ids: Vec<String> = self
            .started_task(outputs)
            .map(|task| task.taskid)
            .into_iter()
            .collect();
        for record in self.task_records(outputs) {
            if !ids.contains(&record.id) {
                ids.push(record.id);
            }
        }
        ids
    }

    /// The local files a node's outputs name.
    pub fn local_files(&self, outputs: &Value) -> Vec<LocalFile> {
        let mut files = Vec::new();
        for port in self.ports(PortKind::LocalFiles) {
            match outputs.get(port) {
                Some(Value::Array(items)) => files.extend(items.iter().filter_map(typed)),
                Some(value) => files.extend(typed(value)),
                None => {}
            }
        }
        files
    }

    /// The paths of [`Self::local_files`].
    pub fn local_paths(&self, outputs: &Value) -> Vec<PathBuf> {
        self.local_files(outputs)
            .into_iter()
            .map(|file| file.path)
            .collect()
    }
}

fn typed<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
    T::deserialize(value).ok()
}

/// The shared type a port is declared as, and whether it is a list of it.
fn declared_type<'a>(root: &'a Value, schema: &'a Value) -> Option<(&'a str, bool)> {
    let schema = resolve(root, schema);
    if let Some(name) = schema.get(PORT_TYPE_KEY).and_then(Value::as_str) {
        return Some((name, false));
    }
    let items = resolve(root, schema.get("items")?);
    let name = items.get(PORT_TYPE_KEY).and_then(Value::as_str)?;
    Some((name, true))
}

/// Follows a local `$ref` (`#/$defs/Name`) once.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|target| target.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs")?.get(name))
        .unwrap_or(schema)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema_with(port: Value, defs: Value) -> Value {
        json!({ "type": "object", "properties": { "out": port }, "$defs": defs })
    }

    #[test]
    fn kinds_come_from_declared_types_not_from_look_alike_shapes() {
        let file_def = json!({ "LocalFile": { "type": "object", "x-port-type": "LocalFile",
            "properties": { "path": {}, "sha256": {} } } });
        let listed = schema_with(
            json!({ "type": "array", "items": { "$ref": "#/$defs/LocalFile" } }),
            file_def.clone(),
        );
        assert_eq!(
            PortKinds::declared(&listed, false).get("out"),
            Some(PortKind::LocalFiles)
        );
        let look_alike = schema_with(
            json!({ "type": "object", "title": "LocalFile",
                "properties": { "path": {}, "sha256": {} } }),
            json!({}),
        );
        assert_eq!(PortKinds::declared(&look_alike, false).get("out"), None);
    }

    #[test]
    fn a_task_handle_is_a_started_task_only_on_a_paid_node() {
        let schema = schema_with(
            json!({ "$ref": "#/$defs/TaskHandle" }),
            json!({ "TaskHandle": { "type": "object", "x-port-type": "TaskHandle" } }),
        );
        assert_eq!(
            PortKinds::declared(&schema, true).get("out"),
            Some(PortKind::StartedTask)
        );
        assert_eq!(PortKinds::declared(&schema, false).get("out"), None);
        let kinds = PortKinds::declared(&schema, true);
        let task = TaskHandle {
            taskid: "7".into(),
            socketaccesstoken: "t".into(),
        };
        let outputs = kinds.outputs_for_started_task(&task).unwrap();
        assert_eq!(kinds.started_task(&outputs), Some(task));
        assert_eq!(kinds.task_ids(&outputs), ["7"]);
    }
}
