//! Run events as the page reads them: one JSON object per [`RunEvent`], tagged by `kind`.

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

fn progress_json(node: &str, event: &NodeEvent) -> Value {
    match event {
        NodeEvent::Phase(phase) => json!({ "kind": "phase", "node": node, "phase": phase }),
        NodeEvent::Submitting => json!({ "kind": "phase", "node": node, "phase": "submitting" }),
        NodeEvent::RunRefused { reason } => {
            json!({ "kind": "run_refused", "node": node, "reason": reason })
        }
        // The socket token is left out: the page needs the id only.
        NodeEvent::TaskStarted(task) => {
            json!({ "kind": "task_started", "node": node, "taskid": task.taskid })
        }
        NodeEvent::TaskStatus(status) => {
            json!({ "kind": "task_status", "node": node, "status": status.to_string() })
        }
        NodeEvent::Log { line, stderr } => {
            json!({ "kind": "log", "node": node, "line": line, "stderr": stderr })
        }
        NodeEvent::Transfer { file, done, total } => json!({
            "kind": "transfer", "node": node, "file": file, "done": done, "total": total
        }),
        NodeEvent::TaskStopped { taskid, how } => {
            json!({ "kind": "task_stopped", "node": node, "taskid": taskid, "how": how.to_string() })
        }
    }
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
            json!({ "kind": "task_stopped", "node": "wait", "taskid": "7", "how": "killed" })
        );
    }
}
