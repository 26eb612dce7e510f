//! `ClaimBook`: the paid tasks of one run shared by several processes (the `node exec` steps of
//! one n8n execution), kept in a folder they all name. While one process sends a Run (and,
//! when its answer is lost, looks for the task it made), the others wait; every task a process
//! started or adopted is written down before the next Run leaves. So two identical Runs are
//! never in flight together, and a lost answer is never matched to a task another process
//! holds: two intents, two tasks, each paid once.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file every process locks while its Run is out.
const LOCK_FILE: &str = "runs.lock";
/// The tasks the processes hold, one id per line.
const TASKS_FILE: &str = "tasks";

/// A folder of claims shared by the processes of one run. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimBook {
    dir: PathBuf,
}

/// Held while a Run is out: other processes of the book wait for it. Dropped, it lets the
/// next one go.
#[derive(Debug)]
pub struct SendingLock {
    _file: std::fs::File,
}

impl ClaimBook {
    /// The book in `dir`, made if missing.
    pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// The book's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits until no other process of the book has a Run out, and holds that until dropped.
    pub async fn lock_sending(&self) -> std::io::Result<SendingLock> {
        let path = self.dir.join(LOCK_FILE);
        tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            lock_exclusive(&file)?;
            Ok(SendingLock { _file: file })
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Every task a process of the book holds. `Err` when the book cannot be read: then no
    /// one can tell which tasks are free to adopt.
    pub fn claimed(&self) -> std::io::Result<HashSet<String>> {
        let text = match std::fs::read_to_string(self.dir.join(TASKS_FILE)) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(error),
        };
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// Writes down that a process holds `taskid`, on disk before it returns.
    pub fn claim(&self, taskid: &str) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(TASKS_FILE))?;
        // One write of a whole line: appends of other processes never interleave within it.
        file.write_all(format!("{taskid}\n").as_bytes())?;
        file.sync_data()
    }
}

#[cfg(unix)]
fn lock_exclusive(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: the descriptor is open for as long as `file` lives; flock takes no pointer.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if locked == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(not(unix))]
fn lock_exclusive(_file: &std::fs::File) -> std::io::Result<()> {
    // No advisory locks here: claims are still shared, Runs are not serialised.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_process_sends_at_a_time_and_every_claim_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let first = ClaimBook::open(dir.path().join("claims")).unwrap();
        let second = ClaimBook::open(dir.path().join("claims")).unwrap();
        let held = first.lock_sending().await.unwrap();
        // A second descriptor (as another process has) waits for the first.
        let waiting = tokio::spawn(async move { second.lock_sending().await.map(|_| ()) });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "the second sender waits");
        first.claim("41").unwrap();
        drop(held);
        waiting.await.unwrap().unwrap();
        first.claim("42").unwrap();
        assert_eq!(
            first.claimed().unwrap(),
            ["41".to_owned(), "42".to_owned()].into_iter().collect()
        );
    }
}
