//! The executor, its report and resume read what a node *declares* about its outputs (the
//! shared port types `TaskHandle`, `Task`, `LocalFile`), never what a value looks like: a node
//! whose outputs merely look like a task, a cost or a file is not misread, and a custom node
//! that declares a real `LocalFile` gets the same care as the crate's own download node.

use std::path::PathBuf;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wiro_nodes::api::{Client, ClientConfig, Credentials, LocalFile};
use wiro_nodes::graph::{Executor, NodeOutcome, RunOptions, RunReport, Workflow};
use wiro_nodes::node::{NodeContext, NodeError, NodeRegistration, PortKind, Registry, TypedNode};

/// Nothing to configure.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoInput {}

/// Something with a path and a hash, but not a file this node wrote.
#[derive(Debug, Serialize, JsonSchema)]
struct Checksum {
    /// A path inside some archive.
    path: String,
    /// Its hash.
    sha256: String,
}

/// Something with an id, a status and a total cost, but not a task record.
#[derive(Debug, Serialize, JsonSchema)]
struct Invoice {
    /// The invoice id.
    id: String,
    /// Paid or not.
    status: String,
    /// The invoice total.
    totalcost: String,
}

/// Something with a taskid, but not a paid task.
#[derive(Debug, Serialize, JsonSchema)]
struct Ticket {
    /// A ticket number.
    taskid: String,
    /// A token.
    socketaccesstoken: String,
}

/// Outputs that look like a file, a cost and a task.
#[derive(Debug, Serialize, JsonSchema)]
struct LookAlikeOutput {
    /// Looks like a local file.
    checksum: Checksum,
    /// Looks like a task record with a cost.
    invoice: Invoice,
    /// Looks like a task handle.
    task: Ticket,
}

#[derive(Debug, Default)]
struct LookAlike;

#[async_trait]
impl TypedNode for LookAlike {
    type Input = NoInput;
    type Output = LookAlikeOutput;
    const TYPE_ID: &'static str = "test/look-alike";
    const TITLE: &'static str = "Look-alike";
    const CATEGORY: &'static str = "test";
    const DESCRIPTION: &'static str = "Outputs shaped like a file, a cost and a task.";

    async fn run(&self, _: &NodeContext, _: NoInput) -> Result<LookAlikeOutput, NodeError> {
        Ok(LookAlikeOutput {
            checksum: Checksum {
                path: "/no/such/file".into(),
                sha256: "00".into(),
            },
            invoice: Invoice {
                id: "inv-1".into(),
                status: "paid".into(),
                totalcost: "99".into(),
            },
            task: Ticket {
                taskid: "42".into(),
                socketaccesstoken: "t".into(),
            },
        })
    }
}

/// A file a custom node wrote, declared as the shared `LocalFile` type.
#[derive(Debug, Serialize, JsonSchema)]
struct NoteOutput {
    /// The note on disk.
    note: LocalFile,
}

#[derive(Debug, Default)]
struct WriteNote;

#[async_trait]
impl TypedNode for WriteNote {
    type Input = NoInput;
    type Output = NoteOutput;
    const TYPE_ID: &'static str = "test/write-note";
    const TITLE: &'static str = "Write a note";
    const CATEGORY: &'static str = "test";
    const DESCRIPTION: &'static str = "Writes note.txt into the output folder.";

    async fn run(&self, ctx: &NodeContext, _: NoInput) -> Result<NoteOutput, NodeError> {
        let path = ctx.output_dir.join("note.txt");
        std::fs::create_dir_all(&ctx.output_dir).expect("output folder");
        std::fs::write(&path, "hello").expect("note written");
        Ok(NoteOutput {
            note: LocalFile {
                path,
                size: 5,
                sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into(),
                contenttype: "text/plain".into(),
            },
        })
    }
}

/// The crate's node types and this file's, listed by hand rather than through `inventory`, so
/// that the other tests of this binary see only the crate's.
fn registry() -> Registry {
    let mine = [
        NodeRegistration::of::<LookAlike>(),
        NodeRegistration::of::<WriteNote>(),
        NodeRegistration::of::<PaidWithoutHandle>(),
    ];
    Registry::from_registrations(wiro_nodes::nodes::all().iter().chain(mine.iter()))
}

