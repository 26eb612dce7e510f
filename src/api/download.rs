//! Downloads of output files: streamed to disk in constant memory, into a temporary file that
//! is renamed when complete (never over a file of other bytes, which is kept beside it),
//! size-checked, and resumed with `Range` after a dropped connection.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::partial_download::Partial;
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

impl LocalFile {
    /// Writes `text` into `dir` as `file_name` (made safe with [`safe_file_name`]): through a
    /// temporary file renamed into place, as downloads are. For answers that come as text.
    pub async fn write_text(dir: &Path, file_name: &str, text: &str) -> Result<Self> {
        let path = dir.join(safe_file_name(file_name));
        let partial = dir.join(format!(".{}.part", safe_file_name(file_name)));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|error| Error::io(dir, error))?;
        let (at, bytes) = (partial.clone(), text.as_bytes().to_vec());
        on_blocking_thread(&partial, move || {
            open_partial(&at)
                .and_then(|mut file| std::io::Write::write_all(&mut file, &bytes))
                .map_err(|error| Error::io(&at, error))
        })
        .await?;
        let written = Self {
            path,
            size: text.len() as u64,
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
            contenttype: "text/plain; charset=utf-8".into(),
        };
        written
            .keep_earlier()
            .map_err(|error| Error::io(&written.path, error))?;
        tokio::fs::rename(&partial, &written.path)
            .await
            .map_err(|error| Error::io(&written.path, error))?;
        Ok(written)
    }

    /// Keeps a file already under this one's name that holds other bytes (an earlier run's,
    /// paid for, under other inputs perhaps, or edited since), or a folder, from being
    /// overwritten (or failing a paid download) when this one is renamed into place: it becomes `NAME.earlier.EXT` beside it (numbered when
    /// that is taken), for a table's run to move to `OUT/replaced/`. The same bytes, or no
    /// file, are left as they are. Blocking: it may hash the earlier file.
    pub fn keep_earlier(&self) -> std::io::Result<()> {
        let Ok(found) = std::fs::symlink_metadata(&self.path) else {
            return Ok(());
        };
        // A link is replaced by the rename, its target untouched; a folder (which the rename
        // could not replace) is kept aside as a file of other bytes is.
        if found.is_symlink() || (found.is_file() && self.changed().is_none()) {
            return Ok(());
        }
        std::fs::rename(&self.path, unused_name(&earlier_name(&self.path)))
    }

    /// The files a download kept beside `path` rather than overwrite them (`NAME.earlier.EXT`,
    /// `NAME.earlier-2.EXT`, ...), by this run or an earlier one: what a run names so that no
    /// one takes the file under the name for the only one.
    pub fn kept_beside(path: &Path) -> Vec<PathBuf> {
        let (stem, extension) = stem_and_extension(path);
        let first = format!("{stem}.earlier");
        let folder = path.parent().unwrap_or(Path::new("."));
        let Ok(entries) = std::fs::read_dir(folder) else {
            return Vec::new();
        };
        let mut kept: Vec<PathBuf> = (entries.flatten())
            .filter(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(number) =
                    (name.strip_prefix(&first)).and_then(|rest| rest.strip_suffix(&extension))
                else {
                    return false;
                };
                number.is_empty()
                    || (number.strip_prefix('-'))
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|entry| entry.path())
            .collect();
        kept.sort();
        kept
    }

    /// Why the file on disk is not the one this record describes (gone, another size, other
    /// bytes), or `None` when it is. Reads the whole file to hash it (blocking).
    pub fn changed(&self) -> Option<String> {
        let path = self.path.display();
        let size = match std::fs::metadata(&self.path) {
            Ok(metadata) => metadata.len(),
            Err(_) => return Some(format!("{path} is gone")),
        };
        if size != self.size {
            return Some(format!(
                "{path} has changed ({size} bytes; the run wrote {})",
                self.size
            ));
        }
        if self.sha256.is_empty() {
            return None;
        }
        let mut hasher = Sha256::new();
        let read = std::fs::File::open(&self.path)
            .and_then(|mut opened| std::io::copy(&mut opened, &mut hasher));
        match read {
            Ok(_) if hex::encode(hasher.finalize()) == self.sha256 => None,
            Ok(_) => Some(format!(
                "{path} has changed (other bytes than the run wrote)"
            )),
            Err(error) => Some(format!("{path} cannot be read ({error})")),
        }
    }
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

