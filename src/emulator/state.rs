//! The emulator's memory: tasks (with their event channels), stored files, folders, faults,
//! counters and the balance. Locks are plain mutexes held for a few lines, never across an
//! `.await`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{json, Map, Value};
use tokio::sync::{broadcast, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::api::wire::{Folder, SocketFrame, Task, TaskStatus, WireNumber};

use super::clips::ClipCache;
use super::{EmulatorConfig, Fault, FaultSpec, Operation, Stats};

/// Frames kept for a slow socket reader; a task sends far fewer.
const EVENT_CAPACITY: usize = 1024;

/// Locks a mutex; a panic elsewhere never makes the emulator's data unreadable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Unix seconds now.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// A random lowercase hex string of `len` characters.
pub(crate) fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A file the emulator serves under `/cdn/`: an upload or a task output.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub content_type: String,
    pub bytes: Bytes,
}

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
    next_id: u64,
    pub balance: Option<f64>,
}

impl TaskBook {
    /// The id of the task with this id or token.
    pub fn resolve(&self, id: Option<&str>, token: Option<&str>) -> Option<String> {
        if let Some(id) = id.filter(|id| self.by_id.contains_key(*id)) {
            return Some(id.to_owned());
        }
        token.and_then(|token| self.by_token.get(token).cloned())
    }

    /// Tasks queued or running.
    pub fn unfinished(&self) -> usize {
        self.by_id.values().filter(|e| !e.is_terminal()).count()
    }

    /// Money promised to unfinished tasks.
    pub fn reserved(&self) -> f64 {
        self.by_id
            .values()
            .filter(|e| !e.is_terminal())
            .map(|e| e.price)
            .sum()
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
        self.by_id.insert(id.clone(), entry);
        id
    }
}

