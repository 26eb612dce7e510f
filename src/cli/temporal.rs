//! `wiro-nodes worker|submit|status|cancel|result --temporal HOST:PORT`: workflows on a
//! Temporal cluster, run by any number of workers that may die.

use std::path::{Path, PathBuf};

use temporalio_sdk::{Runtime, Worker, WorkerOptions};

use super::{EXIT_CANCELLED, EXIT_FAILED, EXIT_INVALID};
use crate::api::Credentials;
use crate::graph::{validate, Workflow};
use crate::hosts::temporal::limits::{Fit, Split};
use crate::hosts::temporal::messages::{resume_round, round_id};
use crate::hosts::temporal::{
    self, client, BatchInput, BatchWorkflow, GraphWorkflow, NodeHost, NodeState, Report, Submitted,
    WorkflowInput,
};

/// Where the Temporal server is, and which queue and namespace.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TemporalArgs {
    /// The Temporal frontend, HOST:PORT (or http(s)://HOST:PORT).
    #[arg(long = "temporal", value_name = "HOST:PORT", env = "WIRO_TEMPORAL")]
    address: String,
    /// The task queue workers poll and workflows are started on.
    #[arg(long, default_value = temporal::DEFAULT_TASK_QUEUE)]
    task_queue: String,
    /// The Temporal namespace.
    #[arg(long, default_value = temporal::DEFAULT_NAMESPACE)]
    namespace: String,
}

/// Arguments of `wiro-nodes worker`.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    #[command(flatten)]
    temporal: TemporalArgs,
    /// Downloads go to OUT/<workflow id>/ on this worker: a folder shared by all workers, or
    /// this worker's own (each report line says which worker and folder).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Relative input paths (files to upload) are read from here.
    #[arg(long, default_value = ".")]
    input_dir: PathBuf,
    #[command(flatten)]
    fetch: super::backend::FetchArgs,
}

/// Arguments of `wiro-nodes submit`.
#[derive(Debug, clap::Args)]
pub(crate) struct SubmitArgs {
    /// The workflow file (JSON).
    file: PathBuf,
    #[command(flatten)]
    temporal: TemporalArgs,
    /// Set an input: NODE.INPUT=VALUE (part of the document, so of the workflow id).
    #[arg(long = "set", value_name = "NODE.INPUT=VALUE")]
    set: Vec<String>,
    /// At most this many uploads and downloads run at once (paid Runs leave one at a time).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// How long the workflow looks for the task of a Run whose answer was lost (a worker
    /// died while sending) before the node fails saying the task may exist, in minutes.
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    reconcile_minutes: u64,
    #[command(flatten)]
    rows: super::rows::RowsArgs,
    /// Resume a failed or cancelled execution of this same document: a new execution takes
    /// over the nodes that finished there and the tasks it started (nothing finished runs
    /// again, no started task is paid again); a Run sent there without an answer is looked
    /// for with Task/List before it is sent again. Needs a worker running (the old
    /// execution's state is read from it).
    #[arg(long, value_name = "WORKFLOW_ID")]
    resume: Option<String>,
    /// The Temporal server's limit on one payload, in bytes (its `limit.blobSize.error`,
    /// 2 MiB unless its operator changed it). A batch whose report would pass it whole gets
    /// a report with each node's outputs cut to its task, cost and files; one whose input,
    /// cut report or history would not fit is refused before it is submitted.
    #[arg(long, value_name = "BYTES", default_value_t = temporal::limits::DEFAULT_PAYLOAD_LIMIT,
          value_parser = payload_limit)]
    payload_limit: usize,
}

/// A server's payload limit: a number of bytes, at least 16 KiB (Temporal's own is 2 MiB;
/// less leaves no room for a workflow's report).
fn payload_limit(text: &str) -> Result<usize, String> {
    const LEAST: usize = 16 * 1024;
    match text.trim().parse::<usize>() {
        Ok(bytes) if bytes >= LEAST => Ok(bytes),
        Ok(_) => Err(format!("at least {LEAST} bytes")),
        Err(_) => Err("a number of bytes, e.g. 2097152".into()),
    }
}

