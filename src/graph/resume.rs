//! What an earlier run left behind: the journal as the executor shares it between running
//! nodes, and the decision to reuse a node's result, wait for its paid task, or refuse to pay
//! twice. What the journal holds is read through the node's declared port kinds.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use super::journal::{Journal, JournalEntry, JournalEvent, OwedSync, SentRun, Settling};
use super::kept_files::{in_this_folder, take_back};
use super::RunError;
use crate::api::{Client, TaskHandle};
use crate::node::{ended_without_result, NodeSpec, PortKind, PortKinds};

/// What to do with a node, given the journal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resume {
    /// It finished earlier with these inputs: take its outputs.
    Finished(Value),
    /// Its paid task was accepted earlier: take the handle and wait for that task.
    TaskSubmitted(TaskHandle),
    /// A Run was sent (at `sent_at`) but no answer was recorded: it may be paid for. It is
    /// not sent again unless the task list shows it created no task.
    OutcomeUnknown {
        /// What to tell the user when the task list cannot settle it.
        message: String,
        /// When the Run was sent.
        sent_at: std::time::SystemTime,
        /// What it sent, when the journal says.
        sent: Option<SentRun>,
    },
}

impl Resume {
    /// The paid task this resume would reuse, if any.
    fn task(&self, kinds: &PortKinds) -> Option<TaskHandle> {
        match self {
            Resume::TaskSubmitted(task) => Some(task.clone()),
            Resume::Finished(outputs) => kinds.started_task(outputs),
            Resume::OutcomeUnknown { .. } => None,
        }
    }
}

/// What to do with a node given the journal, checked against the world: a paid task that
/// ended without a result is submitted again (it was not billed), and a finished node whose
/// files are gone or changed (another run wrote over them, say) takes them back from where
/// runs keep files in `out` (see `kept_files`), or runs again. `node` is the journal's name
/// for the node, `shown` its id. `note` hears why a journaled result is not used, and what
/// was taken back.
pub(crate) async fn decide(
    journal: &SharedJournal,
    (node, shown, key): (&str, &str, &str),
    spec: &NodeSpec,
    client: &Client,
    out: &Path,
    note: impl Fn(String),
) -> Option<Resume> {
    let resume = journal.resume(node, shown, key, spec.spends_money, moves_with_row(spec))?;
    if spec.spends_money {
        if let Some(task) = resume.task(&spec.kinds) {
            if let Some(reason) = ended_without_result(client, &task).await {
                note(format!(
                    "task {} {reason}: submitting it again",
                    task.taskid
                ));
                return None;
            }
        }
    }
    let Resume::Finished(outputs) = resume else {
        return Some(resume);
    };
    let files = spec.kinds.local_files(&outputs);
    if files.is_empty() {
        return Some(Resume::Finished(outputs));
    }
    let out = out.to_owned();
    let kinds = spec.kinds.clone();
    let checked = tokio::task::spawn_blocking(move || {
        // Written in another output folder (this one copied or renamed since): read here.
        let (outputs, moved) = in_this_folder(&out, outputs, &files);
        let mut taken = Vec::new();
        for file in &kinds.local_files(&outputs) {
            let Some(why) = file.changed() else { continue };
            let from = take_back(&out, file).ok_or(why)?;
            taken.push(format!("{} (from {})", file.path.display(), from.display()));
        }
        Ok((outputs, moved, taken))
    });
    let checked =
        (checked.await).unwrap_or_else(|stopped| Err(format!("could not be checked ({stopped})")));
    let (outputs, moved, taken) = match checked {
        Err(why) => {
            note(format!("{why}: running the node again"));
            return None;
        }
        Ok(checked) => checked,
    };
    if !taken.is_empty() {
        note(format!(
            "taken back where it was written, not downloaded again: {}",
            taken.join(", ")
        ));
    }
    if let Some((recorded, now)) = moved.first() {
        note(format!(
            "its files were written in another output folder ({}, ...) and are read where they are now ({}, ...)",
            recorded.display(),
            now.display()
        ));
        // Noted under the new names, so that the next run reads them at once; a line not
        // written only makes it look again.
        let event = JournalEvent::Finished {
            outputs: outputs.clone(),
        };
        if let Err(error) = journal.record(node, key, event) {
            note(format!("its files' new names could not be noted: {error}"));
        }
    }
    Some(Resume::Finished(outputs))
}

