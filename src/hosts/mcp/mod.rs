//! The MCP server: every node type of the registry a tool for AI agents, over the Model
//! Context Protocol (stdio, or Streamable HTTP behind the [guard](crate::hosts::guard)), on the
//! official Rust SDK (`rmcp`). It speaks the 2026-07-28 revision and the initialize-era ones
//! clients still use.
//!
//! An adapter like the other hosts: tools are the node specs ([`tools`]), a call is
//! [`node::invoke`](crate::node::invoke), and the money rules are asked of the node layer and
//! of the user:
//! - **before a Run**, the inputs are checked (schema, rules, walls) and priced; the user is
//!   asked through the client (elicitation: a question over the session, or an
//!   `input_required` round on 2026-07-28); a client that cannot ask must pass
//!   `max_cost_usd`, and a price above it, or unknown, sends nothing (`consent`);
//! - a server-wide budget (`--max-cost`) caps everything this server starts;
//! - **one Run per intent**: a call repeated with the same tool and arguments within the
//!   repeat window answers with the first call's task ([`journal`]);
//! - a paid call waits a bounded time with progress, then answers with the task and the tool
//!   that waits again; a dropped connection ends the wait, never the task (`follow`); a
//!   client with the Tasks extension gets an MCP task at once instead (`tasks`);
//! - results are files under the output folder, returned as resource links readable through
//!   `resources/read` (`outputs`), never as base64 in a tool result.

mod consent;
mod follow;
mod handler;
mod http;
pub mod journal;
mod outputs;
mod paid;
mod tasks;
pub mod tools;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::{Client, Estimate};
use crate::node::{FileAccess, Node, PriceBook, Registry, Walls};

pub use handler::WiroMcp;
pub use http::{serve_http, HttpServer};

/// How the MCP server runs.
#[derive(Clone)]
pub struct McpConfig {
    /// The API client (real credentials, or the embedded emulator's).
    pub client: Client,
    /// The node types offered as tools (already narrowed by `--tools`).
    pub registry: Registry,
    /// The folder uploads may read from: an agent's paths are judged against it. `None`: no
    /// local file may be read (uploads from URLs only).
    pub files_dir: Option<PathBuf>,
    /// Where outputs are downloaded and the journal is kept.
    pub out_dir: PathBuf,
    /// How long a call waits for a task before answering with the task to follow.
    pub wait: Duration,
    /// A budget in dollars for everything this server starts; `None` for no budget.
    pub max_cost_usd: Option<f64>,
    /// A call repeated with the same tool and arguments within this time answers with the
    /// first call's task instead of starting another.
    pub repeat_window: Duration,
    /// What the backend is, in words (`api.wiro.ai`, `embedded emulator`).
    pub backend: String,
    /// Where runs on this machine write the tasks they hold on the account (see
    /// [`RunOptions::state_dir`](crate::graph::RunOptions::state_dir)): a call whose Run's
    /// answer was lost never takes a task another run here holds, nor another run one of
    /// this server's. `None`: this server's own tasks only.
    pub state_dir: Option<PathBuf>,
}

impl McpConfig {
    /// A configuration with the defaults: no local files, `out/` for outputs, a 40 s wait (under the 60 s many clients allow a call), no budget, a 10 minute window.
    pub fn new(client: Client, registry: Registry) -> Self {
        Self {
            client,
            registry,
            files_dir: None,
            out_dir: PathBuf::from("out"),
            wait: Duration::from_secs(40),
            max_cost_usd: None,
            repeat_window: Duration::from_secs(600),
            backend: "api.wiro.ai".into(),
            state_dir: None,
        }
    }

    /// What a tool call may reach: files inside the files folder (none without one), URLs the
    /// API handed out.
    pub fn walls(&self) -> Walls {
        Walls {
            // Relative paths are read from the files folder; without one, from the output
            // folder, where the walls let nothing be read.
            input_dir: self
                .files_dir
                .clone()
                .unwrap_or_else(|| self.out_dir.clone()),
            access: FileAccess::inside(self.files_dir.iter()),
            fetch: self.client.fetch_rules().clone(),
        }
    }
}

/// The state every session of one server shares: the tools, the journal, the budget.
pub(crate) struct Host {
    config: McpConfig,
    tools: tools::ToolBook,
    journal: journal::Journal,
    consent: consent::Consent,
    prices: tokio::sync::Mutex<PriceBook>,
    /// What each task started by this server run set aside from the budget.
    held: Mutex<HashMap<String, consent::Reserved>>,
    /// What calls may reach, judged once at start (the files folder resolved once).
    walls: Walls,
    /// The node that downloads outputs (every host's download: walls, fetch rules, `.txt`).
    download: Arc<dyn Node>,
    /// The MCP tasks of clients that use the Tasks extension.
    tasks: rmcp::task_manager::TaskManager,
    /// One lock per call key: a call holds its key's until its Run's task is journaled.
    claims: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The task slots every call shares; a Run refused for the account's limit fails at once
    /// (nothing started) instead of waiting past what the client allows.
    slots: crate::node::TaskSlots,
    /// Runs being sent: waited for before the server ends, so none is cut off between
    /// Wiro accepting it and the journal recording its task.
    inflight: tokio_util::task::TaskTracker,
}

