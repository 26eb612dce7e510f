//! What `node exec` reports on stderr: lines for people, or with `--progress json` one JSON
//! object per line for engines (the n8n bridge reads these).
//!
//! JSON lines, each with an `event` field: the node's own events in the contract's shape
//! ([`NodeEvent`]: `run_refused`, `task_started` — printed the moment a Run is accepted,
//! before anything else the node does —, `task_status`, `log`, `transfer`, `task_stopped`;
//! phases are left out), and this command's:
//!
//! - `task`: a task the node follows, named in its inputs (`taskid`, `port`); printed first;
//! - `cost`: what a finished task was charged (`taskid`, `totalcost`, a number in dollars);
//! - `result`, always last: `outcome` (`ok`, `failed`, `invalid`, `cancelled`), `exit` (the
//!   exit status), `fate` when it failed (`try_again_later`, `nothing_started`,
//!   `may_have_started`: see [`Fate`](crate::node::Fate)), and `error`, `problems` (`path`,
//!   `rule`, `message`) or `signal` with it.

use std::io::Write;

use serde_json::{json, Value};

use crate::node::{Fate, InputProblem, NodeEvent, NodeSpec, PortType};

/// How `node exec` reports progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProgressFormat {
    /// Short lines for people.
    Text,
    /// One JSON object per line, for engines.
    Json,
}

/// Writes one event in the chosen format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reporter {
    format: ProgressFormat,
}

impl Reporter {
    pub(crate) fn new(format: ProgressFormat) -> Self {
        Self { format }
    }

    fn json(&self, line: Value) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{line}");
        let _ = stderr.flush();
    }

    fn text(&self, line: std::fmt::Arguments<'_>) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{line}");
    }

    /// The tasks named in the inputs (ports of type `TaskHandle`), so an engine knows at once
    /// which task this process follows.
    pub(crate) fn followed_tasks(&self, spec: &NodeSpec, inputs: &Value) {
        if self.format != ProgressFormat::Json {
            return;
        }
        for port in spec.input_ports() {
            let is_handle = PortType::of(&spec.inputs, port, &[])
                .is_some_and(|kind| kind.name.as_deref() == Some("TaskHandle"));
            let taskid = inputs.get(port).and_then(|task| task.get("taskid"));
            if let (true, Some(Value::String(taskid))) = (is_handle, taskid) {
                self.json(json!({"event": "task", "taskid": taskid, "port": port}));
            }
        }
    }

    /// One event of the running node.
    pub(crate) fn event(&self, event: NodeEvent) {
        if self.format == ProgressFormat::Text {
            match event {
                NodeEvent::TaskStarted(task) => self.text(format_args!(
                    "task {} accepted (token {})",
                    task.taskid, task.socketaccesstoken
                )),
                NodeEvent::TaskStatus { status } => self.text(format_args!("status {status}")),
                NodeEvent::TaskStopped { taskid, how, .. } => {
                    self.text(format_args!("task {taskid} {how}"))
                }
                _ => {}
            }
            return;
        }
        // Phases say nothing an engine needs that the other events do not; without them a
        // paid node's first line is its task.
        if matches!(event, NodeEvent::Phase { .. } | NodeEvent::Submitting) {
            return;
        }
        match serde_json::to_value(&event) {
            Ok(line) => self.json(line),
            Err(error) => tracing::warn!(%error, "an event could not be written"),
        }
    }

    /// The cost of each finished task in the outputs (ports of type `Task`).
    pub(crate) fn costs(&self, spec: &NodeSpec, outputs: &Value) {
        for port in spec.output_ports() {
            let is_task = PortType::of(&spec.outputs, port, &[])
                .is_some_and(|kind| kind.name.as_deref() == Some("Task"));
            let Some(task) = outputs.get(port).filter(|_| is_task) else {
                continue;
            };
            let Some(cost) = task.get("totalcost").and_then(number) else {
                continue;
            };
            let taskid = task.get("id").cloned().unwrap_or(Value::Null);
            match self.format {
                ProgressFormat::Json => {
                    self.json(json!({"event": "cost", "taskid": taskid, "totalcost": cost}))
                }
                ProgressFormat::Text => self.text(format_args!("task {taskid} cost ${cost}")),
            }
        }
    }

    /// The last line: the node's outputs went to stdout.
    pub(crate) fn ok(&self) {
        if self.format == ProgressFormat::Json {
            self.json(json!({"event": "result", "outcome": "ok", "exit": 0}));
        }
    }

    /// The last line: the request was refused (`headline` says why) and nothing was sent.
    pub(crate) fn invalid(&self, headline: &str, problems: &[InputProblem], exit: u8) {
        match self.format {
            ProgressFormat::Json => self.json(json!({
                "event": "result",
                "outcome": "invalid",
                "exit": exit,
                "error": headline,
                "problems": problems,
            })),
            ProgressFormat::Text => {
                self.text(format_args!("error: {headline}:"));
                for problem in problems {
                    self.text(format_args!("  - {problem}"));
                }
            }
        }
    }

    /// The last line: the node failed, or was cancelled (`signal` says by what), leaving
    /// `fate` behind.
    pub(crate) fn failed(
        &self,
        outcome: &str,
        error: &str,
        exit: u8,
        signal: Option<&str>,
        fate: Fate,
    ) {
        match self.format {
            ProgressFormat::Json => self.json(json!({
                "event": "result",
                "outcome": outcome,
                "exit": exit,
                "fate": fate,
                "error": error,
                "signal": signal,
            })),
            ProgressFormat::Text => self.text(format_args!("error: {error}")),
        }
    }
}

/// A wire number (`"0.45"` or `0.45`) as a float.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}
