//! Downloads of output files: streamed to disk in constant memory, into a temporary file that
//! is renamed when complete, size-checked, and resumed with `Range` after a dropped connection.

use std::io::Seek;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::answer::retry_after;
use super::client::MAX_REDIRECTS;
use super::file_sink::FileSink;
use super::retry::Retries;
use super::{Client, Error, OutputFile, Result};

/// A file on the local disk, as a download wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "LocalFile", extend("x-port-type" = "LocalFile"))]
pub struct LocalFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of its content.
    pub sha256: String,
    /// The content type the server gave, e.g. `video/mp4`.
    pub contenttype: String,
}

/// How far a download has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadProgress {
    /// Bytes received so far (all of them are on disk when the download returns).
    pub received: u64,
    /// The full size, when known.
    pub total: Option<u64>,
}

/// A file name that stays inside the target directory: the last path component of what the
/// server gave, without control characters or leading dots; `output` if nothing is left.
pub fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != ':')
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(200)
        .collect();
    if cleaned.is_empty() {
        "output".into()
    } else {
        cleaned
    }
}

/// One open download: the temporary file, its hash so far, and what the server announced.
struct Partial {
    /// Written by a [`FileSink`] while a body arrives, and between bodies only here.
    file: Arc<std::fs::File>,
    path: PathBuf,
    hasher: Sha256,
    received: u64,
    total: Option<u64>,
    contenttype: String,
}

impl Partial {
    async fn restart(&mut self) -> Result<()> {
        let file = Arc::clone(&self.file);
        let path = self.path.clone();
        on_blocking_thread(&self.path, move || {
            file.set_len(0)
                .and_then(|()| (&*file).rewind())
                .map_err(|e| Error::io(path, e))
        })
        .await?;
        self.hasher = Sha256::new();
        self.received = 0;
        Ok(())
    }
}

