//! One try of a download: a GET that appends to the partial file, its answer judged by status,
//! by `Content-Length` against the announced size, and by where its body ended.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use super::answer::retry_after;
use super::client::MAX_REDIRECTS;
use super::download::{on_blocking_thread, open_partial};
use super::file_sink::FileSink;
use super::{Client, DownloadProgress, Error, LocalFile, Result};

/// A body of at most this many bytes is gathered in memory and goes to disk when the
/// download ends, with the folder, the file, its sync and its rename, in one trip to a
/// blocking thread: a batch fetches thousands of small clips, and each trip is a thread
/// hand-off. Larger bodies stream through a [`FileSink`] in constant memory.
const GATHER_UP_TO: u64 = 1024 * 1024;

/// One open download: the temporary file (or the bytes waiting for it), its hash so far, and
/// what the server announced.
pub(super) struct Partial {
    /// The temporary file, once bytes went to disk; a [`FileSink`] writes it while a
    /// streamed body arrives, and between bodies only this does.
    file: Option<Arc<std::fs::File>>,
    /// The folder it goes in, made with the file.
    dir: PathBuf,
    path: PathBuf,
    /// Bytes received (counted in `received`) that are neither on disk nor hashed yet.
    pending: Vec<u8>,
    hasher: Sha256,
    pub(super) received: u64,
    pub(super) total: Option<u64>,
    pub(super) contenttype: String,
}

/// What a trip to disk takes and gives back: the file, if open, and the hash so far.
type OnDisk = (Option<Arc<std::fs::File>>, Sha256);

impl Partial {
    /// A download into `path` (a temporary name inside `dir`) of `total` bytes, when known;
    /// nothing is made on disk until bytes go there.
    pub(super) fn new(dir: PathBuf, path: PathBuf, total: Option<u64>) -> Self {
        Self {
            file: None,
            dir,
            path,
            pending: Vec::new(),
            hasher: Sha256::new(),
            received: 0,
            total,
            contenttype: String::new(),
        }
    }

    /// Empties the file, for a body that starts from the first byte again.
    async fn restart(&mut self) -> Result<()> {
        self.pending.clear();
        self.hasher = Sha256::new();
        self.received = 0;
        let Some(file) = self.file.clone() else {
            return Ok(());
        };
        let path = self.path.clone();
        on_blocking_thread(&self.path, move || {
            file.set_len(0)
                .and_then(|()| (&*file).rewind())
                .map_err(|e| Error::io(path, e))
        })
        .await
    }

    /// Takes what a trip to disk needs: the file, the bytes waiting and the hash.
    fn for_trip(&mut self) -> (OnDisk, Vec<u8>, PathBuf, PathBuf) {
        let state = (self.file.take(), std::mem::take(&mut self.hasher));
        let paths = (self.dir.clone(), self.path.clone());
        (state, std::mem::take(&mut self.pending), paths.0, paths.1)
    }

    /// Writes the bytes waiting in memory, opening the file (and its folder) first when
    /// nothing went to disk yet: before a body is streamed.
    async fn write_pending(&mut self) -> Result<Arc<std::fs::File>> {
        let (state, pending, dir, path) = self.for_trip();
        let (file, hasher) =
            on_blocking_thread(&self.path, move || write_down(state, &pending, &dir, &path))
                .await?;
        (self.file, self.hasher) = (Some(Arc::clone(&file)), hasher);
        Ok(file)
    }

    /// Puts the whole file on disk under `done`, in one trip: the bytes waiting written (the
    /// folder and the file made first when nothing went to disk yet), synced, and renamed, so
    /// that no one (a journal included) sees a complete file the disk does not hold. Gives
    /// the file's SHA-256.
    pub(super) async fn finish(mut self, done: PathBuf) -> Result<Sha256> {
        let (state, pending, dir, path) = self.for_trip();
        let size = self.received;
        on_blocking_thread(&self.path, move || {
            let (file, hasher) = write_down(state, &pending, &dir, &path)?;
            file.sync_all().map_err(|e| Error::io(&path, e))?;
            let written = LocalFile {
                path: done,
                size,
                sha256: hex::encode(hasher.clone().finalize()),
                contenttype: String::new(),
            };
            (written.keep_earlier()).map_err(|e| Error::io(&written.path, e))?;
            std::fs::rename(&path, &written.path).map_err(|e| Error::io(written.path, e))?;
            Ok(hasher)
        })
        .await
    }

