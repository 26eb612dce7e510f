//! `NodeSpec`: what a node type is — its permanent id, version, texts and port schemas.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use super::{PortKinds, PortType};

/// The description of one node type, as engines and UIs read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeSpec {
    /// The permanent type id saved in workflows, e.g. `wiro/task.wait`.
    #[serde(rename = "type")]
    pub type_id: Cow<'static, str>,
    /// The version of the node's contract; bumped when ports change incompatibly.
    pub version: u32,
    /// A short title for palettes and forms.
    pub title: Cow<'static, str>,
    /// Where the node sits in a palette: `files`, `models`, `tasks`, `outputs`.
    pub category: Cow<'static, str>,
    /// What the node does.
    pub description: Cow<'static, str>,
    /// Running it starts a paid task: engines must not re-run it casually.
    pub spends_money: bool,
    /// It moves file bytes through this machine (an upload, a download): engines bound how
    /// many run at once. Other nodes are API calls or waits on a socket.
    pub transfers_files: bool,
    /// JSON Schema (2020-12) of the input object; each property is an input port.
    pub inputs: Value,
    /// JSON Schema (2020-12) of the output object; each property is an output port.
    pub outputs: Value,
    /// The output ports engines must treat with care, by port name: the paid task the node
    /// started, task records (costs), local files. Read from the ports' declared types; see
    /// [`PortKinds`].
    pub kinds: PortKinds,
}

/// The schema keyword of an input that changes how a node works, never what it gives (a
/// wait's timeout): see [`NodeSpec::result_inputs`].
pub const CHANGES_NO_RESULT_KEY: &str = "x-changes-no-result";

impl NodeSpec {
    /// The names of the input ports, in schema order.
    pub fn input_ports(&self) -> Vec<&str> {
        port_names(&self.inputs)
    }

    /// The names of the output ports, in schema order.
    pub fn output_ports(&self) -> Vec<&str> {
        port_names(&self.outputs)
    }

    /// `inputs` without the ports whose schema says [`CHANGES_NO_RESULT_KEY`] (how long
    /// to wait, how often to look): what a journal keys a node's result by, so a finished
    /// result is taken again when only those changed. `None` when no such port is given.
    pub fn result_inputs(&self, inputs: &Value) -> Option<Value> {
        let ports = self.inputs.get("properties")?.as_object()?;
        let no_result = |port: &str| {
            (ports.get(port)).is_some_and(|schema| schema[CHANGES_NO_RESULT_KEY] == true)
        };
        let given = inputs.as_object()?;
        if !given.keys().any(|port| no_result(port)) {
            return None;
        }
        let kept = (given.iter()).filter(|(port, _)| !no_result(port));
        Some(Value::Object(
            kept.map(|(port, value)| (port.clone(), value.clone()))
                .collect(),
        ))
    }

    /// The input ports with their types and descriptions, for listings and forms.
    pub fn input_port_descriptions(&self) -> Vec<PortDescription> {
        describe_ports(&self.inputs)
    }

    /// The output ports with their types and descriptions.
    pub fn output_port_descriptions(&self) -> Vec<PortDescription> {
        describe_ports(&self.outputs)
    }

    /// The input ports a workflow must provide.
    pub fn required_inputs(&self) -> Vec<&str> {
        self.inputs
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// One port, described for people (serialized as `wiro-nodes nodes --json` lists it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortDescription {
    /// The port's name.
    pub name: String,
    /// Its type: a shared type name (`TaskHandle`), `list of OutputFile`, `string`, ...
    #[serde(rename = "type")]
    pub type_label: String,
    /// A workflow must provide it.
    pub required: bool,
    /// What it is, from the doc comment.
    pub description: String,
}

fn describe_ports(schema: &Value) -> Vec<PortDescription> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    port_names(schema)
        .into_iter()
        .map(|name| {
            let port = &schema["properties"][name];
            PortDescription {
                name: name.to_owned(),
                type_label: PortType::of(schema, name, &[])
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "any".into()),
                required: required.contains(&name),
                description: port
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            }
        })
        .collect()
}

fn port_names(schema: &Value) -> Vec<&str> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|ports| ports.keys().map(String::as_str).collect())
        .unwrap_or_default()
}
