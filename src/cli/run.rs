//! `wiro-nodes run` and `wiro-nodes validate`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::money::money;
use super::progress::Renderer;
use super::rows::{self, RowsArgs};
use super::{backend, signals, EXIT_CANCELLED, EXIT_FAILED, EXIT_INVALID};
use crate::api::{Estimate, LocalFile};
use crate::graph::out_folder;
use crate::graph::rows::{
    counted, left_running_warnings, set_aside_earlier_files, RowResult, Table, TableFlow,
};
use crate::graph::{
    price_workflow, price_workflows, validate_for_run, Executor, NodeOutcome, OverCap, RunError,
    RunOptions, RunReport, Workflow, WorkflowPrice, JOURNAL_FILE,
};
use crate::node::{Registry, Walls};

/// The workflow to run or check, with what its user adds on the command line.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkflowArgs {
    /// The workflow file (JSON); see node-schemas/workflow.schema.json.
    file: PathBuf,
    /// Set an input: NODE.INPUT=VALUE (VALUE is read as JSON when it parses, else as text).
    /// A file named here may be read even outside the workflow's folder.
    #[arg(long = "set", value_name = "NODE.INPUT=VALUE")]
    set: Vec<String>,
    /// Let the workflow read files in DIR (or the file DIR) too. By default a workflow reads
    /// only files inside its own folder, so a shared workflow cannot upload your other files.
    #[arg(long, value_name = "DIR")]
    allow_read: Vec<PathBuf>,
    #[command(flatten)]
    rows: RowsArgs,
    #[command(flatten)]
    fetch: backend::FetchArgs,
}

impl WorkflowArgs {
    /// The workflow with the `--set` inputs, and where its nodes read files from (the
    /// options' `input_dir` and `allow_read`).
    fn load(&self) -> Result<(Workflow, RunOptions), String> {
        let mut workflow = Workflow::from_file(&self.file)?;
        let input_dir = self
            .file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut allow_read = self.allow_read.clone();
        for assignment in &self.set {
            workflow.set_input(assignment)?;
            // A path the user typed is theirs to read.
            if let Some((_, value)) = assignment.split_once('=') {
                let named = input_dir.join(value);
                if named.is_file() {
                    allow_read.push(named);
                }
            }
        }
        let options = RunOptions {
            input_dir,
            allow_read,
            state_dir: RunOptions::user_state_dir(),
            ..RunOptions::default()
        };
        Ok((workflow, options))
    }

    /// The workflow (and the table of `--rows`, every row checked), its run options, the
    /// server settings, the node types and the walls, or the exit status after saying why not.
    fn prepare(&self) -> Result<Prepared, u8> {
        let (workflow, options) = self.load().map_err(|error| {
            eprintln!("error: {error}");
            EXIT_INVALID
        })?;
        let settings = backend::Settings::from_env(&self.fetch).map_err(|error| {
            eprintln!("error: {error}");
            error.exit_code()
        })?;
        let registry = super::registry::registry_or_exit()?;
        let walls = options.walls(settings.fetch_rules());
        let (table, refused) = match rows::check(&self.rows, &workflow, &registry, Some(&walls))? {
            Some(checked) => (Some(checked.table), checked.refused),
            None => (None, Vec::new()),
        };
        Ok(Prepared {
            workflow,
            table,
            refused,
            options,
            settings,
            registry,
            walls,
        })
    }
}

/// What `run` and `validate` work on.
struct Prepared {
    /// The flow (run once per row of `table`, when there is one).
    workflow: Workflow,
    /// The table of `--rows`, every row checked.
    table: Option<Table>,
    /// The rows `--skip-invalid-rows` refused, for the results table.
    refused: Vec<RowResult>,
    options: RunOptions,
    settings: backend::Settings,
    registry: Registry,
    walls: Walls,
}

/// Arguments of `wiro-nodes run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    workflow: WorkflowArgs,
    /// Where downloads and the run journal go.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Start the journal afresh and run every node again (submits new, paid tasks); the earlier journal is kept beside it as wiro-journal.earlier.jsonl.
    #[arg(long)]
    fresh: bool,
    /// Run this node again whatever the journal says (e.g. a Run whose outcome is unknown,
    /// once you checked it was not created); the rest resumes. Repeatable.
    #[arg(long, value_name = "NODE")]
    rerun: Vec<String>,
    /// At most this many uploads and downloads at once (waits and API calls are not bounded:
    /// a wait is a socket).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// At most this many paid tasks active at once; by default as many as the account allows,
    /// learned from the server's code-96 answers.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_tasks: Option<u32>,
    /// Refuse to start when the estimated price exceeds USD dollars (or any price is unknown):
    /// exit 2, with nothing sent but the price look-ups (Tool/Detail). The price is the whole
    /// workflow's (a table's: every row's), counting the nodes an earlier run already paid for:
    /// resuming never takes a run past the cap it was started under.
    #[arg(long, value_name = "USD", allow_hyphen_values = true, value_parser = super::money::cap)]
    max_cost: Option<f64>,
    /// Print the final report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `wiro-nodes validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    workflow: WorkflowArgs,
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

