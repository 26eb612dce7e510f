//! The run hub: at most one run at a time, its cancel token, and its events — kept so a page
//! that connects (or reconnects) mid-run sees what the run did, then the live tail. A node's
//! passing events (its status, its transfer, its log lines) are kept only as far as the page
//! shows them: the latest status and transfer while it runs, its last log lines.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Events of the current (or last) run, and the running run's cancel token.
#[derive(Debug)]
pub struct RunHub {
    state: Mutex<HubState>,
    live: broadcast::Sender<Arc<str>>,
}

#[derive(Debug, Default)]
struct HubState {
    run: u64,
    /// The run's lasting events, in order: its start, each node's start, task, end, what was
    /// spent, the run's end, and the log lines of the nodes that ended.
    history: Vec<Arc<str>>,
    /// The passing events of each node that has not ended.
    passing: HashMap<String, Passing>,
    running: Option<CancellationToken>,
    /// Ends when the running run has ended (its tasks stopped).
    ended: Option<CancellationToken>,
}

/// The log lines a page keeps of a node (the page's `LOG_LINES`).
const LOG_LINES: usize = 200;

/// What a running node's passing events leave for a page: its latest phase and latest
/// status, in the order they came (both set what the page shows as its status), its latest
/// transfer, and its last log lines.
#[derive(Debug, Default)]
struct Passing {
    statuses: Vec<(&'static str, Arc<str>)>,
    transfer: Option<Arc<str>>,
    log: VecDeque<Arc<str>>,
}

impl Passing {
    fn events(&self) -> impl Iterator<Item = &Arc<str>> {
        let statuses = self.statuses.iter().map(|(_, event)| event);
        statuses.chain(&self.transfer).chain(&self.log)
    }
}

/// How an event is kept: by the kind the page reads.
enum Keep {
    /// Sets the node's status (`phase`: its phase too): the latest of each class is kept.
    Status(&'static str),
    /// The node's transfer: the latest is kept while it runs.
    Transfer,
    /// A log line: the last [`LOG_LINES`] are kept.
    Log,
    /// The node has ended: its last transfer and log lines join the history (its status,
    /// when it failed).
    Ended { failed: bool },
    /// The node's task was stopped: its status, which no earlier one may follow.
    Stopped,
    /// Kept as it is.
    Lasting,
}

fn keep_of(kind: &str) -> Keep {
    match kind {
        "phase" | "submitting" => Keep::Status("phase"),
        "task_status" | "run_refused" => Keep::Status("status"),
        "transfer" => Keep::Transfer,
        "log" => Keep::Log,
        "finished" | "skipped" | "resumed" => Keep::Ended { failed: false },
        "failed" => Keep::Ended { failed: true },
        "task_stopped" => Keep::Stopped,
        _ => Keep::Lasting,
    }
}

impl HubState {
    fn keep(&mut self, event: &Value, text: Arc<str>) {
        let node = event["node"].as_str();
        let kind = event["kind"].as_str().unwrap_or_default();
        let (Some(node), keep) = (node, keep_of(kind)) else {
            self.history.push(text);
            return;
        };
        match keep {
            Keep::Status(class) => {
                let passing = self.passing.entry(node.to_owned()).or_default();
                passing.statuses.retain(|(kept, _)| *kept != class);
                passing.statuses.push((class, text));
            }
            Keep::Transfer => {
                self.passing.entry(node.to_owned()).or_default().transfer = Some(text);
            }
            Keep::Log => {
                let log = &mut self.passing.entry(node.to_owned()).or_default().log;
                if log.len() == LOG_LINES {
                    log.pop_front();
                }
                log.push_back(text);
            }
            Keep::Ended { failed } => {
                if let Some(passing) = self.passing.remove(node) {
                    if failed {
                        let statuses = passing.statuses.into_iter().map(|(_, event)| event);
                        self.history.extend(statuses);
                    }
                    self.history.extend(passing.transfer);
                    self.history.extend(passing.log);
                }
                self.history.push(text);
            }
            Keep::Stopped => {
                if let Some(passing) = self.passing.get_mut(node) {
                    passing.statuses.clear();
                }
                self.history.push(text);
            }
            Keep::Lasting => self.history.push(text),
        }
    }
}

impl Default for RunHub {
    fn default() -> Self {
        Self {
            state: Mutex::new(HubState::default()),
            live: broadcast::channel(4096).0,
        }
    }
}

impl RunHub {
    fn state(&self) -> MutexGuard<'_, HubState> {
        // A panic while holding the lock leaves plain data behind: still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a new run: its id and cancel token, or `None` while another run goes on.
    pub fn begin(&self) -> Option<(u64, CancellationToken)> {
        let mut state = self.state();
        if state.running.is_some() {
            return None;
        }
        state.run += 1;
        state.history.clear();
        state.passing.clear();
        let cancel = CancellationToken::new();
        state.running = Some(cancel.clone());
        state.ended = Some(CancellationToken::new());
        Some((state.run, cancel))
    }

    /// The run has ended: another may start.
    pub fn end(&self) {
        let mut state = self.state();
        state.running = None;
        if let Some(ended) = &state.ended {
            ended.cancel();
        }
    }