/// Everything the routes and lifecycles share.
pub(crate) struct Shared {
    pub config: EmulatorConfig,
    /// `http://ADDR`, the start of every URL the emulator hands out.
    pub origin: String,
    pub tasks: Mutex<TaskBook>,
    files: Mutex<HashMap<String, StoredFile>>,
    folders: Mutex<Vec<Folder>>,
    faults: Mutex<Vec<FaultSpec>>,
    stats: Mutex<Stats>,
    nonces: Mutex<HashSet<String>>,
    /// Cancelled when the emulator shuts down.
    pub shutdown: CancellationToken,
    /// Encoded output clips.
    pub clips: ClipCache,
    /// Run slots when `max_running` is set.
    pub slots: Option<Arc<Semaphore>>,
    callbacks: OnceLock<Option<reqwest::Client>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Shared {
    pub fn new(config: EmulatorConfig, origin: String, shutdown: CancellationToken) -> Self {
        let faults = config.faults.clone();
        let balance = config.balance;
        let run_slots = config.max_running;
        Self {
            config,
            origin,
            tasks: Mutex::new(TaskBook {
                by_id: HashMap::new(),
                by_token: HashMap::new(),
                next_id: 2220,
                balance,
            }),
            files: Mutex::new(HashMap::new()),
            folders: Mutex::new(Vec::new()),
            faults: Mutex::new(faults),
            stats: Mutex::new(Stats::default()),
            nonces: Mutex::new(HashSet::new()),
            shutdown,
            clips: ClipCache::default(),
            slots: run_slots.map(|n| Arc::new(Semaphore::new(n))),
            callbacks: OnceLock::new(),
        }
    }

    /// The client that sends `callbackUrl` webhooks, built on first use.
    pub fn callback_client(&self) -> Option<reqwest::Client> {
        self.callbacks
            .get_or_init(super::callback::build_client)
            .clone()
    }

    /// Counts a request and takes the first fault armed for its operation.
    pub fn arrive(&self, operation: Operation) -> Option<Fault> {
        *lock(&self.stats).requests.entry(operation).or_insert(0) += 1;
        let mut faults = lock(&self.faults);
        let index = faults
            .iter()
            .position(|spec| spec.operation == operation && spec.times > 0)?;
        let fault = faults[index].fault;
        faults[index].times -= 1;
        if faults[index].times == 0 {
            faults.remove(index);
        }
        Some(fault)
    }

    /// Arms a fault.
    pub fn inject(&self, spec: FaultSpec) {
        if spec.times > 0 {
            lock(&self.faults).push(spec);
        }
    }

    /// Checks the auth headers of an API request.
    pub fn authenticate(&self, headers: &axum::http::HeaderMap) -> Result<(), String> {
        super::auth::check(&self.config, headers, &mut lock(&self.nonces))
    }

    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    /// Counts an accepted Run.
    pub fn count_run(&self) {
        lock(&self.stats).runs_accepted += 1;
    }

    /// Counts a task that reached a terminal status.
    pub fn count_end(&self, record: &Task) {
        let mut stats = lock(&self.stats);
        if record.status == TaskStatus::Cancel {
            stats.cancelled += 1;
        } else if record.succeeded() {
            stats.succeeded += 1;
        } else {
            stats.failed += 1;
        }
    }

    /// Stores a file and returns its public URL.
    pub fn store_file(&self, name: &str, content_type: &str, bytes: Bytes) -> String {
        let path = format!("{}/{}", random_hex(32), url_safe_name(name));
        let url = format!("{}/cdn/{}", self.origin, path);
        lock(&self.files).insert(
            path,
            StoredFile {
                content_type: content_type.to_owned(),
                bytes,
            },
        );
        url
    }

    /// The file stored under `/cdn/{path}`.
    pub fn file(&self, path: &str) -> Option<StoredFile> {
        lock(&self.files).get(path).cloned()
    }

    /// The stored file a URL of this emulator points at, if it is one.
    pub fn file_by_url(&self, url: &str) -> Option<StoredFile> {
        let prefix = format!("{}/cdn/", self.origin);
        self.file(url.strip_prefix(&prefix)?)
    }

    /// Creates a folder.
    pub fn create_folder(&self, name: &str, parentid: Option<String>) -> Folder {
        let mut extra = Map::new();
        extra.insert("size".into(), json!("0"));
        extra.insert("contenttype".into(), json!("folder"));
        extra.insert("addedtime".into(), json!(now_secs().to_string()));
        let folder = Folder {
            id: random_hex(32),
            name: name.to_owned(),
            parentid,
            extra,
        };
        lock(&self.folders).push(folder.clone());
        folder
    }

    /// Whether a folder with this id exists.
    pub fn folder_exists(&self, id: &str) -> bool {
        lock(&self.folders).iter().any(|folder| folder.id == id)
    }

    /// The balance, when limited.
    pub fn balance(&self) -> Option<f64> {
        lock(&self.tasks).balance
    }

    /// Sets (or lifts, with `None`) the balance.
    pub fn set_balance(&self, balance: Option<f64>) {
        lock(&self.tasks).balance = balance;
    }
}

/// Keeps a file name usable in a URL path: letters, digits, `.`, `-`, `_`.
fn url_safe_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_url_safe() {
        assert_eq!(url_safe_name("../my cat.png"), "my_cat.png");
        assert_eq!(url_safe_name(".."), "file");
        assert_eq!(url_safe_name("a\\b\\ok-1_2.JPG"), "ok-1_2.JPG");
    }

    #[test]
    fn faults_fire_for_the_first_matching_requests_only() {
        let shared = Shared::new(
            EmulatorConfig::default(),
            "http://x".into(),
            CancellationToken::new(),
        );
        shared.inject(FaultSpec::new(Operation::Run, Fault::ServerError, 2));
        assert_eq!(shared.arrive(Operation::TaskDetail), None);
        assert_eq!(shared.arrive(Operation::Run), Some(Fault::ServerError));
        assert_eq!(shared.arrive(Operation::Run), Some(Fault::ServerError));
        assert_eq!(shared.arrive(Operation::Run), None);
        assert_eq!(shared.stats().requests(Operation::Run), 3);
    }
}
