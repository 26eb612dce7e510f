//! The workflow document: nodes with ids, types and inputs; an input is a literal value or a
//! reference `{"$from": "node.port.path"}` to another node's output.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Reference;

/// The only format version so far.
pub const WORKFLOW_VERSION: u32 = 1;

/// A workflow: nodes wired by references from inputs to other nodes' outputs.
///
/// ```json
/// {
///   "version": 1,
///   "nodes": [
///     { "id": "video", "type": "pixverse/text-to-video-v4",
///       "inputs": { "prompt": "A rabbit and a turtle race", "quality": "540p" } },
///     { "id": "wait", "type": "wiro/task.wait", "inputs": { "task": { "$from": "video.task" } } },
///     { "id": "save", "type": "wiro/output.download",
///       "inputs": { "outputs": { "$from": "wait.outputs" } } }
///   ]
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Workflow")]
pub struct Workflow {
    /// The format version: 1.
    #[serde(default = "version_one")]
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// What the workflow is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The nodes, in any order: references decide what runs first.
    pub nodes: Vec<WorkflowNode>,
}

fn version_one() -> u32 {
    WORKFLOW_VERSION
}

/// One node of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowNode {
    /// The node's id, unique in the workflow: letters, digits, `-` and `_`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub id: String,
    /// The node type's id, e.g. `wiro/task.wait` (see `wiro-nodes nodes`).
    #[serde(rename = "type")]
    pub type_id: String,
    /// Input values by port name: literals, or `{"$from": "node.port"}` references (also
    /// inside objects and lists).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, InputValue>")]
    pub inputs: Map<String, Value>,
}

/// An input value: a literal JSON value, or a reference to another node's output.
#[derive(schemars::JsonSchema)]
#[schemars(untagged)]
#[allow(dead_code)] // exists for its schema only
enum InputValue {
    /// A reference to another node's output port, optionally a field inside it:
    /// `node.port`, `node.port.field`, `node.port.0.url`.
    Reference {
        #[serde(rename = "$from")]
        #[schemars(regex(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"))]
        from: String,
    },
    /// A literal value for the port.
    Literal(Value),
}

impl Workflow {
    /// Reads a workflow from JSON text. The error names each misshapen field, e.g.
    /// `nodes[2].type must be text; it is 7`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let document: Value =
            serde_json::from_str(text).map_err(|error| format!("this is not JSON: {error}"))?;
        let problems = super::workflow_shape::shape_problems(&document);
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        serde_json::from_value(document).map_err(|error| error.to_string())
    }

    /// Reads a workflow file.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        Self::from_json(&text).map_err(|error| format!("{}: {error}", path.display()))
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&WorkflowNode> {
        self.nodes.iter().find(|node| node.id == id)
    }

    /// Sets a literal input, as `--set NODE.INPUT=VALUE` does. `VALUE` is read as JSON when
    /// it parses (`8`, `true`, `{"$from": ...}`), else as a string.
    pub fn set_input(&mut self, assignment: &str) -> Result<(), String> {
        let (target, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("--set {assignment:?}: expected NODE.INPUT=VALUE"))?;
        let (node_id, port) = target
            .split_once('.')
            .ok_or_else(|| format!("--set {assignment:?}: expected NODE.INPUT=VALUE"))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
        let node = self
            .nodes
            .iter_mut()
            .find(|node| node.id == node_id)
            .ok_or_else(|| format!("--set {assignment:?}: the workflow has no node {node_id:?}"))?;
        let mut rewires = false;
        collect_references(&value, &mut |_| rewires = true);
        if let Some(wire) = node.wire(port).filter(|_| !rewires) {
            return Err(format!(
                "--set {assignment:?}: the workflow wires {target} to {wire}; --set replaces values, not what a node reads from another (the node it is wired to would still run, and a paid one be paid for); to wire it elsewhere, set it to {{\"$from\": \"NODE.OUTPUT\"}}"
            ));
        }
        node.inputs.insert(port.to_owned(), value);
        Ok(())
    }
}

impl WorkflowNode {
    /// The input's value, as JSON text, when it reads another node's output (it holds a
    /// `{"$from": ...}`).
    pub fn wire(&self, port: &str) -> Option<String> {
        let value = self.inputs.get(port)?;
        let mut wired = false;
        collect_references(value, &mut |_| wired = true);
        wired.then(|| value.to_string())
    }

    /// Every reference in this node's inputs, with the input port it sits in.
    pub fn references(&self) -> Vec<(String, Result<Reference, String>)> {
        let mut found = Vec::new();
        for (port, value) in &self.inputs {
            collect_references(value, &mut |reference| {
                found.push((port.clone(), reference.and_then(Reference::parse)));
            });
        }
        found
    }

    /// The input ports whose value holds a reference.
    pub fn linked_ports(&self) -> BTreeSet<String> {
        self.references()
            .into_iter()
            .map(|(port, _)| port)
            .collect()
    }
}

/// Calls `found` with every `{"$from": ...}` inside `value`: its text, or why it is not a
/// reference that can be followed (`{"$from": 42}`, `{"$from": "a.b", "x": 1}`).
pub(crate) fn collect_references(value: &Value, found: &mut impl FnMut(Result<&str, String>)) {
    match value {
        Value::Object(map) => match reference_in(map) {
            Some(reference) => found(reference),
            None => map
                .values()
                .for_each(|inner| collect_references(inner, found)),
        },
        Value::Array(items) => items
            .iter()
            .for_each(|inner| collect_references(inner, found)),
        _ => {}
    }
}

/// The reference text when `map` is exactly `{"$from": "..."}`.
pub(crate) fn reference_text(map: &Map<String, Value>) -> Option<&str> {
    match (map.len(), map.get("$from")) {
        (1, Some(Value::String(text))) => Some(text),
        _ => None,
    }
}

/// The reference `map` makes, if it names `$from` at all: its text, or why it is malformed.
fn reference_in(map: &Map<String, Value>) -> Option<Result<&str, String>> {
    let target = map.get("$from")?;
    Some(match (target, map.len()) {
        (Value::String(text), 1) => Ok(text.as_str()),
        (Value::String(_), _) => Err(
            "a reference is {\"$from\": \"node.port\"} alone; this object has other fields beside \"$from\"".to_owned(),
        ),
        (other, _) => Err(format!(
            "a reference is {{\"$from\": \"node.port\"}} with text; \"$from\" here is {}",
                        crate::node::shown(other)
        )),
    })
}