/// Arguments of `wiro-nodes status|cancel|result`.
#[derive(Debug, clap::Args)]
pub(crate) struct IdArgs {
    /// The workflow id `submit` printed.
    id: String,
    #[command(flatten)]
    temporal: TemporalArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `wiro-nodes result`.
#[derive(Debug, clap::Args)]
pub(crate) struct ResultArgs {
    #[command(flatten)]
    id: IdArgs,
    /// For a table's batch (`submit --rows`): write its results table into DIR, as `run --rows`
    /// does: DIR/results.csv (and results.jsonl with --json), per row its outcome, task ids, cost
    /// and files (relative to the workflow's folder on the worker) or the error.
    #[arg(long, value_name = "DIR")]
    results: Option<PathBuf>,
}

impl ResultArgs {
    /// Whether it writes files (a results table) besides printing.
    pub(crate) fn writes_files(&self) -> bool {
        self.results.is_some()
    }
}

/// Runs a worker until Ctrl-C: the workflow, and every node type as an activity.
pub(crate) async fn worker(args: WorkerArgs) -> u8 {
    // Each worker talks to Wiro with its own credentials; an embedded emulator per worker
    // would give each its own tasks, invisible to the others.
    if Credentials::from_env().is_none() {
        eprintln!("error: a worker needs WIRO_API_KEY (and WIRO_API_SECRET) in its environment; for an emulator also WIRO_BASE_URL and WIRO_SOCKET_URL (`wiro-nodes emulator` prints them)");
        return EXIT_INVALID;
    }
    let registry = match super::registry::registry_or_exit() {
        Ok(registry) => registry,
        Err(code) => return code,
    };
    let connected = match super::backend::Settings::from_env(&args.fetch) {
        Ok(settings) => settings.connect().await,
        Err(error) => Err(error),
    };
    let wiro = match connected {
        Ok(backend) => backend.client,
        Err(error) => {
            eprintln!("error: {error}");
            return error.exit_code();
        }
    };
    let identity = client::identity();
    crate::hosts::temporal::use_registry(registry.clone());
    let connection = match client::connect(&args.temporal.address, &args.temporal.namespace).await {
        Ok(connection) => connection,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    let host = NodeHost {
        registry,
        client: wiro,
        output_root: args.out.clone(),
        input_dir: args.input_dir.clone(),
        identity: identity.clone(),
        temporal: Some(connection.clone()),
    };
    match run_worker(&args.temporal, connection, host).await {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_FAILED
        }
    }
}

async fn run_worker(
    temporal: &TemporalArgs,
    connection: temporalio_client::Client,
    host: NodeHost,
) -> Result<(), String> {
    let runtime = Runtime::from_current_tokio(Default::default())
        .map_err(|e| format!("Temporal runtime: {e}"))?;
    let identity = host.identity.clone();
    let output_root = host.output_root.clone();
    let options = WorkerOptions::new(temporal.task_queue.clone())
        .register_workflow::<GraphWorkflow>()
        .map_err(|e| format!("workflow registration: {e}"))?
        .register_workflow::<BatchWorkflow>()
        .map_err(|e| format!("workflow registration: {e}"))?
        .register_activities(host)
        .build();
    let mut worker =
        Worker::new(&runtime, connection, options).map_err(|e| format!("Temporal worker: {e}"))?;
    let shutdown = worker.shutdown_handle();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping the worker: running activities finish or are retried elsewhere");
            shutdown();
        }
    });
    eprintln!(
        "worker {identity} polling task queue {:?} on {} (namespace {}); downloads go to {}",
        temporal.task_queue,
        temporal.address,
        temporal.namespace,
        output_root.display()
    );
    worker
        .run()
        .await
        .map_err(|e| format!("worker stopped: {e}"))
}

