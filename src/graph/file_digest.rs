//! The content of the files a run sends (an upload's bytes), read once however many rows
//! send one file: a paid node that reads an upload is journaled by what the upload sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::node::SentFile;

/// Where a file is, its size and its time: a file changed since it was read is read again.
type Stamp = (PathBuf, u64, Option<SystemTime>);

/// Each file's SHA-256 by its [`Stamp`], shared by the rows of a table.
#[derive(Debug, Clone, Default)]
pub(super) struct FileDigests(Arc<Mutex<HashMap<Stamp, String>>>);

impl FileDigests {
    /// What a journal key holds for `file`: its content's SHA-256 and the name the server is
    /// given. `None` when it cannot be read (the node sending it fails then, saying why).
    pub(super) async fn identity(&self, file: SentFile) -> Option<Value> {
        let known = Arc::clone(&self.0);
        let path = file.path;
        let digest = tokio::task::spawn_blocking(move || digest(&known, &path))
            .await
            .ok()??;
        Some(serde_json::json!({ "sha256": digest, "name": file.name }))
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

    fn sent(path: &Path, name: &str) -> SentFile {
        SentFile {
            path: path.to_owned(),
            name: name.to_owned(),
        }
    }

    #[tokio::test]
    async fn a_file_is_known_by_its_bytes_and_name_not_by_its_place_or_time() {
        let dir = tempfile::tempdir().unwrap();
        let (first, copy) = (dir.path().join("a.png"), dir.path().join("copy.png"));
        std::fs::write(&first, b"the same bytes").unwrap();
        std::fs::write(&copy, b"the same bytes").unwrap();
        let digests = FileDigests::default();
        let one = digests.identity(sent(&first, "a.png")).await.unwrap();
        assert_eq!(
            digests.identity(sent(&copy, "a.png")).await,
            Some(one.clone()),
            "a copy elsewhere, written later, sends the same bytes"
        );
        assert_ne!(
            digests.identity(sent(&copy, "copy.png")).await,
            Some(one.clone()),
            "another name is another file to the server"
        );
        std::fs::write(&first, b"other bytes, same length").unwrap();
        assert_ne!(
            digests.identity(sent(&first, "a.png")).await,
            Some(one),
            "a file written since it was read is read again"
        );
        assert_eq!(
            digests
                .identity(sent(&dir.path().join("gone.png"), "gone.png"))
                .await,
            None
        );
    }
}
