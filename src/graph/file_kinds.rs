//! The kind of file along an edge: an upload whose file is of another kind than the input
//! its URL feeds takes (a `.csv` into an image input), or a file a model's task makes of
//! another kind (a text-to-video's clip into an image input), is a workflow problem, found
//! before anything is sent (see [`crate::models::file_kind`] for the keywords that carry the
//! kinds).

use serde_json::Value;

use super::{Reference, WorkflowNode, WorkflowProblem};
use crate::models::file_kind::{a_kind, kind_of_name, FILE_KIND_OF_KEY, FILE_KIND_OF_TASK_KEY};
use crate::node::file_kind::kind_taken;
use crate::node::NodeSpec;

/// The kind of files the task a reference names makes (`video.task` of a text-to-video
/// node: `video`), with the type of the node that started it.
pub(super) type MadeBy<'a> = &'a dyn Fn(&Reference) -> Option<(String, String)>;

/// A file of another kind than the input its URL feeds takes, a paid Run that could only
/// fail: a `.csv` uploaded into an image input (the problem is the upload's, at the input
/// that names the file, so a table names that cell), or a file of a task's outputs whose
/// model makes another kind (the problem is the input's it feeds).
pub(super) fn check_file_kind(
    problems: &mut Vec<WorkflowProblem>,
    (source, source_spec): (&WorkflowNode, &NodeSpec),
    reference: &Reference,
    (node, spec): (&WorkflowNode, &NodeSpec),
    (port, made_by): (&str, MadeBy<'_>),
) {
    let Some((key, at)) = where_it_stands(node, port, reference) else {
        return;
    };
    let Some(wanted) = kind_taken(spec, port, key) else {
        return;
    };
    let output = &source_spec.outputs["properties"][&reference.port];
    let problem = if let Some(named_by) = output[FILE_KIND_OF_KEY].as_str() {
        let Some(name) = source.inputs.get(named_by).and_then(Value::as_str) else {
            return; // named by another node's output: judged when it runs
        };
        let Some(kind) = kind_of_name(name).filter(|kind| *kind != wanted) else {
            return;
        };
        WorkflowProblem::new(
            Some(&source.id),
            named_by,
            "file-kind",
            format!(
                "{name} is {}, but the input its URL feeds ({at:?}) takes {}",
                a_kind(kind),
                a_kind(wanted)
            ),
        )
    } else if let Some(task_input) = output[FILE_KIND_OF_TASK_KEY].as_str() {
        // A file's URL (`w.outputs.0.url`); the file records themselves carry no kind.
        if reference.path.last().map(String::as_str) != Some("url") {
            return;
        }
        let task = source
            .inputs
            .get(task_input)
            .and_then(Value::as_object)
            .and_then(super::workflow::reference_text)
            .and_then(|text| Reference::parse(text).ok());
        let Some((kind, maker)) = task.as_ref().and_then(made_by) else {
            return;
        };
        if kind == wanted {
            return;
        }
        WorkflowProblem::new(
            Some(&node.id),
            &at,
            "file-kind",
            format!(
                "{reference} is a file of the task node {:?} started: {maker} makes {}, and this input takes {}",
                task.map(|task| task.node).unwrap_or_default(),
                a_kind(&kind),
                a_kind(wanted)
            ),
        )
    } else {
        return;
    };
    // Two nodes fed by one upload name its file once.
    if !problems.contains(&problem) {
        problems.push(problem);
    }
}

/// Where `reference` stands in the input `port` of `node`: the input (whole, or an item of
/// its list), or one entry of an object input (`parameters/inputImageUrl`, whole or an item
/// of its list). Gives the entry's key, if any, and the path to name.
fn where_it_stands<'a>(
    node: &'a WorkflowNode,
    port: &str,
    reference: &Reference,
) -> Option<(Option<&'a str>, String)> {
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
    let value = node.inputs.get(port)?;
    if holds(value) {
        return Some((None, port.to_owned()));
    }
    let mut entries = value.as_object().into_iter().flatten();
    let (key, _) = entries.find(|(_, value)| holds(value))?;
    Some((Some(key.as_str()), format!("{port}/{key}")))
}
