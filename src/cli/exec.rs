//! `wiro-nodes node exec`: one node as a process step — JSON inputs in, JSON outputs out — so
//! any engine (Argo, Airflow, n8n's Execute Command, a CI job) can use the nodes.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{backend, EXIT_CANCELLED, EXIT_FAILED, EXIT_INVALID};
use crate::node::{NodeContext, NodeError, NodeEvent, ProgressSink, Registry};

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
    let registry = Registry::from_inventory();
    let Some(node) = registry.get(&args.type_id).cloned() else {
        eprintln!(
            "error: unknown node type {:?}; known types: {}",
            args.type_id,
            registry
                .specs()
                .map(|s| s.type_id)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return EXIT_INVALID;
    };
    let inputs = match read_inputs(&args.inputs) {
        Ok(inputs) => inputs,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_INVALID;
        }
    };
    let problems = match &inputs {
        Value::Object(map) => node.check_inputs(map, &BTreeSet::new()),
        _ => vec![crate::node::InputProblem::new(
            "",
            "type",
            "--inputs must be a JSON object",
        )],
    };
    if !problems.is_empty() {
        eprintln!(
            "error: invalid inputs for {}; nothing was sent:",
            args.type_id
        );
        for problem in problems {
            eprintln!("  - {problem}");
        }
        return EXIT_INVALID;
    }
    let backend = match backend::connect().await {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("error: {error}");
            return error.exit_code();
        }
    };
    let cancel = CancellationToken::new();
    let watcher = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let ctx = NodeContext {
        node_id: args.type_id.replace('/', "-"),
        client: backend.client.clone(),
        cancel,
        progress: ProgressSink::new(|event| match event {
            NodeEvent::TaskStarted(task) => eprintln!(
                "task {} accepted (token {})",
                task.taskid, task.socketaccesstoken
            ),
            NodeEvent::TaskStatus(status) => eprintln!("status {status}"),
            NodeEvent::TaskStopped { taskid, how } => eprintln!("task {taskid} {how}"),
            _ => {}
        }),
        tasks: crate::node::TaskSlots::default(),
        input_dir: args.out.clone(),
        // The caller names its own files: nothing shared is being opened.
        file_access: crate::node::FileAccess::Anywhere,
        output_dir: args.out.clone(),
    };
    let result = node.run(&ctx, inputs).await;
    watcher.abort();
    match result {
        Ok(outputs) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&outputs).unwrap_or_default()
            );
            0
        }
        Err(error @ NodeError::Cancelled { .. }) => {
            eprintln!("error: {error}");
            EXIT_CANCELLED
        }
        Err(error @ NodeError::InvalidInputs(_)) => {
            eprintln!("error: {error}");
            EXIT_INVALID
        }
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_FAILED
        }
    }
}