/// Whether a node's journal entries follow its table row when the row's line moves: a paid
/// node's, and those of a node whose outputs name no local file (an upload's URL, which a
/// paid node reads: uploading again would change the Run's inputs and pay for the moved row
/// again). A file written in a row's folder stays with that line.
pub(crate) fn moves_with_row(spec: &NodeSpec) -> bool {
    spec.spends_money || spec.kinds.ports(PortKind::LocalFiles).next().is_none()
}

/// Runs an owed sync on a blocking thread (the disk's wait keeps no runtime thread, nor the
/// journal's lock) and takes note of it. Dropped before it ends (or before it is first
/// polled), it gives its claim back, so those waiting for it sync on their own.
fn pay(
    journal: Arc<Mutex<Journal>>,
    owed: OwedSync,
) -> impl Future<Output = Result<(), RunError>> + Send + 'static {
    let mut claim = Claim(Some(journal));
    async move {
        let ran = tokio::task::spawn_blocking(move || owed.run().map(|()| owed))
            .await
            .unwrap_or_else(|stopped| Err(std::io::Error::other(stopped)));
        let journal = claim.0.take().expect("a claim is given up once");
        let mut journal = lock(&journal);
        match ran {
            Ok(owed) => {
                journal.synced(&owed);
                Ok(())
            }
            Err(source) => {
                journal.sync_failed(&source);
                Err(failed(&journal, source))
            }
        }
    }
}

/// A sync handed out and not reported yet; dropped so, it gives the journal's claim back.
struct Claim(Option<Arc<Mutex<Journal>>>);

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(journal) = &self.0 {
            lock(journal).abandoned();
        }
    }
}

/// The journal's I/O error as the run reports it: with the journal's path.
fn failed(journal: &Journal, source: std::io::Error) -> RunError {
    RunError::Journal {
        path: journal.path().to_owned(),
        source,
    }
}

/// The run's journal, if it keeps one, shared by the executor and the nodes' progress sinks.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedJournal(Option<Arc<Mutex<Journal>>>);

impl SharedJournal {
    /// Opens the journal at `path`, or keeps none when `enabled` is false.
    pub(crate) fn open(path: &Path, enabled: bool, fresh: bool) -> Result<Self, RunError> {
        if !enabled {
            return Ok(Self(None));
        }
        let journal = Journal::open(path, fresh).map_err(|source| RunError::Journal {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self(Some(Arc::new(Mutex::new(journal)))))
    }

    /// Every task id the journal holds as started.
    pub(crate) fn task_ids(&self) -> std::collections::HashSet<String> {
        self.0
            .as_ref()
            .map(|journal| lock(journal).task_ids())
            .unwrap_or_default()
    }

    /// Where the journal is, if there is one.
    pub(crate) fn path(&self) -> Option<PathBuf> {
        self.0
            .as_ref()
            .map(|journal| lock(journal).path().to_owned())
    }

    /// Appends an event (see [`Journal::record`] for when it is synced); nothing when there is
    /// no journal.
    pub(crate) fn record(
        &self,
        node: &str,
        key: &str,
        event: JournalEvent,
    ) -> Result<(), RunError> {
        let Some(journal) = &self.0 else {
            return Ok(());
        };
        let mut journal = lock(journal);
        let recorded = journal.record(node, key, event);
        recorded.map_err(|source| failed(&journal, source))
    }

    /// Appends an event about an earlier run's node, dated `at` (see
    /// [`Journal::record_as_of`]), and syncs it; nothing when there is no journal.
    pub(crate) async fn record_as_of(
        &self,
        node: &str,
        key: &str,
        event: JournalEvent,
        at: u64,
    ) -> Result<(), RunError> {
        let Some(journal) = &self.0 else {
            return Ok(());
        };
        {
            let mut locked = lock(journal);
            let recorded = locked.record_as_of(node, key, event, at);
            recorded.map_err(|source| failed(&locked, source))?;
        }
        self.settle().await
    }

    /// Appends an event; for a Run about to be sent, hands back its sync, already claimed and
    /// to be awaited before the Run leaves (see [`Journal::record_owing`]). Nothing when there
    /// is no journal.
    pub(crate) fn record_owing(
        &self,
        node: &str,
        key: &str,
        event: JournalEvent,
    ) -> Result<Option<impl Future<Output = Result<(), RunError>> + Send + 'static>, RunError> {
        let Some(journal) = &self.0 else {
            return Ok(None);
        };
        let mut locked = lock(journal);
        let owed = locked.record_owing(node, key, event);
        let owed = owed.map_err(|source| failed(&locked, source))?;
        Ok(owed.map(|owed| pay(Arc::clone(journal), owed)))
    }

