//! `Error`: everything that can go wrong talking to Wiro, in variants a caller can act on.

use std::path::PathBuf;
use std::time::Duration;

/// What went wrong. Messages name the operation, the task id and the server's own words.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value was refused before anything was sent.
    #[error("invalid {field}: {rule}")]
    InvalidArgument {
        /// The field or argument, e.g. `file` or `quality`.
        field: String,
        /// The rule it breaks, in words.
        rule: String,
    },
    /// The server refused the credentials (HTTP 401/403, or codes 98/99).
    #[error("authentication failed (HTTP {status}, code {code}): {message}")]
    Authentication {
        /// HTTP status.
        status: u16,
        /// Wiro error code.
        code: i64,
        /// The server's message.
        message: String,
    },
    /// Code 97: the balance does not cover the run. Nothing was started.
    #[error("insufficient balance (code 97): {message}")]
    InsufficientBalance {
        /// The server's message.
        message: String,
    },
    /// Code 96: too many tasks running for the balance. Nothing was started.
    #[error("concurrency limit reached (code 96): {message}")]
    ConcurrencyLimit {
        /// The server's message.
        message: String,
    },
    /// Code 1 or HTTP 404: unknown model, task or path.
    #[error("not found (code 1): {message}")]
    NotFound {
        /// The server's message.
        message: String,
    },
    /// Code 0 with a client-side status: the server refused the request as given.
    #[error("the server refused the request (HTTP {status}, code {code}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Wiro error code (0 for general and validation errors).
        code: i64,
        /// The server's message, word for word.
        message: String,
    },
    /// HTTP 429. Retried where retrying is safe.
    #[error("rate limited (HTTP 429){}", retry_after.map(|d| format!(", retry after {} s", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The wait the server asked for, when it said.
        retry_after: Option<Duration>,
        /// The server's message, if any.
        message: String,
    },
    /// HTTP 5xx or 408: the server failed. Retried where retrying is safe.
    #[error("server error (HTTP {status}): {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's message or a snippet of the body.
        message: String,
    },
    /// No answer: connection refused or dropped, or timed out before the request was sent
    /// in full. Retried where retrying is safe.
    #[error("{operation}: could not reach the server: {message}")]
    Connection {
        /// The operation, e.g. `Task/Detail`.
        operation: String,
        /// What the transport said.
        message: String,
        /// The transport's own error (usually a `reqwest::Error`); ask
        /// [`Error::is_timeout`] / [`Error::is_connect`], or downcast it.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// The address cannot be used as given, and trying again will not change that: its host
    /// name does not exist, its scheme is not http(s), or the server sent the request
    /// elsewhere (API calls never follow a redirect, since they carry the key; downloads
    /// follow up to 10, to http and https only). Nothing was started.
    #[error("{operation}: {url} cannot be used: {problem}")]
    BadAddress {
        /// The operation, e.g. `Task/Detail` or `download URL`.
        operation: String,
        /// The address asked for.
        url: String,
        /// Why it cannot be used, naming where a redirect went.
        problem: String,
        /// The resolver's error, when the host name does not exist.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// A fetch the rules refuse (see [`FetchRules`](super::FetchRules)): a URL the API did not
    /// hand out on a host nobody allowed, or an address inside the operator's network, also
    /// after a redirect. Nothing was fetched from it.
    #[error("{operation}: {url} is not fetched: {reason}")]
    FetchRefused {
        /// The operation, e.g. `download URL`.
        operation: String,
        /// The address refused (a redirect's, when a redirect went there).
        url: String,
        /// Why, and how to allow it.
        reason: String,
    },
    /// A request that costs money or stores data was sent, but no answer came back: it may or
    /// may not have taken effect. It is **not** retried, so it is never done twice.
    #[error("{operation}: the request was sent but no answer came ({message}); it may have been accepted — it is not sent again unless the task list shows it created nothing, so that it cannot run twice")]
    OutcomeUnknown {
        /// The operation, e.g. `Run/PixVerse/text-to-video-v4`.
        operation: String,
        /// What the transport said.
        message: String,
        /// What failed: the transport's error, or the server's answer as an [`Error`] (a 5xx,
        /// an unreadable 2xx); `None` when the answer was read but lacked the task id.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// The answer could not be understood.
    #[error(
        "unexpected answer from {operation} (HTTP {status}): {problem}; body starts: {snippet}"
    )]
    Protocol {
        /// The operation.
        operation: String,
        /// HTTP status.
        status: u16,
        /// What did not fit.
        problem: String,
        /// The first characters of the body.
        snippet: String,
    },
    /// The task ended without success (`pexit` not 0). It was not billed.
    #[error("task {taskid} failed (status {status}, pexit {pexit}): {debugerror}")]
    TaskFailed {
        /// The task's id.
        taskid: String,
        /// Its final status.
        status: String,
        /// Its exit code.
        pexit: String,
        /// The server's `debugerror`.
        debugerror: String,
    },
    /// The task was cancelled or killed.
    #[error("task {taskid} was cancelled{}", if debugerror.is_empty() { String::new() } else { format!(": {debugerror}") })]
    TaskCancelled {
        /// The task's id.
        taskid: String,
        /// The server's `debugerror`, if any.
        debugerror: String,
    },
    /// The wait's deadline passed while the task was still running. The task goes on.
    #[error("task {taskid} did not finish within {} s (last status {status}); it is still running — wait again with its handle, or kill it", waited.as_secs())]
    WaitTimeout {
        /// The task's id.
        taskid: String,
        /// Active (not queued) time waited.
        waited: Duration,
        /// The last status seen.
        status: String,
    },
    /// The caller cancelled the operation.
    #[error("cancelled")]
    Cancelled,
    /// A download did not complete as announced.
    #[error("download of {url} failed: {message}")]
    Download {
        /// The file's address.
        url: String,
        /// What went wrong.
        message: String,
        /// The transport's error when the connection failed mid-body; `None` for a short or
        /// misplaced body.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    /// Worth trying again later: rate limits, server failures, lost connections.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. } | Error::Server { .. } | Error::Connection { .. }
        )
    }

    /// The task this error says ended without success (failed, or cancelled): only
    /// successful tasks are billed, so it was charged nothing. `None` for a task that
    /// succeeded and was refused afterwards (no output file), which is billed.
    pub fn unbilled_task(&self) -> Option<&str> {
        match self {
            Error::TaskCancelled { taskid, .. } => Some(taskid),
            Error::TaskFailed {
                taskid,
                status,
                pexit,
                ..
            } => {
                // As `Task::succeeded` reads it: the exit code as a number (`0`, `"0"`, `0.0`).
                let exit = pexit.trim_matches(|c: char| c == '"' || c.is_whitespace());
                let succeeded = status == super::TaskStatus::PostprocessEnd.as_str()
                    && exit.parse::<f64>() == Ok(0.0);
                (!succeeded).then_some(taskid.as_str())
            }
            _ => None,
        }
    }

    /// The request timed out (connecting, or waiting for the answer or the body), as the
    /// kept transport error says.
    pub fn is_timeout(&self) -> bool {
        self.transport_chain().any(|cause| {
            cause
                .downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_timeout)
                || cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        })
    }

    /// The connection could not be opened, so no byte of the request reached the server.
    pub fn is_connect(&self) -> bool {
        self.transport_chain().any(|cause| {
            cause
                .downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_connect)
                || cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        })
    }

    /// The kept source and its own sources, outermost first.
    fn transport_chain(&self) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
        std::iter::successors(std::error::Error::source(self), |cause| cause.source())
    }

    /// The server's requested wait, for a rate limit or a 503 with `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A transport failure of `operation` (to `url`), told apart by what retrying can change:
    /// a host name that does not exist is [`Error::BadAddress`]; a connection that could not
    /// be opened, or any failure of a request that is `safe_to_repeat`, is
    /// [`Error::Connection`]; otherwise the request may have reached the server, and the
    /// outcome is unknown ([`Error::OutcomeUnknown`]).
    pub(crate) fn transport(
        operation: &str,
        url: &str,
        problem: reqwest::Error,
        safe_to_repeat: bool,
    ) -> Self {
        let mut message = error_chain(&problem);
        // reqwest writes URLs normalised (`HTTP://Host:80/x` is `http://host/x`): compare so.
        let asked = reqwest::Url::parse(url).ok();
        if let Some(went) = problem.url().filter(|went| Some(*went) != asked.as_ref()) {
            message.push_str(&format!(" (after a redirect to {went})"));
        }
        let unknown_host = std::iter::successors(
            Some(&problem as &(dyn std::error::Error + 'static)),
            |cause| cause.source(),
        )
        .find_map(|cause| cause.downcast_ref::<super::resolve::UnknownHost>());
        let inside = std::iter::successors(
            Some(&problem as &(dyn std::error::Error + 'static)),
            |cause| cause.source(),
        )
        .find_map(|cause| cause.downcast_ref::<super::resolve::InsideNetwork>());
        if let Some(inside) = inside {
            return Error::FetchRefused {
                operation: operation.into(),
                url: problem
                    .url()
                    .map_or_else(|| url.to_owned(), ToString::to_string),
                reason: inside.to_string(),
            };
        }
        if let Some(unknown) = unknown_host {
            return Error::BadAddress {
                operation: operation.into(),
                url: url.into(),
                problem: unknown.to_string(),
                source: Some(Box::new(problem)),
            };
        }
        let operation = operation.into();
        // A failed connect means no byte left: safe to try again, even for a Run.
        let nothing_sent = problem.is_connect();
        let source = Some(Box::new(problem) as _);
        if safe_to_repeat || nothing_sent {
            Error::Connection {
                operation,
                message,
                source,
            }
        } else {
            Error::OutcomeUnknown {
                operation,
                message,
                source,
            }
        }
    }

    /// A redirect (HTTP `status`, to `location`) that was not followed: API calls never follow
    /// one, and downloads not to another scheme or past 10 hops.
    pub(crate) fn redirected(
        operation: &str,
        url: &str,
        status: u16,
        location: Option<&str>,
        why: &str,
    ) -> Self {
        let problem = match location {
            Some(location) => format!("it answered HTTP {status}, a redirect to {location}; {why}"),
            None => format!("it answered HTTP {status}, a redirect without a Location; {why}"),
        };
        Error::BadAddress {
            operation: operation.into(),
            url: url.into(),
            problem,
            source: None,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field: field.into(),
            rule: rule.into(),
        }
    }

    pub(crate) fn download(url: &str, message: impl Into<String>) -> Self {
        Error::Download {
            url: url.to_owned(),
            message: message.into(),
            source: None,
        }
    }

    /// A download that failed because the transport did; `source` is kept.
    pub(crate) fn download_cut(
        url: &str,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Download {
            url: url.to_owned(),
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The whole source chain of an error: reqwest's top message alone says little.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Result` with this crate's API [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn transport_errors_keep_their_source_and_their_message() {
        let timed_out = std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 5 s");
        let error = Error::Connection {
            operation: "Task/Detail".into(),
            message: "no answer in 5 s".into(),
            source: Some(Box::new(timed_out)),
        };
        assert_eq!(
            error.to_string(),
            "Task/Detail: could not reach the server: no answer in 5 s"
        );
        assert!(error.is_timeout() && !error.is_connect());
        assert!(error.is_transient());
        let source = error.source().expect("kept");
        assert_eq!(source.to_string(), "no answer in 5 s");
    }

    #[test]
    fn an_unknown_outcome_keeps_the_server_error_it_came_from() {
        let server = Error::Server {
            status: 502,
            message: "bad gateway".into(),
        };
        let error = Error::OutcomeUnknown {
            operation: "Run/PixVerse/text-to-video-v4".into(),
            message: server.to_string(),
            source: Some(Box::new(server)),
        };
        let kept = error.source().and_then(|s| s.downcast_ref::<Error>());
        assert!(matches!(kept, Some(Error::Server { status: 502, .. })));
        assert!(!error.is_timeout() && !error.is_connect());
        assert!(Error::download("http://x/0.mp4", "short body")
            .source()
            .is_none());
    }
}
