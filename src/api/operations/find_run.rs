//! Finding the task of a Run whose answer was lost (a cut connection, a gateway's 5xx, an
//! unreadable 2xx): Task/List of that model, newest first, matched on the parameters the Run
//! sent and on the creation time.
//!
//! The verdict is one of three, and only a complete listing can say "not created":
//!
//! - **Found**: a task of that model, created since the Run was sent (less
//!   [`FIND_RUN_CLOCK_MARGIN`], and at most [`FIND_RUN_LATEST`] after), with the same parameters, and not already claimed by the
//!   caller (`exclude`). When several match, the **oldest** unclaimed one is taken: tasks
//!   with the same model and parameters are the same request, so which lost Run adopts which
//!   of them does not matter, as long as no two adopt the same one (the caller adds each
//!   adopted id to `exclude`) — every created task is then adopted once and none is paid
//!   for twice.
//! - **NotCreated**: the listing went back past the start of the window (or to its end) and
//!   shows no unclaimed match. Sending the Run again is then safe.
//! - **CannotTell**: the listing failed or stopped before covering the window, or a matching
//!   task has no readable creation time. Stop and let the user check.
//!
//! A task created a moment after the listing (a server still working on the lost request)
//! cannot be seen; callers may list again after a short pause before trusting NotCreated.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::task_list::{task_parameters, TaskListPage, TaskListQuery};
use crate::api::client::{clean_slug, model_slug, wire_value};
use crate::api::wire::{Task, TaskHandle, WireNumber};
use crate::api::{Client, Result};

/// How far before the Run was sent a task's `createtime` may lie and still be its task: the
/// server's clock may be behind ours, and `createtime` is in whole seconds.
pub const FIND_RUN_CLOCK_MARGIN: Duration = Duration::from_secs(60);

/// How long after the Run was sent its task may have been made: its request gave up long
/// before (60 s), and the clocks differ by less than [`FIND_RUN_CLOCK_MARGIN`]. A task
/// made later, with the same parameters, is another request's (a run looking, days on, for
/// what a Run of last week made must not take today's task of another run).
pub const FIND_RUN_LATEST: Duration = Duration::from_secs(600);

/// Tasks per Task/List page while searching.
const PAGE_SIZE: u64 = 50;
/// Pages read at most (1,000 tasks) before giving up on covering the window.
const MAX_PAGES: u64 = 20;

/// Parameters every model takes that a server need not echo in the task's record.
const COMMON: [&str; 2] = ["callbackUrl", "projectid"];

/// What [`Client::find_run`] learned about a Run whose answer was lost.
///
/// Only a complete listing can say "not created". **Found**: a task of that model, created
/// since the Run was sent (less [`FIND_RUN_CLOCK_MARGIN`]), with the same parameters and not
/// already claimed by the caller; when several match, the oldest unclaimed one (tasks with
/// the same model and parameters are the same request, so which lost Run adopts which does
/// not matter, as long as the caller adds each adopted id to `exclude`). **NotCreated**: the
/// listing went back past the start of the window (or to its end) with no unclaimed match;
/// sending the Run again is safe. **CannotTell**: the listing failed or stopped before
/// covering the window, or a matching task has no readable creation time. A task created a
/// moment after the listing cannot be seen: callers may list again after a short pause
/// before trusting NotCreated.
#[derive(Debug, Clone, PartialEq)]
pub enum RunLookup {
    /// The Run created this task: adopt it (journal it, wait for it, download it).
    Found {
        /// The task's handle.
        handle: TaskHandle,
        /// Its record as Task/List showed it (boxed: a record is large).
        task: Box<Task>,
        /// How many unclaimed tasks matched (1 normally; the oldest is taken when more).
        matches: usize,
    },
    /// The listing covers every task of the model created since the Run was sent, and none
    /// of them (unclaimed) has its parameters: the Run created nothing.
    NotCreated {
        /// Tasks of the model listed.
        listed: usize,
    },
    /// The listing cannot decide.
    CannotTell {
        /// Why, in words (the server's error when the listing failed).
        reason: String,
    },
}

impl RunLookup {
    /// One line for a report.
    pub fn describe(&self) -> String {
        match self {
            RunLookup::Found {
                handle, matches, ..
            } if *matches > 1 => format!(
                "found: task {} ({matches} unclaimed tasks matched; the oldest was taken)",
                handle.taskid
            ),
            RunLookup::Found { handle, .. } => format!("found: task {}", handle.taskid),
            RunLookup::NotCreated { listed } => format!(
                "not created: none of the {listed} task(s) of the model since the Run matches it"
            ),
            RunLookup::CannotTell { reason } => format!("cannot tell: {reason}"),
        }
    }
}