    /// Syncs a Run's answer not on disk yet (see [`Journal::settle`]); nothing when there is
    /// no journal. A sync already running that covers the answer is waited for, not run
    /// again.
    pub(crate) async fn settle(&self) -> Result<(), RunError> {
        let Some(journal) = &self.0 else {
            return Ok(());
        };
        loop {
            let settling = {
                let mut locked = lock(journal);
                let settling = locked.settle_owing();
                settling.map_err(|source| failed(&locked, source))?
            };
            match settling {
                Settling::Done => return Ok(()),
                Settling::Sync(owed) => return pay(Arc::clone(journal), owed).await,
                // It ended (well or not) when the receiver changes: ask again.
                Settling::Running(mut ended) => {
                    let _ = ended.changed().await;
                }
            }
        }
    }

    /// What an earlier run, between `since` and `before`, left that no node of this run took
    /// (see `Journal::left_behind`); nothing when there is no journal.
    pub(crate) fn left_behind(&self, since: u64, before: u64) -> Vec<JournalEntry> {
        (self.0.as_ref())
            .map(|journal| lock(journal).left_behind(since, before))
            .unwrap_or_default()
    }

    /// The paid-task entries written for other cells than each place's row has now (see
    /// `Journal::for_other_cells`); none when there is no journal.
    pub(crate) fn for_other_cells(
        &self,
        places: &std::collections::HashMap<
            String,
            (String, std::collections::BTreeMap<String, String>),
        >,
    ) -> Vec<JournalEntry> {
        (self.0.as_ref())
            .map(|journal| lock(journal).for_other_cells(places))
            .unwrap_or_default()
    }

    /// Where each row of a table keeps its nodes' entries (see `Journal::place_rows`); each
    /// row's own line when there is no journal.
    pub(crate) fn place_rows(&self, rows: &[(String, String)]) -> Vec<String> {
        match &self.0 {
            Some(journal) => lock(journal).place_rows(rows),
            None => rows.iter().map(|(row, _)| row.clone()).collect(),
        }
    }

    /// The lines a row with these cells was on before, its entries at `place` (see
    /// `Journal::lines_of`); none when there is no journal.
    pub(crate) fn lines_of(&self, cells: &str, place: &str) -> Vec<String> {
        match &self.0 {
            Some(journal) => lock(journal).lines_of(cells, place),
            None => Vec::new(),
        }
    }

    /// Writes down where a row about to run keeps its nodes' entries (see `Journal::record_row`);
    /// nothing when there is no journal.
    pub(crate) fn record_row(
        &self,
        (row, cells, place): (&str, &str, &str),
        paid: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), RunError> {
        let Some(journal) = &self.0 else {
            return Ok(());
        };
        let mut journal = lock(journal);
        let recorded = journal.record_row(row, cells, place, paid);
        recorded.map_err(|source| failed(&journal, source))
    }

    /// Whether an earlier run already did (or may have paid for) this node (the journal's
    /// name for it; `shown`: its id) with these inputs. Only nodes that spend money resume
    /// from a started task or refuse an unknown outcome; any other node that did not finish
    /// simply runs again. A table row's node that `moves` may take what a row of another line
    /// ran (see `Journal::claim`).
    pub(crate) fn resume(
        &self,
        node: &str,
        shown: &str,
        key: &str,
        spends_money: bool,
        moves: bool,
    ) -> Option<Resume> {
        let mut journal = lock(self.0.as_ref()?);
        let source = journal.claim(node, key, shown, (moves, spends_money))?;
        match journal.latest(&source, key)? {
            JournalEvent::Finished { outputs } => Some(Resume::Finished(outputs)),
            JournalEvent::TaskStarted { task } if spends_money => Some(Resume::TaskSubmitted(task)),
            JournalEvent::Submitting { sent } if spends_money => Some(Resume::OutcomeUnknown {
                sent,
                message: format!(
                    "an earlier run sent this Run but recorded no answer: it may have been accepted and paid for. It is not sent again; check your tasks on Wiro, then run again with --rerun {shown} to submit it anyway, {} (journal {})",
                    match crate::graph::rows::split_row(shown) {
                        // A table's --fresh pays for every row again.
                        Some(_) => "the other rows resuming as they are",
                        None => "or with --fresh to start the whole workflow afresh",
                    },
                    journal.path().display()
                ),
                sent_at: std::time::UNIX_EPOCH
                    + std::time::Duration::from_millis(journal.latest_at(&source, key).unwrap_or(0)),
            }),
            _ => None,
        }
    }
}

