//! The run journal: an append-only JSON-lines file of what each node did, written the moment
//! it happens, so a run started again resumes instead of paying again.
//!
//! Every line is written (so a crash of the process loses none) when it happens; what reaches
//! the disk when is decided by what a power cut could cost:
//! - a Run about to be sent (`submitting`) is synced before the request leaves, with every
//!   line before it: a lost answer is then looked for in Task/List, never sent blind;
//! - a Run's answer (`task_started`, `refused`) is written at once and synced with the next
//!   Run's `submitting` line, or by [`Journal::settle`], which the executor calls before
//!   anything uses the node's task. Runs are sent one at a time, so in a busy table one sync
//!   covers one Run's answer and the next Run's start;
//! - a finished or failed node's line is synced with the next sync or when the journal closes
//!   (losing it costs a free node running again, never a payment).
//!
//! A table's rows are remembered by their cells as well as their lines: each run writes down
//! where each row keeps its nodes' entries (`row` lines, [`Journal::place_rows`]), so a row
//! whose line moved (a line inserted above, the table sorted) finds what it ran, and two rows
//! alike never share one entry.
//!
//! The executor runs these syncs on a blocking thread ([`Journal::record_owing`],
//! [`Journal::settle_owing`]): waiting for the disk holds neither the runtime's thread nor the
//! journal's lock, and a settle waits for a sync already running that covers its answer
//! instead of starting another.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::api::TaskHandle;

/// How a table row's line reads in the journal; a started task's; a finished node's; a Run
/// about to be sent.
const ROW_LINE: &str = "\"event\":\"row\"";
const TASK_STARTED_LINE: &str = "\"event\":\"task_started\"";
const FINISHED_LINE: &str = "\"event\":\"finished\"";
const SUBMITTING_LINE: &str = "\"event\":\"submitting\"";

/// The lines that may hold a paid task: one started, a node finished with it, and a Run
/// whose answer never came (its outcome unknown: it may have started one).
const PAID_LINES: [&str; 3] = [TASK_STARTED_LINE, FINISHED_LINE, SUBMITTING_LINE];

/// Whether a journal's text holds a table row's line: the journal of a run over a table.
pub(crate) fn holds_rows(text: &str) -> bool {
    text.contains(ROW_LINE)
}

/// A table row's node as the journal names it: where its row keeps its entries (`row-0007`,
/// `row-0007~1`) and the flow's node (`video`).
pub(crate) fn split_entries(node: &str) -> Option<(&str, &str)> {
    let rest = node.strip_prefix("row-")?;
    let at = rest.find('-')?;
    let (line, alias) = rest[..at].split_once('~').unwrap_or((&rest[..at], "1"));
    let numbers = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    (numbers(line) && numbers(alias)).then(|| (&node[..4 + at], &rest[at + 1..]))
}

/// How entries sort: a table row's by its line, then by name.
fn line_order(node: &str) -> (usize, &str) {
    let line = split_entries(node).and_then(|(entries, _)| entries[4..].split('~').next());
    (
        line.and_then(|line| line.parse().ok())
            .unwrap_or(usize::MAX),
        node,
    )
}

/// A table row's record at its place: when (unix milliseconds), its cells' digest, and its
/// paid nodes' digests (none in journals of earlier builds).
type RowRecord = (u64, Box<str>, Option<BTreeMap<String, String>>);

/// The journal's file name inside a run's output folder.
pub const JOURNAL_FILE: &str = "wiro-journal.jsonl";

/// The model and parameters of a paid Run, as its `submitting` line keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentRun {
    /// The model's slug, e.g. `PixVerse/text-to-video-v4`.
    pub model: String,
    /// The parameters sent.
    pub parameters: serde_json::Map<String, Value>,
}

/// What happened to one node, as a journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JournalEvent {
    /// A paid Run is about to be sent: if no `task_started` follows, its outcome is unknown.
    Submitting {
        /// What it sends (builds before 6 December 2026 did not write it): a run that finds
        /// its answer lost asks Task/List for exactly this, even when an upload it reads has
        /// been made again since, under another URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sent: Option<SentRun>,
    },
    /// The server refused the Run for a limit (code 96, HTTP 429): nothing was started. The
    /// node sends it again later, with a new `submitting` line.
    Refused {
        /// The server's answer.
        reason: String,
    },
    /// The server accepted the Run: this is the task, paid for.
    TaskStarted {
        /// The task's handle.
        task: TaskHandle,
    },
    /// The node finished with these outputs.
    Finished {
        /// The node's outputs.
        outputs: Value,
    },
    /// The node failed in a way that left nothing running or paid for: run it again next time.
    Failed {
        /// Why.
        error: String,
    },
    /// A table's row (the entry's node, `row-0007`) holds these cells (the entry's key, their
    /// digest), and its nodes' entries are under `entries` (`row-0003`: the row moved from
    /// line 3; none: under its own line's name). When its line moves again, its nodes find
    /// what they ran there.
    Row {
        /// Where its nodes' entries are, when not under its own line's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entries: Option<String>,
        /// For each paid node of the row, a digest of what it reads (its own and its
        /// inputs' nodes' flow values and cells): which of the place's paid entries the row
        /// still takes when only other cells changed. None in journals of earlier builds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        paid: Option<BTreeMap<String, String>>,
    },
    /// This paid node's entry went to another (`to`), whose row took it this run: it serves
    /// nothing here.
    Moved {
        /// The node that has it now.
        to: String,
    },
}

impl JournalEvent {
    /// A Run's answer, which must be on disk before the run goes on past the node.
    fn is_run_answer(&self) -> bool {
        matches!(
            self,
            JournalEvent::Refused { .. } | JournalEvent::TaskStarted { .. }
        )
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The node's id.
    pub node: String,
    /// A digest of the node's type, version and resolved inputs: changed inputs, new key.
    pub key: String,
    /// When (unix milliseconds).
    pub at: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: JournalEvent,
}

/// An append-only journal file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// Shared with the syncs handed out ([`OwedSync`]), which run away from the journal's lock.
    file: Arc<File>,
    /// Each node and key's last entry, as its line: a big table's journal holds every row's
    /// outputs, which as text take a fraction of the memory they take as values. A line is
    /// read again when it is asked for (once per node and run).
    latest: HashMap<(Box<str>, Box<str>), Box<str>>,
    /// The nodes that had an entry when the journal was opened, by key: where a table row whose
    /// line moved finds what it ran under its earlier name. What this run writes is not added:
    /// a row never takes what another row of the same run started (two rows alike run twice).
    by_key: HashMap<Box<str>, Vec<Box<str>>>,
    /// Paid entries this run resumes from, and the node (its id) that took each: a task serves
    /// one node.
    claimed: HashMap<(Box<str>, Box<str>), Box<str>>,
    /// Where this run's rows keep their nodes' entries (`row-0007`, `row-0007~1`), one row's
    /// each.
    places_used: HashSet<Box<str>>,
    /// Every row record of each place (`row-0007`, `row-0007~1`), oldest first: when, the
    /// row's cells' digest, and its paid nodes' digests (see [`Journal::record_row`]).
    place_records: HashMap<Box<str>, Vec<RowRecord>>,
    /// Every task a `task_started` line names, the latest entry's or not: tasks that belong to
    /// some node (a finished one's too), which a lost Run's look-up never adopts.
    tasks: HashSet<Box<str>>,
    /// Lines written (1 for what a reopened journal held), the last of them a Run's answer,
    /// and the last one known on disk: a Run's answer is owed a sync while `answer_at > synced`.
    written: u64,
    answer_at: u64,
    synced: u64,
    /// The last line a sync handed out and still running covers.
    syncing: u64,
    /// Tells those waiting for a sync running elsewhere that one ended (the last line known on
    /// disk).
    sync_ended: tokio::sync::watch::Sender<u64>,
    /// What broke the journal: a sync that failed (a later one could report success for lines
    /// the failed one lost: Linux tells a write-back error once) or a line not written whole
    /// (the next would glue onto it and be lost with it). Nothing more is written or synced
    /// after it, so no Run goes out.
    broken: Option<String>,
    /// How many times the journal was synced (what the tests see of the policy).
    pub(super) syncs: u64,
}

