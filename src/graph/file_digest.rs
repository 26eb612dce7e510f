//! The content of files an earlier run uploaded, read once however many rows send one file:
//! an upload this run resumes from a journal of a build that did not note the bytes it sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

/// Where a file is, its size and its time: a file changed since it was read is read again.
type Stamp = (PathBuf, u64, Option<SystemTime>);

/// Each file's SHA-256 by its [`Stamp`], shared by the rows of a table.
#[derive(Debug, Clone, Default)]
pub(super) struct FileDigests(Arc<Mutex<HashMap<Stamp, String>>>);

impl FileDigests {
    /// The SHA-256 (lowercase hex) of the file at `path`, read on a blocking thread unless its
    /// stamp is known; `None` when it cannot be read.
    pub(super) async fn digest(&self, path: PathBuf) -> Option<String> {
        let known = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || digest(&known, &path))
            .await
            .ok()?
    }
}

/// The file's SHA-256, read unless its stamp is known; remembered only when the file kept its
/// stamp while it was read.
fn digest(known: &Mutex<HashMap<Stamp, String>>, path: &Path) -> Option<String> {
    let stamp = |metadata: std::fs::Metadata| -> Stamp {
        (path.to_owned(), metadata.len(), metadata.modified().ok())
    };
    let before = stamp(std::fs::metadata(path).ok()?);
    if let Some(digest) = known.lock().ok()?.get(&before) {
        return Some(digest.clone());
    }
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path).ok()?, &mut hasher).ok()?;
    let digest = hex::encode(hasher.finalize());
    if std::fs::metadata(path).ok().map(stamp).as_ref() == Some(&before) {
        known.lock().ok()?.insert(before, digest.clone());
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_is_read_again_when_written_since() {
        let dir = tempfile::tempdir().unwrap();
        let (first, copy) = (dir.path().join("a.png"), dir.path().join("copy.png"));
        std::fs::write(&first, b"the same bytes").unwrap();
        std::fs::write(&copy, b"the same bytes").unwrap();
        let digests = FileDigests::default();
        let one = digests.digest(first.clone()).await.unwrap();
        assert_eq!(digests.digest(copy).await, Some(one.clone()));
        std::fs::write(&first, b"other bytes, another length").unwrap();
        assert_ne!(digests.digest(first).await, Some(one));
        assert_eq!(digests.digest(dir.path().join("gone.png")).await, None);
    }
}
