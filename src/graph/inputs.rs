//! Inputs at run time: references replaced by the outputs they point at.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::workflow::reference_text;
use super::{Reference, Workflow};

/// Replaces every `{"$from": ...}` in a node's inputs with the referenced output value.
/// `sources` are the nodes it takes inputs from ([`super::Plan::depends_on`]), the only ones
/// a reference can name; `output` gives a node's outputs once it is done.
pub(crate) fn resolve_inputs<'v>(
    inputs: &Map<String, Value>,
    workflow: &Workflow,
    sources: &BTreeSet<usize>,
    output: impl Fn(usize) -> Option<&'v Value>,
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
        let position = sources
            .iter()
            .copied()
            .find(|&source| workflow.nodes[source].id == reference.node)
            .ok_or_else(|| format!("{reference}: no such node"))?;
        let source = output(position).ok_or_else(|| format!("{reference}: node has no outputs"))?;
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
