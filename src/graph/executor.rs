//! The reference executor: validates a workflow, then runs its nodes — independent ones
//! concurrently, within a bound — journaling each step, resuming from the journal, and
//! stopping every running node (and its remote task) when the run is cancelled or dropped.
//!
//! A run is an [`ActiveRun`] driven by one loop: start what can start ([`super::start`]),
//! wait for a node to come back, finish it ([`super::finish`]); which node may start is the
//! [`Schedule`]'s rule, what an earlier run left is [`super::resume`]'s.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::file_digest::FileDigests;
use super::journal::JOURNAL_FILE;
use super::resume::{moves_with_row, SharedJournal};
use super::running::RunningNodes;
use super::schedule::{Next, Schedule};
use super::{
    validate_for_run, NodeReport, Plan, RunError, RunEvent, RunReport, Workflow, WorkflowProblem,
};
use crate::api::{Client, FetchRules};
use crate::node::{AccountClaims, FileAccess, NodeSpec, Registry, TaskSlots, Walls};

/// How to run a workflow.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// At most this many nodes that move file bytes through this machine (uploads,
    /// downloads) run at once. Waits and API calls take no such slot: a wait is a socket.
    pub concurrency: usize,
    /// At most this many of the run's paid tasks active at once on the account; `None` learns
    /// the account's limit from its code-96 answers.
    pub max_tasks: Option<usize>,
    /// Relative input paths are taken from here (the workflow file's folder).
    pub input_dir: PathBuf,
    /// Downloads and the journal go here.
    pub output_dir: PathBuf,
    /// Keep a journal (in `output_dir`) and resume from it.
    pub journal: bool,
    /// Forget the journal and run everything again.
    pub fresh: bool,
    /// Run these nodes again whatever the journal says (a Run whose outcome is unknown and
    /// that you checked, say); the nodes that take their outputs run again when those change.
    /// Everything else resumes.
    pub rerun: Vec<String>,
    /// Folders (or single files) nodes may read besides `input_dir`: a workflow reads only its
    /// own folder unless its user allows more.
    pub allow_read: Vec<PathBuf>,
    /// Where runs on this machine write the tasks each holds on an account (see
    /// [`AccountClaims`]), so that no run takes another's task for a lost Run's answer;
    /// `None` writes nothing there (the CLI uses the user's state folder).
    pub state_dir: Option<PathBuf>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_tasks: None,
            input_dir: PathBuf::from("."),
            output_dir: PathBuf::from("out"),
            journal: true,
            fresh: false,
            rerun: Vec::new(),
            allow_read: Vec::new(),
            state_dir: None,
        }
    }
}

impl RunOptions {
    /// The user's folder for what runs on this machine share ([`RunOptions::state_dir`]):
    /// `WIRO_STATE_DIR` (set empty: none), else `$XDG_STATE_HOME/wiro-nodes`, else
    /// `~/.local/state/wiro-nodes`; `None` when none is set.
    pub fn user_state_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("WIRO_STATE_DIR") {
            return (!dir.is_empty()).then(|| PathBuf::from(dir));
        }
        let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        (set("XDG_STATE_HOME").map(|dir| PathBuf::from(dir).join("wiro-nodes")))
            .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".local/state/wiro-nodes")))
    }

    /// Which files the run's nodes may read: inside `input_dir` and `allow_read`.
    pub fn file_access(&self) -> FileAccess {
        FileAccess::inside(std::iter::once(&self.input_dir).chain(self.allow_read.iter()))
    }

    /// What the run's nodes may reach: files by [`RunOptions::file_access`], relative paths
    /// from `input_dir`, and URLs by `fetch` (the client's rules).
    pub fn walls(&self, fetch: FetchRules) -> Walls {
        Walls {
            input_dir: self.input_dir.clone(),
            access: self.file_access(),
            fetch,
        }
    }
}

/// Runs workflows with the nodes of a registry against one client.
#[derive(Debug, Clone)]
pub struct Executor {
    pub(super) registry: Registry,
    pub(super) client: Client,
    pub(super) options: RunOptions,
    /// The client's server as journal keys name it (read once, not per node).
    pub(super) server: Value,
    /// The content of the files uploads send, read once for every row that sends one.
    pub(super) digests: FileDigests,
}

pub(super) type Emit = Arc<dyn Fn(RunEvent) + Send + Sync>;

/// A file a node sent: the name the server was given and, when the node's outputs do not tell
/// it (an upload resumed from a journal of an earlier build), the SHA-256 of its bytes.
#[derive(Debug, Clone)]
pub(super) struct SentFileId {
    pub(super) name: String,
    pub(super) sha256: Option<String>,
}

