//! The `wiro-nodes` command line: a thin layer over the graph executor, the node registry and
//! the emulator.

#[macro_use]
mod stdout;

mod backend;
mod batch_view;
mod catalog;
mod editor;
mod emulator;
mod exec;
mod exec_events;
mod export;
mod mcp;
mod money;
mod nodes;
mod progress;
mod registry;
mod rows;
mod rows_view;
mod run;
mod signals;
#[cfg(feature = "temporal")]
mod temporal;
#[cfg(feature = "temporal")]
mod temporal_batch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status of a run that failed (a node failed, or a task failed).
pub const EXIT_FAILED: u8 = 1;
/// Exit status of bad usage or an invalid workflow: nothing was sent.
pub const EXIT_INVALID: u8 = 2;
/// Exit status after Ctrl-C (SIGINT).
pub const EXIT_CANCELLED: u8 = 130;
/// Exit status after SIGTERM (`docker stop`, systemd, a CI runner's timeout).
pub const EXIT_TERMINATED: u8 = 143;

/// Hosted AI video generation as workflow nodes: run Wiro (PixVerse v4) pipelines, or the
/// embedded emulator when no credentials are set.
#[derive(Debug, Parser)]
#[command(name = "wiro-nodes", version, about)]
pub struct Cli {
    /// The model catalog to read node types from (written by `catalog sync`); by default
    /// `wiro-catalog.json` in the working folder, when it exists.
    #[arg(long, global = true, env = "WIRO_CATALOG", value_name = "FILE")]
    catalog: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a workflow file; resumes from the journal in --out when run again.
    Run(run::RunArgs),
    /// Check a workflow file without sending anything.
    Validate(run::ValidateArgs),
    /// List the registered node types with their ports.
    Nodes {
        /// Print JSON for machines.
        #[arg(long)]
        json: bool,
    },
    /// Print one node type's schemas, or write every schema file to a folder.
    Schema {
        /// The node type, e.g. pixverse/text-to-video-v4.
        #[arg(required_unless_present = "write")]
        type_id: Option<String>,
        /// Write index.json, workflow.schema.json and one file per node type here.
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
    /// Run single nodes as a process step.
    Node {
        #[command(subcommand)]
        command: NodeCommand,
    },
    /// Serve the local Wiro-compatible emulator until stopped.
    Emulator(emulator::EmulatorArgs),
    /// Serve the browser workflow editor on 127.0.0.1 and print its address.
    Editor(editor::EditorArgs),
    /// Serve the node types as tools for AI agents (Model Context Protocol), over stdio or
    /// --http.
    Mcp(mcp::McpArgs),
    /// Read Wiro's models into the catalog file, list it, show what changed.
    Catalog {
        #[command(subcommand)]
        command: catalog::CatalogCommand,
    },
    /// Generate a package that runs the nodes inside another engine.
    Export {
        #[command(subcommand)]
        command: export::ExportCommand,
    },
    /// Host every node type and the workflow as a Temporal worker (until Ctrl-C).
    #[cfg(feature = "temporal")]
    Worker(temporal::WorkerArgs),
    /// Start a workflow file on Temporal; prints its id (the same document gives the same id,
    /// and is not run twice).
    #[cfg(feature = "temporal")]
    Submit(temporal::SubmitArgs),
    /// Show a submitted workflow's status and each node's state.
    #[cfg(feature = "temporal")]
    Status(temporal::IdArgs),
    /// Cancel a submitted workflow: running nodes stop their remote tasks.
    #[cfg(feature = "temporal")]
    Cancel(temporal::IdArgs),
    /// Wait for a submitted workflow to end and print its report.
    #[cfg(feature = "temporal")]
    Result(temporal::ResultArgs),
}

#[derive(Debug, Subcommand)]
enum NodeCommand {
    /// Run one node with JSON inputs and print its outputs as JSON.
    Exec(exec::ExecArgs),
}

impl Command {
    /// Whether the command serves others (the emulator's clients, the editor's and MCP's
    /// requests, Temporal's tasks), so that its runtime needs worker threads.
    fn serves(&self) -> bool {
        match self {
            Command::Run(_)
            | Command::Validate(_)
            | Command::Nodes { .. }
            | Command::Schema { .. }
            | Command::Node { .. }
            | Command::Catalog { .. }
            | Command::Export { .. } => false,
            Command::Emulator(_) | Command::Editor(_) | Command::Mcp(_) => true,
            #[cfg(feature = "temporal")]
            _ => true,
        }
    }

    /// Whether the command only prints (a listing, a schema, a check): it may end at once when
    /// the reader of its output goes away (`wiro-nodes nodes | head`), as `ls` does. Commands
    /// that run tasks keep going, so they can stop what they started.
    fn only_prints(&self) -> bool {
        match self {
            Command::Validate(_)
            | Command::Nodes { .. }
            | Command::Schema { .. }
            | Command::Export { .. } => true,
            // Temporal's client commands: what they do (start, cancel) is done on the server
            // before they print; they wait and read, and print what they read. A `result`
            // that writes a results table writes it after printing the report.
            #[cfg(feature = "temporal")]
            Command::Status(_) | Command::Cancel(_) | Command::Submit(_) => true,
            #[cfg(feature = "temporal")]
            Command::Result(args) => !args.writes_files(),
            _ => false,
        }
    }
}

/// A closed pipe ends the process quietly (the default for Unix programs), instead of Rust's
/// ignored SIGPIPE and a panic on the next `println!`.
fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; restores the signal's default action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    registry::use_catalog(cli.catalog.clone());
    if cli.command.only_prints() {
        end_quietly_on_closed_pipe();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WIRO_LOG")
                // A Temporal worker's log is its operator's view: tasks accepted and stopped.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("warn,wiro_nodes::hosts=info")
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    // A client (a workflow, a table, one node, a check) waits on many things that each take
    // little CPU: one thread drives them all, with file work on the blocking pool. Handing
    // tasks between worker threads cost more than it saved (a table of 10,000 rows took
    // 14-16 % more CPU per chain on two workers). Servers get worker threads.
    let mut builder = if cli.command.serves() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::Validate(args) => run::validate(args).await,
            Command::Nodes { json } => nodes::list(json),
            Command::Schema { type_id, write } => {
                nodes::schema(type_id.as_deref(), write.as_deref())
            }
            Command::Node {
                command: NodeCommand::Exec(args),
            } => exec::exec(args).await,
            Command::Emulator(args) => emulator::serve(args).await,
            Command::Editor(args) => editor::serve(args).await,
            Command::Mcp(args) => mcp::serve(args).await,
            Command::Export { command } => export::export(command),
            Command::Catalog { command } => catalog::catalog(command, cli.catalog.as_deref()).await,
            #[cfg(feature = "temporal")]
            Command::Worker(args) => temporal::worker(args).await,
            #[cfg(feature = "temporal")]
            Command::Submit(args) => temporal::submit(args).await,
            #[cfg(feature = "temporal")]
            Command::Status(args) => temporal::status(args).await,
            #[cfg(feature = "temporal")]
            Command::Cancel(args) => temporal::cancel(args).await,
            #[cfg(feature = "temporal")]
            Command::Result(args) => temporal::result(args).await,
        }
    });
    ExitCode::from(code)
}
