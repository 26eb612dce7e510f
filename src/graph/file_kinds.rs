//! The kind of file along an edge: an upload whose file is of another kind than the input
//! its URL feeds takes (a `.csv` into an image input), or a file a model's task makes of
//! another kind (a text-to-video's clip into an image input), is a workflow problem, found
//! before anything is sent (see [`crate::models::file_kind`] for the keywords that carry the
//! kinds).

use serde_json::Value;

use super::workflow::collect_references;
use super::{Reference, WorkflowNode, WorkflowProblem};
use crate::models::file_kind::{
    a_kind, kind_of_name, FILE_KIND_MADE_KEY, FILE_KIND_OF_KEY, FILE_KIND_OF_TASK_KEY,
    RUNS_MODEL_KEY,
};
use crate::node::file_kind::kind_taken;
use crate::node::{NodeSpec, Registry};

/// The kind of files the task a reference names makes (`video.task` of a text-to-video
/// node: `video`), with the type of the model's node that says so (for `wiro/model.run`, the
/// node of the model it names): [`made_by`] with the workflow's node the reference names.
pub(super) type MadeBy<'a> = &'a dyn Fn(&Reference) -> Option<(String, String)>;

/// The kind of files `maker`'s task (its output `task.port`) makes, from its node type's
/// `x-file-kind-made`, or, for a generic node, from the node type of the model its
/// `x-runs-model` input names; with that node type's id.
pub(super) fn made_by(
    maker: &WorkflowNode,
    task: &Reference,
    registry: &Registry,
) -> Option<(String, String)> {
    let spec = registry.get(&maker.type_id)?.spec();
    let made = |spec: &NodeSpec| {
        let kind = spec.outputs["properties"][&task.port][FILE_KIND_MADE_KEY].as_str()?;
        Some((kind.to_owned(), spec.type_id.to_string()))
    };
    made(spec).or_else(|| {
        let ports = spec.inputs["properties"].as_object()?;
        let (port, _) = ports
            .iter()
            .find(|(_, schema)| schema[RUNS_MODEL_KEY] == true)?;
        made(registry.model(maker.inputs.get(port)?.as_str()?)?.spec())
    })
}

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
    for (key, at) in places(node, port, reference) {
        let Some(wanted) = kind_taken(spec, port, key) else {
            continue;
        };
        let found = uploaded_kind(source, source_spec, reference, wanted, &at)
            .or_else(|| made_kind(source, source_spec, reference, made_by, (node, wanted, &at)));
        // Two nodes fed by one upload name its file once.
        if let Some(problem) = found.filter(|problem| !problems.contains(problem)) {
            problems.push(problem);
        }
    }
}

/// An upload's file of another kind than `wanted` (named by the upload's own input).
fn uploaded_kind(
    source: &WorkflowNode,
    source_spec: &NodeSpec,
    reference: &Reference,
    wanted: &str,
    at: &str,
) -> Option<WorkflowProblem> {
    let output = &source_spec.outputs["properties"][&reference.port];
    let named_by = output[FILE_KIND_OF_KEY].as_str()?;
    // Named by another node's output: judged when it runs.
    let name = source.inputs.get(named_by)?.as_str()?;
    let kind = kind_of_name(name).filter(|kind| *kind != wanted)?;
    Some(WorkflowProblem::new(
        Some(&source.id),
        named_by,
        "file-kind",
        format!(
            "{name} is {}, but the input its URL feeds ({at:?}) takes {}",
            a_kind(kind),
            a_kind(wanted)
        ),
    ))
}

/// The first file of a task whose model makes another kind than `wanted`: `w.outputs.0.url`
/// (or `w.task.outputs.0.url`) where `w` waits on a text-to-video's task. Only the first file
/// is judged: a model may add a file of another kind after its main one (a clip's last frame).
fn made_kind(
    source: &WorkflowNode,
    source_spec: &NodeSpec,
    reference: &Reference,
    made_by: MadeBy<'_>,
    (node, wanted, at): (&WorkflowNode, &str, &str),
) -> Option<WorkflowProblem> {
    let output = &source_spec.outputs["properties"][&reference.port];
    let task_input = output[FILE_KIND_OF_TASK_KEY].as_str()?;
    let path: Vec<&str> = reference.path.iter().map(String::as_str).collect();
    if !matches!(path.as_slice(), ["0", "url"] | ["outputs", "0", "url"]) {
        return None;
    }
    // The task input: a reference (`clip.task`), or a handle whose fields are references
    // (`{"taskid": {"$from": "clip.task.taskid"}, ...}`), all to one node's task.
    let mut tasks = Vec::new();
    collect_references(source.inputs.get(task_input)?, &mut |found| {
        tasks.extend(found.ok().and_then(|text| Reference::parse(text).ok()));
    });
    let task = tasks.first()?;
    if tasks.iter().any(|other| other.node != task.node) {
        return None;
    }
    let (kind, maker) = made_by(task)?;
    (kind != wanted).then(|| {
        WorkflowProblem::new(
            Some(&node.id),
            at,
            "file-kind",
            format!(
                "{reference} is the first file of the task node {:?} started: {maker} makes {} (its categories say so), and this input takes {}",
                task.node,
                a_kind(&kind),
                a_kind(wanted)
            ),
        )
    })
}

/// Where `reference` stands in the input `port` of `node`: the input (whole, or an item of
/// its list), or entries of an object input (`parameters/inputImageUrl`, whole or an item
/// of its list). Gives each place's entry key, if any, and the path to name.
fn places<'a>(
    node: &'a WorkflowNode,
    port: &str,
    reference: &Reference,
) -> Vec<(Option<&'a str>, String)> {
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
        return Vec::new();
    };
    if holds(value) {
        return vec![(None, port.to_owned())];
    }
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, value)| holds(value))
        .map(|(key, _)| (Some(key.as_str()), format!("{port}/{key}")))
        .collect()
}