fn load(file: &Path, set: &[String]) -> Result<Workflow, String> {
    let mut workflow = Workflow::from_file(file)?;
    for assignment in set {
        workflow.set_input(assignment)?;
    }
    Ok(workflow)
}

/// Validates the document here (nothing is started when it is invalid), then starts it.
pub(crate) async fn submit(args: SubmitArgs) -> u8 {
    let workflow = match load(&args.file, &args.set) {
        Ok(workflow) => workflow,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_INVALID;
        }
    };
    let registry = match super::registry::registry_or_exit() {
        Ok(registry) => registry,
        Err(code) => return code,
    };
    // A table runs as one durable document: the flow once per row; one too big for a
    // workflow, as a batch of such documents. Rows refused under --skip-invalid-rows are
    // listed by `check`, and go with the batch for its results table.
    let mut refused_rows = Vec::new();
    let mut table = None;
    let flow = workflow.clone();
    let workflow = match super::rows::check(&args.rows, &workflow, &registry, None) {
        Ok(None) => workflow,
        Ok(Some(checked)) => match crate::graph::rows::expand(&workflow, &checked.table, &registry)
        {
            Ok(expanded) => {
                refused_rows = temporal::rows::refused_rows(checked.refused);
                table = Some(checked.table);
                expanded
            }
            Err(problems) => {
                // `check` matched the columns already: this does not happen.
                eprintln!("error: {}", problems.join("; "));
                return EXIT_INVALID;
            }
        },
        Err(code) => return code,
    };
    if let Err(problems) = validate(&workflow, &registry) {
        eprintln!(
            "{}: the workflow is invalid; nothing was submitted:",
            args.file.display()
        );
        for problem in problems {
            eprintln!("  - {problem}");
        }
        return EXIT_INVALID;
    }
    let rows = table.as_ref().map(|table| table.rows.len());
    let mut input = WorkflowInput {
        workflow,
        concurrency: args.concurrency,
        reconcile_minutes: args.reconcile_minutes,
        resume: None,
        refused_rows,
        payload_limit: args.payload_limit,
        folder: None,
    };
    let file = args.file.display();
    let part = args
        .resume
        .as_deref()
        .and_then(|old| Some((old, client::part_of(old)?)));
    if let Some((old, (batch, number))) = part {
        eprintln!("{file}: {old} is part {number} of the batch {batch}, which resumes as a whole: --resume {batch} with the table it ran (--rows TABLE); nothing was submitted");
        return EXIT_INVALID;
    }
    if let Some(old) = args.resume.as_deref().filter(|old| client::is_batch(old)) {
        let Some(table) = table else {
            eprintln!("{file}: {old} is a batch of a table: resume it with the table it ran (--rows TABLE); nothing was submitted");
            return EXIT_INVALID;
        };
        return submit_batch(&args, flow, table, (&input, &registry), None).await;
    }
    match temporal::limits::check_fits(&input, &registry, rows) {
        Ok(Fit::Whole) => {}
        Ok(Fit::Cut) => eprintln!(
            "note: this batch's report would pass Temporal's payload limit with every node's outputs, so it will carry each node's task, cost and files (the results table has all it needs; the workflow's history keeps every output whole)"
        ),
        Err(too_big) => match (too_big.split, table) {
            (Split::Rows(part_rows), Some(table)) if part_rows > 0 => {
                // A workflow that ran this table whole, resumed at a limit that runs it in
                // parts, goes on as a batch whose parts take over its rows.
                let whole = (&input, &registry);
                return submit_batch(&args, flow, table, whole, Some(part_rows)).await;
            }
            _ => {
                eprintln!("{file}: {too_big}; nothing was submitted");
                return EXIT_INVALID;
            }
        },
    }
    let workflow = &input.workflow;
    let connection = match client::connect(&args.temporal.address, &args.temporal.namespace).await {
        Ok(connection) => connection,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    // A table's executions of the other kind: in parts.
    let batch = table.as_ref().map(|table| client::batch_id(&flow, table));
    let whole_id = client::workflow_id(workflow);
    let code = match (batch.as_deref(), &args.resume) {
        // The same table, submitted before at a limit that ran it in parts.
        (Some(batch), None) => {
            let other = (batch, "as a batch of parts");
            submitted_already(&connection, other, &whole_id).await
        }
        (Some(batch), Some(old)) => {
            resumed_already(&connection, old, (&whole_id, batch), false).await
        }
        (None, _) => None,
    };
    if let Some(code) = code {
        return code;
    }
    let resume = match &args.resume {
        None => None,
        Some(old) => {
            let room = temporal::limits::resume_room(&input);
            let document = (workflow, &registry);
            match client::resume_from(&connection, old, document, room).await {
                Ok(resume) => Some(resume),
                Err(error) => {
                    eprintln!("error: {error}; nothing was submitted");
                    return EXIT_INVALID;
                }
            }
        }
    };
    let mut how = None;
    if let Some(resume) = resume {
        // What is carried is cut to fit already; the check says when nothing could be.
        let old = resume.from.clone();
        let (finished, lost) = (resume.finished.len(), resume.lost.len());
        input.resume = Some(resume);
        if let Some(why) = temporal::limits::too_big(&input, &registry) {
            eprintln!(
                "{}: the resume of {old} is too big for one Temporal workflow: {why}; nothing was submitted. Do not submit the document again without --resume: its Runs that were paid would be paid again. If the server allows bigger payloads, say so with --payload-limit",
                args.file.display()
            );
            return EXIT_INVALID;
        }
        how = Some(format!(
            "resuming {old}: {finished} finished node(s) taken over, {lost} lost Run(s) looked for before sending again"
        ));
    }
    let submitted = client::submit(&connection, &args.temporal.task_queue, input).await;
    said_submitted(&connection, ("workflow", how), submitted, batch.as_deref()).await
}

