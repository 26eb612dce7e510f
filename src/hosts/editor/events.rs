//! Run events as the page reads them: one JSON object per [`RunEvent`], tagged by `kind`; a
//! node's own events keep the contract's shape ([`NodeEvent`]'s `event` and fields); files as
//! the page links them.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::graph::RunEvent;
use crate::node::NodeEvent;

/// The JSON the page receives for `event`; a node's files are linked as files in `out_dir`,
/// so a row's video can be opened as soon as its download ends.
pub fn event_json(event: &RunEvent, out_dir: &Path) -> Value {
    match event {
        RunEvent::Started { node, type_id } => {
            json!({ "kind": "started", "node": node, "type": type_id })
        }
        RunEvent::Resumed { node, how, files } => json!({
            "kind": "resumed", "node": node, "how": how, "files": output_files(out_dir, files)
        }),
        RunEvent::Finished {
            node,
            elapsed,
            charged,
            files,
        } => json!({
            "kind": "finished", "node": node, "elapsed": elapsed.as_secs_f64(), "charged": charged,
            "files": output_files(out_dir, files)
        }),
        RunEvent::Failed { node, error } => {
            json!({ "kind": "failed", "node": node, "error": error })
        }
        RunEvent::Skipped { node, because } => {
            json!({ "kind": "skipped", "node": node, "because": because })
        }
        RunEvent::Progress { node, event } => progress_json(node, event),
    }
}

/// The files that are in the output folder, as the page links them.
pub fn output_files(out_dir: &Path, files: &[PathBuf]) -> Vec<Value> {
    files
        .iter()
        .filter_map(|file| output_file(out_dir, file))
        .collect()
}

/// A file in the output folder as the page links it: its name there and its URL; `None`
/// for a file outside the folder.
pub fn output_file(out_dir: &Path, file: &Path) -> Option<Value> {
    let relative = file.strip_prefix(out_dir).ok()?;
    let url: Vec<String> = relative
        .components()
        .map(|part| url_segment(&part.as_os_str().to_string_lossy()))
        .collect();
    Some(json!({ "name": relative, "url": format!("/api/output/{}", url.join("/")) }))
}

/// `text` percent-encoded for a URL path segment (unreserved characters stay).
fn url_segment(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A node's event in the contract's shape ([`NodeEvent`]), with the page's `kind` (the
/// event's name) and the node's id beside its fields.
fn progress_json(node: &str, event: &NodeEvent) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or_else(|_| json!({}));
    if let Value::Object(fields) = &mut value {
        // The page needs a task's id only: its socket token stays on the server.
        fields.remove("socketaccesstoken");
        let kind = fields.get("event").cloned().unwrap_or(Value::Null);
        fields.insert("kind".into(), kind);
        fields.insert("node".into(), json!(node));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_task_reaches_the_page_with_its_id() {
        let event = RunEvent::Progress {
            node: "wait".into(),
            event: NodeEvent::TaskStopped {
                taskid: "7".into(),
                how: crate::node::HowStopped::Killed,
                charged: None,
            },
        };
        assert_eq!(
            event_json(&event, Path::new("out")),
            json!({ "event": "task_stopped", "kind": "task_stopped", "node": "wait", "taskid": "7", "how": "killed" })
        );
    }
}