pub(crate) async fn validate(args: ValidateArgs) -> u8 {
    let file = &args.workflow.file;
    let Prepared {
        workflow,
        table,
        settings,
        registry,
        walls,
        ..
    } = match args.workflow.prepare() {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    // A table's rows were checked, each, when it was read.
    if table.is_none() {
        if let Err(problems) = validate_for_run(&workflow, &registry, &walls) {
            print_problems(file, &problems);
            return EXIT_INVALID;
        }
    }
    match &table {
        Some(table) => outln!(
            "{}: valid ({} of {} each)",
            file.display(),
            counted(table.rows.len(), "row"),
            counted(workflow.nodes.len(), "node")
        ),
        None => outln!(
            "{}: valid ({})",
            file.display(),
            counted(workflow.nodes.len(), "node")
        ),
    }
    // The price comes from the server's published list (Tool/Detail): nothing else is sent.
    let backend = match settings.connect().await {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("error: {error}");
            return error.exit_code();
        }
    };
    match &table {
        Some(table) => {
            let rows = match table_flow(&workflow, table, &registry) {
                Ok(rows) => rows,
                Err(code) => return code,
            };
            let price = price_workflows(rows.rows(), &registry, &backend.client).await;
            out!("{}", rows::price_line(&price, rows.len()));
        }
        None => out!(
            "{}",
            price_lines(&price_workflow(&workflow, &registry, &backend.client).await)
        ),
    }
    0
}

/// The flow over a table whose columns were checked already.
fn table_flow<'a>(
    workflow: &'a Workflow,
    table: &'a Table,
    registry: &Registry,
) -> Result<TableFlow<'a>, u8> {
    TableFlow::new(workflow, table, registry).map_err(|problems| {
        eprintln!("error: {}", problems.join("; "));
        EXIT_INVALID
    })
}

pub(crate) async fn run(args: RunArgs) -> u8 {
    let file = &args.workflow.file;
    // Checked before any server is contacted or started.
    if let Err(problem) = out_folder::writable(&args.out, &format!("--out {}", args.out.display()))
    {
        eprintln!("error: {problem}; nothing was sent");
        return EXIT_INVALID;
    }
    let Prepared {
        workflow,
        table,
        refused,
        options,
        settings,
        registry,
        walls,
    } = match args.workflow.prepare() {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    // A table's rows were checked, each, when it was read.
    let rows = match &table {
        Some(table) => match table_flow(&workflow, table, &registry) {
            Ok(rows) => Some(rows),
            Err(code) => return code,
        },
        None => {
            if let Err(problems) = validate_for_run(&workflow, &registry, &walls) {
                print_problems(file, &problems);
                return EXIT_INVALID;
            }
            None
        }
    };
    if let Err(problem) = out_folder::free_for(
        &args.out,
        &format!("--out {}", args.out.display()),
        &workflow,
        &registry,
        rows.as_ref(),
        args.json,
    )
    .and_then(|()| match &rows {
        Some(rows) if !args.fresh => {
            let shown = format!("--out {}", args.out.display());
            out_folder::journal_knows_results(&args.out, &shown, rows)
        }
        _ => Ok(()),
    }) {
        eprintln!("error: {problem}; nothing was sent");
        return EXIT_INVALID;
    }
    let backend = match settings.connect().await {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("error: {error}");
            return error.exit_code();
        }
    };
    let price = match &rows {
        // A table's price is its total: a line per row's node would bury it.
        Some(rows) => {
            let price = price_workflows(rows.rows(), &registry, &backend.client).await;
            eprint!("{}", rows::price_line(&price, rows.len()));
            price
        }
        None => {
            let price = price_workflow(&workflow, &registry, &backend.client).await;
            eprint!("{}", price_lines(&price));
            price
        }
    };
    // A resume is priced whole: say so, or the price (and a cap) look misread.
    let resumes = !args.fresh && args.out.join(JOURNAL_FILE).exists();
    if resumes && !price.nodes.is_empty() {
        eprintln!(
            "(a journal is in {}: the price counts every Run, also those an earlier run already paid for with the same inputs, which are not paid again)",
            args.out.display()
        );
    }
    let options = RunOptions {
        concurrency: args.concurrency as usize,
        max_tasks: args.max_tasks.map(|n| n as usize),
        output_dir: args.out.clone(),
        journal: true,
        fresh: args.fresh,
        rerun: args.rerun.clone(),
        // An emulator of this process only: no other run could hold its tasks.
        state_dir: options.state_dir.filter(|_| !backend.is_emulator()),
        ..options
    };
    let executor = Executor::new(registry, backend.client.clone(), options);
    if let Some(cap) = args.max_cost {
        let mut capped = price.clone();
        if let Some(rows) = &rows {
            // Paid before for cells the table no longer has: the cap is the whole run's.
            match executor.paid_for_other_cells(rows).await {
                Ok(earlier) => {
                    let prices = price.paid_before(&earlier);
                    if let Some(line) = rows::paid_before_line(&earlier, &prices) {
                        eprintln!("({line})");
                    }
                    capped.nodes.extend(prices);
                }
                Err(error) => {
                    eprintln!("error: {error}; nothing was sent");
                    return EXIT_INVALID;
                }
            }
        }
        if let Err(refusal) = within_cap(&capped, cap) {
            let whole = match resumes {
                true => " (--max-cost caps the whole run, what earlier runs paid included)",
                false => "",
            };
            eprintln!("error: {refusal}{whole}; nothing was sent but the price look-ups");
            return EXIT_INVALID;
        }
    }
    let cancel = CancellationToken::new();
    let (watcher, signal) = signals::watch(
        cancel.clone(),
        "Stopping: cancelling queued tasks and killing running ones (press Ctrl-C again to quit at once)...",
    );
    let code = match &rows {
        Some(rows) => run_table(&executor, rows, &refused, &cancel, &args).await,
        None => run_flow(&executor, &workflow, &cancel, &args, &price).await,
    };
    watcher.abort();
    drop(backend);
    match code {
        Outcome::Cancelled => signal
            .get()
            .map_or(EXIT_CANCELLED, |signal| signal.exit_code()),
        Outcome::Exit(code) => code,
    }
}