impl Client {
    /// Looks for the task a lost Run of `model` with `parameters` (as given to
    /// [`Client::run`]) created, the Run having been sent at `sent_at`. Tasks in `exclude`
    /// (ids this caller already owns) are never returned. See [`RunLookup`] for how the
    /// verdict is reached.
    ///
    /// Only a `model` that is not `owner/model` is an error; a listing that fails is
    /// [`RunLookup::CannotTell`] with the server's words.
    pub async fn find_run(
        &self,
        model: &str,
        parameters: &Map<String, Value>,
        sent_at: SystemTime,
        exclude: &HashSet<String>,
    ) -> Result<RunLookup> {
        let model = model_slug(model)?;
        let mut search = Search::new(model, parameters, sent_at, exclude);
        let mut query = TaskListQuery::of_model(model).page(0, PAGE_SIZE);
        for _ in 0..MAX_PAGES {
            let page = match self.task_list(&query).await {
                Ok(page) => page,
                Err(error) => {
                    let reason =
                        format!("Task/List failed after {} task(s): {error}", search.listed);
                    return Ok(search.verdict(Some(reason)));
                }
            };
            if search.take(&page) {
                return Ok(search.verdict(None));
            }
            query.start += page.tasks.len() as u64;
        }
        let reason = format!(
            "{} tasks of {model} were listed without reaching the time the Run was sent",
            search.listed
        );
        Ok(search.verdict(Some(reason)))
    }
}

/// The search's state across pages: pure, so its judgement can be tested without a server.
struct Search<'a> {
    model: &'a str,
    /// What the Run sent, as the wire carried it.
    sent: Map<String, Value>,
    /// Unix seconds: tasks created before this are not the Run's.
    window_start: f64,
    /// Unix seconds: nor are tasks created after this ([`FIND_RUN_LATEST`]).
    window_end: f64,
    exclude: &'a HashSet<String>,
    listed: usize,
    /// Ids came in descending order so far, so an older task ends the window.
    descending: bool,
    last_id: Option<u64>,
    /// Unclaimed matches in the window.
    matches: Vec<Task>,
    /// A match whose creation time cannot be read.
    undated: Option<String>,
}

impl<'a> Search<'a> {
    fn new(
        model: &'a str,
        parameters: &Map<String, Value>,
        sent_at: SystemTime,
        exclude: &'a HashSet<String>,
    ) -> Self {
        let sent_secs = sent_at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        Self {
            model,
            sent: parameters
                .iter()
                .map(|(name, value)| (name.clone(), wire_value(value)))
                .collect(),
            window_start: (sent_secs - FIND_RUN_CLOCK_MARGIN.as_secs_f64()).floor(),
            window_end: (sent_secs + FIND_RUN_LATEST.as_secs_f64()).ceil(),
            exclude,
            listed: 0,
            descending: true,
            last_id: None,
            matches: Vec::new(),
            undated: None,
        }
    }

    /// Reads one page; `true` when the listing is complete for the window.
    fn take(&mut self, page: &TaskListPage) -> bool {
        let mut older_seen = false;
        for task in &page.tasks {
            self.listed += 1;
            match task.id.trim().parse::<u64>() {
                Ok(id) if self.last_id.is_none_or(|last| id < last) => self.last_id = Some(id),
                _ => self.descending = false,
            }
            if !self.same_model(task) {
                continue;
            }
            let created = task.createtime.as_ref().and_then(WireNumber::as_f64);
            if created.is_some_and(|created| created < self.window_start) {
                older_seen = true;
                continue;
            }
            if created.is_some_and(|created| created > self.window_end) {
                continue;
            }
            if !self.same_parameters(task)
                || self.exclude.contains(&task.id)
                || ended_unbilled(task)
            {
                continue;
            }
            match created {
                Some(_) => self.matches.push(task.clone()),
                None => self.undated = Some(task.id.clone()),
            }
        }
        (older_seen && self.descending) || page.is_last()
    }

    /// The verdict once the listing is complete (`failure: None`) or had to stop.
    fn verdict(self, failure: Option<String>) -> RunLookup {
        let count = self.matches.len();
        let oldest = self.matches.into_iter().min_by(|a, b| {
            let key = |task: &Task| {
                (
                    task.createtime
                        .as_ref()
                        .and_then(WireNumber::as_f64)
                        .unwrap_or(f64::MAX),
                    task.id.parse::<u64>().unwrap_or(u64::MAX),
                )
            };
            let (a, b) = (key(a), key(b));
            a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
        });
        if let Some(task) = oldest {
            return RunLookup::Found {
                handle: task.handle(),
                task: Box::new(task),
                matches: count,
            };
        }
        if let Some(id) = self.undated {
            return RunLookup::CannotTell {
                reason: format!(
                    "task {id} of {} has the Run's parameters but no readable createtime",
                    self.model
                ),
            };
        }
        match failure {
            None => RunLookup::NotCreated {
                listed: self.listed,
            },
            Some(reason) => RunLookup::CannotTell { reason },
        }
    }