/// One run of one workflow, while it goes.
pub(super) struct ActiveRun<'a> {
    pub(super) executor: &'a Executor,
    pub(super) workflow: &'a Workflow,
    pub(super) schedule: Schedule<'a>,
    pub(super) reports: Vec<NodeReport>,
    /// Each started node's journal key.
    pub(super) keys: Vec<String>,
    /// For each started node that sends a local file, what a paid node reading its output is
    /// keyed by (see `ActiveRun::upload_marker`).
    pub(super) sent_files: Vec<Option<SentFileId>>,
    pub(super) journal: SharedJournal,
    pub(super) running: RunningNodes,
    pub(super) tasks: TaskSlots,
    /// File slots shared with other runs (the rows of a table): a node that moves files
    /// takes one before it starts, on top of its place in `schedule`.
    pub(super) shared_files: Option<Arc<Semaphore>>,
    pub(super) file_access: FileAccess,
    pub(super) cancel: CancellationToken,
    pub(super) emit: Emit,
    /// For a table's row, where its nodes' entries are kept in the journal: its line's name
    /// (`row-0007`), or the line its cells moved from (`Journal::place_rows`).
    pub(super) row_entries: Option<String>,
    /// For a table's row that moved, the other lines it ran on (`row-0003`): the files it
    /// wrote in their folders are moved into its own rather than fetched again.
    pub(super) earlier_lines: Vec<String>,
}

impl Executor {
    /// An executor over these nodes and this client.
    pub fn new(registry: Registry, client: Client, options: RunOptions) -> Self {
        let server = Value::String(server_identity(&client.config().base_url));
        Self {
            registry,
            client,
            options,
            server,
            digests: FileDigests::default(),
        }
    }

    /// The run's task slots, holding every task the journal names as its own: a lost Run's
    /// look-up never adopts a task an earlier run started (a row alike's, finished; this
    /// node's own, failed or cancelled since).
    pub(super) fn task_slots(&self, journal: &SharedJournal) -> TaskSlots {
        let mut tasks = TaskSlots::new(self.options.max_tasks);
        if let Some(dir) = &self.options.state_dir {
            let config = self.client.config();
            // Whose claims: this output folder's (its journal holds its own tasks), however
            // it is named (`out`, `./out`, a link to it, `x/../out`).
            let out = &self.options.output_dir;
            let owner =
                std::fs::canonicalize(out).unwrap_or_else(|_| super::out_folder::lexical(out));
            let account = AccountClaims::of_account(
                dir,
                &config.base_url,
                config.credentials.api_key(),
                &owner.to_string_lossy(),
            );
            tasks = tasks.with_account_claims(account);
        }
        journal.task_ids().iter().for_each(|task| tasks.claim(task));
        tasks
    }

    /// Validates and runs `workflow`. Cancelling `cancel` (or dropping the returned future)
    /// cancels every running node; nodes that own remote tasks stop them before returning.
    /// Every way out, an error included, first waits for the running nodes to stop.
    pub async fn run(
        &self,
        workflow: &Workflow,
        cancel: CancellationToken,
        on_event: impl Fn(RunEvent) + Send + Sync + 'static,
    ) -> Result<RunReport, RunError> {
        let mut plan = validate_for_run(
            workflow,
            &self.registry,
            &self.options.walls(self.client.fetch_rules().clone()),
        );
        if let Some(unknown) = self
            .options
            .rerun
            .iter()
            .find(|id| workflow.node(id).is_none())
        {
            let problem = WorkflowProblem {
                node: Some(unknown.clone()),
                path: String::new(),
                rule: "rerun".into(),
                message: "--rerun names a node the workflow does not have".into(),
            };
            plan = Err(match plan {
                Ok(_) => vec![problem],
                Err(mut problems) => {
                    problems.push(problem);
                    problems
                }
            });
        }
        let plan = plan.map_err(RunError::Invalid)?;
        let journal = SharedJournal::open(
            &self.options.output_dir.join(JOURNAL_FILE),
            self.options.journal,
            self.options.fresh,
        )?;
        let mut run = ActiveRun::new(
            self,
            workflow,
            &plan,
            Shared {
                tasks: self.task_slots(&journal),
                journal,
                files: None,
                emit: Arc::new(on_event),
            },
            cancel.child_token(),
        );
        let driven = run.drive().await;
        let cancelled = run.cancel.is_cancelled();
        // Nothing is left running when `drive` ends well; after an error, this is where the
        // nodes still running stop their remote tasks before the run returns.
        for completion in run.running.stop_all().await {
            // The run already failed: its error is the one to report.
            let _ = run.finish(completion).await;
        }
        driven?;
        let (tasks, journal) = (run.tasks.report(), run.journal.path());
        let mut nodes = run.reports;
        for (position, outputs) in run.schedule.into_outputs() {
            nodes[position].outputs = Some(outputs);
        }
        Ok(RunReport {
            tasks,
            cancelled,
            journal,
            nodes,
        })
    }
}