    /// Cancels the running run, as Ctrl-C does; false when none runs.
    pub fn cancel(&self) -> bool {
        match &self.state().running {
            Some(cancel) => {
                cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancels the running run, if any, and waits until its nodes have stopped their tasks.
    pub async fn cancel_and_wait(&self) {
        let ended = {
            let state = self.state();
            if let Some(cancel) = &state.running {
                cancel.cancel();
            }
            state.running.as_ref().and(state.ended.clone())
        };
        if let Some(ended) = ended {
            ended.cancelled().await;
        }
    }

    /// Sends an event to every page and keeps what of it pages that connect later need.
    pub fn publish(&self, event: &Value) {
        let text: Arc<str> = event.to_string().into();
        let mut state = self.state();
        state.keep(event, Arc::clone(&text));
        let _ = self.live.send(text); // nobody listening is fine
    }

    /// What a page needs of the events so far (the lasting ones, then each running node's
    /// passing ones) and a receiver of the ones to come, with none lost in between.
    pub fn subscribe(&self) -> (Vec<Arc<str>>, broadcast::Receiver<Arc<str>>) {
        let state = self.state();
        let passing = state.passing.values().flat_map(Passing::events);
        let history = state.history.iter().chain(passing).cloned().collect();
        (history, self.live.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_waits_for_the_first_to_end() {
        let hub = RunHub::default();
        let (first, _) = hub.begin().expect("nothing runs yet");
        assert!(hub.begin().is_none());
        assert!(hub.cancel());
        hub.end();
        let (second, _) = hub.begin().expect("the first ended");
        assert_eq!(second, first + 1);
    }

    #[test]
    fn a_late_page_sees_the_whole_run() {
        let hub = RunHub::default();
        let _ = hub.begin();
        hub.publish(&serde_json::json!({ "kind": "started" }));
        let (history, _live) = hub.subscribe();
        assert_eq!(history.len(), 1);
    }

    #[test]
    fn a_late_page_gets_what_it_shows_not_every_passing_event() {
        use serde_json::json;
        let hub = RunHub::default();
        let _ = hub.begin();
        let kinds = |history: &[Arc<str>]| -> Vec<String> {
            history
                .iter()
                .map(|text| {
                    let event: Value = serde_json::from_str(text).unwrap();
                    format!(
                        "{}:{}",
                        event["node"].as_str().unwrap_or("-"),
                        event["kind"]
                    )
                    .replace('"', "")
                        + &event["status"]
                            .as_str()
                            .map(|s| format!("={s}"))
                            .unwrap_or_default()
                })
                .collect()
        };
        hub.publish(&json!({ "kind": "run_started" }));
        for node in ["a", "b"] {
            hub.publish(&json!({ "kind": "started", "node": node }));
            hub.publish(&json!({ "kind": "phase", "node": node, "phase": "submitting" }));
            hub.publish(&json!({ "kind": "task_started", "node": node, "taskid": "1" }));
            for status in ["task_queue", "task_start", "task_output"] {
                hub.publish(&json!({ "kind": "task_status", "node": node, "status": status }));
            }
            for line in 0..250 {
                hub.publish(&json!({ "kind": "log", "node": node, "line": line }));
            }
        }
        hub.publish(&json!({ "kind": "finished", "node": "a" }));
        let (history, _live) = hub.subscribe();
        let shown = kinds(&history);
        // a ended: its start, task, 200 last log lines, end. b runs: its start, task, latest
        // phase and status (which a page shows) and 200 last log lines.
        assert_eq!(shown.len(), 1 + (3 + 200) + (4 + 200), "{shown:?}");
        assert!(!shown.contains(&"a:task_status=task_output".to_owned()));
        let b: Vec<&String> = shown.iter().filter(|k| k.starts_with("b:")).collect();
        assert_eq!(
            b[..4],
            [
                "b:started",
                "b:task_started",
                "b:phase",
                "b:task_status=task_output"
            ]
        );
        assert_eq!(shown.iter().filter(|k| *k == "a:log").count(), 200);
        let a_logs: Vec<Value> = history
            .iter()
            .map(|text| serde_json::from_str::<Value>(text).unwrap())
            .filter(|event| event["node"] == "a" && event["kind"] == "log")
            .collect();
        assert_eq!(
            (&a_logs[0]["line"], &a_logs[199]["line"]),
            (&json!(50), &json!(249))
        );
    }

    #[test]
    fn a_late_page_sees_a_stopped_task_s_status_and_an_ended_download_s_bytes() {
        use serde_json::json;
        let hub = RunHub::default();
        let _ = hub.begin();
        hub.publish(&json!({ "kind": "phase", "node": "v", "phase": "stopping task" }));
        hub.publish(
            &json!({ "kind": "task_stopped", "node": "v", "taskid": "7", "how": "killed" }),
        );
        hub.publish(&json!({ "kind": "failed", "node": "v", "error": "cancelled" }));
        hub.publish(
            &json!({ "kind": "transfer", "node": "d", "file": "a.mp4", "done": 9, "total": 9 }),
        );
        hub.publish(&json!({ "kind": "finished", "node": "d" }));
        let (history, _live) = hub.subscribe();
        let kinds: Vec<String> = history
            .iter()
            .map(|text| serde_json::from_str::<Value>(text).unwrap()["kind"].to_string())
            .collect();
        // The page's status for v is the stop's (no phase after it); d keeps its bytes.
        assert_eq!(
            kinds,
            [
                "\"task_stopped\"",
                "\"failed\"",
                "\"transfer\"",
                "\"finished\""
            ]
        );
    }
}