    /// Holds the bytes received plus the body's `length` (its `Content-Length`, answered with
    /// `status`) against the size announced before, and takes that sum as the size.
    fn check_length(
        &mut self,
        operation: &str,
        status: StatusCode,
        length: Option<u64>,
    ) -> Result<()> {
        let Some(length) = length else {
            return Ok(());
        };
        let total = self.received + length;
        if let Some(announced) = self.total {
            if announced != total {
                return Err(Error::Protocol {
                    operation: operation.to_owned(),
                    status: status.as_u16(),
                    problem: format!(
                        "Content-Length says {total} bytes but the task announced {announced}"
                    ),
                    snippet: String::new(),
                });
            }
        }
        self.total = Some(total);
        Ok(())
    }

    /// Writes the body of `response` to the file as it arrives, telling `on_progress` after
    /// each chunk; gives the error that cut the connection, if one did.
    async fn append_body(
        &mut self,
        response: &mut reqwest::Response,
        on_progress: &mut (impl FnMut(DownloadProgress) + Send),
    ) -> Result<Option<reqwest::Error>> {
        if response
            .content_length()
            .is_some_and(|length| length <= GATHER_UP_TO)
        {
            return self.gather_body(response, on_progress).await;
        }
        // The body is written and hashed on other threads while the next chunk is read.
        let file = self.write_pending().await?;
        let sink = FileSink::start(
            file,
            std::mem::take(&mut self.hasher),
            self.total.map(|total| total.saturating_sub(self.received)),
        );
        let cut = loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break None,
                Err(e) => break Some(e),
            };
            let length = chunk.len() as u64;
            if !sink.write(chunk).await {
                // The writer stopped on an error: `finish` returns it.
                break None;
            }
            self.received += length;
            on_progress(DownloadProgress {
                received: self.received,
                total: self.total,
            });
        };
        self.hasher = sink.finish().await.map_err(|e| Error::io(&self.path, e))?;
        Ok(cut)
    }

    /// A small body (its `Content-Length` at most [`GATHER_UP_TO`]): kept in memory until the
    /// download ends, what came of it even when the connection was cut (the next try resumes
    /// after it).
    async fn gather_body(
        &mut self,
        response: &mut reqwest::Response,
        on_progress: &mut (impl FnMut(DownloadProgress) + Send),
    ) -> Result<Option<reqwest::Error>> {
        let cut = loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break None,
                Err(e) => break Some(e),
            };
            self.pending.extend_from_slice(&chunk);
            self.received += chunk.len() as u64;
            on_progress(DownloadProgress {
                received: self.received,
                total: self.total,
            });
        };
        Ok(cut)
    }

    /// Whether the body that ended (or was `cut`) brought all it should have; a body that
    /// stopped early is resumed by the next try.
    fn check_end(&self, url: &str, cut: Option<reqwest::Error>) -> Result<()> {
        if let Some(e) = cut {
            return Err(Error::download_cut(
                url,
                format!("connection dropped after {} bytes: {e}", self.received),
                e,
            ));
        }
        match self.total {
            Some(total) if self.received < total => Err(Error::download(
                url,
                format!("the body ended after {} of {total} bytes", self.received),
            )),
            _ => Ok(()),
        }
    }
}

/// On a blocking thread: the file of `state` (else a new one at `path`, its folder `dir` made
/// first) with `pending` appended, and the hash of `state` continued over them.
fn write_down(
    state: OnDisk,
    pending: &[u8],
    dir: &Path,
    path: &Path,
) -> Result<(Arc<std::fs::File>, Sha256)> {
    let (file, mut hasher) = state;
    let file = match file {
        Some(file) => file,
        None => {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            Arc::new(open_partial(path).map_err(|e| Error::io(path, e))?)
        }
    };
    (&*file)
        .write_all(pending)
        .map_err(|e| Error::io(path, e))?;
    hasher.update(pending);
    Ok((file, hasher))
}

