#![cfg(feature = "emulator")]
//! An engine that found the nodes through the registry can run each one against the emulator,
//! with inputs and outputs as plain JSON.

use crate::common;
use std::collections::BTreeSet;

use serde_json::{json, Value};
use wiro_nodes::emulator::{EmulatorConfig, EmulatorHandle};
use wiro_nodes::node::{NodeContext, Registry};

async fn run(
    emulator: &EmulatorHandle,
    dir: &std::path::Path,
    type_id: &str,
    inputs: Value,
) -> Value {
    let registry = Registry::from_inventory();
    let node = registry
        .get(type_id)
        .unwrap_or_else(|| panic!("{type_id} is registered"));
    let mut ctx = NodeContext::new(type_id.replace('/', "-"), common::client(emulator), dir);
    ctx.input_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    node.run(&ctx, inputs)
        .await
        .unwrap_or_else(|error| panic!("{type_id}: {error}"))
}

#[tokio::test]
async fn every_registered_node_runs() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let mut ran = BTreeSet::new();
    let mut exec = |type_id: &'static str| {
        ran.insert(type_id);
        type_id
    };

    let folder = run(
        &emulator,
        dir.path(),
        exec("wiro/folder.create"),
        json!({ "name": "inputs" }),
    )
    .await;
    let upload = run(
        &emulator,
        dir.path(),
        exec("wiro/file.upload"),
        json!({ "path": "meadow.png", "folderid": folder["folder"]["id"] }),
    )
    .await;
    let image_task = run(
        &emulator,
        dir.path(),
        exec("pixverse/image-to-video-v4"),
        json!({ "inputImageUrl": upload["url"], "prompt": "wind in the grass", "quality": "360p" }),
    )
    .await;
    let text_task = run(
        &emulator,
        dir.path(),
        exec("pixverse/text-to-video-v4"),
        json!({ "prompt": "a kite", "quality": "360p" }),
    )
    .await;
    let any_task = run(
        &emulator,
        dir.path(),
        exec("wiro/model.run"),
        json!({ "model": "pixverse/text-to-video-v4", "parameters": { "prompt": "a drum", "quality": "360p", "duration": 5 } }),
    )
    .await;
    let detail = run(
        &emulator,
        dir.path(),
        exec("wiro/task.detail"),
        json!({ "task": text_task["task"] }),
    )
    .await;
    assert_eq!(detail["detail"]["id"], text_task["task"]["taskid"]);

    let mut outputs = Vec::new();
    for started in [&image_task, &text_task, &any_task] {
        let finished = run(
            &emulator,
            dir.path(),
            exec("wiro/task.wait"),
            json!({ "task": started["task"], "poll_seconds": 0.05 }),
        )
        .await;
        assert_eq!(finished["task"]["status"], "task_postprocess_end");
        outputs.extend(finished["outputs"].as_array().unwrap().iter().cloned());
    }
    let saved = run(
        &emulator,
        dir.path(),
        exec("wiro/output.download"),
        json!({ "outputs": outputs, "directory": "videos", "prefix": "" }),
    )
    .await;
    // Three outputs all named 0.mp4: three distinct, complete files.
    let files = saved["files"].as_array().unwrap();
    let paths: BTreeSet<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    for file in files {
        let (_, _, seconds) =
            common::mp4_size_and_seconds(std::path::Path::new(file["path"].as_str().unwrap()));
        assert_eq!(seconds, 5.0);
    }

    // The model's parameters and the price of a run, before paying.
    let model = run(
        &emulator,
        dir.path(),
        exec("wiro/model.detail"),
        json!({ "model": "PixVerse/text-to-video-v4", "parameters": { "quality": "720p" } }),
    )
    .await;
    assert_eq!(model["estimate"]["kind"], "known");
    assert_eq!(model["estimate"]["usd"], 0.6);
    assert!(model["detail"]["parameters"].as_array().unwrap().len() > 5);

    // The text-to-video tasks, newest first: the model.run one is the newest.
    let listed = run(
        &emulator,
        dir.path(),
        exec("wiro/task.list"),
        json!({ "model": "pixverse/text-to-video-v4", "limit": 1 }),
    )
    .await;
    assert_eq!(listed["tasks"][0]["id"], any_task["task"]["taskid"]);
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["last_page"], false);

    // Once downloaded, the files can leave the CDN.
    let video_url = outputs[0]["url"].as_str().unwrap().to_owned();
    let deleted = run(
        &emulator,
        dir.path(),
        exec("wiro/task.files.delete"),
        json!({ "task": image_task["task"], "after": saved["files"] }),
    )
    .await;
    assert_eq!(deleted["detail"]["outputs"], json!([]));
    let gone = common::http().get(&video_url).send().await.unwrap();
    assert_eq!(gone.status(), 404);

    // Kill a running task and cancel a queued one, as nodes.
    let slow = common::emulator(EmulatorConfig {
        max_running: Some(1),
        ..EmulatorConfig::with_speed(1.0)
    })
    .await;
    let first = run(
        &slow,
        dir.path(),
        "pixverse/text-to-video-v4",
        json!({ "prompt": "one", "quality": "360p" }),
    )
    .await;
    let second = run(
        &slow,
        dir.path(),
        "pixverse/text-to-video-v4",
        json!({ "prompt": "two", "quality": "360p" }),
    )
    .await;
    let cancelled = run(
        &slow,
        dir.path(),
        exec("wiro/task.cancel"),
        json!({ "task": second["task"] }),
    )
    .await;
    assert_eq!(cancelled["detail"]["status"], "task_cancel");
    for _ in 0..200 {
        let detail = run(
            &slow,
            dir.path(),
            "wiro/task.detail",
            json!({ "task": first["task"] }),
        )
        .await;
        if detail["detail"]["status"] != "task_queue" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let killed = run(
        &slow,
        dir.path(),
        exec("wiro/task.kill"),
        json!({ "task": first["task"] }),
    )
    .await;
    assert_eq!(killed["detail"]["status"], "task_cancel");

    let registry = Registry::from_inventory();
    let registered: BTreeSet<&str> = registry.type_ids().collect();
    assert_eq!(ran, registered, "every registered node ran");
}
