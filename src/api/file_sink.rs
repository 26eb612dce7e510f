//! `FileSink`: a download's bytes written to its file and hashed on blocking threads, fed
//! through bounded queues, so the network is read while earlier bytes are written and hashed,
//! and memory stays bounded whatever the file's size. A large body is hashed on a second
//! thread, beside the writer; a small one on the writer's, which saves a thread hand-off per
//! file in a batch of thousands.

use std::fs::File;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How many received chunks may wait for each thread. Chunks are at most a few hundred KiB
/// (the HTTP reader's buffer), so this bounds each queue to a few MiB.
const QUEUED_CHUNKS: usize = 4;

/// A body of at least this many bytes still to come is hashed on a thread of its own.
const HASH_APART_FROM: u64 = 8 * 1024 * 1024;

/// After this many bytes written, the disk is asked to start writing them out, so the sync
/// that ends a download waits for the last few MiB, not for the whole file.
const FLUSH_EVERY: usize = 8 * 1024 * 1024;

/// Writes chunks (and hashes them, unless a hasher thread does) until [`FileSink::finish`].
pub(super) struct FileSink {
    to_writer: mpsc::Sender<Bytes>,
    /// Gives back the hasher when the writer hashed too.
    writer: JoinHandle<(Option<Sha256>, std::io::Result<()>)>,
    /// The hasher thread, for a large body.
    hashing: Option<(mpsc::Sender<Bytes>, JoinHandle<Sha256>)>,
}

impl FileSink {
    /// Starts the writer: appends to `file` at its current position, continuing `hasher`;
    /// `expected` is how many bytes the body should bring, when known.
    pub(super) fn start(file: Arc<File>, hasher: Sha256, expected: Option<u64>) -> Self {
        let apart = expected.is_some_and(|bytes| bytes >= HASH_APART_FROM);
        let (hashing, inline) = if apart {
            let (to_hasher, mut queue) = mpsc::channel::<Bytes>(QUEUED_CHUNKS);
            let mut hasher = hasher;
            let thread = tokio::task::spawn_blocking(move || {
                while let Some(chunk) = queue.blocking_recv() {
                    hasher.update(&chunk);
                }
                hasher
            });
            (Some((to_hasher, thread)), None)
        } else {
            (None, Some(hasher))
        };
        let (to_writer, queue) = mpsc::channel::<Bytes>(QUEUED_CHUNKS);
        let writer = tokio::task::spawn_blocking(move || write_all(&file, queue, inline));
        Self {
            to_writer,
            writer,
            hashing,
        }
    }

    /// Queues a chunk, waiting while a queue is full. `false` when the writer has stopped on
    /// an error, which [`FileSink::finish`] returns.
    pub(super) async fn write(&self, chunk: Bytes) -> bool {
        if let Some((to_hasher, _)) = &self.hashing {
            // The hasher stops only with the sink; its end is seen in `finish`.
            let _ = to_hasher.send(chunk.clone()).await;
        }
        self.to_writer.send(chunk).await.is_ok()
    }

    /// Waits until every queued chunk is written and hashed; returns the hasher, or the
    /// write error that stopped the writer.
    pub(super) async fn finish(self) -> std::io::Result<Sha256> {
        let stopped = |error: tokio::task::JoinError| {
            std::io::Error::other(format!("the download's writer thread stopped: {error}"))
        };
        drop(self.to_writer);
        let (inline, written) = self.writer.await.map_err(stopped)?;
        written?;
        match (inline, self.hashing) {
            (Some(hasher), _) => Ok(hasher),
            (None, Some((to_hasher, thread))) => {
                drop(to_hasher);
                thread.await.map_err(stopped)
            }
            (None, None) => unreachable!("a sink hashes on its writer or on a hasher thread"),
        }
    }
}

/// The writer thread: appends every queued chunk to `file`, hashing it too when given the
/// hasher, and starts the disk's writeback every [`FLUSH_EVERY`] bytes.
fn write_all(
    mut file: &File,
    mut queue: mpsc::Receiver<Bytes>,
    mut hasher: Option<Sha256>,
) -> (Option<Sha256>, std::io::Result<()>) {
    let mut not_flushed = 0;
    while let Some(chunk) = queue.blocking_recv() {
        if let Err(error) = file.write_all(&chunk) {
            return (hasher, Err(error));
        }
        not_flushed += chunk.len();
        if not_flushed >= FLUSH_EVERY {
            start_writeback(file);
            not_flushed = 0;
        }
        if let Some(hasher) = &mut hasher {
            hasher.update(&chunk);
        }
    }
    (hasher, Ok(()))
}

/// Asks the kernel to start writing the file's dirty pages to disk, without waiting for it.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; offset 0 and length 0 mean the whole file. A failure
    // only means the final sync does all the work, so its result is not needed.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

/// Elsewhere the final sync writes the whole file.
#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File) {}