/// A client no test request reaches: these nodes never call the API.
fn offline_client() -> Client {
    let mut config = ClientConfig::new(Credentials::new("key", "secret"));
    config.base_url = "http://127.0.0.1:9/v1".into();
    config.socket_url = "ws://127.0.0.1:9/v1".into();
    Client::new(config).unwrap()
}

async fn run(type_id: &str, out: &std::path::Path) -> RunReport {
    let workflow: Workflow = serde_json::from_value(json!({
        "version": 1,
        "nodes": [{ "id": "n", "type": type_id, "inputs": {} }]
    }))
    .unwrap();
    let options = RunOptions {
        output_dir: out.to_owned(),
        ..RunOptions::default()
    };
    Executor::new(registry(), offline_client(), options)
        .run(&workflow, CancellationToken::new(), |_| {})
        .await
        .unwrap()
}

#[test]
fn look_alike_outputs_declare_no_kind_and_a_real_local_file_does() {
    let registry = registry();
    let look_alike = registry.get("test/look-alike").unwrap().spec();
    assert_eq!(look_alike.kinds.iter().count(), 0, "{:?}", look_alike.kinds);
    let note = registry.get("test/write-note").unwrap().spec();
    assert_eq!(note.kinds.get("note"), Some(PortKind::LocalFiles));
}

#[tokio::test]
async fn outputs_that_look_like_a_task_a_cost_or_a_file_are_not_misread() {
    let out = tempfile::tempdir().unwrap();
    let report = run("test/look-alike", out.path()).await;
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(report.files(), Vec::<PathBuf>::new());
    assert_eq!(report.total_cost(), 0.0);
    assert!(report.nodes[0].tasks.is_empty(), "{report:#?}");
    // Its "file" does not exist, yet the node is not run again: it declared no file.
    let again = run("test/look-alike", out.path()).await;
    assert_eq!(again.nodes[0].outcome, NodeOutcome::Resumed);
}

#[tokio::test]
async fn a_custom_node_declaring_a_local_file_is_listed_and_rerun_when_the_file_is_gone() {
    let out = tempfile::tempdir().unwrap();
    let report = run("test/write-note", out.path()).await;
    let note = out.path().join("note.txt");
    assert_eq!(report.files(), vec![note.clone()]);
    let again = run("test/write-note", out.path()).await;
    assert_eq!(again.nodes[0].outcome, NodeOutcome::Resumed);
    std::fs::remove_file(&note).unwrap();
    let after_delete = run("test/write-note", out.path()).await;
    assert_eq!(after_delete.nodes[0].outcome, NodeOutcome::Finished);
    assert!(note.exists());
}

/// A paid node that forgot to declare the task it starts.
#[derive(Debug, Default)]
struct PaidWithoutHandle;

#[async_trait]
impl TypedNode for PaidWithoutHandle {
    type Input = NoInput;
    type Output = LookAlikeOutput;
    const TYPE_ID: &'static str = "test/paid-without-handle";
    const TITLE: &'static str = "Paid, no handle";
    const CATEGORY: &'static str = "test";
    const DESCRIPTION: &'static str = "Spends money but declares no TaskHandle output.";
    const SPENDS_MONEY: bool = true;

    async fn run(&self, _: &NodeContext, _: NoInput) -> Result<LookAlikeOutput, NodeError> {
        panic!("a paid node without a declared task handle must never run");
    }
}

#[test]
fn a_paid_node_that_declares_no_task_handle_is_refused_before_it_runs() {
    let workflow: Workflow = serde_json::from_value(json!({
        "version": 1,
        "nodes": [{ "id": "n", "type": "test/paid-without-handle", "inputs": {} }]
    }))
    .unwrap();
    let problems = wiro_nodes::graph::validate(&workflow, &registry()).unwrap_err();
    assert_eq!(problems[0].rule, "node-contract", "{problems:#?}");
}
