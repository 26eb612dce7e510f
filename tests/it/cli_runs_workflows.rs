#![cfg(feature = "cli")]
//! The `wiro-nodes run` command as a user meets it: the embedded emulator by default, all
//! problems of an invalid workflow at once with nothing sent, a closed output not stopping it,
//! Ctrl-C stopping the remote task,
//! and a killed run resuming the same task instead of paying again.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use wiro_nodes::emulator::{EmulatorConfig, EmulatorHandle, Operation};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_run_uses_the_embedded_emulator_and_prints_the_file() {
    let out = tempfile::tempdir().unwrap();
    let output = common::binary()
        .env("WIRO_EMULATOR_SPEED", "100")
        .arg("run")
        .arg(example("text-to-video.json"))
        .arg("--out")
        .arg(out.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("embedded Wiro emulator"),
        "it says so: {stderr}"
    );
    let video = out.path().join("download-0.mp4");
    assert!(
        stdout.contains(&video.display().to_string()),
        "it prints where the file is: {stdout}"
    );
    assert_eq!(common::mp4_size_and_seconds(&video), (960, 540, 5.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_names_what_its_total_leaves_out_and_the_earlier_file_it_kept() {
    let out = tempfile::tempdir().unwrap();
    // Another file where the video goes, and a Run no node waits for.
    std::fs::write(out.path().join("download-0.mp4"), "an earlier video").unwrap();
    let flow = out.path().join("flow.json");
    let mut document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example("text-to-video.json")).unwrap())
            .unwrap();
    document["nodes"].as_array_mut().unwrap().push(serde_json::json!(
        {"id": "extra", "type": "wiro/model.run", "inputs": {"model": "pixverse/text-to-video-v4",
         "parameters": {"prompt": "a fox", "quality": "360p", "duration": "5"}}}
    ));
    std::fs::write(&flow, document.to_string()).unwrap();
    let output = common::binary()
        .env("WIRO_EMULATOR_SPEED", "100")
        .args([
            "run".as_ref(),
            flow.as_os_str(),
            "--out".as_ref(),
            out.path().as_os_str(),
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let extra = stdout
        .lines()
        .find(|line| line.starts_with("extra "))
        .and_then(|line| line.split_whitespace().last())
        .unwrap();
    assert!(
        stdout.contains(&format!(
            "not counted: 1 task whose end this run did not see, billed if it succeeds ({extra})"
        )),
        "{stdout}"
    );
    let kept = out.path().join("download-0.earlier.mp4");
    assert!(
        stdout.contains(&format!(
            "kept beside them (never overwritten):\n  {}",
            kept.display()
        )),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(kept).unwrap(), "an earlier video");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_reader_goes_away_still_finishes_its_paid_work() {
    // `wiro-nodes run … | head -1`, with `head` gone before the run prints anything; then
    // `2>&1 | head -1`, standard error gone too, with the task paid and in flight.
    for both in [false, true] {
        let out = tempfile::tempdir().unwrap();
        let mut child = common::binary()
            .env("WIRO_EMULATOR_SPEED", "100")
            .arg("run")
            .arg(example("text-to-video.json"))
            .arg("--out")
            .arg(out.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        if both {
            drop(child.stderr.take());
        }
        let output = child.wait_with_output().await.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{both}: {:?} {stderr}",
            output.status
        );
        if !both {
            assert!(stderr.contains("[download] finished"), "{stderr}");
        }
        assert_eq!(
            common::mp4_size_and_seconds(&out.path().join("download-0.mp4")),
            (960, 540, 5.0)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_workflow_lists_every_problem_and_sends_nothing() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(
        &file,
        r#"{"version": 1, "nodes": [
            {"id": "video", "type": "pixverse/text-to-video-v4",
             "inputs": {"prompt": "x", "quality": "1080p", "motionMode": "fast", "aspectRatio": "21:9"}},
            {"id": "wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "video.tsk"}}},
            {"id": "save", "type": "wiro/output.dowload", "inputs": {}}
        ]}"#,
    )
    .unwrap();
    let output = common::binary_for(&emulator)
        .arg("run")
        .arg(&file)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for expected in [
        "node \"video\", input \"motionMode\"",
        "pixverse/1080p-not-fast",
        "node \"video\", input \"aspectRatio\"",
        "node \"wait\", input \"task\"",
        "tsk",
        "node \"save\"",
        "unknown node type",
        "nothing was sent",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert_eq!(
        emulator.stats().requests.values().sum::<u64>(),
        0,
        "the server saw no request"
    );

    let validate = common::binary_for(&emulator)
        .arg("validate")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert_eq!(validate.status.code(), Some(2));
    let ok = common::binary()
        .arg("validate")
        .arg(example("batch.json"))
        .output()
        .await
        .unwrap();
    assert!(ok.status.success());
}

/// Starts `run` on the text-to-video example and waits until its task id is journaled;
/// gives the process and that task id.
async fn start_run(emulator: &EmulatorHandle, out: &Path) -> (tokio::process::Child, String) {
    let child = common::binary_for(emulator)
        .arg("run")
        .arg(example("text-to-video.json"))
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let journal = out.join("wiro-journal.jsonl");
    for _ in 0..400 {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        let started = text
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|entry| entry["event"] == "task_started");
        if let Some(entry) = started {
            let taskid = entry["task"]["taskid"].as_str().unwrap().to_owned();
            return (child, taskid);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the run never journaled its task");
}

/// Sends `signal` to the run and waits for it to end: its exit code, stdout and stderr.
#[cfg(unix)]
async fn signal_and_wait(
    child: tokio::process::Child,
    signal: libc::c_int,
) -> (Option<i32>, String, String) {
    let pid = child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

// A second Ctrl-C quits at once, even while the first one's clean-up hangs (here: a Task/Kill
// that takes 20 s to answer); the kernel ends the process, so nothing inside it can hold it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_quits_at_once_while_the_first_is_still_stopping() {
    use std::os::unix::process::ExitStatusExt;
    let mut config = EmulatorConfig::with_speed(0.5);
    config.faults = vec!["kill=slow@20000".parse().unwrap()];
    let emulator = common::emulator(config).await;
    let out = tempfile::tempdir().unwrap();
    let (child, taskid) = start_run(&emulator, out.path()).await;
    common::wait_status(&emulator, &taskid, "task_start").await;
    let pid = child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    // The first one is stopping the task: its Task/Kill hangs.
    for _ in 0..200 {
        if emulator.stats().requests(Operation::TaskKill) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let started = std::time::Instant::now();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("the second Ctrl-C ended the process")
        .unwrap();
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGINT),
        "{:?}",
        output.status
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("press Ctrl-C again to quit at once"),
        "the first one said so"
    );
}

// SIGTERM is what `docker stop`, systemd and CI runners send: it stops the run as Ctrl-C does.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_the_wait_kills_the_task_and_exits_143() {
    let emulator = common::emulator(EmulatorConfig::with_speed(0.5)).await;
    let out = tempfile::tempdir().unwrap();
    let (child, taskid) = start_run(&emulator, out.path()).await;
    common::wait_status(&emulator, &taskid, "task_start").await;
    let (code, stdout, stderr) = signal_and_wait(child, libc::SIGTERM).await;
    assert_eq!(code, Some(143), "{stdout}\n{stderr}");
    assert_eq!(emulator.stats().cancelled, 1, "the paid task was stopped");
    assert!(
        stdout.contains(&format!("task {taskid} killed")),
        "{stdout}"
    );
}

// Sending SIGINT needs a unix; elsewhere the CLI's Ctrl-C path is not reachable from a test.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_the_wait_kills_the_task_and_says_which() {
    let emulator = common::emulator(EmulatorConfig::with_speed(0.5)).await;
    let out = tempfile::tempdir().unwrap();
    let (child, taskid) = start_run(&emulator, out.path()).await;
    // Once the task has left the queue, interrupt as a terminal's Ctrl-C does.
    common::wait_status(&emulator, &taskid, "task_accept").await;
    let (code, stdout, stderr) = signal_and_wait(child, libc::SIGINT).await;
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    let stats = emulator.stats();
    assert_eq!(stats.cancelled, 1, "{stats:?}");
    assert!(
        stdout.contains(" killed") || stdout.contains(" cancelled"),
        "it says what it did to the task: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_during_the_wait_resumes_the_same_task_when_started_again() {
    let emulator = common::emulator(EmulatorConfig::with_speed(2.0)).await;
    let out = tempfile::tempdir().unwrap();
    let (mut child, _) = start_run(&emulator, out.path()).await;
    child.start_kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().await.unwrap();
    assert_eq!(emulator.stats().runs_accepted, 1);

    let output = common::binary_for(&emulator)
        .arg("run")
        .arg(example("text-to-video.json"))
        .arg("--out")
        .arg(out.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(emulator.stats().runs_accepted, 1, "the server saw one Run");
    assert!(stdout.contains("resumed"), "{stdout}");
    assert_eq!(
        common::mp4_size_and_seconds(&out.path().join("download-0.mp4")),
        (960, 540, 5.0)
    );

    // A third time, everything comes from the journal.
    let again = common::binary_for(&emulator)
        .arg("run")
        .arg(example("text-to-video.json"))
        .arg("--out")
        .arg(out.path())
        .output()
        .await
        .unwrap();
    assert!(again.status.success());
    assert_eq!(emulator.stats().runs_accepted, 1);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_into_a_busy_out_folder_sends_nothing_and_exits_2() {
    let emulator = common::emulator(EmulatorConfig::with_speed(0.5)).await;
    let out = tempfile::tempdir().unwrap();
    let (first, _) = start_run(&emulator, out.path()).await;
    let second = common::binary_for(&emulator)
        .arg("run")
        .arg(example("text-to-video.json"))
        .arg("--out")
        .arg(out.path())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("another wiro-nodes run is using this journal"),
        "{stderr}"
    );
    assert!(stderr.contains("no Run was sent"), "{stderr}");
    assert_eq!(
        emulator.stats().runs_accepted,
        1,
        "only the first run's Run"
    );
    let (code, ..) = signal_and_wait(first, libc::SIGTERM).await;
    assert_eq!(code, Some(143));
}
