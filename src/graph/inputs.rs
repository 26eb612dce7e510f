//! Inputs at run time: references replaced by the outputs they point at.

use serde_json::{Map, Value};

use super::workflow::reference_text;
use super::{Reference, Workflow};

/// Replaces every `{"$from": ...}` in a node's inputs with the referenced output value.
pub(crate) fn resolve_inputs(
    inputs: &Map<String, Value>,
    workflow: &Workflow,
    outputs: &[Option<&Value>],
) -> Result<Map<String, Value>, String> {
    fn resolve(
        value: &Value,
        lookup: &impl Fn(&str) -> Result<Value, String>,
    ) -> Result<Value, String> {
        match value {
            Value::Object(map) => match reference_text(map) {
                Some(text) => lookup(text),
                None => map
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), resolve(v, lookup)?)))
                    .collect::<Result<Map<_, _>, String>>()
                    .map(Value::Object),
            },
            Value::Array(items) => items
                .iter()
                .map(|v| resolve(v, lookup))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }
    let lookup = |text: &str| -> Result<Value, String> {
        let reference = Reference::parse(text)?;
        let position = workflow
            .nodes
            .iter()
            .position(|node| node.id == reference.node)
            .ok_or_else(|| format!("{reference}: no such node"))?;
        let source =
            outputs[position].ok_or_else(|| format!("{reference}: node has no outputs"))?;
        reference
            .pick(source)
            .cloned()
            .ok_or_else(|| format!("{reference}: the output has no such value"))
    };
    inputs
        .iter()
        .map(|(port, value)| Ok((port.clone(), resolve(value, &lookup)?)))
        .collect()
}