/// How a run ended, for its exit status.
enum Outcome {
    /// Stopped by a signal (its exit status) or a dropped run.
    Cancelled,
    /// This exit status.
    Exit(u8),
}

/// Runs one workflow, shows it node by node and prints the summary (or the JSON report).
async fn run_flow(
    executor: &Executor,
    workflow: &Workflow,
    cancel: &CancellationToken,
    args: &RunArgs,
    price: &WorkflowPrice,
) -> Outcome {
    let renderer = Arc::new(Renderer::new(workflow));
    let events = Arc::clone(&renderer);
    let result = executor
        .run(workflow, cancel.clone(), move |event| events.show(&event))
        .await;
    renderer.finish();
    match result {
        Ok(report) => {
            if args.json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print_summary(&report);
                if let Some(estimate) = price.total().filter(|_| !price.nodes.is_empty()) {
                    outln!(
                        "estimated before the run: {} (charged: {})",
                        money(estimate),
                        money(report.total_cost())
                    );
                }
            }
            if report.cancelled {
                Outcome::Cancelled
            } else if report.succeeded() {
                Outcome::Exit(0)
            } else {
                Outcome::Exit(EXIT_FAILED)
            }
        }
        Err(error) => Outcome::Exit(run_error(&args.workflow.file, error)),
    }
}

/// Runs the flow once per row, streamed, with one line of row counts; writes the results
/// table (the results say it per row: no node-by-node summary).
async fn run_table(
    executor: &Executor,
    rows: &TableFlow<'_>,
    refused: &[RowResult],
    cancel: &CancellationToken,
    args: &RunArgs,
) -> Outcome {
    let renderer = Arc::new(Renderer::for_rows(rows.len()));
    let (events, ended) = (Arc::clone(&renderer), Arc::clone(&renderer));
    let result = executor
        .run_rows(
            rows,
            cancel.clone(),
            move |event| events.show(&event),
            move |row| ended.row_ended(row),
        )
        .await;
    renderer.finish();
    match result {
        Ok(report) => {
            let aside =
                set_aside_earlier_files(&args.out, &[report.rows.as_slice(), refused].concat());
            aside
                .warnings
                .iter()
                .for_each(|line| eprintln!("warning: {line}"));
            if let Some(note) = aside.note {
                eprintln!("note: {note}");
            }
            for warning in left_running_warnings(&report.left_running) {
                eprintln!("warning: {warning}");
            }
            let failed = rows::finish(&args.out, report.rows, refused, args.json);
            if args.json {
                // The report `--json` promises on stdout: the rows' results, a line each.
                match std::fs::read_to_string(args.out.join("results.jsonl")) {
                    Ok(lines) => out!("{lines}"),
                    Err(error) => eprintln!("error: results.jsonl could not be read back: {error}"),
                }
            }
            if report.cancelled {
                Outcome::Cancelled
            } else {
                Outcome::Exit(failed.unwrap_or(0))
            }
        }
        Err(error) => Outcome::Exit(run_error(&args.workflow.file, error)),
    }
}