impl Client {
    /// Downloads `url` into `dir` as `file_name` (made safe with [`safe_file_name`]).
    ///
    /// A URL given as text carries no proof that the API handed it out: it is fetched only
    /// from the configured API and socket hosts and the allowed ones ([`FetchRules`](super::FetchRules)). Use
    /// [`Client::download_output`] for a task's output file.
    ///
    /// Streams to `dir/.NAME.part`, resumes with a `Range` request after a dropped
    /// connection (or starts over when the server ignores ranges), retries transient
    /// failures within the client's retry policy, checks the size against `expected_size`
    /// and `Content-Length`, and renames the file into place only when it is complete.
    pub async fn download(
        &self,
        url: &str,
        dir: &Path,
        file_name: &str,
        expected_size: Option<u64>,
        on_progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<LocalFile> {
        self.fetch_file(url, None, dir, file_name, expected_size, on_progress)
            .await
    }

    /// Downloads a task's output file into `dir` as `file_name`, as [`Client::download`]
    /// does; its seal, when the API handed it out, lets it come from any public host.
    pub async fn download_output(
        &self,
        output: &OutputFile,
        dir: &Path,
        file_name: &str,
        on_progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<LocalFile> {
        let seal = output.seal.as_deref();
        let size = output.size_bytes();
        self.fetch_file(&output.url, seal, dir, file_name, size, on_progress)
            .await
    }

    /// The download itself: `seal` is the URL's proof of coming from the API, if any.
    async fn fetch_file(
        &self,
        url: &str,
        seal: Option<&str>,
        dir: &Path,
        file_name: &str,
        expected_size: Option<u64>,
        mut on_progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<LocalFile> {
        let operation = format!("download {url}");
        let start = self
            .fetch_rules()
            .check_source(url, seal)
            .map_err(|reason| Error::FetchRefused {
                operation: operation.clone(),
                url: url.to_owned(),
                reason,
            })?;
        let name = safe_file_name(file_name);
        let final_path = dir.join(&name);
        let part_path = dir.join(format!(".{name}.part"));
        // The folder and the file in one trip to a blocking thread (each trip is a thread
        // hand-off, and a batch makes thousands of them).
        let (folder, part) = (dir.to_owned(), part_path.clone());
        let file = on_blocking_thread(&part_path, move || {
            std::fs::create_dir_all(&folder).map_err(|e| Error::io(folder, e))?;
            std::fs::File::create(&part).map_err(|e| Error::io(part, e))
        })
        .await?;
        // Removes the partial file if this future is dropped (cancelled) or fails.
        let mut leftover = RemoveOnDrop(Some(part_path.clone()));
        let mut partial = Partial {
            file: Arc::new(file),
            path: part_path.clone(),
            hasher: Sha256::new(),
            received: 0,
            total: expected_size,
            contenttype: String::new(),
        };
        let mut retries = Retries::new(self.config().retry, &operation);
        loop {
            let outcome = self
                .fetch_into(&operation, url, &start, &mut partial, &mut on_progress)
                .await;
            let (error, wait) = match outcome {
                Ok(()) => break,
                Err(failure) => failure,
            };
            // A dropped body is resumed from where it stopped.
            let retryable = error.is_transient() || matches!(error, Error::Download { .. });
            retries.wait_to_retry(error, wait, retryable).await?;
            tracing::debug!(url, received = partial.received, "resuming the download");
        }

        if let Some(expected) = expected_size {
            if partial.received != expected {
                return Err(Error::download(
                    url,
                    format!(
                        "got {} bytes but the task announced {expected}",
                        partial.received
                    ),
                ));
            }
        }
        // On disk before it takes its name, so that no one (the journal included) sees a
        // complete file the disk does not hold; both in one trip to a blocking thread.
        let file = Arc::clone(&partial.file);
        let (part, done) = (part_path.clone(), final_path.clone());
        on_blocking_thread(&part_path, move || {
            file.sync_all().map_err(|e| Error::io(&part, e))?;
            std::fs::rename(&part, &done).map_err(|e| Error::io(done, e))
        })
        .await?;
        leftover.0 = None;
        Ok(LocalFile {
            path: final_path,
            size: partial.received,
            sha256: hex::encode(partial.hasher.finalize()),
            contenttype: partial.contenttype,
        })
    }

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
    async fn fetch_into(
        &self,
        operation: &str,
        url: &str,
        start: &reqwest::Url,
        partial: &mut Partial,
        on_progress: &mut (impl FnMut(DownloadProgress) + Send),
    ) -> std::result::Result<(), (Error, Option<std::time::Duration>)> {
        let mut response = self
            .follow_redirects(operation, url, start, partial.received)
            .await
            .map_err(|e| (e, None))?;
        let status = response.status();
        let wait = retry_after(response.headers());
        match status {
            StatusCode::PARTIAL_CONTENT if partial.received > 0 => {
                let from = content_range_start(response.headers());
                if from != Some(partial.received) {
                    partial.restart().await.map_err(|e| (e, None))?;
                    return Err((Error::download(url, "the server resumed at the wrong offset"), None));
                }
            }
            StatusCode::OK | StatusCode::PARTIAL_CONTENT => {
                if partial.received > 0 {
                    // The server ignored the range: start over.
                    partial.restart().await.map_err(|e| (e, None))?;
                }
            }
            StatusCode::RANGE_NOT_SATISFIABLE if Some(partial.received) == partial.total => {
                return Ok(());
            }
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                return Err((
                    Error::NotFound {
                        message: format!(
                            "{url} answered HTTP {}: outputs are kept only for a limited time after the task ends",
                            status.as_u16()
                        ),
                    },
                    None,
                ))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Err((
                    Error::RateLimited {
                        retry_after: wait,
                        message: String::new(),
                    },
                    wait,
                ))
            }
            other if other.is_server_error() || other == StatusCode::REQUEST_TIMEOUT => {
                return Err((
                    Error::Server {
                        status: other.as_u16(),
                        message: operation.to_owned(),
                    },
                    wait,
                ))
            }
            other => {
                // Other client errors will not get better by retrying.
                return Err((
                    Error::Protocol {
                        operation: operation.to_owned(),
                        status: other.as_u16(),
                        problem: "the file server refused the download".into(),
                        snippet: String::new(),
                    },
                    None,
                ));
            }
        }
        if let Some(length) = response.content_length() {
            let total = partial.received + length;
            if let Some(announced) = partial.total {
                if announced != total {
                    return Err((
                        Error::Protocol {
                            operation: operation.to_owned(),
                            status: status.as_u16(),
                            problem: format!(
                                "Content-Length says {total} bytes but the task announced {announced}"
                            ),
                            snippet: String::new(),
                        },
                        None,
                    ));
                }
            }
            partial.total = Some(total);
        }
        if let Some(content_type) = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            partial.contenttype = content_type.to_owned();
        }
        // The body is written and hashed on other threads while the next chunk is read.
        let sink = FileSink::start(
            Arc::clone(&partial.file),
            std::mem::take(&mut partial.hasher),
            partial
                .total
                .map(|total| total.saturating_sub(partial.received)),
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
            partial.received += length;
            on_progress(DownloadProgress {
                received: partial.received,
                total: partial.total,
            });
        };
        partial.hasher = sink
            .finish()
            .await
            .map_err(|e| (Error::io(&partial.path, e), None))?;
        if let Some(e) = cut {
            return Err((
                Error::download_cut(
                    url,
                    format!("connection dropped after {} bytes: {e}", partial.received),
                    e,
                ),
                None,
            ));
        }
        match partial.total {
            Some(total) if partial.received < total => Err((
                Error::download(
                    url,
                    format!("the body ended after {} of {total} bytes", partial.received),
                ),
                None,
            )),
            _ => Ok(()),
        }
    }
}

/// Runs blocking file work (creating, truncating, syncing, renaming) off the async threads;
/// `path` names the file if the blocking thread itself stops.
async fn on_blocking_thread<T: Send + 'static>(
    path: &Path,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|stopped| Err(Error::io(path, std::io::Error::other(stopped.to_string()))))
}

/// Deletes a file when dropped, unless disarmed by taking the path out.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // A small, local unlink: fine to do synchronously, also while unwinding.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The first byte offset of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range_start(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_never_leave_the_directory() {
        assert_eq!(safe_file_name("0.mp4"), "0.mp4");
        assert_eq!(safe_file_name("../../x"), "x");
        assert_eq!(safe_file_name("..\\..\\evil.exe"), "evil.exe");
        assert_eq!(safe_file_name("/etc/passwd"), "passwd");
        assert_eq!(safe_file_name(".."), "output");
        assert_eq!(safe_file_name(""), "output");
        assert_eq!(safe_file_name("a/.hidden"), "hidden");
        assert_eq!(safe_file_name("C:evil\n.mp4"), "Cevil.mp4");
    }
}
