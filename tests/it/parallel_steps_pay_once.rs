#![cfg(feature = "cli")]
//! Two `node exec` processes of one engine run (an n8n execution's two items, say) that send
//! the same Run and both lose its answer are paid once each: sharing a claim book, their Runs
//! leave one at a time and each adopts its own task, never the other's.

use crate::common;
use serde_json::{json, Value};
use wiro_nodes::emulator::{EmulatorConfig, Fault, Operation};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_items_whose_answers_are_lost_each_adopt_their_own_task() {
    let emulator = common::emulator(EmulatorConfig::with_speed(50.0)).await;
    // Both Runs create their task, and both answers are cut off.
    emulator.inject(Operation::Run, Fault::DropConnection, 2);
    let dir = tempfile::tempdir().unwrap();
    let claims = dir.path().join("claims");
    let inputs = json!({ "prompt": "the same video, twice on purpose", "quality": "360p" });
    let step = |item: &str| {
        let mut command = common::binary_for(&emulator);
        command
            .args(["node", "exec", "pixverse/text-to-video-v4", "--inputs"])
            .arg(inputs.to_string())
            .arg("--out")
            .arg(dir.path().join(item))
            .arg("--claims")
            .arg(&claims)
            .args(["--progress", "json"]);
        command.output()
    };
    let (first, second) = tokio::join!(step("item-0"), step("item-1"));
    let mut tasks = Vec::new();
    for done in [first.unwrap(), second.unwrap()] {
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("adopted"),
            "the lost answer was looked up: {stderr}"
        );
        let outputs: Value = serde_json::from_slice(&done.stdout).unwrap();
        tasks.push(outputs["task"]["taskid"].as_str().unwrap().to_owned());
    }
    assert_ne!(tasks[0], tasks[1], "each item holds a task of its own");
    let stats = emulator.stats();
    assert_eq!(stats.runs_accepted, 2, "two intents, two tasks, no orphan");
}
