//! Embedding wiro-nodes the way a graph engine would: discover the node types through the
//! registry, build a graph in code, and run it — here on the local emulator, so it is free.
//!
//! `cargo run --example embed_engine`

use serde_json::json;
use tokio_util::sync::CancellationToken;
use wiro_nodes::api::Client;
use wiro_nodes::emulator::{Emulator, EmulatorConfig};
use wiro_nodes::graph::{Executor, RunEvent, RunOptions, Workflow, WorkflowNode};
use wiro_nodes::node::Registry;

fn node(id: &str, type_id: &str, inputs: serde_json::Value) -> WorkflowNode {
    WorkflowNode {
        id: id.into(),
        type_id: type_id.into(),
        inputs: inputs.as_object().cloned().unwrap_or_default(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. What an engine's palette would show: every node linked into the program.
    let registry = Registry::from_inventory();
    println!("{} node types:", registry.len());
    for spec in registry.specs() {
        let inputs: Vec<String> = spec
            .input_port_descriptions()
            .into_iter()
            .map(|port| format!("{}: {}", port.name, port.type_label))
            .collect();
        println!("  {:<28} ({})", spec.type_id, inputs.join(", "));
    }

    // 2. A graph built in code: generate → wait → download.
    let workflow = Workflow {
        version: 1,
        description: Some("built in code".into()),
        nodes: vec![
            node(
                "video",
                "pixverse/text-to-video-v4",
                json!({ "prompt": "A lighthouse in a storm, waves crashing", "quality": "360p", "aspectRatio": "4:3" }),
            ),
            node(
                "wait",
                "wiro/task.wait",
                json!({ "task": { "$from": "video.task" } }),
            ),
            node(
                "save",
                "wiro/output.download",
                json!({ "outputs": { "$from": "wait.outputs" } }),
            ),
        ],
    };

    // 3. Run it on an emulator (use `Client::from_env()` for the real API).
    let emulator = Emulator::start(EmulatorConfig::with_speed(20.0)).await?;
    let client = Client::new(emulator.client_config())?;
    let out = std::env::temp_dir().join("wiro-nodes-embed-example");
    let options = RunOptions {
        output_dir: out.clone(),
        fresh: true,
        ..RunOptions::default()
    };
    let executor = Executor::new(registry, client, options);
    let report = executor
        .run(&workflow, CancellationToken::new(), |event| match event {
            RunEvent::Started { node, type_id } => println!("[{node}] started {type_id}"),
            RunEvent::Finished { node, elapsed, .. } => {
                println!("[{node}] finished in {elapsed:?}")
            }
            RunEvent::Failed { node, error } => println!("[{node}] failed: {error}"),
            _ => {}
        })
        .await?;
    println!(
        "succeeded: {}, cost: {}",
        report.succeeded(),
        report.total_cost()
    );
    for file in report.files() {
        println!("wrote {}", file.display());
    }
    Ok(())
}