/// Where a file of other bytes at `path` is kept beside it: `NAME.earlier.EXT` (numbered by
/// [`unused_name`] when that is taken), as downloads and a `--fresh` journal keep theirs.
pub fn earlier_name(path: &Path) -> PathBuf {
    let (stem, extension) = stem_and_extension(path);
    path.with_file_name(format!("{stem}.earlier{extension}"))
}

/// A file name's stem and its extension with the dot (`.mp4`; empty when it has none).
fn stem_and_extension(path: &Path) -> (String, String) {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let extension = (path.extension())
        .map(|extension| format!(".{}", extension.to_string_lossy()))
        .unwrap_or_default();
    (stem.into_owned(), extension)
}

/// `path` when nothing stands there (not even a dangling link), else the first of
/// `STEM-2.EXT`, `STEM-3.EXT`, ... beside it that is free: where a file is moved so that
/// nothing is overwritten.
pub fn unused_name(path: &Path) -> PathBuf {
    let (stem, extension) = stem_and_extension(path);
    let mut candidate = path.to_path_buf();
    for n in 2.. {
        if std::fs::symlink_metadata(&candidate).is_err() {
            break;
        }
        candidate = path.with_file_name(format!("{stem}-{n}{extension}"));
    }
    candidate
}

/// A new, empty partial file at `path`, never opened through a link: whatever else stands
/// there (a link, which may lead anywhere, or a pipe left by someone) is removed first, not
/// followed, and the open itself refuses a link made meanwhile. A folder is not removed: the
/// error names it. Blocking.
pub(super) fn open_partial(path: &Path) -> std::io::Result<std::fs::File> {
    if std::fs::symlink_metadata(path).is_ok_and(|found| !found.is_file()) {
        std::fs::remove_file(path)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    options.open(path)
}

/// Whether a link stands at `path` or at a folder between it and `out` (`path` lies inside
/// `out`): a link may lead anywhere (`replaced/row-0002 -> ~/videos`, `clips -> /tmp`), and
/// no file a run keeps is written, moved or taken through one.
pub(crate) fn through_a_link(out: &Path, path: &Path) -> bool {
    link_below(out, path).is_some()
}

/// The link nearest `out` among `path` and the folders between it and `out` (`path` lies
/// inside `out`), if one stands there: what an error names when a path goes through one.
pub(crate) fn link_below<'a>(out: &Path, path: &'a Path) -> Option<&'a Path> {
    let below_out = path.ancestors().take_while(|at| *at != out);
    below_out.filter(|at| is_link(at)).last()
}

/// Whether a link (dangling or not) stands at `path`.
pub(crate) fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|found| found.is_symlink())
}

/// Whether a folder path, as a workflow names it, leads out of the folder it is taken in:
/// absolute, a drive (`C:`), or a `..` part. [`safe_relative`] would keep it inside; a
/// check refuses it instead, so no one's files land where they did not say.
pub fn leads_out(path: &str) -> bool {
    path.starts_with(['/', '\\'])
        || path.split(['/', '\\']).any(|part| part == "..")
        || path.contains(':')
}

