//! `Client`: the typed Wiro operations, signed, with timeouts, and retries only where they are
//! safe (a Run or an Upload is never sent twice once a byte may have reached the server).

use std::path::Path;

use reqwest::header::LOCATION;
use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use tokio_util::io::ReaderStream;

use super::answer::{parse_answer, retry_after};
use super::resolve::SystemResolver;
use super::retry::Retries;
use super::signing::{auth_headers, NonceSource};
use super::wire::{
    upload_content_type, FileList, Folder, RunAccepted, Task, TaskHandle, TaskList, UploadedFile,
    MAX_UPLOAD_BYTES,
};
use super::{tls, ClientConfig, Error, FetchRules, Result};

/// Whether an operation may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Reads and idempotent changes (Task/Detail, Kill, Cancel): retried on transient errors.
    Safe,
    /// Spends money or stores data (Run, Upload): retried only when the connection could not
    /// even be opened, so no byte can have reached the server.
    Never,
}

/// How to find a task with Task/Detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskLookup {
    /// By the task's id.
    Id(String),
    /// By its `socketaccesstoken`.
    Token(String),
}

impl From<&str> for TaskLookup {
    fn from(taskid: &str) -> Self {
        TaskLookup::Id(taskid.to_owned())
    }
}

impl From<&String> for TaskLookup {
    fn from(taskid: &String) -> Self {
        TaskLookup::Id(taskid.clone())
    }
}

impl From<&TaskHandle> for TaskLookup {
    fn from(handle: &TaskHandle) -> Self {
        if handle.taskid.is_empty() {
            TaskLookup::Token(handle.socketaccesstoken.clone())
        } else {
            TaskLookup::Id(handle.taskid.clone())
        }
    }
}

/// What [`Client::stop_task`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum StopOutcome {
    /// The task was queued and is now cancelled.
    Cancelled(Task),
    /// The task was running and is now killed.
    Killed(Task),
    /// The task had already ended; nothing was done.
    AlreadyEnded(Task),
}

impl StopOutcome {
    /// `cancelled`, `killed` or `already ended`.
    pub fn how(&self) -> &'static str {
        match self {
            StopOutcome::Cancelled(_) => "cancelled",
            StopOutcome::Killed(_) => "killed",
            StopOutcome::AlreadyEnded(_) => "already ended",
        }
    }

    /// The task's record after the stop.
    pub fn task(&self) -> &Task {
        match self {
            StopOutcome::Cancelled(task)
            | StopOutcome::Killed(task)
            | StopOutcome::AlreadyEnded(task) => task,
        }
    }
}

/// A Wiro API client. Cheap to clone; clones share connections and the nonce counter.
#[derive(Debug, Clone)]
pub struct Client {
    inner: std::sync::Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    nonces: NonceSource,
    /// Which URLs downloads fetch, made once from `config`.
    fetch: std::sync::Arc<FetchRules>,
}

