#![cfg(feature = "cli")]
//! `wiro-nodes nodes`, `schema`, `node exec` and `emulator`: what an external engine or a shell
//! uses without linking Rust.

use crate::common;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

async fn json_of(command: &mut Command) -> Value {
    let output = command.output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn a_listing_whose_reader_goes_away_ends_quietly() {
    // `wiro-nodes nodes --json | head -c 0`: the reader is gone before the first line (the
    // whole listing would fit a pipe's buffer, so a reader that stays a moment sees no error).
    let mut child = common::binary()
        .args(["nodes", "--json"])
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let done = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(stderr.is_empty(), "no panic, no backtrace: {stderr}");
    assert_ne!(done.status.code(), Some(101), "not a panic's exit status");
}

#[tokio::test]
async fn nodes_lists_every_type_with_ports() {
    let nodes = json_of(common::binary().args(["nodes", "--json"])).await;
    let nodes = nodes.as_array().unwrap();
    assert_eq!(nodes.len(), 13);
    let wait = nodes
        .iter()
        .find(|n| n["type"] == "wiro/task.wait")
        .unwrap();
    assert!(wait["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "task" && p["type"] == "TaskHandle" && p["required"] == true));
    let text = common::binary().arg("nodes").output().await.unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("pixverse/text-to-video-v4"));
}

#[tokio::test]
async fn schema_prints_one_node_and_writes_the_committed_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = common::binary()
        .args(["schema", "pixverse/text-to-video-v4"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(root.join("node-schemas/pixverse.text-to-video-v4.json")).unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), committed);

    let dir = tempfile::tempdir().unwrap();
    let output = common::binary()
        .args(["schema", "--write"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let committed = root.join("node-schemas");
    let mut folders = vec![committed.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path.strip_prefix(&committed).unwrap();
            let written = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert_eq!(written, std::fs::read_to_string(&path).unwrap(), "{name:?}");
        }
    }
    let unknown = common::binary()
        .args(["schema", "wiro/nope"])
        .output()
        .await
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_exec_chains_generate_wait_and_download_across_processes() {
    let emulator = common::fast_emulator().await;
    let started = json_of(common::binary_for(&emulator).args([
        "node",
        "exec",
        "pixverse/text-to-video-v4",
        "--inputs",
        r#"{"prompt": "a paper boat on a stream", "quality": "360p", "aspectRatio": "1:1"}"#,
    ]))
    .await;
    let task = &started["task"];
    assert!(task["taskid"].is_string());

    let wait_inputs = serde_json::json!({ "task": task, "poll_seconds": 0.1 }).to_string();
    let finished = json_of(common::binary_for(&emulator).args([
        "node",
        "exec",
        "wiro/task.wait",
        "--inputs",
        &wait_inputs,
    ]))
    .await;
    assert_eq!(finished["task"]["status"], "task_postprocess_end");

    let dir = tempfile::tempdir().unwrap();
    let inputs_file = dir.path().join("inputs.json");
    std::fs::write(
        &inputs_file,
        serde_json::json!({ "outputs": finished["outputs"] }).to_string(),
    )
    .unwrap();
    let downloaded = json_of(
        common::binary_for(&emulator)
            .args(["node", "exec", "wiro/output.download", "--inputs"])
            .arg(format!("@{}", inputs_file.display()))
            .arg("--out")
            .arg(dir.path()),
    )
    .await;
    let path = downloaded["files"][0]["path"].as_str().unwrap();
    assert_eq!(
        common::mp4_size_and_seconds(Path::new(path)),
        (360, 360, 5.0)
    );
    assert_eq!(emulator.stats().runs_accepted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_exec_refuses_bad_inputs_before_sending() {
    let emulator = common::fast_emulator().await;
    let output = common::binary_for(&emulator)
        .args([
            "node",
            "exec",
            "pixverse/text-to-video-v4",
            "--inputs",
            r#"{"prompt": "x", "quality": "1080p", "duration": 8}"#,
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("duration") && stderr.contains("pixverse/1080p-max-5s"),
        "{stderr}"
    );
    assert_eq!(emulator.stats().requests.values().sum::<u64>(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_command_prints_four_export_lines_that_work() {
    let mut child = common::binary()
        .args(["emulator", "--speed", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut values = std::collections::BTreeMap::new();
    for expected in [
        "WIRO_BASE_URL",
        "WIRO_SOCKET_URL",
        "WIRO_API_KEY",
        "WIRO_API_SECRET",
    ] {
        let line = lines.next_line().await.unwrap().unwrap();
        let (name, value) = line
            .strip_prefix("export ")
            .unwrap()
            .split_once('=')
            .unwrap();
        assert_eq!(name, expected);
        values.insert(name.to_owned(), value.to_owned());
    }
    let config = wiro_nodes::api::ClientConfig::new(wiro_nodes::api::Credentials::new(
        &values["WIRO_API_KEY"],
        &values["WIRO_API_SECRET"],
    ))
    .with_base_url(&values["WIRO_BASE_URL"])
    .with_socket_url(&values["WIRO_SOCKET_URL"]);
    let client = wiro_nodes::api::Client::new(config).unwrap();
    let folder = client.folder_create("from-shell", None).await.unwrap();
    assert_eq!(folder.name, "from-shell");
    child.kill().await.unwrap();
}