/// Prints what `submit` did: the id on stdout, the rest on stderr (with `how`, what the
/// execution does, when it started); the exit status. `other`: for a table, the first id of
/// the other kind of execution (see [`note_newest_resume`]).
async fn said_submitted(
    connection: &temporalio_client::Client,
    (what, how): (&str, Option<String>),
    submitted: Result<Submitted, String>,
    other: Option<&str>,
) -> u8 {
    match submitted {
        Ok(Submitted::Started(id)) => {
            if let Some(how) = how {
                eprintln!("{how}");
            }
            eprintln!("started {what} {id}");
            let rival = match other {
                Some(other) => yield_to_rival(connection, &id, other).await,
                None => None,
            };
            outln!("{}", rival.as_deref().unwrap_or(&id));
            0
        }
        Ok(Submitted::AlreadyThere(id)) => {
            // A workflow `W-rN` resumes `W-r(N-1)`; a batch's round may count on from the
            // workflow that ran its table whole.
            let (first, round) = resume_round(&id);
            match round {
                round if round == 0 || what != "workflow" => {
                    eprintln!("{what} {id} was already submitted; not started again")
                }
                round => eprintln!(
                    "{} was resumed already, as {what} {id}; not started again",
                    round_id(first, round - 1)
                ),
            }
            note_newest_resume(connection, &id, other).await;
            outln!("{id}");
            0
        }
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_FAILED
        }
    }
}

/// Two submits of one table at the same moment, one whole and one in parts, each found no
/// execution of the other kind before it started (see [`submitted_already`],
/// [`resumed_already`]): the one that started later cancels itself at once (a task it sent
/// ends unbilled), so the table runs once. Gives the execution that goes on, when it is the
/// other (`other`: the other kind's first id, `id`'s round taken from `id`).
async fn yield_to_rival(
    connection: &temporalio_client::Client,
    id: &str,
    other: &str,
) -> Option<String> {
    let rival = rival_of(id, other);
    if !started_first(connection, &rival, id).await {
        return None;
    }
    eprintln!("{rival} was submitted at the same moment for this table (as the other kind of execution); {id} is cancelled so that its rows run once");
    if let Err(error) = client::cancel(connection, id).await {
        eprintln!(
            "error: {error}: cancel it yourself (`wiro-nodes cancel {id}`), or its rows run twice"
        );
    }
    Some(rival)
}