/// What a run shares with the runs beside it (the rows of a table share one of each).
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) journal: SharedJournal,
    pub(super) tasks: TaskSlots,
    /// The file slots, when they are shared; `None`: the run's schedule alone bounds them.
    pub(super) files: Option<Arc<Semaphore>>,
    pub(super) emit: Emit,
}

impl<'a> ActiveRun<'a> {
    pub(super) fn new(
        executor: &'a Executor,
        workflow: &'a Workflow,
        plan: &'a Plan,
        shared: Shared,
        cancel: CancellationToken,
    ) -> Self {
        let Shared {
            journal,
            tasks,
            files,
            emit,
        } = shared;
        let count = workflow.nodes.len();
        Self {
            executor,
            workflow,
            schedule: Schedule::new(plan, executor.options.concurrency, |position| {
                executor
                    .registry
                    .get(&workflow.nodes[position].type_id)
                    .is_some_and(|node| node.spec().transfers_files)
            }),
            reports: workflow
                .nodes
                .iter()
                .map(|node| NodeReport::not_reached(&node.id, &node.type_id))
                .collect(),
            keys: vec![String::new(); count],
            sent_files: vec![None; count],
            journal,
            running: RunningNodes::new(cancel.clone()),
            tasks,
            shared_files: files,
            file_access: executor.options.file_access(),
            cancel,
            emit,
            row_entries: None,
            earlier_lines: Vec::new(),
        }
    }

    /// What this run's nodes may reach (see [`RunOptions::walls`]).
    pub(super) fn walls(&self) -> Walls {
        Walls {
            input_dir: self.executor.options.input_dir.clone(),
            access: self.file_access.clone(),
            fetch: self.executor.client.fetch_rules().clone(),
        }
    }

    /// The name the journal keeps the node at `position` under: its id, or for a table row's
    /// node whose entries follow its row (see [`moves_with_row`]) the place its row keeps them.
    pub(super) fn journal_name(&self, position: usize, spec: &NodeSpec) -> String {
        let id = &self.workflow.nodes[position].id;
        let entries = self.row_entries.as_deref().filter(|_| moves_with_row(spec));
        match entries.zip(super::rows::split_row(id)) {
            Some((entries, (_, node))) => format!("{entries}-{node}"),
            None => id.clone(),
        }
    }

    /// Starts what can start and finishes what comes back, until nothing runs.
    pub(super) async fn drive(&mut self) -> Result<(), RunError> {
        loop {
            while let Some(next) = self.schedule.next(self.cancel.is_cancelled()) {
                match next {
                    Next::Start(position) => self.start(position).await?,
                    Next::Skip(position, reason) => self.skip(position, reason),
                }
            }
            if self.running.is_empty() {
                return Ok(());
            }
            let pending = self.schedule.has_pending();
            tokio::select! {
                Some(completion) = self.running.next() => self.finish(completion).await?,
                // Pending nodes are skipped at the top of the loop.
                _ = self.cancel.cancelled(), if pending => {}
            }
        }
    }
}

/// The server's address as a journal key holds it: the same server however its URL is typed
/// (`.../v1` or `.../v1/`, `HTTP://API.wiro.ai`, a default port spelled out).
fn server_identity(base_url: &str) -> String {
    match reqwest::Url::parse(base_url.trim()) {
        Ok(url) => url.as_str().trim_end_matches('/').to_owned(),
        Err(_) => base_url.trim().trim_end_matches('/').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::server_identity;

    #[test]
    fn one_server_has_one_identity_however_its_url_is_typed() {
        let plain = server_identity("https://api.wiro.ai/v1");
        for typed in [
            "https://api.wiro.ai/v1/",
            "HTTPS://API.wiro.ai:443/v1",
            " https://api.wiro.ai/v1 ",
        ] {
            assert_eq!(server_identity(typed), plain, "{typed}");
        }
        assert_ne!(server_identity("http://127.0.0.1:1/v1"), plain);
    }
}