/// Copies what the journal `file` at `path` holds beside it, under a name no file has,
/// synced before the journal is emptied: the tasks an earlier run paid for stay on disk.
fn keep_aside(path: &Path, file: &std::fs::File) -> std::io::Result<()> {
    if file.metadata()?.len() == 0 {
        return Ok(());
    }
    let aside = crate::api::unused_name(&crate::api::earlier_name(path));
    std::fs::copy(path, &aside)?;
    std::fs::File::open(&aside)?.sync_all()
}

/// The task of each `task_started` line of a journal's text.
fn started_tasks(text: &str) -> impl Iterator<Item = Box<str>> + '_ {
    (text.lines())
        .filter(|line| line.contains(TASK_STARTED_LINE))
        .filter_map(|line| match serde_json::from_str::<JournalEntry>(line) {
            Ok(JournalEntry {
                event: JournalEvent::TaskStarted { task },
                ..
            }) => Some(task.taskid.as_str().into()),
            _ => None,
        })
}

impl Journal {
    /// Opens (or creates) the journal at `path`; `fresh` starts it empty, what it held kept
    /// beside it as `wiro-journal.earlier.jsonl` (numbered when taken: no paid task's id is
    /// lost). A torn last line (a crash mid-write) is ignored.
    pub fn open(path: &Path, fresh: bool) -> std::io::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .truncate(false)
            .open(path)?;
        // Two runs on one journal could both decide to submit the same Run.
        file.try_lock().map_err(|error| match error {
            std::fs::TryLockError::WouldBlock => std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "another wiro-nodes run is using this journal; wait for it to end or use another --out",
            ),
            std::fs::TryLockError::Error(error) => error,
        })?;
        let mut latest: HashMap<(Box<str>, Box<str>), Box<str>> = HashMap::new();
        let mut tasks = HashSet::new();
        let mut place_records: HashMap<Box<str>, Vec<RowRecord>> = HashMap::new();
        if fresh {
            keep_aside(path, &file)?;
        }
        // The tasks of the journals a --fresh kept aside stay the earlier runs': a lost Run's
        // look-up in the task list, in this run or a later one, must not take one of them
        // for the task it paid for. Read as they are (a torn line is no reason to stop).
        for kept in crate::api::LocalFile::kept_beside(path) {
            // One that cannot be read (its permissions changed) stops no run.
            let text = std::fs::read(&kept).unwrap_or_default();
            tasks.extend(started_tasks(&String::from_utf8_lossy(&text)));
        }
        if fresh {
            file.set_len(0)?;
        } else {
            let mut valid_length = 0u64;
            let mut reader = BufReader::new(&file);
            let mut bytes = Vec::new();
            while reader.read_until(b'\n', &mut bytes)? > 0 {
                // A line without its newline is torn (a crash mid-write, maybe within a
                // letter of several bytes): it is cut off below, so the next entry does not
                // glue onto it.
                if !bytes.ends_with(b"\n") {
                    break;
                }
                valid_length += bytes.len() as u64;
                let line = String::from_utf8_lossy(&bytes);
                if let Ok(entry) = serde_json::from_str::<JournalEntry>(&line) {
                    match &entry.event {
                        JournalEvent::TaskStarted { task } => {
                            tasks.insert(task.taskid.as_str().into());
                        }
                        JournalEvent::Row { entries, paid } => {
                            let place = entries.as_deref().unwrap_or(&entry.node);
                            let record = (entry.at, entry.key.as_str().into(), paid.clone());
                            place_records.entry(place.into()).or_default().push(record);
                        }
                        _ => {}
                    }
                    let text = line.trim_end_matches(['\n', '\r']);
                    latest.insert((entry.node.into(), entry.key.into()), text.into());
                }
                bytes.clear();
            }
            if file.metadata()?.len() != valid_length {
                file.set_len(valid_length)?;
            }
        }
        // An earlier run that crashed may have left a Run's answer written but not synced:
        // the first settle takes it to the disk before this run uses the task.
        let held = u64::from(!latest.is_empty());
        let mut by_key: HashMap<Box<str>, Vec<Box<str>>> = HashMap::new();
        for (node, key) in latest.keys() {
            by_key.entry(key.clone()).or_default().push(node.clone());
        }
        // The earliest line first: which of several alike a row takes does not depend on
        // the order of a hash map.
        by_key
            .values_mut()
            .for_each(|nodes| nodes.sort_by(|a, b| line_order(a).cmp(&line_order(b))));
        Ok(Self {
            path: path.to_owned(),
            file: Arc::new(file),
            latest,
            by_key,
            claimed: HashMap::new(),
            places_used: HashSet::new(),
            place_records,
            tasks,
            written: held,
            answer_at: held,
            synced: 0,
            syncing: 0,
            sync_ended: tokio::sync::watch::Sender::new(0),
            broken: None,
            syncs: 0,
        })
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last entry for this node with these inputs.
    fn latest_entry(&self, node: &str, key: &str) -> Option<JournalEntry> {
        let line = self.latest.get(&(Box::from(node), Box::from(key)))?;
        // Every line kept was read as an entry (or written from one) already.
        serde_json::from_str(line).ok()
    }

    /// The last thing recorded for this node with these inputs.
    pub fn latest(&self, node: &str, key: &str) -> Option<JournalEvent> {
        self.latest_entry(node, key).map(|entry| entry.event)
    }

    /// The lines (`row-0003`) a row with these `cells` was recorded on, its entries kept at
    /// `place`: where a row that moved wrote its files before.
    pub(crate) fn lines_of(&self, cells: &str, place: &str) -> Vec<String> {
        let kept_at = |row: &str| match self.latest(row, cells) {
            Some(JournalEvent::Row { entries, .. }) => entries.as_deref().unwrap_or(row) == place,
            _ => false,
        };
        (self.by_key.get(cells).into_iter().flatten())
            .filter(|row| kept_at(row))
            .map(|row| row.to_string())
            .collect()
    }

    /// Where each row of a table keeps its nodes' entries this run, given each row's name
    /// (`row-0007`) and its cells' digest, in table order: where an earlier run kept them for
    /// a row with the same cells (its own line's record first, else the record of a line it
    /// moved from: a line inserted above, the table sorted); else its own line's
    /// name, or a name of its own (`row-0007~1`) when another row uses that. Each place
    /// serves one row of a run (rows whose cells differ may still ask for one task: their
    /// entries must not meet), so two rows with the same cells run twice; a row whose place
    /// went to another finds its paid task through [`Journal::claim`]. Write each row's
    /// place down with [`Journal::record_row`] before it runs.
    pub(crate) fn place_rows(&mut self, rows: &[(String, String)]) -> Vec<String> {
        let recorded = |journal: &Self, row: &str, cells: &str| match journal.latest(row, cells) {
            Some(JournalEvent::Row { entries, .. }) => {
                Some(entries.unwrap_or_else(|| row.to_owned()))
            }
            _ => None,
        };
        // Every place an earlier run kept a row's entries under.
        let known: HashSet<String> = (self.latest.iter())
            .filter(|(_, line)| line.contains(ROW_LINE))
            .filter_map(|((row, cells), _)| recorded(self, row, cells))
            .collect();
        let mut records_used: HashSet<(&str, &str)> = HashSet::new();
        let mut placed: Vec<Option<String>> = vec![None; rows.len()];
        // Rows still on their lines first, so that a row alike above takes none of theirs.
        for ((row, cells), place) in rows.iter().zip(&mut placed) {
            let Some(entries) = recorded(self, row, cells) else {
                continue;
            };
            if self.places_used.insert(entries.as_str().into()) {
                records_used.insert((row, cells));
                *place = Some(entries);
            }
        }
        // Then rows whose line moved, each to the first line left with its cells.
        for ((_, cells), place) in rows.iter().zip(&mut placed) {
            if place.is_some() {
                continue;
            }
            let earlier_rows = self.by_key.get(cells.as_str()).into_iter().flatten();
            for earlier in earlier_rows {
                let Some(entries) = recorded(self, earlier, cells) else {
                    continue;
                };
                let record = (&**earlier, cells.as_str());
                if !records_used.contains(&record) && !self.places_used.contains(entries.as_str()) {
                    self.places_used.insert(entries.as_str().into());
                    records_used.insert(record);
                    *place = Some(entries);
                    break;
                }
            }
        }
        // The rest keep their entries under their line's name, or one of their own.
        let mut own_place = |row: &String| {
            let mut name = row.clone();
            let mut n = 0;
            while self.places_used.contains(name.as_str()) || (n > 0 && known.contains(&name)) {
                n += 1;
                name = format!("{row}~{n}");
            }
            self.places_used.insert(name.as_str().into());
            name
        };
        (rows.iter().zip(placed))
            .map(|((row, _), place)| place.unwrap_or_else(|| own_place(row)))
            .collect()
    }

    /// Writes down, for the next run, that the row on `row` with these `cells` keeps its
    /// nodes' entries under `place`, its paid nodes reading what `paid` digests. Written
    /// again when the place held other cells since (a row edited, then edited back), so
    /// that the entries written after it are known to be these cells'.
    pub(crate) fn record_row(
        &mut self,
        row: &str,
        cells: &str,
        place: &str,
        paid: &BTreeMap<String, String>,
    ) -> std::io::Result<()> {
        let entries = (place != row).then(|| place.to_owned());
        let paid = Some(paid.clone());
        let held = self.place_records.get(place).and_then(|held| held.last());
        let latest_here = held.is_some_and(|(_, now, _)| **now == *cells);
        match self.latest(row, cells) {
            Some(JournalEvent::Row {
                entries: now,
                paid: read,
            }) if now == entries && read == paid && latest_here => Ok(()),
            _ => {
                let event = JournalEvent::Row {
                    entries,
                    paid: paid.clone(),
                };
                self.record(row, cells, event)?;
                let at = self.latest_at(row, cells).unwrap_or_default();
                let record = (at, cells.into(), paid);
                self.place_records
                    .entry(place.into())
                    .or_default()
                    .push(record);
                Ok(())
            }
        }
    }

    /// The node whose entry a node resumes from: its own; else, for a node of a table's row
    /// that `moves` (its entries follow its row, see [`Journal::place_rows`]), the entry a
    /// node of the same name left with the same inputs in an earlier run, wherever its row
    /// keeps it now, so that moving lines pays for nothing again. A paid node's entry
    /// (`exclusive`) serves one node of the run (`claimer`, its id) and only one that may
    /// have started a task, or finished, is taken from elsewhere; a free node's result (an
    /// upload's URL) serves any.
    pub(crate) fn claim(
        &mut self,
        node: &str,
        key: &str,
        claimer: &str,
        (moves, exclusive): (bool, bool),
    ) -> Option<String> {
        let free = |journal: &Self, place: &(Box<str>, Box<str>)| {
            !exclusive
                || journal
                    .claimed
                    .get(place)
                    .is_none_or(|taker| &**taker == claimer)
        };
        let own = (Box::from(node), Box::from(key));
        let moved_away = matches!(self.latest(node, key), Some(JournalEvent::Moved { .. }));
        let found = if self.latest.contains_key(&own) && !moved_away && free(self, &own) {
            Some(node.to_owned())
        } else {
            self.found_elsewhere(node, key, free, moves)
        };
        let Some(source) = found else {
            if exclusive {
                // The node runs and writes its entry here: no other node takes it this run.
                self.claimed.insert(own, Box::from(claimer));
            }
            return None;
        };
        if exclusive {
            let place = (Box::from(source.as_str()), Box::from(key));
            self.claimed.insert(place, Box::from(claimer));
            if source != node {
                // The task goes with the row that took it: another row may use the place it
                // was under and write there. A failed write breaks the journal: no Run goes
                // out after it.
                let _ = self.hand_over(&source, node, key);
                self.claimed.insert(own, Box::from(claimer));
                return Some(node.to_owned());
            }
        }
        Some(source)
    }

    /// For a table row's node that `moves`, an entry a node of the same name left with the same
    /// inputs in an earlier run, under another place, that `free` says no other node of this
    /// run holds, and that may have started a task or finished.
    fn found_elsewhere(
        &self,
        node: &str,
        key: &str,
        free: impl Fn(&Self, &(Box<str>, Box<str>)) -> bool,
        moves: bool,
    ) -> Option<String> {
        let (_, name) = split_entries(node).filter(|_| moves)?;
        let other = self.by_key.get(key)?.iter().find(|other| {
            &***other != node
                && split_entries(other).is_some_and(|(_, theirs)| theirs == name)
                && free(self, &(Box::from(&***other), Box::from(key)))
                && matches!(
                    self.latest(other, key),
                    Some(
                        JournalEvent::Submitting { .. }
                            | JournalEvent::TaskStarted { .. }
                            | JournalEvent::Finished { .. }
                    )
                )
        })?;
        Some(other.to_string())
    }

    /// Gives `to` what `from` had with `key`: its entry as written (its time kept: a Run sent
    /// with no answer is looked for from when it left), then a `moved` line for `from`. Both
    /// lines in one write: a crash keeps both or the first (then both name the task, and the
    /// next run's claims still give it to one node).
    fn hand_over(&mut self, from: &str, to: &str, key: &str) -> std::io::Result<()> {
        let Some(mut entry) = self.latest_entry(from, key) else {
            return Ok(());
        };
        entry.node = to.to_owned();
        let moved = JournalEntry {
            node: from.to_owned(),
            key: key.to_owned(),
            at: entry.at,
            event: JournalEvent::Moved { to: to.to_owned() },
        };
        let mut text = String::new();
        for line in [&entry, &moved] {
            text.push_str(&serde_json::to_string(line).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        self.write_whole(&text)?;
        self.written += 2;
        if entry.event.is_run_answer() {
            // A task read back is settled before use: count its copy as an answer.
            self.answer_at = self.written;
        }
        let mut lines = text.lines();
        for written in [&entry, &moved] {
            let line = lines.next().unwrap_or_default();
            let place = (Box::from(written.node.as_str()), Box::from(key));
            self.latest.insert(place, line.into());
        }
        Ok(())
    }

    /// The entries an earlier run wrote between `since` and `before` (unix milliseconds) that
    /// may hold a task (`task_started`, `finished`, a `submitting` with no answer after it)
    /// and that no node of this run took: what a row whose cells (or whose flow) changed
    /// since left behind.
    pub(crate) fn left_behind(&self, since: u64, before: u64) -> Vec<JournalEntry> {
        (self.latest.iter())
            .filter(|(place, _)| !self.claimed.contains_key(*place))
            .filter(|(_, line)| PAID_LINES.iter().any(|tag| line.contains(tag)))
            .filter_map(|(_, line)| serde_json::from_str::<JournalEntry>(line).ok())
            .filter(|entry| (since..before).contains(&entry.at))
            .collect()
    }

    /// The paid-task entries (a task started, a node finished, a Run whose answer never came)
    /// of table rows' nodes written for other inputs than the row that keeps its entries at
    /// that place now gives them: `places` maps each place a row takes this run to that
    /// row's cells' digest and its paid nodes' digests (see [`Journal::record_row`]). An
    /// entry belongs to its place's row record latest before it (a row edited keeps its
    /// place, its new cells' entries written after the new record); it is another's when
    /// that record's digest for its node differs from the row's now, or the row's flow has
    /// no such paid node now (its cells' digest, for a record without them or a node that
    /// is not paid). An entry of a place no row takes is for other cells.
    pub(crate) fn for_other_cells(
        &self,
        places: &HashMap<String, (String, BTreeMap<String, String>)>,
    ) -> Vec<JournalEntry> {
        (self.latest.values())
            .filter(|line| PAID_LINES.iter().any(|tag| line.contains(tag)))
            .filter_map(|line| serde_json::from_str::<JournalEntry>(line).ok())
            .filter(|entry| {
                let Some((place, node)) = split_entries(&entry.node) else {
                    return false;
                };
                let Some((cells_now, paid_now)) = places.get(place) else {
                    return true;
                };
                let held = (self.place_records.get(place)).map_or(&[][..], Vec::as_slice);
                let before = held.partition_point(|(at, _, _)| *at <= entry.at);
                // No record before it (a journal older than row places): the place's own.
                let Some((_, cells, paid)) = before.checked_sub(1).map(|at| &held[at]) else {
                    return false;
                };
                let then = paid.as_ref().and_then(|paid| paid.get(node));
                match (then, paid_now.get(node)) {
                    (Some(then), Some(now)) => then != now,
                    // A paid node the row's flow no longer has (renamed or removed).
                    (Some(_), None) => true,
                    _ => **cells != **cells_now,
                }
            })
            .collect()
    }

    /// When the last thing for this node with these inputs was recorded (unix milliseconds).
    pub fn latest_at(&self, node: &str, key: &str) -> Option<u64> {
        self.latest_entry(node, key).map(|entry| entry.at)
    }

    /// Every task id the journal holds as started, whether its node finished since or not:
    /// tasks that belong to some node already; after a `--fresh` start, those of the
    /// journals it kept aside too (an earlier run's, never this run's to adopt).
    pub fn task_ids(&self) -> HashSet<String> {
        self.tasks.iter().map(|task| task.to_string()).collect()
    }

    /// Appends an event. A Run about to be sent is synced to disk (with every line before it)
    /// before returning; a Run's answer is owed a sync, paid by the next `submitting` line or
    /// by [`Journal::settle`]: call it before going on with the task.
    pub fn record(&mut self, node: &str, key: &str, event: JournalEvent) -> std::io::Result<()> {
        if let Some(owed) = self.record_owing(node, key, event)? {
            self.run_here(owed)?;
        }
        Ok(())
    }

    /// Appends an event, like [`Journal::record`], but hands a Run's sync to the caller: the
    /// Run may be sent once the returned sync has run and been reported with
    /// [`Journal::synced`]. So the sync can run on another thread, without the lock.
    pub(crate) fn record_owing(
        &mut self,
        node: &str,
        key: &str,
        event: JournalEvent,
    ) -> std::io::Result<Option<OwedSync>> {
        let now = (SystemTime::now().duration_since(UNIX_EPOCH)).map_or(0, |d| d.as_millis());
        self.record_as_of(node, key, event, now as u64)
    }

    /// Appends an event as [`Journal::record_owing`] does, dated `at` (unix milliseconds):
    /// what a later run learned of an earlier run's Run (its task, found in Task/List) is
    /// dated when that Run was sent, so it belongs to the cells the row had then.
    pub(crate) fn record_as_of(
        &mut self,
        node: &str,
        key: &str,
        event: JournalEvent,
        at: u64,
    ) -> std::io::Result<Option<OwedSync>> {
        let sync = matches!(event, JournalEvent::Submitting { .. });
        let entry = JournalEntry {
            node: node.to_owned(),
            key: key.to_owned(),
            at,
            event,
        };
        let mut line = serde_json::to_string(&entry).map_err(std::io::Error::other)?;
        line.push('\n');
        self.write_whole(&line)?;
        self.written += 1;
        if entry.event.is_run_answer() {
            self.answer_at = self.written;
        }
        if let JournalEvent::TaskStarted { task } = &entry.event {
            self.tasks.insert(task.taskid.as_str().into());
        }
        line.pop();
        self.latest
            .insert((entry.node.into(), entry.key.into()), line.into());
        if sync {
            return self.owe().map(Some);
        }
        Ok(None)
    }

    /// Appends whole lines, in one write.
    fn write_whole(&mut self, lines: &str) -> std::io::Result<()> {
        self.refuse_if_broken()?;
        (&*self.file)
            .write_all(lines.as_bytes())
            .inspect_err(|error| {
                // Part of a line may be in the file, and the next line would glue onto it and be
                // lost with it (a `submitting` line, say): nothing more is written.
                self.broken = Some(format!("a line could not be written whole ({error})"));
            })
    }

    /// Syncs a Run's answer written since the last sync; nothing when the next Run's
    /// `submitting` line already took it to the disk. Called before a paid node's task is
    /// used, so a task the run goes on with is on disk.
    pub fn settle(&mut self) -> std::io::Result<()> {
        if self.answer_at > self.synced {
            let owed = self.owe()?;
            self.run_here(owed)?;
        }
        Ok(())
    }

    fn run_here(&mut self, owed: OwedSync) -> std::io::Result<()> {
        match owed.run() {
            Ok(()) => {
                self.synced(&owed);
                Ok(())
            }
            Err(error) => {
                self.sync_failed(&error);
                Err(error)
            }
        }
    }

    /// What settling takes, for a caller that runs syncs elsewhere (see
    /// [`Journal::record_owing`]): nothing, waiting for a sync already running that covers
    /// the last Run's answer, or a sync to run.
    pub(crate) fn settle_owing(&mut self) -> std::io::Result<Settling> {
        Ok(if self.answer_at <= self.synced {
            Settling::Done
        } else if self.answer_at <= self.syncing {
            Settling::Running(self.sync_ended.subscribe())
        } else {
            Settling::Sync(self.owe()?)
        })
    }

    /// Takes note that `owed` ran: every line written before it was handed out is on disk.
    pub(crate) fn synced(&mut self, owed: &OwedSync) {
        self.synced = self.synced.max(owed.through);
        self.syncs += 1;
        self.sync_ended.send_replace(self.synced);
    }

    /// Takes note that a sync handed out failed: no sync is handed out after it, and those
    /// waiting for it hear so.
    pub(crate) fn sync_failed(&mut self, error: &std::io::Error) {
        self.broken = Some(format!("a sync of the journal failed ({error})"));
        self.abandoned();
    }

    /// The error for anything asked of a journal that an earlier write or sync broke.
    fn refuse_if_broken(&self) -> std::io::Result<()> {
        match &self.broken {
            Some(why) => Err(std::io::Error::other(format!(
                "earlier, {why}: nothing more can be trusted to reach the journal, so nothing more is sent"
            ))),
            None => Ok(()),
        }
    }

    /// Takes note that a sync handed out will not be reported (its caller went away): those
    /// waiting for it sync on their own.
    pub(crate) fn abandoned(&mut self) {
        self.syncing = self.synced;
        self.sync_ended.send_replace(self.synced);
    }

    fn owe(&mut self) -> std::io::Result<OwedSync> {
        self.refuse_if_broken()?;
        self.syncing = self.written;
        Ok(OwedSync {
            file: Arc::clone(&self.file),
            through: self.written,
        })
    }
}

/// What settling the journal takes (see [`Journal::settle_owing`]).
#[derive(Debug)]
pub(crate) enum Settling {
    /// The last Run's answer is on disk.
    Done,
    /// A sync running elsewhere covers it: wait for the receiver to change, then ask again.
    Running(tokio::sync::watch::Receiver<u64>),
    /// This sync covers it: run it and report it with [`Journal::synced`].
    Sync(OwedSync),
}

/// A sync of the journal that is owed before the run goes on: it takes every line written
/// before it was handed out to the disk. Run it (on a blocking thread: it waits for the disk),
/// then report it with [`Journal::synced`].
#[derive(Debug)]
pub(crate) struct OwedSync {
    file: Arc<File>,
    through: u64,
}

impl OwedSync {
    /// Syncs the journal's file (blocking).
    pub(crate) fn run(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Lines written without a sync of their own reach the disk now.
        let _ = self.file.sync_data();
    }
}

/// The journal key of a node run: SHA-256 over its type, version and inputs, with object keys
/// sorted so that key order in a file does not matter.
pub fn input_key(type_id: &str, version: u32, inputs: &Value) -> String {
    key_of(type_id, version, |out| canonical(out, inputs))
}

/// The key [`input_key`] gives the object of these `fields`, without building the object
/// (which would copy every input once more for each node of every row).
pub(crate) fn fields_key(type_id: &str, version: u32, mut fields: Vec<(&str, &Value)>) -> String {
    fields.sort_unstable_by_key(|(name, _)| *name);
    key_of(type_id, version, |out| {
        canonical_object(out, fields.iter().map(|(name, value)| (*name, *value)))
    })
}

fn key_of(type_id: &str, version: u32, inputs: impl FnOnce(&mut Sha256)) -> String {
    let mut hasher = Sha256::new();
    hasher.update(type_id.as_bytes());
    hasher.update(version.to_le_bytes());
    inputs(&mut hasher);
    hex::encode(hasher.finalize())
}

/// Writes `value` as compact JSON with every object's keys sorted (the bytes keys are made of,
/// unchanged since the first journal: a new form would make every earlier run start over).
fn canonical(out: &mut Sha256, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut fields: Vec<(&str, &Value)> = map
                .iter()
                .map(|(key, value)| (key.as_str(), value))
                .collect();
            fields.sort_unstable_by_key(|(key, _)| *key);
            canonical_object(out, fields.into_iter());
        }
        Value::Array(items) => {
            out.update(b"[");
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    out.update(b",");
                }
                canonical(out, item);
            }
            out.update(b"]");
        }
        // Writing into a digest cannot fail.
        other => serde_json::to_writer(&mut *out, other).expect("a JSON scalar writes"),
    }
}