fn lock(journal: &Mutex<Journal>) -> MutexGuard<'_, Journal> {
    // A panic while holding the lock leaves the journal as written so far: still usable.
    journal
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syncs(journal: &SharedJournal) -> u64 {
        lock(journal.0.as_ref().unwrap()).syncs
    }

    #[tokio::test]
    async fn a_settle_waits_for_a_sync_running_elsewhere_and_one_never_run_is_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let journal = SharedJournal::open(&dir.path().join("j.jsonl"), true, false).unwrap();
        let task = TaskHandle {
            taskid: "1".into(),
            socketaccesstoken: "t".into(),
        };
        journal
            .record("a", "k", JournalEvent::TaskStarted { task })
            .unwrap();
        // The next Run's sync covers the answer: a settle meanwhile waits for it.
        let paying = journal
            .record_owing("b", "k", JournalEvent::Submitting { sent: None })
            .unwrap()
            .unwrap();
        let (paid, settled) = tokio::join!(paying, journal.settle());
        paid.unwrap();
        settled.unwrap();
        assert_eq!(syncs(&journal), 1, "one sync for the Run and the answer");
        // A sync handed out whose payment is dropped unrun: a settle syncs on its own rather
        // than waiting for it forever.
        journal
            .record(
                "b",
                "k",
                JournalEvent::Refused {
                    reason: "96".into(),
                },
            )
            .unwrap();
        let paying = journal
            .record_owing("c", "k", JournalEvent::Submitting { sent: None })
            .unwrap()
            .unwrap();
        drop(paying);
        tokio::time::timeout(std::time::Duration::from_secs(10), journal.settle())
            .await
            .expect("the settle does not wait for a sync nobody runs")
            .unwrap();
        assert_eq!(syncs(&journal), 2);
    }

    #[test]
    fn after_a_failed_sync_nothing_more_is_synced_or_sent() {
        let dir = tempfile::tempdir().unwrap();
        let journal = SharedJournal::open(&dir.path().join("j.jsonl"), true, false).unwrap();
        lock(journal.0.as_ref().unwrap()).sync_failed(&std::io::Error::other("EIO"));
        let Err(error) = journal.record_owing("a", "k", JournalEvent::Submitting { sent: None })
        else {
            panic!("a Run is recorded after a failed sync");
        };
        assert!(
            error.to_string().contains("a sync of the journal failed"),
            "{error}"
        );
    }

    #[test]
    fn a_paid_node_resumes_its_task_or_refuses_an_unknown_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let journal = SharedJournal::open(&dir.path().join("j.jsonl"), true, false).unwrap();
        assert_eq!(journal.resume("gen", "gen", "k", true, true), None);
        journal
            .record("gen", "k", JournalEvent::Submitting { sent: None })
            .unwrap();
        assert!(
            matches!(journal.resume("gen", "gen", "k", true, true), Some(Resume::OutcomeUnknown { message, .. }) if message.contains("--fresh"))
        );
        assert_eq!(
            journal.resume("gen", "gen", "k", false, false),
            None,
            "free nodes just run again"
        );
        let task = TaskHandle {
            taskid: "9".into(),
            socketaccesstoken: "t".into(),
        };
        journal
            .record("gen", "k", JournalEvent::TaskStarted { task: task.clone() })
            .unwrap();
        assert_eq!(
            journal.resume("gen", "gen", "k", true, true),
            Some(Resume::TaskSubmitted(task))
        );
        journal
            .record(
                "gen",
                "k",
                JournalEvent::Failed {
                    error: "killed".into(),
                },
            )
            .unwrap();
        assert_eq!(
            journal.resume("gen", "gen", "k", true, true),
            None,
            "a stopped task may be run again"
        );
        journal
            .record(
                "gen",
                "k",
                JournalEvent::Finished {
                    outputs: Value::Null,
                },
            )
            .unwrap();
        assert_eq!(
            journal.resume("gen", "gen", "k", true, true),
            Some(Resume::Finished(Value::Null))
        );
    }

    #[test]
    fn without_a_journal_nothing_is_recorded_or_resumed() {
        let journal = SharedJournal::default();
        journal
            .record("n", "k", JournalEvent::Submitting { sent: None })
            .unwrap();
        assert_eq!(journal.resume("n", "n", "k", true, true), None);
        assert_eq!(journal.path(), None);
    }
}
