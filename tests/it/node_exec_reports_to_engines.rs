#![cfg(feature = "cli")]
//! `wiro-nodes node exec` as an engine's process step: JSON progress lines with the task id
//! first, `--check` that sends nothing, and SIGTERM stopping the remote task (exit 143).

use crate::common;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use wiro_nodes::emulator::{EmulatorConfig, Operation};

/// The JSON event lines of a finished `node exec` (other stderr lines are skipped).
fn events(stderr: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|value| value["event"].is_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_json_names_the_task_first_and_ends_with_the_result() {
    let emulator = common::fast_emulator().await;
    let started = common::binary_for(&emulator)
        .args([
            "node",
            "exec",
            "pixverse/text-to-video-v4",
            "--progress",
            "json",
        ])
        .args([
            "--inputs",
            r#"{"prompt": "a paper boat", "quality": "360p"}"#,
        ])
        .output()
        .await
        .unwrap();
    assert!(started.status.success());
    let outputs: Value = serde_json::from_slice(&started.stdout).unwrap();
    let lines = events(&started.stderr);
    assert_eq!(lines[0]["event"], "task_started", "{lines:?}");
    assert_eq!(lines[0]["taskid"], outputs["task"]["taskid"]);
    assert_eq!(lines.last().unwrap()["event"], "result");
    assert_eq!(lines.last().unwrap()["outcome"], "ok");

    let inputs = serde_json::json!({"task": outputs["task"], "poll_seconds": 0.1}).to_string();
    let waited = common::binary_for(&emulator)
        .args(["node", "exec", "wiro/task.wait", "--progress", "json"])
        .args(["--inputs", &inputs])
        .output()
        .await
        .unwrap();
    assert!(waited.status.success());
    let lines = events(&waited.stderr);
    assert_eq!(lines[0]["event"], "task", "{lines:?}");
    assert_eq!(lines[0]["taskid"], outputs["task"]["taskid"]);
    assert!(lines
        .iter()
        .any(|l| l["event"] == "task_status" && l["status"] == "task_postprocess_end"));
    let cost = lines.iter().find(|l| l["event"] == "cost").unwrap();
    assert!(cost["totalcost"].as_f64().unwrap() > 0.0, "{cost}");
    assert_eq!(lines.last().unwrap()["exit"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_refuses_broken_rules_as_json_and_sends_nothing() {
    let emulator = common::fast_emulator().await;
    let valid = common::binary_for(&emulator)
        .args(["node", "exec", "pixverse/text-to-video-v4", "--check"])
        .args(["--progress", "json", "--inputs", r#"{"prompt": "a boat"}"#])
        .output()
        .await
        .unwrap();
    assert_eq!(valid.status.code(), Some(0));
    let invalid = common::binary_for(&emulator)
        .args(["node", "exec", "pixverse/text-to-video-v4", "--check"])
        .args(["--progress", "json", "--inputs"])
        .arg(r#"{"prompt": "a boat", "quality": "1080p", "motionMode": "fast"}"#)
        .output()
        .await
        .unwrap();
    assert_eq!(invalid.status.code(), Some(2));
    let result = events(&invalid.stderr).pop().unwrap();
    assert_eq!(result["outcome"], "invalid");
    assert!(result["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["path"] == "motionMode" && p["rule"] == "pixverse/1080p-not-fast"));
    assert_eq!(emulator.stats().requests.values().sum::<u64>(), 0);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_the_wait_kills_the_remote_task_and_exits_143() {
    let emulator = common::emulator(EmulatorConfig::with_speed(0.5)).await;
    let started = common::binary_for(&emulator)
        .args(["node", "exec", "pixverse/text-to-video-v4"])
        .args([
            "--inputs",
            r#"{"prompt": "a slow boat", "quality": "360p"}"#,
        ])
        .output()
        .await
        .unwrap();
    let outputs: Value = serde_json::from_slice(&started.stdout).unwrap();
    let inputs = serde_json::json!({"task": outputs["task"], "poll_seconds": 0.1}).to_string();
    let mut child = common::binary_for(&emulator)
        .args(["node", "exec", "wiro/task.wait", "--progress", "json"])
        .args(["--inputs", &inputs])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    // Read until the task runs (an event, not a pause), then stop the process as engines do.
    loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("a status line within a minute")
            .unwrap()
            .expect("the task starts before the process ends");
        let event: Value = serde_json::from_str(&line).unwrap_or_default();
        seen.push(line);
        if event["event"] == "task_status" && event["status"] == "task_start" {
            break;
        }
    }
    let pid = child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    while let Ok(Some(line)) = lines.next_line().await {
        seen.push(line);
    }
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    let all = seen.join("\n");
    assert_eq!(status.code(), Some(143), "{all}");
    let events = events(all.as_bytes());
    let stopped = events
        .iter()
        .find(|e| e["event"] == "task_stopped")
        .unwrap();
    assert_eq!(stopped["how"], "killed", "{all}");
    let result = events.last().unwrap();
    assert_eq!(result["outcome"], "cancelled");
    assert_eq!(result["signal"], "SIGTERM");
    let stats = emulator.stats();
    assert_eq!(stats.cancelled, 1, "{stats:?}");
    assert_eq!(stats.requests(Operation::TaskKill), 1, "{stats:?}");
    assert_eq!(stats.succeeded, 0);
}

#[tokio::test]
async fn the_emulator_serves_its_counters_for_scripts() {
    let emulator = common::fast_emulator().await;
    let stats_url = emulator.base_url().replace("/v1", "/emulator/stats");
    let before: Value = common::http()
        .get(&stats_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before["runs_accepted"], 0);
    let task = common::client(&emulator)
        .run(
            "PixVerse/text-to-video-v4",
            &serde_json::from_str(r#"{"prompt": "x", "quality": "360p"}"#).unwrap(),
        )
        .await
        .unwrap();
    let after: Value = common::http()
        .get(&stats_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["runs_accepted"], 1);
    assert_eq!(after["requests"]["run"], 1);
    assert!(after["tasks"][&task.taskid].is_string(), "{after}");
}