/// Says why a run could not go on; its exit status.
fn run_error(file: &Path, error: RunError) -> u8 {
    match error {
        RunError::Invalid(problems) => {
            print_problems(file, &problems);
            EXIT_INVALID
        }
        // Another run holds the journal: this one started nothing.
        RunError::Journal { ref source, .. } if source.kind() == std::io::ErrorKind::WouldBlock => {
            eprintln!("error: {error}; no Run was sent");
            EXIT_INVALID
        }
        error => {
            eprintln!("error: {error}");
            EXIT_FAILED
        }
    }
}

/// Each paid node's estimate and the total, a line each.
fn price_lines(price: &WorkflowPrice) -> String {
    let mut lines = String::new();
    for node in &price.nodes {
        let what = match &node.estimate {
            Estimate::Known { usd, basis } => format!("{} ({basis})", money(*usd)),
            Estimate::Unknown { reason } => format!("unknown: {reason}"),
        };
        lines.push_str(&format!("price of {}: {what}\n", node.node));
    }
    match price.total() {
        _ if price.nodes.is_empty() => {}
        Some(total) => lines.push_str(&format!(
            "estimated price: {} if every paid task succeeds (failed tasks are not billed)\n",
            money(total)
        )),
        None => lines.push_str("estimated price: unknown (see above)\n"),
    }
    lines
}

/// Whether the estimate fits under `--max-cost`; if not, why, and how to go on.
fn within_cap(price: &WorkflowPrice, cap: f64) -> Result<(), String> {
    match price.over_cap(cap) {
        None => Ok(()),
        Some(OverCap::Unknown { node }) => Err(format!(
            "--max-cost {}: the price of node {node:?} is unknown, so the run might cost more; run without --max-cost to go on anyway",
            money(cap),
        )),
        Some(OverCap::Above { total }) => Err(format!(
            "the estimated price {} exceeds --max-cost {}; raise the cap or make the workflow cheaper",
            money(total),
            money(cap)
        )),
    }
}

fn print_summary(report: &RunReport) {
    outln!();
    outln!(
        "{:<16} {:<28} {:<10} {:>8}  tasks",
        "node",
        "type",
        "outcome",
        "time"
    );
    for node in &report.nodes {
        let outcome = match &node.outcome {
            NodeOutcome::Finished => "finished",
            NodeOutcome::Resumed => "resumed",
            NodeOutcome::Failed(_) => "FAILED",
            NodeOutcome::Skipped(_) => "skipped",
            NodeOutcome::Cancelled => "cancelled",
        };
        outln!(
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
            NodeOutcome::Failed(reason) => outln!("\n{} failed: {reason}", node.id),
            NodeOutcome::Skipped(reason) if !report.cancelled => {
                outln!("{} skipped: {reason}", node.id)
            }
            _ => {}
        }
    }
    for stopped in report.stopped_tasks() {
        outln!("task {} {}", stopped.taskid, stopped.how);
    }
    let tasks = &report.tasks;
    if tasks.refusals > 0 {
        outln!(
            "\n{} Run{} refused for a limit — the account's on active tasks (code 96) or on requests (HTTP 429) — nothing started; each was sent again",
            tasks.refusals,
            if tasks.refusals == 1 { " was" } else { "s were" }
        );
    }
    if let (Some(limit), true) = (tasks.limit, tasks.learned) {
        outln!(
            "the account allows {limit} active task{} at once (learned from code 96)",
            if limit == 1 { "" } else { "s" }
        );
    }
    outln!("\ntotal cost: {}", money(report.total_cost()));
    let unseen: Vec<String> = (report.tasks_not_seen_ending().into_iter())
        .map(str::to_owned)
        .collect();
    if let Some(line) = super::money::not_counted(&unseen) {
        outln!("  {line}");
    }
    let files = report.files();
    if !files.is_empty() {
        outln!("output files:");
        for file in &files {
            outln!("  {}", file.display());
        }
        let kept: Vec<PathBuf> = (files.iter())
            .flat_map(|file| LocalFile::kept_beside(file))
            .collect();
        if !kept.is_empty() {
            outln!("earlier files of other bytes under those names, kept beside them (never overwritten):");
            for file in kept {
                outln!("  {}", file.display());
            }
        }
    }
    if let Some(journal) = &report.journal {
        outln!(
            "journal: {} (run the same command again to resume)",
            journal.display()
        );
    }
}