impl Client {
    /// A client for this configuration.
    pub fn new(config: ClientConfig) -> Result<Self> {
        super::config::check_url("base_url", &config.base_url, &["http", "https"])?;
        super::config::check_url("socket_url", &config.socket_url, &["ws", "wss"])?;
        let tls = tls::client_config(&[b"h2", b"http/1.1"])
            .map_err(|problem| Error::invalid("tls", problem.to_string()))?;
        let fetch = std::sync::Arc::new(config.fetch_rules());
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.request_timeout)
            .dns_resolver(std::sync::Arc::new(SystemResolver::new(fetch.clone())))
            // A proxy would resolve names itself, out of the fetch rules' sight: every
            // connection is made directly, to an address the resolver checked.
            .no_proxy()
            // API calls carry the key and never follow a redirect; downloads follow theirs one
            // hop at a time (see `download`), so each hop is checked and named in errors.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("wiro-nodes/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|problem| Error::invalid("http client", problem.to_string()))?;
        Ok(Self {
            inner: std::sync::Arc::new(Inner {
                http,
                config,
                nonces: NonceSource::new(),
                fetch,
            }),
        })
    }

    /// A client from `WIRO_API_KEY`, `WIRO_API_SECRET`, `WIRO_BASE_URL`, `WIRO_SOCKET_URL`.
    pub fn from_env() -> Result<Self> {
        Self::new(ClientConfig::from_env()?)
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Which URLs this client's downloads fetch.
    pub fn fetch_rules(&self) -> &FetchRules {
        &self.inner.fetch
    }

    /// Seals the output files of a task record the API just handed out, so that a download
    /// (here or in another process of the project) knows they came from the API.
    pub(super) fn seal_outputs(&self, task: &mut Task) {
        for output in &mut task.outputs {
            output.seal = Some(self.inner.fetch.seal(&output.url));
        }
    }

    /// The underlying HTTP client (shared with downloads).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// `POST /File/FolderCreate`: a folder for uploads, optionally inside `parent`.
    pub async fn folder_create(&self, name: &str, parent: Option<&str>) -> Result<Folder> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(Error::invalid(
                "name",
                format!("{name:?} must be letters, digits, '-' or '_' (and not empty)"),
            ));
        }
        let mut body = json!({ "name": name });
        if let Some(parent) = parent {
            body["parentid"] = json!(parent);
        }
        let list: FileList<Folder> = self
            .send("File/FolderCreate", Repeat::Safe, || {
                Ok(self.post("File/FolderCreate").json(&body))
            })
            .await?;
        first_of(list.list, "File/FolderCreate")
    }

    /// `POST /File/Upload`: streams a local file (never held in memory) into the project's
    /// storage, optionally into `folder`. Files over 100 MB or of a type Wiro refuses are
    /// rejected before anything is sent. Never retried once the upload has begun.
    pub async fn upload(&self, path: &Path, folder: Option<&str>) -> Result<UploadedFile> {
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| Error::invalid("file", format!("{} has no file name", path.display())))?
            .to_owned();
        let content_type = upload_content_type(&file_name).ok_or_else(|| {
            Error::invalid(
                "file",
                format!(
                    "{file_name}: this type is not accepted by File/Upload (images jpg png gif webp heic, video mp4 webm mov, audio mp3 wav m4a, documents pdf csv docx xlsx pptx txt md epub, zip)"
                ),
            )
        })?;
        let metadata = tokio::fs::metadata(path)
            .await
            .map_err(|source| Error::io(path, source))?;
        if !metadata.is_file() {
            return Err(Error::invalid(
                "file",
                format!("{} is not a file", path.display()),
            ));
        }
        let size = metadata.len();
        if size > MAX_UPLOAD_BYTES {
            return Err(Error::invalid(
                "file",
                format!(
                    "{file_name} is {size} bytes; File/Upload takes at most {MAX_UPLOAD_BYTES} bytes (100 MB)"
                ),
            ));
        }
        let list: FileList<UploadedFile> = self
            .send("File/Upload", Repeat::Never, || {
                let file = std::fs::File::open(path).map_err(|source| Error::io(path, source))?;
                let stream = ReaderStream::new(tokio::fs::File::from_std(file));
                let part = reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::wrap_stream(stream),
                    size,
                )
                .file_name(file_name.clone())
                .mime_str(content_type)
                .map_err(|problem| Error::invalid("file", problem.to_string()))?;
                let mut form = reqwest::multipart::Form::new().part("file", part);
                if let Some(folder) = folder {
                    form = form.text("folderid", folder.to_owned());
                }
                Ok(self.post("File/Upload").multipart(form))
            })
            .await?;
        first_of(list.list, "File/Upload")
    }

    /// `POST /Run/{owner}/{model}`: starts a task and returns its handle as soon as it is
    /// accepted. Values are sent as strings, as the docs do. **Costs money; never retried**
    /// once a byte may have reached the server.
    pub async fn run(&self, model: &str, parameters: &Map<String, Value>) -> Result<TaskHandle> {
        let slug = model_slug(model)?;
        let body: Map<String, Value> = parameters
            .iter()
            .map(|(name, value)| (name.clone(), wire_value(value)))
            .collect();
        let operation = format!("Run/{slug}");
        let accepted: RunAccepted = self
            .send(&operation, Repeat::Never, || {
                Ok(self.post(&operation).json(&body))
            })
            .await?;
        if accepted.taskid.is_empty() {
            return Err(Error::OutcomeUnknown {
                operation,
                message: format!("the Run was accepted but no taskid came back ({accepted:?})"),
                source: None,
            });
        }
        Ok(accepted.into())
    }

    /// `POST /Task/Detail`: the task's current record.
    pub async fn task_detail(&self, lookup: impl Into<TaskLookup>) -> Result<Task> {
        let body = match lookup.into() {
            TaskLookup::Id(taskid) => json!({ "taskid": taskid }),
            TaskLookup::Token(token) => json!({ "tasktoken": token }),
        };
        self.task_call("Task/Detail", body).await
    }

    /// `POST /Task/Kill`: stops a running task. Returns the task record.
    pub async fn task_kill(&self, taskid: &str) -> Result<Task> {
        self.task_call("Task/Kill", json!({ "taskid": taskid }))
            .await
    }

    /// `POST /Task/Cancel`: removes a task that is still queued. Returns the task record.
    pub async fn task_cancel(&self, taskid: &str) -> Result<Task> {
        self.task_call("Task/Cancel", json!({ "taskid": taskid }))
            .await
    }

    /// Stops a task whatever its state: Cancel while queued, Kill once running.
    /// Takes an id, a token (`TaskLookup::Token`) or a [`TaskHandle`]; the id comes from the
    /// task's record, so a handle that only has a token can be stopped too.
    pub async fn stop_task(&self, task: impl Into<TaskLookup>) -> Result<StopOutcome> {
        let task = self.task_detail(task).await?;
        let taskid = task.id.clone();
        let taskid = taskid.as_str();
        if task.is_terminal() {
            return Ok(StopOutcome::AlreadyEnded(task));
        }
        if task.status.is_queued() {
            match self.task_cancel(taskid).await {
                Ok(task) => return Ok(StopOutcome::Cancelled(task)),
                // It left the queue meanwhile: kill it instead.
                Err(Error::Rejected { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        match self.task_kill(taskid).await {
            Ok(task) => Ok(StopOutcome::Killed(task)),
            // It ended meanwhile.
            Err(Error::Rejected { .. }) => {
                let task = self.task_detail(TaskLookup::Id(taskid.to_owned())).await?;
                Ok(StopOutcome::AlreadyEnded(task))
            }
            Err(other) => Err(other),
        }
    }

    /// `POST /Tool/Detail`: a model's description and parameter list, as the server gives it.
    pub async fn tool_detail(&self, model: &str) -> Result<Value> {
        let slug = model_slug(model)?;
        let (owner, project) = slug.split_once('/').unwrap_or((slug, ""));
        let body = json!({ "slugowner": owner, "slugproject": project });
        let answer: Map<String, Value> = self
            .send("Tool/Detail", Repeat::Safe, || {
                Ok(self.post("Tool/Detail").json(&body))
            })
            .await?;
        Ok(Value::Object(answer))
    }

    /// Sends a read or an idempotent change (retried like Task/Detail) and parses its answer.
    /// For operations written in other files of this module.
    pub(super) async fn send_safe<T: DeserializeOwned>(
        &self,
        operation: &str,
        body: &Value,
    ) -> Result<T> {
        self.send(operation, Repeat::Safe, || {
            Ok(self.post(operation).json(body))
        })
        .await
    }

    async fn task_call(&self, operation: &str, body: Value) -> Result<Task> {
        let list: TaskList = self
            .send(operation, Repeat::Safe, || {
                Ok(self.post(operation).json(&body))
            })
            .await?;
        let mut task = first_of(list.tasklist, operation)?;
        self.seal_outputs(&mut task);
        Ok(task)
    }

    fn post(&self, operation: &str) -> RequestBuilder {
        self.inner.http.post(self.endpoint(operation))
    }

    /// The address of an operation: `{base_url}/{operation}`.
    fn endpoint(&self, operation: &str) -> String {
        let base = self.inner.config.base_url.trim_end_matches('/');
        format!("{base}/{operation}")
    }

    /// Sends one operation, signing each try afresh, retrying as `repeat` allows.
    async fn send<T: DeserializeOwned>(
        &self,
        operation: &str,
        repeat: Repeat,
        request: impl Fn() -> Result<RequestBuilder>,
    ) -> Result<T> {
        let mut retries = Retries::new(self.inner.config.retry, operation);
        loop {
            let mut builder = request()?;
            if repeat == Repeat::Safe {
                builder = builder.timeout(self.inner.config.request_timeout);
            }
            for (name, value) in
                auth_headers(&self.inner.config.credentials, self.inner.nonces.next())
            {
                builder = builder.header(name, value);
            }
            let (error, wait) = match self.send_once::<T>(operation, repeat, builder).await {
                Ok(body) => return Ok(body),
                Err((error, wait)) if repeat == Repeat::Never => {
                    (may_have_taken_effect(operation, error), wait)
                }
                Err(failure) => failure,
            };
            let retryable = match repeat {
                Repeat::Safe => error.is_transient(),
                Repeat::Never => matches!(error, Error::Connection { .. }),
            };
            retries.wait_to_retry(error, wait, retryable).await?;
        }
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        operation: &str,
        repeat: Repeat,
        builder: RequestBuilder,
    ) -> std::result::Result<T, (Error, Option<std::time::Duration>)> {
        let url = self.endpoint(operation);
        let transport =
            |problem| Error::transport(operation, &url, problem, repeat == Repeat::Safe);
        let response = builder.send().await.map_err(|e| (transport(e), None))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = response.headers().get(LOCATION);
            let location = location.map(|value| String::from_utf8_lossy(value.as_bytes()));
            let why = "API calls carry your key and never follow a redirect; if that address is the API, set WIRO_BASE_URL to it";
            return Err((
                Error::redirected(operation, &url, status, location.as_deref(), why),
                None,
            ));
        }
        let wait = retry_after(response.headers());
        let body = response.text().await.map_err(|e| (transport(e), None))?;
        tracing::debug!(operation, status, "answer");
        parse_answer(operation, status, wait, &body).map_err(|error| (error, wait))
    }
}

/// The most redirects a download follows (API calls follow none).
pub(crate) const MAX_REDIRECTS: usize = 10;

/// For a Run or an Upload, an answer that does not say "refused" leaves the outcome unknown:
/// a gateway's 5xx or 408 can come after the server acted, and a 2xx we cannot read may hold
/// the id of a task that is already paid for.
fn may_have_taken_effect(operation: &str, error: Error) -> Error {
    let unknown = match &error {
        Error::Server { .. } => true,
        Error::Protocol { status, .. } => (200..300).contains(status),
        _ => false,
    };
    if unknown {
        Error::OutcomeUnknown {
            operation: operation.into(),
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    } else {
        error
    }
}

fn first_of<T>(list: Vec<T>, operation: &str) -> Result<T> {
    list.into_iter().next().ok_or_else(|| Error::Protocol {
        operation: operation.into(),
        status: 200,
        problem: "the answer succeeded but its list is empty".into(),
        snippet: String::new(),
    })
}

/// Checks an `owner/model` slug before it becomes part of a path.
pub(super) fn model_slug(model: &str) -> Result<&str> {
    let part_ok = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && part != "."
            && part != ".."
    };
    match model.split_once('/') {
        Some((owner, name)) if part_ok(owner) && part_ok(name) => Ok(model),
        _ => Err(Error::invalid(
            "model",
            format!("{model:?} must be owner/model, e.g. PixVerse/text-to-video-v4"),
        )),
    }
}

/// Run parameters travel as strings (`"duration": "5"`); lists and objects stay JSON.
pub(super) fn wire_value(value: &Value) -> Value {
    match value {
        Value::String(_) | Value::Array(_) | Value::Object(_) => value.clone(),
        Value::Null => Value::String(String::new()),
        Value::Bool(flag) => Value::String(flag.to_string()),
        Value::Number(number) => Value::String(number.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_must_be_owner_and_model() {
        assert!(model_slug("PixVerse/text-to-video-v4").is_ok());
        for bad in ["", "pixverse", "a/b/c", "../x", "a/..", "a b/c"] {
            let error = model_slug(bad).unwrap_err();
            assert!(
                error.to_string().starts_with("invalid model"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn values_go_out_as_strings() {
        assert_eq!(wire_value(&json!(5)), json!("5"));
        assert_eq!(wire_value(&json!(false)), json!("false"));
        assert_eq!(wire_value(&Value::Null), json!(""));
        assert_eq!(wire_value(&json!(["a"])), json!(["a"]));
    }
}