/// The execution of the other kind (`other`: its first id) in the same round as `id`.
fn rival_of(id: &str, other: &str) -> String {
    round_id(other, resume_round(id).1)
}

/// Whether the execution `rival` exists and started before `id` (the same moment broken by
/// their ids, so that of two rivals exactly one started first).
async fn started_first(connection: &temporalio_client::Client, rival: &str, id: &str) -> bool {
    let theirs = client::started_at(connection, rival).await;
    let mine = client::started_at(connection, id).await;
    match (theirs, mine) {
        (Ok(Some(theirs)), Ok(Some(mine))) => (theirs, rival) < (mine, id),
        _ => false,
    }
}

/// Names the newest resume of the execution `id` (`id-r1`, then `id-r2`...), when it was
/// resumed since: the one to go on from. A table's resumes are one chain whether they ran
/// whole or in parts: `other` is the first execution's id of the other kind, if any
/// (`wiro-X` resumed in parts goes on as `wiro-batch-Y-r1`).
async fn note_newest_resume(connection: &temporalio_client::Client, id: &str, other: Option<&str>) {
    let (first, mut round) = resume_round(id);
    let mut newest = None;
    loop {
        round += 1;
        match round_taken(connection, (first, other), round).await {
            Ok(Some(next)) => newest = Some(next),
            _ => break,
        }
    }
    if let Some(newest) = newest {
        eprintln!("note: {id} was resumed since; the newest resume is {newest}: see `wiro-nodes status {newest}`, and resume that one (--resume {newest}) to go on from where it stands");
    }
}

