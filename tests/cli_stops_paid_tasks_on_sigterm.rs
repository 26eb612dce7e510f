#![cfg(all(feature = "cli", unix))]
//! SIGTERM — what `docker stop`, systemd and CI runners send — stops a run the way Ctrl-C does:
//! the remote task is killed, the run says so, and the process exits with 143.

mod common;

use std::process::Stdio;
use std::time::Duration;

use wiro_nodes::emulator::EmulatorConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_the_wait_kills_the_task_and_exits_143() {
    let emulator = common::emulator(EmulatorConfig::with_speed(0.5)).await;
    let out = tempfile::tempdir().unwrap();
    let workflow =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/text-to-video.json");
    let child = common::binary_for(&emulator)
        .arg("run")
        .arg(&workflow)
        .arg("--out")
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The task id, once journaled; then wait until the task runs.
    let journal = out.path().join("wiro-journal.jsonl");
    let taskid = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let text = std::fs::read_to_string(&journal).unwrap_or_default();
            let started = text
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .find(|entry| entry["event"] == "task_started");
            if let Some(entry) = started {
                return entry["task"]["taskid"].as_str().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await
    .expect("the run journals its task");
    common::wait_status(&emulator, &taskid, "task_start").await;

    let pid = child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stdout}\n{stderr}");
    assert_eq!(emulator.stats().cancelled, 1, "the paid task was stopped");
    assert!(
        stdout.contains(&format!("task {taskid} killed")),
        "{stdout}"
    );
}