/// Writes an object of fields already in key order.
fn canonical_object<'v>(out: &mut Sha256, fields: impl Iterator<Item = (&'v str, &'v Value)>) {
    out.update(b"{");
    for (at, (key, value)) in fields.enumerate() {
        if at > 0 {
            out.update(b",");
        }
        serde_json::to_writer(&mut *out, key).expect("a JSON string writes");
        out.update(b":");
        canonical(out, value);
    }
    out.update(b"}");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_the_ones_earlier_versions_wrote() {
        // Pinned: a journal written by any earlier version must still find its nodes.
        let value = json!({"b": [1, 2.5, "x\"y\n", null, true, {"z": 1, "a": "é"}],
            "a": {"server": "https://api.wiro.ai/v1"}, "ünï": -3});
        assert_eq!(
            input_key("pixverse/text-to-video-v4", 3, &value),
            "c2b897c22684e9abf6c6e10943e17d46f1e98dbb49861c87ef9b6696f6054a34"
        );
        assert_eq!(
            input_key("t", 1, &Value::Null),
            "38f806647712a46a5b25174241c22509c636876418142ae2d859e889e28051ae"
        );
        let inputs = json!({"prompt": "a fox", "seed": 7});
        let server = json!("http://127.0.0.1:1/v1");
        let pinned = "879c93e23a913bb917f9c43892d18b5683bd7103783b15690e3bd25c05b50e40";
        let whole = json!({"facts": null, "inputs": inputs, "server": server});
        assert_eq!(input_key("t", 1, &whole), pinned);
        let fields = vec![
            ("server", &server),
            ("inputs", &inputs),
            ("facts", &Value::Null),
        ];
        assert_eq!(fields_key("t", 1, fields), pinned);
    }

    #[test]
    fn keys_ignore_field_order_but_not_values() {
        let a = input_key("t", 1, &json!({"a": 1, "b": {"c": 2, "d": 3}}));
        let b = input_key("t", 1, &json!({"b": {"d": 3, "c": 2}, "a": 1}));
        assert_eq!(a, b);
        assert_ne!(
            a,
            input_key("t", 1, &json!({"a": 2, "b": {"c": 2, "d": 3}}))
        );
        assert_ne!(
            a,
            input_key("t", 2, &json!({"a": 1, "b": {"c": 2, "d": 3}}))
        );
    }

    #[test]
    fn a_run_is_on_disk_before_it_is_sent_and_its_answer_before_its_task_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join(JOURNAL_FILE), false).unwrap();
        let task = |id: &str| JournalEvent::TaskStarted {
            task: TaskHandle {
                taskid: id.into(),
                socketaccesstoken: "t".into(),
            },
        };
        journal
            .record("a", "k", JournalEvent::Submitting { sent: None })
            .unwrap();
        assert_eq!(journal.syncs, 1, "a Run is synced before it is sent");
        journal.record("a", "k", task("1")).unwrap();
        assert_eq!(journal.syncs, 1, "its answer waits for the next sync");
        // The next Run's sync takes the first one's answer along: settling costs nothing.
        journal
            .record("b", "k", JournalEvent::Submitting { sent: None })
            .unwrap();
        journal.settle().unwrap();
        assert_eq!(journal.syncs, 2);
        // The last Run's answer has no Run after it: settling syncs it, once.
        journal.record("b", "k", task("2")).unwrap();
        journal
            .record(
                "b",
                "k",
                JournalEvent::Finished {
                    outputs: Value::Null,
                },
            )
            .unwrap();
        assert_eq!(journal.syncs, 2, "a finished node's line is not synced");
        journal.settle().unwrap();
        journal.settle().unwrap();
        assert_eq!(journal.syncs, 3);
        // A refusal is an answer too.
        journal
            .record(
                "c",
                "k",
                JournalEvent::Refused {
                    reason: "96".into(),
                },
            )
            .unwrap();
        journal.settle().unwrap();
        assert_eq!(journal.syncs, 4);
    }

    #[test]
    fn a_sync_handed_out_covers_the_lines_before_it_and_no_later_answer() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join(JOURNAL_FILE), false).unwrap();
        let owed = journal
            .record_owing("a", "k", JournalEvent::Submitting { sent: None })
            .unwrap()
            .expect("a Run about to be sent is owed a sync");
        assert_eq!(journal.syncs, 0, "the caller runs it");
        // An answer written while the sync runs elsewhere is not covered by it.
        journal
            .record(
                "z",
                "k",
                JournalEvent::Refused {
                    reason: "96".into(),
                },
            )
            .unwrap();
        owed.run().unwrap();
        journal.synced(&owed);
        assert_eq!(journal.syncs, 1);
        assert!(
            matches!(journal.settle_owing().unwrap(), Settling::Sync(_)),
            "the later answer is owed"
        );
        journal.settle().unwrap();
        assert!(matches!(journal.settle_owing().unwrap(), Settling::Done));
        let none = journal
            .record_owing(
                "a",
                "k",
                JournalEvent::Finished {
                    outputs: Value::Null,
                },
            )
            .unwrap();
        assert!(none.is_none(), "a finished node's line owes nothing");
    }

    #[test]
    fn after_a_line_fails_to_be_written_nothing_more_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let mut journal = Journal::open(&path, false).unwrap();
        journal
            .record("a", "k", JournalEvent::Submitting { sent: None })
            .unwrap();
        let before = std::fs::read_to_string(&path).unwrap();
        // The disk refuses the next line (a full disk, say).
        journal.file = Arc::new(File::open(&path).unwrap());
        let finished = JournalEvent::Finished {
            outputs: Value::Null,
        };
        assert!(journal.record("a", "k", finished.clone()).is_err());
        // The disk takes lines again, but the journal writes none after a line it lost.
        journal.file = Arc::new(OpenOptions::new().append(true).open(&path).unwrap());
        let error = journal
            .record_owing("b", "k", JournalEvent::Submitting { sent: None })
            .unwrap_err();
        assert!(
            error.to_string().contains("could not be written whole"),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn a_reopened_journal_syncs_what_an_earlier_run_left_before_its_task_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let mut journal = Journal::open(&path, false).unwrap();
        journal
            .record("a", "k", JournalEvent::Submitting { sent: None })
            .unwrap();
        drop(journal);
        // The earlier run may have crashed with its Run's answer written but not synced.
        let mut reopened = Journal::open(&path, false).unwrap();
        reopened.settle().unwrap();
        reopened.settle().unwrap();
        assert_eq!(reopened.syncs, 1);
        drop(reopened);
        let mut fresh = Journal::open(&path, true).unwrap();
        fresh.settle().unwrap();
        assert_eq!(fresh.syncs, 0);
    }

    #[test]
    fn an_entry_written_after_a_torn_line_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        std::fs::write(&path, b"{\"node\":\"gen\",\"ke").unwrap();
        let mut journal = Journal::open(&path, false).unwrap();
        journal
            .record("gen", "k", JournalEvent::Submitting { sent: None })
            .unwrap();
        drop(journal);
        let journal = Journal::open(&path, false).unwrap();
        assert_eq!(
            journal.latest("gen", "k"),
            Some(JournalEvent::Submitting { sent: None })
        );
    }

    #[test]
    fn a_second_run_on_one_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let first = Journal::open(&path, false).unwrap();
        let error = Journal::open(&path, false).unwrap_err();
        assert!(
            error.to_string().contains("another wiro-nodes run"),
            "{error}"
        );
        drop(first);
        Journal::open(&path, false).unwrap();
    }

    #[test]
    fn survives_reopening_and_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let mut journal = Journal::open(&path, false).unwrap();
        journal
            .record("gen", "k", JournalEvent::Submitting { sent: None })
            .unwrap();
        let task = TaskHandle {
            taskid: "7".into(),
            socketaccesstoken: "t".into(),
        };
        journal
            .record("gen", "k", JournalEvent::TaskStarted { task: task.clone() })
            .unwrap();
        drop(journal);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"node\":\"gen\",\"key\":\"caf\xc3")
            .unwrap();
        // Torn within a letter of two bytes: still read, the torn line cut off.
        let journal = Journal::open(&path, false).unwrap();
        assert_eq!(
            journal.latest("gen", "k"),
            Some(JournalEvent::TaskStarted { task })
        );
        assert_eq!(journal.latest("gen", "other"), None);
        drop(journal);
        let torn = || {
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            file.write_all(b"{\"node\":\"gen\",\"key\":\"caf\xc3")
                .unwrap();
        };
        torn(); // kept aside as it is by the --fresh below
        let fresh = Journal::open(&path, true).unwrap();
        assert_eq!(fresh.latest("gen", "k"), None);
        // Its tasks stay the earlier run's: a lost Run's look-up does not take one.
        assert!(fresh.task_ids().contains("7"), "{:?}", fresh.task_ids());
        // What it held is kept beside it, the paid task's id with it; a second fresh start
        // keeps the first's journal too.
        drop(fresh);
        let aside = dir.path().join("wiro-journal.earlier.jsonl");
        let kept = |path: &std::path::Path| {
            String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
        };
        assert!(kept(&aside).contains("\"taskid\":\"7\""));
        let mut again = Journal::open(&path, false).unwrap();
        assert!(again.task_ids().contains("7"), "a later run's too");
        again
            .record("gen", "k", JournalEvent::Submitting { sent: None })
            .unwrap();
        drop(again);
        let second = Journal::open(&path, true).unwrap();
        assert!(second.task_ids().contains("7"), "the first journal's too");
        drop(second);
        assert!(dir.path().join("wiro-journal.earlier-2.jsonl").exists());
        assert!(kept(&aside).contains("\"taskid\":\"7\""));
    }

    #[test]
    fn a_place_s_paid_entries_are_told_apart_by_every_row_record_before_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(&dir.path().join(JOURNAL_FILE), false).unwrap();
        let paid = |digest: &str| BTreeMap::from([("video".to_owned(), digest.to_owned())]);
        let mut cells_then = |cells: &str, digest: &str, task: Option<&str>| {
            std::thread::sleep(std::time::Duration::from_millis(3));
            journal
                .record_row("row-0002", cells, "row-0002", &paid(digest))
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(3));
            if let Some(task) = task {
                let task = TaskHandle {
                    taskid: task.into(),
                    socketaccesstoken: "t".into(),
                };
                let event = JournalEvent::TaskStarted { task };
                journal.record("row-0002-video", digest, event).unwrap();
            }
        };
        // A, B, C paid each; back to B (its task resumed); a column only the download reads
        // changed in D (the video reads what it read in B).
        cells_then("A", "a", Some("1"));
        cells_then("B", "b", Some("2"));
        cells_then("C", "c", Some("3"));
        cells_then("B", "b", None);
        cells_then("D", "b", None);
        let others = |cells: &str, digest: &str| {
            let places = HashMap::from([("row-0002".to_owned(), (cells.to_owned(), paid(digest)))]);
            let mut tasks: Vec<String> = (journal.for_other_cells(&places).into_iter())
                .filter_map(|entry| match entry.event {
                    JournalEvent::TaskStarted { task } => Some(task.taskid),
                    _ => None,
                })
                .collect();
            tasks.sort();
            tasks
        };
        assert_eq!(others("D", "b"), ["1", "3"], "B's task is still the row's");
        assert_eq!(others("A", "a"), ["2", "3"]);
        let none = HashMap::new();
        assert_eq!(
            journal.for_other_cells(&none).len(),
            3,
            "a place no row takes"
        );
    }

    #[test]
    fn a_finished_node_s_task_still_belongs_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let mut journal = Journal::open(&path, false).unwrap();
        let task = TaskHandle {
            taskid: "7".into(),
            socketaccesstoken: "t".into(),
        };
        journal
            .record("gen", "k", JournalEvent::TaskStarted { task })
            .unwrap();
        let outputs = json!({"task": {"taskid": "7", "socketaccesstoken": "t"}});
        journal
            .record("gen", "k", JournalEvent::Finished { outputs })
            .unwrap();
        assert!(journal.task_ids().contains("7"), "this run's");
        drop(journal);
        // A lost Run of a row alike, read back from the journal, never adopts task 7.
        let journal = Journal::open(&path, false).unwrap();
        assert!(journal.task_ids().contains("7"), "a reopened journal's");
    }

    #[test]
    fn a_row_alike_later_in_the_same_run_takes_nothing_of_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let mut journal = Journal::open(&path, false).unwrap();
        let claim =
            |journal: &mut Journal, node: &str| journal.claim(node, "k", node, (true, true));
        assert_eq!(claim(&mut journal, "row-0002-video"), None);
        journal
            .record(
                "row-0002-video",
                "k",
                JournalEvent::Submitting { sent: None },
            )
            .unwrap();
        assert_eq!(
            claim(&mut journal, "row-0028-video"),
            None,
            "row 28 sends its own Run"
        );
        journal
            .record(
                "row-0028-video",
                "k",
                JournalEvent::Submitting { sent: None },
            )
            .unwrap();
        drop(journal);
        // Reopened, a journal that kept no rows' places: a moved row finds a node of its name,
        // and the entry goes with it.
        let mut journal = Journal::open(&path, false).unwrap();
        for (moved, from) in [
            ("row-0003-video", "row-0002-video"),
            ("row-0029-video", "row-0028-video"),
        ] {
            assert_eq!(claim(&mut journal, moved).as_deref(), Some(moved));
            assert_eq!(
                journal.latest(moved, "k"),
                Some(JournalEvent::Submitting { sent: None })
            );
            let left = journal.latest(from, "k");
            assert!(matches!(left, Some(JournalEvent::Moved { .. })), "{left:?}");
        }
        assert_eq!(
            claim(&mut journal, "row-0040-video"),
            None,
            "each serves one"
        );
    }

    /// One run of a table over `journal`: each row (line, cells) placed, its paid node `video`
    /// resumed or run (keyed by its cells), its row written down. How many Runs it paid.
    fn run_table(path: &Path, rows: &[(usize, &str)]) -> usize {
        run_table_paying(path, rows, |cells| cells)
    }

    /// As [`run_table`], the paid node reading `paid_key` of a row's cells (the rest is a free
    /// node's input).
    fn run_table_paying(path: &Path, rows: &[(usize, &str)], paid_key: fn(&str) -> &str) -> usize {
        run_table_killed(path, rows, paid_key, rows.len())
    }

    /// As [`run_table_paying`], the run killed after its first `processed` rows (each placed,
    /// written down and its Run sent): a run stopped with rows not started.
    fn run_table_killed(
        path: &Path,
        rows: &[(usize, &str)],
        paid_key: fn(&str) -> &str,
        processed: usize,
    ) -> usize {
        let mut journal = Journal::open(path, false).unwrap();
        let named: Vec<(String, String)> = (rows.iter())
            .map(|(line, cells)| (format!("row-{line:04}"), cells.to_string()))
            .collect();
        let places = journal.place_rows(&named);
        let mut paid = 0;
        for ((row, cells), place) in named.iter().zip(&places).take(processed) {
            journal
                .record_row(row, cells, place, &BTreeMap::new())
                .unwrap();
            let node = format!("{place}-video");
            let key = paid_key(cells);
            if journal
                .claim(&node, key, &format!("{row}-video"), (true, true))
                .is_none()
            {
                journal
                    .record(&node, key, JournalEvent::Submitting { sent: None })
                    .unwrap();
                paid += 1;
            }
        }
        paid
    }

    #[test]
    fn rows_edited_moved_added_back_and_sorted_pay_once_per_cells() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        // Found by a fuzz of edits: each step's Runs, then the next table.
        let steps: &[(&[(usize, &str)], usize)] = &[
            (&[(2, "fox")], 1),
            (&[(2, "cat")], 1),             // line 2 changed
            (&[(2, "cat"), (3, "fox")], 0), // fox added back below
            (&[(2, "fox"), (3, "cat")], 0), // sorted
            (&[(2, "fox"), (3, "fox")], 1), // a second fox: it runs too
            (&[(2, "fox"), (3, "cat"), (4, "fox")], 0),
            (&[(2, "new"), (3, "fox"), (4, "cat"), (5, "fox")], 1), // a line inserted above
        ];
        for (step, (rows, runs)) in steps.iter().enumerate() {
            assert_eq!(run_table(&path, rows), *runs, "step {step}: {rows:?}");
        }
    }

    #[test]
    fn a_moved_row_keeps_its_upload_and_a_new_row_on_its_line_gets_a_place_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let named = |list: &[(usize, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(line, cells)| (format!("row-{line:04}"), cells.to_string()))
                .collect()
        };
        let upload = |journal: &mut Journal, node: &str, url: &str| {
            let outputs = json!({ "url": url });
            journal
                .record(node, "file", JournalEvent::Finished { outputs })
                .unwrap();
        };
        let mut journal = Journal::open(&path, false).unwrap();
        let first = named(&[(2, "fox"), (3, "owl")]);
        let places = journal.place_rows(&first);
        assert_eq!(places, ["row-0002", "row-0003"]);
        // Both rows upload the same file (one key), each getting its own URL.
        upload(&mut journal, "row-0002-image", "u2");
        upload(&mut journal, "row-0003-image", "u3");
        for ((row, cells), place) in first.iter().zip(&places) {
            journal
                .record_row(row, cells, place, &BTreeMap::new())
                .unwrap();
        }
        drop(journal);

        // A line inserted above: fox is on line 3 now, owl on line 4.
        let mut journal = Journal::open(&path, false).unwrap();
        let second = named(&[(2, "new"), (3, "fox"), (4, "owl")]);
        let places = journal.place_rows(&second);
        assert_eq!(
            places,
            ["row-0002~1", "row-0002", "row-0003"],
            "a place serves one row a run: the new row on line 2 gets one of its own"
        );
        assert_eq!(
            journal
                .claim("row-0002-image", "file", "row-0003-image", (true, false))
                .as_deref(),
            Some("row-0002-image"),
            "fox, on line 3, keeps its upload (u2)"
        );
        assert!(
            journal
                .claim("row-0002~1-image", "file", "row-0002-image", (true, false))
                .is_some(),
            "an upload of the same file serves the new row too: its Run is its own"
        );
        for ((row, cells), place) in second.iter().zip(&places) {
            journal
                .record_row(row, cells, place, &BTreeMap::new())
                .unwrap();
        }
        drop(journal);

        // The rows' places were written down: the next run finds each where it was.
        let mut journal = Journal::open(&path, false).unwrap();
        assert_eq!(journal.place_rows(&second), places);
        drop(journal);
        // And with the inserted line gone, each row is back where its entries are.
        let mut journal = Journal::open(&path, false).unwrap();
        assert_eq!(journal.place_rows(&first), ["row-0002", "row-0003"]);
    }

    #[test]
    fn a_journal_without_rows_places_records_where_a_moved_row_found_its_task() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        // As the build before wrote it: entries, no places.
        let mut journal = Journal::open(&path, false).unwrap();
        for (node, cells) in [
            ("row-0002-video", "cat"),
            ("row-0003-video", "dog"),
            ("row-0004-video", "eel"),
        ] {
            journal
                .record(node, cells, JournalEvent::Submitting { sent: None })
                .unwrap();
        }
        drop(journal);
        assert_eq!(
            run_table(&path, &[(2, "eel"), (3, "dog"), (4, "cat")]),
            0,
            "sorted"
        );
        assert_eq!(
            run_table(&path, &[(2, "cat"), (3, "dog"), (4, "eel")]),
            0,
            "sorted back"
        );
    }

    /// 300 random sequences of five tables over `alphabet`, a third of the runs killed part
    /// way, each run checked against the rule: an intent (`paid_key` of a row's cells) paid
    /// once serves one row for good, so the rows a run reaches ask for each intent as many
    /// Runs as they hold it, less what earlier runs paid for it.
    fn check_random_edits(alphabet: &[&'static str], paid_key: fn(&str) -> &str) {
        let mut seed: u64 = 0x5eed;
        let mut next = |below: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % below
        };
        for sequence in 0..300 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(JOURNAL_FILE);
            let mut paid: HashMap<&str, usize> = HashMap::new();
            let mut history = Vec::new();
            for _ in 0..5 {
                let rows = 1 + next(5);
                let cells: Vec<&str> = (0..rows).map(|_| alphabet[next(alphabet.len())]).collect();
                let table: Vec<(usize, &str)> =
                    cells.iter().enumerate().map(|(i, c)| (i + 2, *c)).collect();
                let processed = match next(3) {
                    0 => next(rows),
                    _ => rows,
                };
                let reached = &cells[..processed];
                let mut expected = 0;
                let intents: HashSet<&str> = reached.iter().map(|cells| paid_key(cells)).collect();
                for intent in intents {
                    let wanted = reached.iter().filter(|c| paid_key(c) == intent).count();
                    let had = paid.entry(intent).or_default();
                    expected += wanted.saturating_sub(*had);
                    *had = (*had).max(wanted);
                }
                history.push(format!("{} (killed after {processed})", cells.join(" ")));
                assert_eq!(
                    run_table_killed(&path, &table, paid_key, processed),
                    expected,
                    "sequence {sequence}: {history:?}"
                );
            }
        }
    }

    #[test]
    fn any_sequence_of_edits_pays_once_per_row_s_cells_the_journal_has_not_paid() {
        check_random_edits(&["a", "b", "c", "d"], |cells| cells);
    }

    #[test]
    fn any_sequence_of_edits_of_free_cells_pays_once_per_paid_intent() {
        // `a1` and `a2` differ in a free node's input only: one paid intent, `a`.
        check_random_edits(&["a1", "b1", "c1", "a2", "b2"], |cells| &cells[..1]);
    }
}
