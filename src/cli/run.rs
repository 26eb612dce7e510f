//! `wiro-nodes run` and `wiro-nodes validate`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::progress::Renderer;
use super::{backend, signals, EXIT_CANCELLED, EXIT_FAILED, EXIT_INVALID};
use crate::graph::{
    validate as validate_workflow, Executor, NodeOutcome, RunError, RunOptions, RunReport, Workflow,
};
use crate::node::Registry;

/// Arguments of `wiro-nodes run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The workflow file (JSON); see node-schemas/workflow.schema.json.
    file: PathBuf,
    /// Set an input: NODE.INPUT=VALUE (VALUE is read as JSON when it parses, else as text).
    #[arg(long = "set", value_name = "NODE.INPUT=VALUE")]
    set: Vec<String>,
    /// Where downloads and the run journal go.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Forget the journal and run every node again (submits new, paid tasks).
    #[arg(long)]
    fresh: bool,
    /// At most this many uploads and downloads at once (waits and API calls are not bounded:
    /// a wait is a socket).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// At most this many paid tasks active at once; by default as many as the account allows,
    /// learned from the server's code-96 answers.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_tasks: Option<u32>,
    /// Print the final report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `wiro-nodes validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// The workflow file (JSON).
    file: PathBuf,
    /// Set an input, as for `run`.
    #[arg(long = "set", value_name = "NODE.INPUT=VALUE")]
    set: Vec<String>,
}

fn load(file: &Path, set: &[String]) -> Result<Workflow, String> {
    let mut workflow = Workflow::from_file(file)?;
    for assignment in set {
        workflow.set_input(assignment)?;
    }
    Ok(workflow)
}

fn print_problems(file: &Path, problems: &[crate::graph::WorkflowProblem]) {
    eprintln!(
        "{}: the workflow is invalid ({} problem{}); nothing was sent:",
        file.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        eprintln!("  - {problem}");
    }
}

pub(crate) fn validate(args: ValidateArgs) -> u8 {
    let workflow = match load(&args.file, &args.set) {
        Ok(workflow) => workflow,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_INVALID;
        }
    };
    match validate_workflow(&workflow, &Registry::from_inventory()) {
        Ok(_) => {
            println!(
                "{}: valid ({} nodes)",
                args.file.display(),
                workflow.nodes.len()
            );
            0
        }
        Err(problems) => {
            print_problems(&args.file, &problems);
            EXIT_INVALID
        }
    }
}

pub(crate) async fn run(args: RunArgs) -> u8 {
    let workflow = match load(&args.file, &args.set) {
        Ok(workflow) => workflow,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_INVALID;
        }
    };
    let registry = Registry::from_inventory();
    // Checked before any server is contacted or started.
    if let Err(problems) = validate_workflow(&workflow, &registry) {
        print_problems(&args.file, &problems);
        return EXIT_INVALID;
    }
    let backend = match backend::connect().await {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    let input_dir = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let options = RunOptions {
        concurrency: args.concurrency as usize,
        max_tasks: args.max_tasks.map(|n| n as usize),
        input_dir,
        output_dir: args.out.clone(),
        journal: true,
        fresh: args.fresh,
    };
    let executor = Executor::new(registry, backend.client.clone(), options);
    let cancel = CancellationToken::new();
    let (watcher, signal) = signals::watch(
        cancel.clone(),
        "Stopping: cancelling queued tasks and killing running ones (press Ctrl-C again to quit at once)...",
    );
    let renderer = Arc::new(Renderer::new(&workflow));
    let events = Arc::clone(&renderer);
    let result = executor
        .run(&workflow, cancel.clone(), move |event| events.show(&event))
        .await;
    watcher.abort();
    renderer.finish();
    drop(backend);
    match result {
        Ok(report) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print_summary(&report);
            }
            if report.cancelled {
                signal
                    .get()
                    .map_or(EXIT_CANCELLED, |signal| signal.exit_code())
            } else if report.succeeded() {
                0
            } else {
                EXIT_FAILED
            }
        }
        Err(RunError::Invalid(problems)) => {
            print_problems(&args.file, &problems);
            EXIT_INVALID
        }
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_FAILED
        }
    }
}

fn print_summary(report: &RunReport) {
    println!();
    println!(
        "{:<16} {:<28} {:<10} {:>8}  tasks",
        "node", "type", "outcome", "time"
    );
    for node in &report.nodes {
        let outcome = match &node.outcome {
            NodeOutcome::Finished => "finished",
            NodeOutcome::Resumed => "resumed",
            NodeOutcome::Failed(_) => "FAILED",
            NodeOutcome::Skipped(_) => "skipped",
            NodeOutcome::Cancelled => "cancelled",
        };
        println!(
            "{:<16} {:<28} {:<10} {:>7.1}s  {}",
            node.id,
            node.type_id,
            outcome,
            node.elapsed.as_secs_f64(),
            node.tasks.join(", ")
        );
    }
    for node in &report.nodes {
        match &node.outcome {
            NodeOutcome::Failed(reason) => println!("\n{} failed: {reason}", node.id),
            NodeOutcome::Skipped(reason) if !report.cancelled => {
                println!("{} skipped: {reason}", node.id)
            }
            _ => {}
        }
    }
    for stopped in report.stopped_tasks() {
        println!("task {} {}", stopped.taskid, stopped.how);
    }
    let tasks = &report.tasks;
    if tasks.refusals > 0 {
        println!(
            "\n{} Run{} refused for the account's limit on active tasks (nothing started; each was sent again)",
            tasks.refusals,
            if tasks.refusals == 1 { " was" } else { "s were" }
        );
    }
    if let (Some(limit), true) = (tasks.limit, tasks.learned) {
        println!(
            "the account allows {limit} active task{} at once (learned from code 96)",
            if limit == 1 { "" } else { "s" }
        );
    }
    println!("\ntotal cost: {}", money(report.total_cost()));
    let files = report.files();
    if !files.is_empty() {
        println!("output files:");
        for file in files {
            println!("  {}", file.display());
        }
    }
    if let Some(journal) = &report.journal {
        println!(
            "journal: {} (run the same command again to resume)",
            journal.display()
        );
    }
}

/// A cost as Wiro bills it (dollars, at most six decimals), without float noise.
pub(crate) fn money(amount: f64) -> String {
    let text = format!("{amount:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("${text}")
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn costs_print_without_float_noise() {
        assert_eq!(money(0.3 + 0.3 + 0.3), "$0.9");
        assert_eq!(money(0.00351), "$0.00351");
        assert_eq!(money(0.0), "$0");
        assert_eq!(money(2.0), "$2");
    }
}
