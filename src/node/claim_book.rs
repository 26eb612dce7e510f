//! `ClaimBook`: the paid tasks of one run shared by several processes (the `node exec` steps of
//! one n8n execution), kept in a folder they all name. While one process sends a Run (and,
//! when its answer is lost, looks for the task it made), the others wait; every task a process
//! started or adopted is written down before the next Run leaves. So two identical Runs are
//! never in flight together, and a lost answer is never matched to a task another process
//! holds: two intents, two tasks, each paid once. Also `AccountClaims`: the tasks every run
//! on this machine holds on one account, so no run takes another's task for its lost answer.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

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

/// Past this size the account's claims file is set aside (`.old`, read as well) and begun
/// again: a claim only needs to outlive the lost answers that could match it.
const ACCOUNT_CLAIMS_LIMIT: u64 = 4 << 20;

/// The paid tasks every run on this machine started or adopted on one account (one API and
/// key), in a file under the user's state folder: a lost Run's answer is never matched to
/// a task another run here holds (one in another output folder, with the same inputs, a
/// minute earlier), which would leave the task just paid for to no one. Unlike a
/// [`ClaimBook`] it holds no lock (runs go on side by side) and is not synced (a claim is
/// read by runs on this machine, from the page cache). Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountClaims {
    path: PathBuf,
    /// Whose claims these are (a digest of the run's output folder): a run's own earlier
    /// claims are its journal's to settle, never a reason to send its Run again.
    owner: String,
}

impl AccountClaims {
    /// The claims of the account at `base_url` with `api_key`, kept in `state_dir` under a
    /// digest of both (the key itself is not written).
    /// Claims are written for `owner` (a run's output folder, say): reading, a run passes
    /// over its own, which its journal holds (after a power cut, a claim may be on disk
    /// when the journal's line of its task is not: the task is still the run's to adopt).
    pub fn of_account(state_dir: &Path, base_url: &str, api_key: &str, owner: &str) -> Self {
        let name = format!(
            "claimed-tasks-{}",
            short_digest(&format!("{base_url}\n{api_key}"))
        );
        Self {
            path: state_dir.join(name),
            owner: short_digest(owner),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes down that a run here holds `taskid`.
    pub fn claim(&self, taskid: &str) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if std::fs::metadata(&self.path).is_ok_and(|file| file.len() > ACCOUNT_CLAIMS_LIMIT) {
            std::fs::rename(&self.path, self.path.with_extension("old"))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        // One write of a whole line: appends of other processes never interleave within it.
        let now = (SystemTime::now().duration_since(UNIX_EPOCH)).map_or(0, |t| t.as_millis());
        file.write_all(format!("{taskid} {now} {}\n", self.owner).as_bytes())
    }

    /// Every task a run here claimed on the account since `since` (none written yet:
    /// none). A task is claimed after it was made: one claimed before a lost Run's window
    /// opened cannot be in it (and an emulator's task of the same id, long ago, is not).
    pub fn claimed_since(&self, since: SystemTime) -> std::io::Result<HashSet<String>> {
        let since = since
            .duration_since(UNIX_EPOCH)
            .map_or(0, |t| t.as_millis());
        let recent = |line: &str| -> Option<String> {
            let mut parts = line.split_whitespace();
            let (task, at, owner) = (parts.next()?, parts.next()?, parts.next()?);
            (owner != self.owner && at.parse::<u128>().ok()? >= since).then(|| task.to_owned())
        };
        let mut claimed = HashSet::new();
        for path in [self.path.with_extension("old"), self.path.clone()] {
            match std::fs::read_to_string(path) {
                Ok(text) => claimed.extend(text.lines().filter_map(recent)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
        Ok(claimed)
    }
}

/// The first 16 hex digits of the SHA-256 of `text`: a name that does not show it.
fn short_digest(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))[..16].to_owned()
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

    #[test]
    fn an_account_s_claims_are_its_own_and_only_those_of_a_lost_run_s_window() {
        let dir = tempfile::tempdir().unwrap();
        let api = "https://api.wiro.ai/v1";
        let mine = AccountClaims::of_account(dir.path(), api, "key", "/work/out");
        let next_door = AccountClaims::of_account(dir.path(), api, "key", "/work/other");
        let other_account = AccountClaims::of_account(dir.path(), api, "other", "/work/out");
        assert_eq!(mine.path(), next_door.path(), "one file an account");
        assert_ne!(mine.path(), other_account.path());
        assert!(
            !mine.path().to_string_lossy().contains("key"),
            "no key on disk"
        );
        let before = SystemTime::now() - std::time::Duration::from_secs(1);
        next_door.claim("2221").unwrap();
        mine.claim("2222").unwrap();
        // A claim from long ago (an earlier emulator's task of the same id, say).
        let text = std::fs::read_to_string(mine.path()).unwrap();
        std::fs::write(mine.path(), format!("7 1000 {}\n{text}", next_door.owner)).unwrap();
        let only = |id: &str| [id.to_owned()].into_iter().collect::<HashSet<_>>();
        assert_eq!(
            mine.claimed_since(before).unwrap(),
            only("2221"),
            "not its own"
        );
        assert_eq!(next_door.claimed_since(before).unwrap(), only("2222"));
        assert_eq!(mine.claimed_since(UNIX_EPOCH).unwrap().len(), 2);
        assert!(other_account.claimed_since(UNIX_EPOCH).unwrap().is_empty());
    }
}
