//! The MCP server's journal: every paid call it sent, the task each started and how it ended,
//! one JSON line per event in `OUT/.mcp-journal.jsonl`, synced before the call goes on. A
//! restarted server reads it back, so it still answers for its tasks (follow, stop, files)
//! and still refuses to pay twice for a call repeated within the window.
//!
//! A call is keyed by its tool and its arguments (objects with sorted keys, the cap left
//! out): the same request sent again by a client that lost the answer, over any session,
//! finds the first call's task.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::follow::{ReportedFile, RunReport};
use crate::api::TaskHandle;

/// The journal's file name inside the output folder: a dot file, a name no download takes
/// (the download node never writes a name that starts with a dot).
pub const FILE_NAME: &str = ".mcp-journal.jsonl";

/// SHA-256 of `bytes`, in hex.
pub(crate) fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The key of a call: its tool and its arguments, objects with sorted keys.
pub fn call_key(tool: &str, arguments: &Value) -> String {
    let mut text = String::from(tool);
    text.push('\n');
    text.push_str(&canonical(arguments).to_string());
    digest(text.as_bytes())
}

/// `value` with every object's keys in order.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> = map
                .iter()
                .map(|(key, value)| (key, canonical(value)))
                .collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(key, value)| (key.clone(), value))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Line {
    /// A Run is about to be sent for this call.
    Sending {
        key: String,
        tool: String,
        at_ms: u64,
    },
    /// The Run was accepted: the task.
    Started {
        key: String,
        tool: String,
        task: TaskHandle,
        price_usd: Option<f64>,
        at_ms: u64,
    },
    /// Nothing was started for this call after all (refused, or failed before sending).
    NotStarted { key: String, at_ms: u64 },
    /// The task ended; what the call reported.
    Ended { report: RunReport },
}

/// A task a call of this server started.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    /// The task.
    pub handle: TaskHandle,
    /// The tool that started it.
    pub tool: String,
    /// The price accepted before its Run.
    pub price_usd: Option<f64>,
    /// How it ended, once it has.
    pub ended: Option<RunReport>,
}

/// What an earlier call with the same key left.
#[derive(Debug, Clone)]
pub enum Earlier {
    /// Its task.
    Task(Box<TaskRecord>),
    /// A Run was sent and its answer never came (the server stopped meanwhile): whether a
    /// task exists is unknown, so nothing is sent again.
    Unknown {
        /// When it was sent.
        at_ms: u64,
    },
}

#[derive(Debug, Default)]
struct State {
    /// Per call key: when it was last sent, and its task when known.
    calls: HashMap<String, (u64, Option<String>)>,
    /// Per task id.
    tasks: BTreeMap<String, TaskRecord>,
}

impl State {
    fn apply(&mut self, line: Line) {
        match line {
            Line::Sending { key, at_ms, .. } => {
                self.calls.insert(key, (at_ms, None));
            }
            Line::Started {
                key,
                tool,
                task,
                price_usd,
                at_ms,
            } => {
                self.calls.insert(key, (at_ms, Some(task.taskid.clone())));
                self.tasks.insert(
                    task.taskid.clone(),
                    TaskRecord {
                        handle: task,
                        tool,
                        price_usd,
                        ended: None,
                    },
                );
            }
            Line::NotStarted { key, .. } => {
                self.calls.remove(&key);
            }
            Line::Ended { report } => {
                if let Some(record) = self.tasks.get_mut(&report.task_id) {
                    record.ended = Some(report);
                }
            }
        }
    }
}

