//! The kind of file along an edge: an upload whose file is of another kind than the input
//! its URL feeds takes (a `.csv` into an image input) is a workflow problem, found before
//! anything is sent (see [`crate::node::file_kind`] for the keywords that carry the kinds).

use serde_json::Value;

use super::{Reference, WorkflowNode, WorkflowProblem};
use crate::models::file_kind::{a_kind, kind_of_name, FILE_KIND_OF_KEY};
use crate::node::file_kind::kind_taken;
use crate::node::NodeSpec;

/// A file of another kind than the input its URL feeds takes (a `.csv` uploaded into an
/// image input): a paid Run that could only fail. The problem is the source node's, at the
/// input that names the file, so a table names that cell.
pub(super) fn check_file_kind(
    problems: &mut Vec<WorkflowProblem>,
    (source, source_spec): (&WorkflowNode, &NodeSpec),
    reference: &Reference,
    (node, spec): (&WorkflowNode, &NodeSpec),
    port: &str,
) {
    // Where the reference stands: the input (whole, or an item of its list), or one entry
    // of an object input (`parameters/inputImageUrl`, whole or an item of its list).
    let text = reference.to_string();
    let is_it = |value: &Value| {
        value.as_object().and_then(super::workflow::reference_text) == Some(text.as_str())
    };
    let holds = |value: &Value| {
        is_it(value)
            || value
                .as_array()
                .is_some_and(|items| items.iter().any(is_it))
    };
    let Some(value) = node.inputs.get(port) else {
        return;
    };
    let (key, at) = if holds(value) {
        (None, port.to_owned())
    } else {
        let mut entries = value.as_object().into_iter().flatten();
        match entries.find(|(_, value)| holds(value)) {
            Some((key, _)) => (Some(key.as_str()), format!("{port}/{key}")),
            None => return,
        }
    };
    let Some(wanted) = kind_taken(spec, port, key) else {
        return;
    };
    let named_by = &source_spec.outputs["properties"][&reference.port][FILE_KIND_OF_KEY];
    let Some(named_by) = named_by.as_str() else {
        return;
    };
    let Some(name) = source.inputs.get(named_by).and_then(|value| value.as_str()) else {
        return; // named by another node's output: judged when it runs
    };
    let Some(kind) = kind_of_name(name).filter(|kind| *kind != wanted) else {
        return;
    };
    let problem = WorkflowProblem::new(
        Some(&source.id),
        named_by,
        "file-kind",
        format!(
            "{name} is {}, but the input its URL feeds ({at:?}) takes {}",
            a_kind(kind),
            a_kind(wanted)
        ),
    );
    // Two nodes fed by one upload name its file once.
    if !problems.contains(&problem) {
        problems.push(problem);
    }
}
