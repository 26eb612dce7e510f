//! Run events as the page reads them: one JSON object per [`RunEvent`], tagged by `kind`; a
//! node's own events keep the contract's shape ([`NodeEvent`]'s `event` and fields).

use serde_json::{json, Value};

use crate::graph::RunEvent;
use crate::node::NodeEvent;

/// The JSON the page receives for `event`.
pub fn event_json(event: &RunEvent) -> Value {
    match event {
        RunEvent::Started { node, type_id } => {
            json!({ "kind": "started", "node": node, "type": type_id })
        }
        RunEvent::Resumed { node, how } => json!({ "kind": "resumed", "node": node, "how": how }),
        RunEvent::Finished {
            node,
            elapsed,
            charged,
        } => json!({
            "kind": "finished", "node": node, "elapsed": elapsed.as_secs_f64(), "charged": charged
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
            },
        };
        assert_eq!(
            event_json(&event),
            json!({ "event": "task_stopped", "kind": "task_stopped", "node": "wait", "taskid": "7", "how": "killed" })
        );
    }
}