impl Host {
    /// A host over `config`, its journal read from the output folder.
    pub(crate) fn open(config: McpConfig) -> std::io::Result<Arc<Self>> {
        std::fs::create_dir_all(&config.out_dir)?;
        let journal = journal::Journal::open(&config.out_dir.join(journal::FILE_NAME))?;
        let tools = tools::ToolBook::new(&config.registry);
        let consent = consent::Consent::new(config.max_cost_usd);
        let download = Registry::from_inventory()
            .get("wiro/output.download")
            .cloned()
            .ok_or_else(|| std::io::Error::other("the download node is not linked in"))?;
        let slots = Self::slots(&config, &journal);
        Ok(Arc::new(Self {
            walls: config.walls(),
            config,
            tools,
            journal,
            consent,
            prices: tokio::sync::Mutex::new(PriceBook::default()),
            held: Mutex::new(HashMap::new()),
            download,
            tasks: rmcp::task_manager::TaskManager::new(),
            claims: Mutex::new(HashMap::new()),
            slots,
            inflight: tokio_util::task::TaskTracker::new(),
        }))
    }

    /// The task slots every call shares, holding every task the journal names (an earlier
    /// server run's too) and, with a state folder, the account's claims of runs on this
    /// machine, this server's written for its output folder.
    fn slots(config: &McpConfig, journal: &journal::Journal) -> crate::node::TaskSlots {
        let mut slots = crate::node::TaskSlots::returning_refusals();
        if let Some(dir) = &config.state_dir {
            let settings = config.client.config();
            let out = &config.out_dir;
            let owner = std::fs::canonicalize(out).unwrap_or_else(|_| out.clone());
            slots = slots.with_account_claims(crate::node::AccountClaims::of_account(
                dir,
                &settings.base_url,
                settings.credentials.api_key(),
                &owner.to_string_lossy(),
            ));
        }
        journal.task_ids().iter().for_each(|task| slots.claim(task));
        slots
    }

    /// Waits until no other call with `key` is being asked about or sent, and holds the key
    /// until the guard is dropped: two identical calls never both send a Run (nor, keyed
    /// `download TASK`, both download one task's files).
    async fn claim(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut claims = self.claims.lock().unwrap_or_else(|e| e.into_inner());
            claims.retain(|_, lock| Arc::strong_count(lock) > 1);
            Arc::clone(claims.entry(key.to_owned()).or_default())
        };
        lock.lock_owned().await
    }

    /// The node that downloads outputs.
    fn download_node(&self) -> Arc<dyn Node> {
        Arc::clone(&self.download)
    }

    /// The context a tool call runs a node in: this server's client, walls and folders.
    fn node_context(&self, node_id: impl Into<String>) -> crate::node::NodeContext {
        let mut ctx = crate::node::NodeContext::new(
            node_id,
            self.config.client.clone(),
            &self.walls.input_dir,
        );
        ctx.file_access = self.walls.access.clone();
        ctx.output_dir = self.config.out_dir.clone();
        ctx
    }

    /// What a call of a paid `node` with `inputs` will cost, from the model's published
    /// prices (read once per model).
    async fn price(&self, node: &dyn Node, inputs: &serde_json::Value) -> Estimate {
        let serde_json::Value::Object(map) = inputs else {
            return Estimate::Unknown {
                reason: "the arguments are not an object".into(),
            };
        };
        let Some(run) = node.priced_run(map, &std::collections::BTreeSet::new()) else {
            return Estimate::Unknown {
                reason: "the model is not known before running".into(),
            };
        };
        self.prices
            .lock()
            .await
            .estimate(&self.config.client, &run)
            .await
    }

    /// After a Run was sent (or not): what it set aside is held until its task ends, or
    /// given back when nothing was started.
    fn after_send(
        &self,
        sent: &Result<journal::TaskRecord, crate::node::NodeError>,
        reserved: consent::Reserved,
    ) {
        match sent {
            Ok(record) => {
                let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
                held.insert(record.handle.taskid.clone(), reserved);
            }
            Err(error) if error.fate().leaves_nothing_started() => self.consent.give_back(reserved),
            // Whether a task started is unknown: what was set aside stays spent.
            Err(_) => {}
        }
    }

    /// Waits (at most `limit`) for the Runs being sent, so that each is journaled.
    pub(crate) async fn finish_sends(&self, limit: Duration) {
        self.inflight.close();
        if tokio::time::timeout(limit, self.inflight.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "Runs still being sent after {limit:?}; their outcome is in the journal as unknown"
            );
        }
    }

    /// A task has ended: journaled, and a Run that was not billed gives back what it set
    /// aside.
    fn settle(&self, record: &journal::TaskRecord, report: &follow::RunReport) {
        if let Err(error) = self.journal.ended(report) {
            tracing::warn!(%error, task = record.handle.taskid, "the end of a task could not be journaled");
        }
        let held = self
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&record.handle.taskid);
        if let Some(reserved) = held {
            if report.state == follow::RunState::Completed {
                self.consent.billed(reserved, report.cost_usd);
            } else {
                self.consent.give_back(reserved);
            }
        }
    }
}

/// Serves one client over stdin and stdout until it leaves.
pub async fn serve_stdio(config: McpConfig) -> std::io::Result<()> {
    use rmcp::ServiceExt;
    let host = Host::open(config)?;
    let service = WiroMcp::new(Arc::clone(&host))
        .serve(rmcp::transport::io::stdio())
        .await
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    let ended = service
        .waiting()
        .await
        .map_err(|error| std::io::Error::other(error.to_string()));
    // The client left: Runs it started are still journaled before the process ends.
    host.finish_sends(Duration::from_secs(120)).await;
    ended.map(drop)
}