/// The execution of resume round `round` (0: the first) of a document whose first
/// execution is `first` (or, for a table, `other`: the other kind), if one was submitted.
async fn round_taken(
    connection: &temporalio_client::Client,
    (first, other): (&str, Option<&str>),
    round: u32,
) -> Result<Option<String>, String> {
    for base in std::iter::once(first).chain(other) {
        let id = round_id(base, round);
        if client::status_if_any(connection, &id).await?.is_some() {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Whether the resume of `old` was submitted already as the other kind of execution than
/// this one (`in_parts`: this one is a batch), or `old` gave way to a rival (see
/// [`yield_to_rival`]): two resumes of one execution would both run the rows it left, and
/// pay for them twice. `one` and `batch` are the table's first ids of each kind. Says so
/// (the exit status) when it was.
async fn resumed_already(
    connection: &temporalio_client::Client,
    old: &str,
    (one, batch): (&str, &str),
    in_parts: bool,
) -> Option<u8> {
    let rival = rival_of(old, if client::is_batch(old) { one } else { batch });
    if started_first(connection, &rival, old).await {
        eprintln!("{old} gave way to {rival}, submitted at the same moment for this table, which ran its rows: resume {rival} (--resume {rival}) instead; nothing was submitted");
        return Some(EXIT_INVALID);
    }
    let (other, how, this) = match in_parts {
        true => (one, "as one workflow", batch),
        false => (batch, "as a batch of parts", one),
    };
    let id = round_id(other, resume_round(old).1 + 1);
    match client::status_if_any(connection, &id).await {
        Ok(None) => None,
        Ok(Some(_)) => {
            eprintln!("{old} was resumed already, {how}: {id}; not started again (a second resume would run its rows twice)");
            note_newest_resume(connection, &id, Some(this)).await;
            outln!("{id}");
            Some(0)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Some(EXIT_FAILED)
        }
    }
}

/// When an execution `id` exists (this table submitted before, `how`), says so and prints
/// its id; gives the exit status then (or when the server could not tell). A table is one
/// intent however it was split.
async fn submitted_already(
    connection: &temporalio_client::Client,
    (id, how): (&str, &str),
    other: &str,
) -> Option<u8> {
    match client::status_if_any(connection, id).await {
        Ok(None) => None,
        Ok(Some(_)) => {
            eprintln!("this table was submitted already, {how} (at another --payload-limit): {id}; not started again");
            note_newest_resume(connection, id, Some(other)).await;
            outln!("{id}");
            Some(0)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Some(EXIT_FAILED)
        }
    }
}

/// Submits a table too big for one workflow as a batch of parts of `part_rows` rows, or
/// (`--resume` of a batch) the resume of that batch, whose parts are the old one's. `whole`
/// is the table as one document, which the batch's size is estimated from.
async fn submit_batch(
    args: &SubmitArgs,
    flow: Workflow,
    table: crate::graph::rows::Table,
    (whole, registry): (&WorkflowInput, &crate::node::Registry),
    part_rows: Option<usize>,
) -> u8 {
    let file = args.file.display();
    let connection = match client::connect(&args.temporal.address, &args.temporal.namespace).await {
        Ok(connection) => connection,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    // The table's executions of the other kind: whole.
    let one = client::workflow_id(&whole.workflow);
    let base = client::batch_id(&flow, &table);
    let code = match &args.resume {
        // The same table, submitted before at a limit that ran it as one workflow.
        None => submitted_already(&connection, (&one, "as one workflow"), &base).await,
        Some(old) => resumed_already(&connection, old, (&one, &base), true).await,
    };
    if let Some(code) = code {
        return code;
    }
    let resumed = match &args.resume {
        None => Resumed::default(),
        Some(old) => match resumed(&connection, old, (&flow, &table), whole).await {
            Ok(resumed) => resumed,
            Err(error) => {
                eprintln!("{file}: {error}; nothing was submitted");
                return EXIT_INVALID;
            }
        },
    };
    let mut payload_limit = args.payload_limit;
    let part_rows = match (resumed.part_rows, part_rows) {
        (Some(old_rows), _) => {
            // Its parts were sized for the limit it was submitted with, which is the
            // server's: another one would make parts the server refuses.
            let old_limit = resumed.payload_limit;
            if old_limit > 0 && old_limit != payload_limit {
                let old = args.resume.as_deref().unwrap_or_default();
                eprintln!("note: {old} was submitted with --payload-limit {old_limit}; its resume keeps it");
                payload_limit = old_limit;
            }
            old_rows
        }
        (None, Some(part_rows)) => {
            let rows = table.rows.len();
            temporal::limits::even_parts(whole, registry, rows, part_rows)
        }
        (None, None) => unreachable!("a new batch is sized by check_fits"),
    };
    let input = BatchInput {
        flow,
        table,
        part_rows,
        concurrency: args.concurrency,
        reconcile_minutes: args.reconcile_minutes,
        payload_limit,
        refused_rows: whole.refused_rows.clone(),
        resumes: args.resume.clone(),
        began_as: resumed.began_as.clone(),
        folder: resumed.folder,
    };
    let whole = WorkflowInput {
        payload_limit,
        ..whole.clone()
    };
    if let Err(problem) = temporal::limits::check_batch_fits(&input, part_rows, &whole, registry) {
        eprintln!("{file}: {problem}; nothing was submitted");
        return EXIT_INVALID;
    }
    let rows = input.table.rows.len();
    let parts = rows.div_ceil(part_rows);
    let how = match (&args.resume, &resumed.began_as) {
        (Some(old), Some(whole)) if old == whole => format!("resuming {old}, which ran this table whole: at this --payload-limit the table goes on as one batch of {parts} parts, each taking over what {old} finished of its rows"),
        (Some(old), _) => format!("resuming {old}: each of its {parts} parts goes on from what it finished"),
        (None, _) => format!("note: one Temporal workflow holds {part_rows} of this table's {rows} rows (with room for a resume): the table runs as one batch of {parts} parts, one after another, each a workflow of its own rows; `result` gathers them into one results table"),
    };
    let submitted = client::submit_batch(&connection, &args.temporal.task_queue, input).await;
    said_submitted(&connection, ("batch", Some(how)), submitted, Some(&one)).await
}

/// What a resumed batch keeps of what it resumes.
#[derive(Default)]
struct Resumed {
    /// How many rows each part took (`None`: the table ran whole, and is sized anew).
    part_rows: Option<usize>,
    /// The payload limit it was submitted with (0: not known).
    payload_limit: usize,
    /// The workflow that first ran the table whole ([`BatchInput::began_as`]).
    began_as: Option<String>,
    /// Where its files are ([`BatchInput::folder`]).
    folder: Option<String>,
}

/// What the batch resuming `old` keeps of it, when `old` is a closed batch of this very
/// table, or a closed workflow that ran it whole (`whole`: the table as one document).
async fn resumed(
    connection: &temporalio_client::Client,
    old: &str,
    (flow, table): (&Workflow, &crate::graph::rows::Table),
    whole: &WorkflowInput,
) -> Result<Resumed, String> {
    let in_parts = client::is_batch(old);
    let first = match in_parts {
        true => client::batch_id(flow, table),
        false => client::workflow_id(&whole.workflow),
    };
    client::resumed_id(old, &first)?;
    if let temporalio_client::WorkflowExecutionStatus::Running =
        client::status(connection, old).await?
    {
        return Err(client::still_running(old));
    }
    if !in_parts {
        return Ok(Resumed {
            began_as: Some(old.to_owned()),
            folder: Some(resume_round(old).0.to_owned()),
            ..Resumed::default()
        });
    }
    // Its last state, read from a worker: a batch that was terminated has no result.
    let report = client::batch_progress(connection, old).await?;
    let parts: Vec<usize> = report.parts.iter().map(|part| part.rows).collect();
    match parts.first() {
        Some(&part_rows) if parts.iter().sum::<usize>() == table.rows.len() => Ok(Resumed {
            part_rows: Some(part_rows),
            payload_limit: report.payload_limit,
            began_as: report.began_as,
            folder: Some(report.folder),
        }),
        _ => Err(format!("{old}'s parts do not hold this table's rows")),
    }
}

/// Prints the execution's status and, when a worker answers, each node's state.
pub(crate) async fn status(args: IdArgs) -> u8 {
    let connection = match client::connect(&args.temporal.address, &args.temporal.namespace).await {
        Ok(connection) => connection,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    if client::is_batch(&args.id) {
        return super::temporal_batch::status(&connection, &args.id, args.json).await;
    }
    let status = match client::status(&connection, &args.id).await {
        Ok(status) => status,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    match client::progress(&connection, &args.id).await {
        Ok(report) if args.json => print_json(&serde_json::json!({
            "status": format!("{status:?}"),
            "report": report,
        })),
        Ok(report) => {
            note_cut(&report);
            outln!("{} {status:?}: {}", args.id, report.summary());
            if let Some(rows) = report.rows_summary() {
                outln!("  {rows}");
            }
            print_lines(&report, false);
        }
        Err(error) if args.json => print_json(&serde_json::json!({
            "status": format!("{status:?}"),
            "progress_error": error,
        })),
        Err(error) => outln!("{} {status:?} ({error})", args.id),
    }
    0
}

/// Asks the execution to stop, then waits for it to close and prints what was stopped.
pub(crate) async fn cancel(args: IdArgs) -> u8 {
    let connection = match client::connect(&args.temporal.address, &args.temporal.namespace).await {
        Ok(connection) => connection,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    if let Err(error) = client::cancel(&connection, &args.id).await {
        eprintln!("error: {error}");
        return EXIT_FAILED;
    }
    eprintln!(
        "cancellation requested for {}; waiting for running nodes to stop their tasks",
        args.id
    );
    show_result(&connection, &args, None).await
}

/// Waits for the execution to close and prints its report (and writes a table's results).
pub(crate) async fn result(args: ResultArgs) -> u8 {
    let id = &args.id;
    let connection = match client::connect(&id.temporal.address, &id.temporal.namespace).await {
        Ok(connection) => connection,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    show_result(&connection, id, args.results.as_deref()).await
}

/// One line per row `--skip-invalid-rows` refused before the table was submitted (each
/// problem names its row).
pub(crate) fn print_refused(refused: &[crate::hosts::temporal::messages::RefusedRow]) {
    for row in refused {
        outln!("  refused before submitting: {}", row.problems);
    }
}

/// Prints the report; with `results`, writes the results table of a table's batch there.
async fn show_result(
    connection: &temporalio_client::Client,
    args: &IdArgs,
    results: Option<&Path>,
) -> u8 {
    if client::is_batch(&args.id) {
        let id = &args.id;
        return super::temporal_batch::show_result(connection, id, args.json, results).await;
    }
    let report = match client::result_or_last_state(connection, &args.id).await {
        Ok((report, None)) => report,
        // Terminated (or failed): no result, but its last state is still there to read.
        Ok((report, Some(why))) => {
            eprintln!("note: {why}; what follows is its last state");
            report
        }
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    note_cut(&report);
    if args.json {
        print_json(&report);
    } else {
        outln!("{}: {}", args.id, report.summary());
        print_lines(&report, true);
        print_refused(&report.refused_rows);
    }
    let rows_failed = match results {
        Some(folder) => {
            let registry = match super::registry::registry_or_exit() {
                Ok(registry) => registry,
                Err(code) => return code,
            };
            use crate::hosts::temporal::rows::{refused_results_of, row_results_of};
            let rows = row_results_of(&report, &registry);
            super::rows::finish(
                folder,
                rows,
                &refused_results_of(&report.refused_rows),
                args.json,
            )
        }
        None => None,
    };
    exit_status(report.cancelled, rows_failed, report.succeeded())
}

/// What `result` exits with: cancelled (130), the results table's verdict when one was
/// written, else 0 when everything finished and 1 when not.
pub(super) fn exit_status(cancelled: bool, rows_failed: Option<u8>, succeeded: bool) -> u8 {
    if cancelled {
        EXIT_CANCELLED
    } else if let Some(code) = rows_failed {
        code
    } else if succeeded {
        0
    } else {
        EXIT_FAILED
    }
}

/// Says on stderr when the report was cut to fit Temporal's payload limit, and what that
/// leaves out.
fn note_cut(report: &Report) {
    if report.files_cut {
        eprintln!(
            "note: this report was cut to fit Temporal's payload limit: it gives each node's task and cost, not its files (each row's are in OUT/{}/row-NNNN/ on the worker that downloaded them) nor its other outputs (in the workflow's history: temporal workflow show)",
            report.workflow_id
        );
    } else if report.outputs_cut {
        eprintln!(
            "note: this report was cut to fit Temporal's payload limit: it gives each node's task, cost and files, not its other outputs (a chat model's answer, say: in the workflow's history, temporal workflow show; a wiro/output.download saves answers as files)"
        );
    }
}

pub(super) fn print_json(value: &impl serde::Serialize) {
    outln!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// One line per node that is not plainly done; with `files`, one per downloaded file too.
fn print_lines(report: &Report, files: bool) {
    for line in &report.nodes {
        if line.state != NodeState::Finished {
            let why = line.message.as_deref().unwrap_or("");
            outln!("  {} [{}] {:?} {why}", line.id, line.type_id, line.state);
            continue;
        }
        if !files {
            continue;
        }
        let listed = line
            .outputs
            .as_ref()
            .and_then(|outputs| outputs.get("files"))
            .and_then(|files| files.as_array());
        for file in listed.into_iter().flatten() {
            outln!(
                "  {} -> {} on {} (sha256 {})",
                line.id,
                file.get("path").and_then(|p| p.as_str()).unwrap_or("?"),
                line.worker.as_deref().unwrap_or("?"),
                file.get("sha256").and_then(|p| p.as_str()).unwrap_or("?"),
            );
        }
    }
}