/// The journal: the file, and what it says, in memory.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    state: Mutex<State>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and reads what it says. A last line cut short
    /// by a crash is skipped.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let mut state = State::default();
        if let Ok(existing) = File::open(path) {
            for line in BufReader::new(existing).lines() {
                match serde_json::from_str::<Line>(&line?) {
                    Ok(line) => state.apply(line),
                    Err(error) => {
                        tracing::warn!(%error, "a journal line could not be read; skipped")
                    }
                }
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
            state: Mutex::new(state),
        })
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `line` and syncs it, then applies it. A started task is applied even when the
    /// file cannot be written: this server must still answer for it (follow, stop) while it
    /// runs; the error says what a restart would not know.
    fn write(&self, line: Line) -> std::io::Result<()> {
        let mut text = serde_json::to_string(&line).map_err(std::io::Error::other)?;
        text.push('\n');
        let written = {
            let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_data())
        };
        if written.is_ok() || matches!(line, Line::Started { .. }) {
            self.state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .apply(line);
        }
        written
    }

    /// What an earlier call with `key` left, when it was sent within `window`.
    pub fn earlier(&self, key: &str, window: Duration) -> Option<Earlier> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (at_ms, task) = state.calls.get(key)?;
        if now_ms().saturating_sub(*at_ms) > window.as_millis() as u64 {
            return None;
        }
        Some(match task.as_ref().and_then(|id| state.tasks.get(id)) {
            Some(record) => Earlier::Task(Box::new(record.clone())),
            None => Earlier::Unknown { at_ms: *at_ms },
        })
    }

    /// Records that a Run is about to be sent for `key`.
    pub fn sending(&self, key: &str, tool: &str) -> std::io::Result<()> {
        self.write(Line::Sending {
            key: key.into(),
            tool: tool.into(),
            at_ms: now_ms(),
        })
    }

    /// Records the task a call's Run started.
    pub fn started(
        &self,
        key: &str,
        tool: &str,
        task: &TaskHandle,
        price_usd: Option<f64>,
    ) -> std::io::Result<TaskRecord> {
        self.write(Line::Started {
            key: key.into(),
            tool: tool.into(),
            task: task.clone(),
            price_usd,
            at_ms: now_ms(),
        })?;
        Ok(TaskRecord {
            handle: task.clone(),
            tool: tool.into(),
            price_usd,
            ended: None,
        })
    }

    /// Records that nothing was started for `key` after all: the call may be made again.
    pub fn not_started(&self, key: &str) -> std::io::Result<()> {
        self.write(Line::NotStarted {
            key: key.into(),
            at_ms: now_ms(),
        })
    }

    /// Records how a task ended.
    pub fn ended(&self, report: &RunReport) -> std::io::Result<()> {
        self.write(Line::Ended {
            report: report.clone(),
        })
    }

    /// The task `taskid`, when a call of this server started it.
    pub fn task(&self, taskid: &str) -> Option<TaskRecord> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.tasks.get(taskid).cloned()
    }

    /// The ids of every task the journal knows.
    pub fn task_ids(&self) -> std::collections::HashSet<String> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.tasks.keys().cloned().collect()
    }

    /// Every file the journal's tasks brought back.
    pub fn files(&self) -> Vec<ReportedFile> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .tasks
            .values()
            .filter_map(|record| record.ended.as_ref())
            .flat_map(|report| report.files.iter().cloned())
            .collect()
    }
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosts::mcp::follow::RunState;

    #[test]
    fn keys_ignore_the_order_of_arguments() {
        let a = serde_json::json!({"prompt": "a cat", "seed": 1, "nested": {"x": 1, "y": 2}});
        let b = serde_json::json!({"nested": {"y": 2, "x": 1}, "seed": 1, "prompt": "a cat"});
        assert_eq!(call_key("t", &a), call_key("t", &b));
        assert_ne!(call_key("t", &a), call_key("u", &a));
    }

    #[test]
    fn a_reopened_journal_still_knows_its_calls_and_tasks() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join(FILE_NAME);
        let handle = TaskHandle {
            taskid: "77".into(),
            socketaccesstoken: "tok".into(),
        };
        {
            let journal = Journal::open(&path).expect("opened");
            journal.sending("k1", "tool").expect("written");
            journal
                .started("k1", "tool", &handle, Some(0.3))
                .expect("written");
            journal.sending("k2", "tool").expect("written");
            journal.sending("k3", "tool").expect("written");
            journal.not_started("k3").expect("written");
        }
        let journal = Journal::open(&path).expect("reopened");
        let window = Duration::from_secs(60);
        assert!(
            matches!(journal.earlier("k1", window), Some(Earlier::Task(r)) if r.handle.taskid == "77")
        );
        assert!(matches!(
            journal.earlier("k2", window),
            Some(Earlier::Unknown { .. })
        ));
        assert!(journal.earlier("k3", window).is_none());
        let report = RunReport {
            task_id: "77".into(),
            state: RunState::Completed,
            status: None,
            price_usd: Some(0.3),
            cost_usd: Some(0.3),
            files: Vec::new(),
            text: Some("hi".into()),
            error: None,
            repeated: false,
            next: None,
        };
        journal.ended(&report).expect("written");
        let journal = Journal::open(&path).expect("reopened again");
        assert_eq!(
            journal.task("77").and_then(|r| r.ended).map(|r| r.text),
            Some(Some("hi".into()))
        );
    }
}
