//! `wiro-nodes node exec`: one node as a process step — JSON inputs in, JSON outputs out — so
//! any engine (Argo, Airflow, n8n, a CI job) can use the nodes.
//!
//! Exit status: 0 done (outputs on stdout), 1 failed, 2 invalid inputs (nothing was sent),
//! 130 stopped by SIGINT, 143 stopped by SIGTERM. A stop signal cancels a queued task or
//! kills a running one before the process exits. `--progress json` turns stderr into JSON
//! lines (see `exec_events`).

use std::path::PathBuf;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::exec_events::{ProgressFormat, Reporter};
use super::signals::{self, StopSignal};
use super::{backend, EXIT_FAILED, EXIT_INVALID};
use crate::node::{
    ClaimBook, Fate, FileAccess, InputProblem, NodeContext, NodeError, ProgressSink, TaskSlots,
    Walls,
};

/// Arguments of `wiro-nodes node exec`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExecArgs {
    /// The node type, e.g. wiro/task.wait.
    type_id: String,
    /// The inputs: a JSON object, or @FILE to read it from a file (@- for stdin).
    #[arg(long)]
    inputs: String,
    /// Where the node writes files (downloads); relative input paths are read from here too.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// How to report progress on stderr: `text` for people, `json` for engines (one object
    /// per line: the task first, then statuses, log lines, bytes, cost, and a result line).
    #[arg(long, value_enum, default_value_t = ProgressFormat::Text)]
    progress: ProgressFormat,
    /// Only check the inputs against the node's schema and rules, send nothing, and exit 0
    /// (valid) or 2 (invalid).
    #[arg(long)]
    check: bool,
    /// Share paid Runs and their tasks with every other process naming DIR (the parallel
    /// steps of one engine run, such as an n8n execution's items): their Runs leave one at a
    /// time, and a Run whose answer is lost is never taken for a task another step holds.
    #[arg(long, value_name = "DIR")]
    claims: Option<PathBuf>,
    #[command(flatten)]
    fetch: backend::FetchArgs,
}

fn read_inputs(text: &str) -> Result<Value, String> {
    let text = match text.strip_prefix('@') {
        Some("-") => {
            std::io::read_to_string(std::io::stdin()).map_err(|e| format!("stdin: {e}"))?
        }
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
        None => text.to_owned(),
    };
    serde_json::from_str(&text).map_err(|e| format!("--inputs is not JSON: {e}"))
}

pub(crate) async fn exec(args: ExecArgs) -> u8 {
    let report = Reporter::new(args.progress);
    let registry = match super::registry::registry_or_exit() {
        Ok(registry) => registry,
        Err(code) => return code,
    };
    let Some(node) = registry.get(&args.type_id).cloned() else {
        let known = registry.type_ids().collect::<Vec<_>>();
        let problem = InputProblem::new(
            "",
            "node-type",
            format!("known types: {}", known.join(", ")),
        );
        let headline = format!("unknown node type {:?}; nothing was sent", args.type_id);
        report.invalid(&headline, &[problem], EXIT_INVALID);
        return EXIT_INVALID;
    };
    let refused = format!("invalid inputs for {}; nothing was sent", args.type_id);
    let inputs = match read_inputs(&args.inputs) {
        Ok(inputs) => inputs,
        Err(error) => {
            let problem = InputProblem::new("", "json", error);
            report.invalid(&refused, &[problem], EXIT_INVALID);
            return EXIT_INVALID;
        }
    };
    let settings = match backend::Settings::from_env(&args.fetch) {
        Ok(settings) => settings,
        Err(error) => {
            let code = error.exit_code();
            report.failed(
                "invalid",
                &error.to_string(),
                code,
                None,
                Fate::NothingStarted,
            );
            return code;
        }
    };
    let walls = Walls {
        input_dir: args.out.clone(),
        // The caller names its own files: nothing shared is being opened.
        access: FileAccess::Anywhere,
        fetch: settings.fetch_rules(),
    };
    let problems = crate::node::check(node.as_ref(), &walls, &inputs);
    if !problems.is_empty() {
        report.invalid(&refused, &problems, EXIT_INVALID);
        return EXIT_INVALID;
    }
    if args.check {
        report.ok();
        return 0;
    }
    let tasks = match &args.claims {
        Some(dir) => match ClaimBook::open(dir) {
            Ok(book) => TaskSlots::sharing(book),
            Err(error) => {
                let message = format!("--claims {}: {error}; nothing was sent", dir.display());
                report.failed(
                    "invalid",
                    &message,
                    EXIT_INVALID,
                    None,
                    Fate::NothingStarted,
                );
                return EXIT_INVALID;
            }
        },
        None => TaskSlots::default(),
    };
    report.followed_tasks(node.spec(), &inputs);
    let cancel = CancellationToken::new();
    // Watch signals before connecting: a SIGTERM from here on stops the task, never loses it.
    let (watcher, received) = signals::watch(
        cancel.clone(),
        "stopping: the task is cancelled or killed first (signal again to leave at once)",
    );
    let backend = match settings.connect().await {
        Ok(backend) => backend,
        Err(error) => {
            let code = error.exit_code();
            let outcome = if code == EXIT_INVALID {
                "invalid"
            } else {
                "failed"
            };
            report.failed(
                outcome,
                &error.to_string(),
                code,
                None,
                Fate::NothingStarted,
            );
            return code;
        }
    };
    let ctx = NodeContext {
        node_id: args.type_id.replace('/', "-"),
        client: backend.client.clone(),
        cancel,
        progress: ProgressSink::new(move |event| report.event(event)),
        tasks,
        input_dir: walls.input_dir,
        file_access: walls.access,
        output_dir: args.out.clone(),
    };
    let result = crate::node::invoke(node.as_ref(), &ctx, inputs).await;
    watcher.abort();
    let signal = received.get().copied();
    match result {
        Ok(outputs) => {
            report.costs(node.spec(), &outputs);
            outln!(
                "{}",
                serde_json::to_string_pretty(&outputs).unwrap_or_default()
            );
            report.ok();
            0
        }
        Err(error @ NodeError::Cancelled { .. }) => {
            let signal = signal.unwrap_or(StopSignal::Interrupt);
            let code = signal.exit_code();
            let (message, fate) = (error.to_string(), error.fate());
            report.failed("cancelled", &message, code, Some(signal.name()), fate);
            code
        }
        Err(NodeError::InvalidInputs(problems)) => {
            report.invalid(&refused, &problems, EXIT_INVALID);
            EXIT_INVALID
        }
        Err(error) => {
            report.failed(
                "failed",
                &error.to_string(),
                EXIT_FAILED,
                None,
                error.fate(),
            );
            EXIT_FAILED
        }
    }
}
