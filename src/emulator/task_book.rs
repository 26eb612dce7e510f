//! Tasks in memory: each record with its event channel and stop token, found by id or token,
//! and the balance they draw on (one lock, so admission checks and creation cannot race).
//! An ended task keeps its record (Task/Detail and Task/List show it) but not its frames, and
//! admission looks only at the tasks that may still be unfinished, so a long session's Runs
//! cost the same as its first.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::api::wire::{SocketFrame, Task, TaskStatus, WireNumber};

use super::basics::{now_secs, random_hex};

/// Frames kept for a slow socket reader: a task's whole life is about 15, and a reader that
/// falls further behind is sent where the task is now. Every slot (about 240 bytes) is
/// allocated when the task is created and freed when it has ended and its readers are gone.
const EVENT_CAPACITY: usize = 32;

/// One task: its record as Task/Detail shows it, and what drives and follows it.
pub(crate) struct TaskEntry {
    pub record: Task,
    /// Every status change, for the WebSocket.
    pub events: broadcast::Sender<SocketFrame>,
    /// Cancelled by Kill/Cancel and on shutdown; the lifecycle stops at once.
    pub stop: CancellationToken,
    /// What a success costs, in dollars.
    pub price: f64,
    /// The `callbackUrl` of the Run, if any.
    pub callback_url: Option<String>,
    /// The message of the latest frame: a late socket registration gets it with the status.
    last_message: Value,
}

impl TaskEntry {
    /// The frame for `status`, with the fields newer servers add on the final one.
    pub fn frame(&self, status: &TaskStatus, message: Value) -> SocketFrame {
        let mut extra = Map::new();
        if status.is_terminal() {
            extra.insert("success".into(), json!(self.record.succeeded()));
            extra.insert("terminal".into(), json!(true));
            let exit = self
                .record
                .pexit
                .as_ref()
                .and_then(WireNumber::as_i64)
                .unwrap_or(-1);
            extra.insert("exitCode".into(), json!(exit));
        }
        SocketFrame {
            kind: status.as_str().to_owned(),
            id: Some(self.record.id.clone()),
            tasktoken: self.record.socketaccesstoken.clone(),
            message,
            result: Some(true),
            extra,
        }
    }

    /// The frame describing where the task is now.
    pub fn current_frame(&self) -> SocketFrame {
        self.frame(&self.record.status, self.last_message.clone())
    }

    /// Moves to `status` and tells the socket listeners.
    pub fn publish(&mut self, status: TaskStatus, message: Value) {
        self.record.status = status;
        self.last_message = message;
        // No listener is fine: the record keeps the state for Task/Detail.
        let _ = self.events.send(self.current_frame());
        if self.is_terminal() {
            // Nothing follows the end: the listeners read what is queued for them, then hear
            // the channel close, and its slots go with the last of them. A later socket is
            // sent the end frame and closed without listening.
            self.events = broadcast::channel(1).0;
        }
    }

    /// Whether the task has ended.
    pub fn is_terminal(&self) -> bool {
        self.record.status.is_terminal()
    }
}

/// Tasks, their lookup by token, and the money they may spend: one lock, so admission checks
/// and task creation cannot race.
pub(crate) struct TaskBook {
    pub by_id: HashMap<String, TaskEntry>,
    by_token: HashMap<String, String>,
    /// Every task that may still be unfinished: added when created, dropped when a look finds
    /// it ended. Admission counts these, not every task the session made.
    open: HashSet<String>,
    next_id: u64,
    pub balance: Option<f64>,
}

impl TaskBook {
    /// No tasks yet; ids start at 2221 like the docs' example.
    pub fn new(balance: Option<f64>) -> Self {
        Self {
            by_id: HashMap::new(),
            by_token: HashMap::new(),
            open: HashSet::new(),
            next_id: 2220,
            balance,
        }
    }

    /// The id of the task with this id or token.
    pub fn resolve(&self, id: Option<&str>, token: Option<&str>) -> Option<String> {
        if let Some(id) = id.filter(|id| self.by_id.contains_key(*id)) {
            return Some(id.to_owned());
        }
        token.and_then(|token| self.by_token.get(token).cloned())
    }

    /// Tasks queued or running.
    pub fn unfinished(&mut self) -> usize {
        self.forget_ended();
        self.open.len()
    }

    /// Money promised to unfinished tasks.
    pub fn reserved(&mut self) -> f64 {
        self.forget_ended();
        self.open
            .iter()
            .filter_map(|id| self.by_id.get(id))
            .map(|e| e.price)
            .sum()
    }

    /// Drops the tasks that have ended from those that may be unfinished.
    fn forget_ended(&mut self) {
        let by_id = &self.by_id;
        self.open
            .retain(|id| by_id.get(id).is_some_and(|entry| !entry.is_terminal()));
    }

    /// Creates a queued task and returns its id.
    pub fn create(
        &mut self,
        parameters: Map<String, Value>,
        price: f64,
        callback_url: Option<String>,
        stop: CancellationToken,
    ) -> String {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let token: String = (0..30).map(|_| fastrand::alphanumeric()).collect();
        let uuid = format!(
            "{}-{}-4{}-a{}-{}",
            random_hex(8),
            random_hex(4),
            random_hex(3),
            random_hex(3),
            random_hex(12)
        );
        let now = now_secs();
        let record = Task {
            id: id.clone(),
            uuid: Some(uuid),
            socketaccesstoken: Some(token.clone()),
            status: TaskStatus::Queue,
            pexit: None,
            parameters: Some(Value::Object(parameters)),
            debugoutput: Some(String::new()),
            debugerror: Some(String::new()),
            createtime: Some(WireNumber::from(now)),
            starttime: None,
            endtime: None,
            canceltime: None,
            elapsedseconds: Some(WireNumber::new("0.0000")),
            cps: Some(WireNumber::new("0")),
            totalcost: Some(WireNumber::new("0")),
            outputs: Vec::new(),
            extra: Map::new(),
        };
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let entry = TaskEntry {
            record,
            events,
            stop,
            price,
            callback_url,
            last_message: Value::Null,
        };
        self.by_token.insert(token, id.clone());
        self.open.insert(id.clone());
        self.by_id.insert(id.clone(), entry);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_counts_only_open_tasks_and_an_ended_task_frees_its_frames() {
        let mut book = TaskBook::new(Some(10.0));
        let ids: Vec<String> = (0..3)
            .map(|_| book.create(Map::new(), 0.5, None, CancellationToken::new()))
            .collect();
        assert_eq!((book.unfinished(), book.reserved()), (3, 1.5));
        let entry = book.by_id.get_mut(&ids[0]).unwrap();
        let mut listening = entry.events.subscribe();
        entry.publish(TaskStatus::PostprocessEnd, Value::Null);
        book.by_id
            .get_mut(&ids[1])
            .unwrap()
            .publish(TaskStatus::Cancel, Value::Null);
        assert_eq!((book.unfinished(), book.reserved()), (1, 0.5));
        assert_eq!(book.open.len(), 1, "ended tasks are forgotten by admission");
        assert_eq!(book.by_id.len(), 3, "their records stay for Task/Detail");
        // A listener from before the end reads the end frame, then hears the channel close.
        let end = listening.try_recv().expect("the end frame is queued");
        assert_eq!(end.kind, "task_postprocess_end");
        assert!(matches!(
            listening.try_recv(),
            Err(broadcast::error::TryRecvError::Closed)
        ));
    }
}