/// A relative folder path with no way out of the folder it is joined to: each part made
/// safe with [`safe_file_name`], empty parts, `.` and `..` dropped.
pub fn safe_relative(path: &str) -> PathBuf {
    path.split(['/', '\\'])
        .filter(|part| !part.is_empty() && *part != "." && *part != "..")
        .map(safe_file_name)
        .collect()
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
        // Removes the partial file, if one was made, when this future is dropped (cancelled)
        // or fails.
        let mut leftover = RemoveOnDrop(Some(part_path.clone()));
        let mut partial = Partial::new(dir.to_owned(), part_path, expected_size);
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
        let received = partial.received;
        let contenttype = std::mem::take(&mut partial.contenttype);
        let hasher = partial.finish(final_path.clone()).await?;
        leftover.0 = None;
        Ok(LocalFile {
            path: final_path,
            size: received,
            sha256: hex::encode(hasher.finalize()),
            contenttype,
        })
    }
}

/// Runs blocking file work (creating, truncating, syncing, renaming) off the async threads;
/// `path` names the file if the blocking thread itself stops.
pub(super) async fn on_blocking_thread<T: Send + 'static>(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_of_other_bytes_is_kept_beside_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| std::fs::read_to_string(dir.path().join(name)).ok();
        LocalFile::write_text(dir.path(), "a.txt", "first")
            .await
            .unwrap();
        // The same bytes again: nothing to keep.
        LocalFile::write_text(dir.path(), "a.txt", "first")
            .await
            .unwrap();
        assert_eq!(at("a.earlier.txt"), None);
        LocalFile::write_text(dir.path(), "a.txt", "second")
            .await
            .unwrap();
        LocalFile::write_text(dir.path(), "a.txt", "third")
            .await
            .unwrap();
        assert_eq!(at("a.txt").as_deref(), Some("third"));
        assert_eq!(at("a.earlier.txt").as_deref(), Some("first"));
        assert_eq!(at("a.earlier-2.txt").as_deref(), Some("second"));
        std::fs::write(dir.path().join("a.earlier-x.txt"), "not one of them").unwrap();
        assert_eq!(
            LocalFile::kept_beside(&dir.path().join("a.txt")),
            [
                dir.path().join("a.earlier-2.txt"),
                dir.path().join("a.earlier.txt")
            ]
        );
        // A folder where the file goes is kept aside too, not a reason to fail.
        std::fs::create_dir(dir.path().join("b.txt")).unwrap();
        LocalFile::write_text(dir.path(), "b.txt", "text")
            .await
            .unwrap();
        assert_eq!(at("b.txt").as_deref(), Some("text"));
        assert!(dir.path().join("b.earlier.txt").is_dir());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_partial_file_that_is_a_link_is_replaced_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let victim = elsewhere.path().join("victim.txt");
        std::fs::write(&victim, "not the run's").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".a.txt.part")).unwrap();
        let dangling = elsewhere.path().join("made-by-nobody.txt");
        std::os::unix::fs::symlink(&dangling, dir.path().join(".b.txt.part")).unwrap();
        for name in ["a.txt", "b.txt"] {
            let written = LocalFile::write_text(dir.path(), name, "the answer").await;
            assert_eq!(written.unwrap().path, dir.path().join(name));
            let kept = std::fs::symlink_metadata(dir.path().join(name)).unwrap();
            assert!(kept.is_file(), "{name} is a file of its own");
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not the run's");
        assert!(
            !dangling.exists(),
            "nothing is made where a dangling link led"
        );
        // A regular partial file left by an earlier try is simply started over.
        std::fs::write(dir.path().join(".c.txt.part"), "an earlier try, longer").unwrap();
        let mut file = open_partial(&dir.path().join(".c.txt.part")).unwrap();
        std::io::Write::write_all(&mut file, b"new").unwrap();
        let part = std::fs::read_to_string(dir.path().join(".c.txt.part")).unwrap();
        assert_eq!(part, "new");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_below_the_output_folder_is_found_however_deep() {
        let out = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join("a")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), out.path().join("a/b")).unwrap();
        let deep = out.path().join("a/b/c");
        assert_eq!(
            link_below(out.path(), &deep),
            Some(&*out.path().join("a/b"))
        );
        assert!(through_a_link(out.path(), &deep));
        assert!(!through_a_link(out.path(), &out.path().join("a/d")));
        assert!(!through_a_link(out.path(), out.path()));
    }

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