    /// A record that names its model must name this one (the server filtered already). Raw
    /// and clean slugs are the same model (`Acme Labs/frames to video` is
    /// `acme-labs/frames-to-video`): compared clean, or a lost Run of a model whose raw slug
    /// holds spaces would never find its task, and be sent again.
    fn same_model(&self, task: &Task) -> bool {
        let field = |name: &str| task.extra.get(name).and_then(Value::as_str);
        let clean_model = |model: &str| {
            let (owner, project) = model.split_once('/').unwrap_or((model, ""));
            format!("{}/{}", clean_slug(owner), clean_slug(project))
        };
        match (field("modelslugowner"), field("modelslugproject")) {
            (Some(owner), Some(project)) => {
                clean_model(&format!("{owner}/{project}")) == clean_model(self.model)
            }
            _ => true,
        }
    }

    /// Every value the Run sent is in the record, equal as text; an empty value may be
    /// left out, and so may the common `callbackUrl` and `projectid`.
    fn same_parameters(&self, task: &Task) -> bool {
        let Some(recorded) = task_parameters(task) else {
            return false;
        };
        self.sent
            .iter()
            .all(|(name, sent)| match recorded.get(name) {
                Some(value) => text(value) == text(sent),
                None => text(sent).is_empty() || COMMON.contains(&name.as_str()),
            })
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A task that ended without a result and was charged nothing (cancelled, or failed): never
/// a lost Run's to adopt. Its Run, if it was this one, cost nothing, and sending it again is
/// one paid task; taking it would hand a row a task a cancelled execution stopped (a resume
/// sent within the minute its search looks back found the tasks it had just stopped).
fn ended_unbilled(task: &Task) -> bool {
    let ended_short = task.status == crate::api::wire::TaskStatus::Cancel
        || (task.is_terminal() && !task.succeeded());
    ended_short && !task.total_cost().is_some_and(|cost| cost > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SENT: u64 = 1_800_000_000;

    fn task(id: u64, created: Option<u64>, prompt: &str) -> Task {
        let mut record = json!({
            "id": id.to_string(), "status": "task_queue",
            "socketaccesstoken": format!("token{id}"),
            "parameters": {"prompt": prompt, "duration": "5", "seed": ""},
            "modelslugowner": "PixVerse", "modelslugproject": "text-to-video-v4",
        });
        if let Some(created) = created {
            record["createtime"] = json!(created.to_string());
        }
        serde_json::from_value(record).unwrap()
    }

    fn page(tasks: Vec<Task>, start: u64, total: u64) -> TaskListPage {
        TaskListPage {
            tasks,
            total: Some(total),
            start,
            limit: 3,
        }
    }

    fn search<'a>(exclude: &'a HashSet<String>) -> Search<'a> {
        let parameters = json!({"prompt": "a kite", "duration": 5, "seed": null});
        Search::new(
            "pixverse/TEXT-to-video-v4",
            parameters.as_object().unwrap(),
            UNIX_EPOCH + Duration::from_secs(SENT),
            exclude,
        )
    }

    #[test]
    fn a_task_made_long_after_the_run_was_sent_is_another_requests() {
        let none = HashSet::new();
        let mut search = search(&none);
        let later = SENT + FIND_RUN_LATEST.as_secs() + 1;
        let complete = search.take(&page(
            vec![
                task(12, Some(later), "a kite"),
                task(10, Some(SENT - 3600), "a kite"),
            ],
            0,
            2,
        ));
        assert!(complete);
        assert_eq!(search.verdict(None), RunLookup::NotCreated { listed: 2 });
    }

    #[test]
    fn the_one_matching_task_since_the_run_is_found_with_numbers_as_strings() {
        let none = HashSet::new();
        let mut search = search(&none);
        let complete = search.take(&page(
            vec![
                task(12, Some(SENT + 3), "a boat"),
                task(11, Some(SENT + 1), "a kite"),
                task(10, Some(SENT - 3600), "a kite"),
            ],
            0,
            3,
        ));
        assert!(complete);
        match search.verdict(None) {
            RunLookup::Found {
                handle, matches, ..
            } => {
                assert_eq!(handle.taskid, "11");
                assert_eq!(handle.socketaccesstoken, "token11");
                assert_eq!(matches, 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_complete_listing_without_a_match_means_not_created() {
        let none = HashSet::new();
        let mut search = search(&none);
        // A full page, then an older task: the window is covered.
        assert!(!search.take(&page(
            vec![
                task(14, Some(SENT + 2), "a boat"),
                task(13, Some(SENT + 1), "a boat"),
                task(12, Some(SENT), "a boat"),
            ],
            0,
            9
        )));
        assert!(search.take(&page(vec![task(11, Some(SENT - 120), "a kite")], 3, 9)));
        assert_eq!(search.verdict(None), RunLookup::NotCreated { listed: 4 });
    }

    #[test]
    fn a_task_that_ended_unbilled_is_never_a_lost_runs() {
        // A resume sent within the minute a search looks back: the old execution's stopped
        // task has the same parameters, and is older than the Run's own.
        let none = HashSet::new();
        let mut search = search(&none);
        let mut stopped = task(11, Some(SENT + 1), "a kite");
        stopped.status = crate::api::wire::TaskStatus::Cancel;
        search.take(&page(
            vec![task(12, Some(SENT + 2), "a kite"), stopped],
            0,
            2,
        ));
        match search.verdict(None) {
            RunLookup::Found { handle, .. } => assert_eq!(handle.taskid, "12"),
            other => panic!("{other:?}"),
        }
        let mut search = self::search(&none);
        let mut stopped = task(11, Some(SENT + 1), "a kite");
        stopped.status = crate::api::wire::TaskStatus::Cancel;
        search.take(&page(vec![stopped], 0, 1));
        assert_eq!(search.verdict(None), RunLookup::NotCreated { listed: 1 });
    }

    #[test]
    fn claimed_tasks_are_skipped_and_the_oldest_unclaimed_is_taken() {
        let claimed: HashSet<String> = ["11".to_owned()].into();
        let mut search = search(&claimed);
        search.take(&page(
            vec![
                task(13, Some(SENT + 2), "a kite"),
                task(12, Some(SENT + 2), "a kite"),
                task(11, Some(SENT + 1), "a kite"),
            ],
            0,
            3,
        ));
        match search.verdict(None) {
            RunLookup::Found {
                handle, matches, ..
            } => assert_eq!((handle.taskid.as_str(), matches), ("12", 2)),
            other => panic!("{other:?}"),
        }
        let all: HashSet<String> = ["11", "12", "13"].map(str::to_owned).into();
        let mut search = self::search(&all);
        search.take(&page(
            vec![
                task(13, Some(SENT + 2), "a kite"),
                task(12, Some(SENT + 2), "a kite"),
                task(11, Some(SENT + 1), "a kite"),
            ],
            0,
            3,
        ));
        assert_eq!(search.verdict(None), RunLookup::NotCreated { listed: 3 });
    }

    #[test]
    fn a_failed_or_unfinished_listing_cannot_tell() {
        let none = HashSet::new();
        let mut search = search(&none);
        assert!(!search.take(&page(
            vec![
                task(14, Some(SENT + 2), "a boat"),
                task(13, Some(SENT + 1), "a boat"),
                task(12, Some(SENT), "a boat"),
            ],
            0,
            9
        )));
        let verdict = search.verdict(Some("Task/List failed: server error".into()));
        assert!(
            matches!(&verdict, RunLookup::CannotTell { reason } if reason.contains("server error")),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_match_without_a_creation_time_cannot_tell() {
        let none = HashSet::new();
        let mut search = search(&none);
        search.take(&page(vec![task(12, None, "a kite")], 0, 1));
        assert!(matches!(
            search.verdict(None),
            RunLookup::CannotTell { reason } if reason.contains("createtime")
        ));
    }

    #[test]
    fn an_unordered_listing_is_read_to_its_end() {
        let none = HashSet::new();
        let mut search = search(&none);
        // Ascending ids: an old task does not end the window.
        assert!(!search.take(&page(
            vec![
                task(10, Some(SENT - 3600), "a boat"),
                task(11, Some(SENT + 1), "a boat"),
                task(12, Some(SENT + 1), "a boat"),
            ],
            0,
            4
        )));
        assert!(search.take(&page(vec![task(13, Some(SENT + 2), "a kite")], 3, 4)));
        assert!(matches!(search.verdict(None), RunLookup::Found { .. }));
    }

    #[test]
    fn a_task_of_another_model_or_with_other_parameters_is_not_a_match() {
        let none = HashSet::new();
        let mut search = search(&none);
        let mut other_model = task(12, Some(SENT + 1), "a kite");
        other_model
            .extra
            .insert("modelslugproject".into(), json!("image-to-video-v4"));
        let mut other_duration = task(11, Some(SENT + 1), "a kite");
        other_duration.parameters = Some(json!({"prompt": "a kite", "duration": "8"}));
        search.take(&page(vec![other_model, other_duration], 0, 2));
        assert_eq!(search.verdict(None), RunLookup::NotCreated { listed: 2 });
    }
}