impl Client {
    /// GETs `start` (the parsed `url`) from byte `from`, following up to [`MAX_REDIRECTS`] redirects to http and
    /// https addresses, one hop at a time so that an error names where the last one went.
    async fn follow_redirects(
        &self,
        operation: &str,
        url: &str,
        start: &reqwest::Url,
        from: u64,
    ) -> Result<reqwest::Response> {
        let mut target = start.clone();
        let mut hops = 0;
        loop {
            let mut request = self.http().get(target.clone());
            if from > 0 {
                request = request.header(RANGE, format!("bytes={from}-"));
            }
            let response = request
                .send()
                .await
                .map_err(|e| Error::transport(operation, url, e, true))?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                return Ok(response);
            }
            let location = response.headers().get(LOCATION);
            let location = location.map(|value| String::from_utf8_lossy(value.as_bytes()));
            let next = location.as_deref().and_then(|to| target.join(to).ok());
            match next {
                Some(next) if hops < MAX_REDIRECTS && matches!(next.scheme(), "http" | "https") => {
                    tracing::debug!(url, to = %next, "following a redirect");
                    // Each hop is judged again: a public host may point inside.
                    self.fetch_rules()
                        .check_hop(&next)
                        .map_err(|reason| Error::FetchRefused {
                            operation: operation.to_owned(),
                            url: next.to_string(),
                            reason: format!("a redirect from {target} went there, and {reason}"),
                        })?;
                    target = next;
                    hops += 1;
                }
                _ => {
                    let why = format!(
                        "downloads follow at most {MAX_REDIRECTS} redirects, to http and https addresses only"
                    );
                    return Err(Error::redirected(
                        operation,
                        url,
                        status.as_u16(),
                        location.as_deref(),
                        &why,
                    ));
                }
            }
        }
    }

    /// One GET (named `operation` in errors), appending to `partial`; `Err` carries an optional
    /// `Retry-After`.
    pub(super) async fn fetch_into(
        &self,
        operation: &str,
        url: &str,
        start: &reqwest::Url,
        partial: &mut Partial,
        on_progress: &mut (impl FnMut(DownloadProgress) + Send),
    ) -> std::result::Result<(), Failure> {
        let mut response = self
            .follow_redirects(operation, url, start, partial.received)
            .await
            .map_err(without_wait)?;
        let status = response.status();
        match decide_on_status(operation, url, status, response.headers(), partial) {
            StatusDecision::Append => {}
            StatusDecision::StartOver => partial.restart().await.map_err(without_wait)?,
            StatusDecision::WrongOffset => {
                partial.restart().await.map_err(without_wait)?;
                let error = Error::download(url, "the server resumed at the wrong offset");
                return Err((error, None));
            }
            StatusDecision::Complete => return Ok(()),
            StatusDecision::Refused(failure) => return Err(failure),
        }
        partial
            .check_length(operation, status, response.content_length())
            .map_err(without_wait)?;
        if let Some(content_type) = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            partial.contenttype = content_type.to_owned();
        }
        let cut = partial
            .append_body(&mut response, on_progress)
            .await
            .map_err(without_wait)?;
        partial.check_end(url, cut).map_err(without_wait)
    }
}

/// A failed try, with the server's `Retry-After` when it gave one.
pub(super) type Failure = (Error, Option<std::time::Duration>);

/// A failure the server named no pause for.
fn without_wait(error: Error) -> Failure {
    (error, None)
}

/// What an answer's status means for the partial file.
enum StatusDecision {
    /// The body continues the file.
    Append,
    /// The body is the whole file (the server ignored the range): what came before goes.
    StartOver,
    /// The body continues from another byte than asked: what came before goes, and the try
    /// fails so that the next one asks again.
    WrongOffset,
    /// Nothing is left to fetch.
    Complete,
    /// No body to write.
    Refused(Failure),
}

/// Judges `status` (with its `headers`) for `partial`, which asked for the bytes after those it
/// holds.
fn decide_on_status(
    operation: &str,
    url: &str,
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    partial: &Partial,
) -> StatusDecision {
    let wait = retry_after(headers);
    match status {
        StatusCode::PARTIAL_CONTENT if partial.received > 0 => {
            if content_range_start(headers) == Some(partial.received) {
                StatusDecision::Append
            } else {
                StatusDecision::WrongOffset
            }
        }
        StatusCode::OK if partial.received > 0 => StatusDecision::StartOver,
        StatusCode::OK | StatusCode::PARTIAL_CONTENT => StatusDecision::Append,
        StatusCode::RANGE_NOT_SATISFIABLE if Some(partial.received) == partial.total => {
            StatusDecision::Complete
        }
        other => StatusDecision::Refused(refusal(operation, url, other, wait)),
    }
}

/// The error for a status that brings no body to write, and whether and when to try again.
fn refusal(
    operation: &str,
    url: &str,
    status: StatusCode,
    wait: Option<std::time::Duration>,
) -> Failure {
    match status {
        StatusCode::NOT_FOUND | StatusCode::GONE => (
            Error::NotFound {
                message: format!(
                    "{url} answered HTTP {}: outputs are kept only for a limited time after the task ends",
                    status.as_u16()
                ),
            },
            None,
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            Error::RateLimited {
                retry_after: wait,
                message: String::new(),
            },
            wait,
        ),
        other if other.is_server_error() || other == StatusCode::REQUEST_TIMEOUT => (
            Error::Server {
                status: other.as_u16(),
                message: operation.to_owned(),
            },
            wait,
        ),
        // Other client errors will not get better by retrying.
        other => (
            Error::Protocol {
                operation: operation.to_owned(),
                status: other.as_u16(),
                problem: "the file server refused the download".into(),
                snippet: String::new(),
            },
            None,
        ),
    }
}

/// The first byte offset of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range_start(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}
