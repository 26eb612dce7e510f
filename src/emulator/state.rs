//! The emulator's memory: tasks (with their event channels), stored files, folders, faults,
//! counters and the balance. Locks are plain mutexes held for a few lines, never across an
//! `.await`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use serde_json::{json, Map};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::api::wire::{Folder, Task, TaskStatus};

use super::basics::{lock, now_secs, random_hex};
use super::clips::{Clip, ClipCache};
use super::config::EmulatorConfig;
use super::directory::Directory;
use super::faults::{Fault, FaultSpec, Operation};
use super::stats::Stats;
use super::task_book::TaskBook;

/// A file the emulator serves under `/cdn/`: an upload or a task output.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub content_type: String,
    pub body: FileBody,
}

/// Where a stored file's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum FileBody {
    /// An upload, kept in memory.
    Memory(Bytes),
    /// A task's output clip, on disk (shared by every task with the same clip).
    Disk(Clip),
}

impl FileBody {
    /// The size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            FileBody::Memory(bytes) => bytes.len() as u64,
            FileBody::Disk(clip) => clip.len,
        }
    }

    /// The bytes, when they are in memory.
    pub fn in_memory(&self) -> Option<&Bytes> {
        match self {
            FileBody::Memory(bytes) => Some(bytes),
            FileBody::Disk(_) => None,
        }
    }

    /// The bytes `start..end` (within the file).
    pub async fn read(&self, start: u64, end: u64) -> std::io::Result<Bytes> {
        match self {
            FileBody::Memory(bytes) => Ok(bytes.slice(start as usize..end as usize)),
            FileBody::Disk(clip) => {
                // Open and read in one trip to a blocking thread: a batch downloads thousands.
                let path = Arc::clone(&clip.path);
                tokio::task::spawn_blocking(move || {
                    use std::io::{Read, Seek};
                    let mut file = std::fs::File::open(&path)?;
                    file.seek(std::io::SeekFrom::Start(start))?;
                    let mut part = vec![0; (end - start) as usize];
                    file.read_exact(&mut part)?;
                    Ok(Bytes::from(part))
                })
                .await
                .unwrap_or_else(|stopped| Err(std::io::Error::other(stopped.to_string())))
            }
        }
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
    /// The generator random faults are drawn from, when `config.chaos` is set.
    chaos_draws: Mutex<fastrand::Rng>,
    stats: Mutex<Stats>,
    /// When each task output not yet downloaded was made, by its `/cdn/` path.
    unnoticed_outputs: Mutex<HashMap<String, Instant>>,
    nonces: Mutex<HashSet<String>>,
    /// Cancelled when the emulator shuts down.
    pub shutdown: CancellationToken,
    /// Encoded output clips.
    pub clips: ClipCache,
    /// Run slots when `max_running` is set.
    pub slots: Option<Arc<Semaphore>>,
    /// The models Tool/List and Tool/Detail describe (besides PixVerse v4's).
    pub directory: Directory,
    callbacks: OnceLock<Option<super::callback::Webhooks>>,
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
        let chaos_seed = config.chaos.as_ref().map_or(0, |chaos| chaos.seed);
        let directory = Directory::new(config.synthetic_models);
        Self {
            config,
            origin,
            tasks: Mutex::new(TaskBook::new(balance)),
            files: Mutex::new(HashMap::new()),
            folders: Mutex::new(Vec::new()),
            faults: Mutex::new(faults),
            chaos_draws: Mutex::new(fastrand::Rng::with_seed(chaos_seed)),
            stats: Mutex::new(Stats::default()),
            unnoticed_outputs: Mutex::new(HashMap::new()),
            nonces: Mutex::new(HashSet::new()),
            shutdown,
            clips: ClipCache::default(),
            slots: run_slots.map(|n| Arc::new(Semaphore::new(n))),
            directory,
            callbacks: OnceLock::new(),
        }
    }

    /// The client that sends `callbackUrl` webhooks, built on first use.
    pub fn callback_client(&self) -> Option<super::callback::Webhooks> {
        self.callbacks
            .get_or_init(|| super::callback::build_client(&self.config.allow_callbacks))
            .clone()
    }

    /// Counts a request and takes the first fault armed for its operation, or else draws a
    /// random one when chaos is on.
    pub fn arrive(&self, operation: Operation) -> Option<Fault> {
        let fault = self.armed_fault(operation).or_else(|| {
            let chaos = self.config.chaos.as_ref()?;
            chaos.draw(&mut lock(&self.chaos_draws), operation)
        });
        let mut stats = lock(&self.stats);
        *stats.requests.entry(operation).or_insert(0) += 1;
        if fault.is_some() {
            *stats.faults.entry(operation).or_insert(0) += 1;
        }
        fault
    }

    fn armed_fault(&self, operation: Operation) -> Option<Fault> {
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

    /// Disarms every fault still armed.
    pub fn clear_faults(&self) {
        lock(&self.faults).clear();
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
        let mut stats = lock(&self.stats).clone();
        stats.encoders_peak = self.clips.encoders_peak();
        stats
    }

    /// Notes that a task ended now with its output at `url`: the first download of that file
    /// tells how late the client noticed (see [`Stats::notice_micros`]).
    pub fn output_ended(&self, url: &str) {
        if let Some(path) = self.cdn_path(url) {
            lock(&self.unnoticed_outputs).insert(path.to_owned(), Instant::now());
            let since_epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
                });
            lock(&self.stats).ended_unix_micros.push(since_epoch);
        }
    }

    /// Counts a request for the file at `/cdn/{path}`: the first one for a task output records
    /// how long after the task's end it came.
    pub fn requested_file(&self, path: &str) {
        let ended = lock(&self.unnoticed_outputs).remove(path);
        if let Some(ended) = ended {
            let micros = u64::try_from(ended.elapsed().as_micros()).unwrap_or(u64::MAX);
            lock(&self.stats).notice_micros.push(micros);
        }
    }

    /// The `/cdn/` path a URL of this emulator points at.
    fn cdn_path<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix(&self.origin)?.strip_prefix("/cdn/")
    }

    /// Counts an accepted Run.
    pub fn count_run(&self) {
        lock(&self.stats).runs_accepted += 1;
    }

    /// Counts a Run refused with code 96 (concurrency limit) or 97 (balance).
    pub fn count_refused_run(&self, code: i64) {
        let mut stats = lock(&self.stats);
        if code == crate::api::wire::codes::CONCURRENCY_LIMIT {
            stats.runs_refused_concurrency += 1;
        } else {
            stats.runs_refused_balance += 1;
        }
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

    /// Stores a file (kept in memory) and returns its public URL.
    pub fn store_file(&self, name: &str, content_type: &str, bytes: Bytes) -> String {
        self.store(name, content_type, FileBody::Memory(bytes))
    }

    /// Stores a task's output clip (which stays on disk) and returns its public URL.
    pub fn store_clip(&self, name: &str, content_type: &str, clip: Clip) -> String {
        self.store(name, content_type, FileBody::Disk(clip))
    }

    fn store(&self, name: &str, content_type: &str, body: FileBody) -> String {
        let path = format!("{}/{}", random_hex(32), url_safe_name(name));
        let url = format!("{}/cdn/{}", self.origin, path);
        lock(&self.files).insert(
            path,
            StoredFile {
                content_type: content_type.to_owned(),
                body,
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
        self.file(self.cdn_path(url)?)
    }

    /// Removes the stored file a URL of this emulator points at; `false` when there is none.
    pub fn remove_file_by_url(&self, url: &str) -> bool {
        self.cdn_path(url).is_some_and(|path| {
            lock(&self.unnoticed_outputs).remove(path);
            lock(&self.files).remove(path).is_some()
        })
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
