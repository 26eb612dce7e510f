//! `FileSink`: a download's bytes written to its file and hashed on a dedicated blocking
//! thread, fed through a bounded queue, so the network is read while earlier bytes are
//! written and hashed, and memory stays bounded whatever the file's size.

use std::fs::File;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// How many received chunks may wait for the writer. Chunks are at most a few hundred KiB
/// (the HTTP reader's buffer), so this bounds the queue to a few MiB.
const QUEUED_CHUNKS: usize = 4;

/// Writes and hashes chunks on a blocking thread until [`FileSink::finish`].
pub(super) struct FileSink {
    chunks: mpsc::Sender<Bytes>,
    worker: tokio::task::JoinHandle<(Sha256, std::io::Result<()>)>,
}

impl FileSink {
    /// Starts the writer: appends to `file` at its current position, continuing `hasher`.
    pub(super) fn start(file: Arc<File>, mut hasher: Sha256) -> Self {
        let (chunks, mut queue) = mpsc::channel::<Bytes>(QUEUED_CHUNKS);
        let worker = tokio::task::spawn_blocking(move || {
            let mut file = &*file;
            while let Some(chunk) = queue.blocking_recv() {
                if let Err(error) = file.write_all(&chunk) {
                    return (hasher, Err(error));
                }
                hasher.update(&chunk);
            }
            (hasher, Ok(()))
        });
        Self { chunks, worker }
    }

    /// Queues a chunk, waiting while the queue is full. `false` when the writer has stopped
    /// on an error, which [`FileSink::finish`] returns.
    pub(super) async fn write(&self, chunk: Bytes) -> bool {
        self.chunks.send(chunk).await.is_ok()
    }

    /// Waits until every queued chunk is written and hashed; returns the hasher, or the
    /// write error that stopped the writer.
    pub(super) async fn finish(self) -> std::io::Result<Sha256> {
        drop(self.chunks);
        match self.worker.await {
            Ok((hasher, Ok(()))) => Ok(hasher),
            Ok((_, Err(error))) => Err(error),
            Err(stopped) => Err(std::io::Error::other(format!(
                "the download's writer thread stopped: {stopped}"
            ))),
        }
    }
}
