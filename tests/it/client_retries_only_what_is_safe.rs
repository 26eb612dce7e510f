#![cfg(feature = "emulator")]
//! Retries: safe operations retry transient failures honouring Retry-After; a Run or an Upload
//! is never sent twice; the wait survives a dropped socket; a download survives a dropped body.

use crate::common;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wiro_nodes::api::{Error, TaskEvent, TaskLookup};
use wiro_nodes::emulator::{Fault, Operation};

#[tokio::test]
async fn task_detail_retry_honours_retry_after() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let handle = client
        .run("PixVerse/text-to-video-v4", &common::small_video("x"))
        .await
        .unwrap();
    emulator.inject(
        Operation::TaskDetail,
        Fault::RateLimited {
            retry_after: Duration::from_secs(1),
        },
        1,
    );
    let started = Instant::now();
    let task = client
        .task_detail(TaskLookup::Id(handle.taskid.clone()))
        .await
        .unwrap();
    assert_eq!(task.id, handle.taskid);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}, not the server's 1 s",
        started.elapsed()
    );
    assert_eq!(emulator.stats().requests(Operation::TaskDetail), 2);
}

#[tokio::test]
async fn a_run_whose_connection_drops_is_not_retried() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    let error = client
        .run("PixVerse/text-to-video-v4", &common::small_video("once"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::OutcomeUnknown { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("not sent again unless the task list shows it created nothing"),
        "{error}"
    );
    let stats = emulator.stats();
    assert_eq!(stats.requests(Operation::Run), 1, "sent once");
    assert_eq!(
        stats.runs_accepted, 1,
        "the server did start it: the caller must not resend blindly"
    );
}

#[tokio::test]
async fn a_run_answered_500_is_not_retried_and_its_outcome_is_unknown() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    emulator.inject(Operation::Run, Fault::ServerError, 1);
    let error = client
        .run("PixVerse/text-to-video-v4", &common::small_video("once"))
        .await
        .unwrap_err();
    // A 500 can come from a gateway after the task was created: not a refusal.
    assert!(matches!(error, Error::OutcomeUnknown { .. }), "{error}");
    assert!(
        error.to_string().contains("500"),
        "the server's answer is kept: {error}"
    );
    assert_eq!(emulator.stats().requests(Operation::Run), 1);
}

#[tokio::test]
async fn an_upload_whose_connection_drops_is_not_retried() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    emulator.inject(Operation::Upload, Fault::DropConnection, 1);
    let image = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/meadow.png");
    let error = client.upload(&image, None).await.unwrap_err();
    assert!(matches!(error, Error::OutcomeUnknown { .. }), "{error}");
    assert_eq!(emulator.stats().requests(Operation::Upload), 1);
}

#[tokio::test]
async fn the_wait_falls_back_to_polling_when_the_socket_drops() {
    let emulator = common::emulator(wiro_nodes::emulator::EmulatorConfig::with_speed(50.0)).await;
    let client = common::client(&emulator);
    emulator.inject(Operation::Socket, Fault::SocketDrop, 1);
    let handle = client
        .run("PixVerse/text-to-video-v4", &common::small_video("x"))
        .await
        .unwrap();
    let mut lost = false;
    let mut polled = false;
    let task = client
        .wait_for_task(&handle, &common::quick_wait(), |event| match event {
            TaskEvent::SocketLost { .. } => lost = true,
            TaskEvent::Status {
                source: wiro_nodes::api::EventSource::Poll,
                ..
            } => polled = true,
            _ => {}
        })
        .await
        .unwrap();
    assert!(task.succeeded());
    assert!(lost, "the drop was reported");
    assert!(polled, "statuses came from polling");
}

#[tokio::test]
async fn the_wait_survives_a_socket_that_cannot_connect() {
    let emulator = common::emulator(wiro_nodes::emulator::EmulatorConfig::with_speed(100.0)).await;
    let config = emulator
        .client_config()
        .with_socket_url("ws://127.0.0.1:9/v1/socket");
    let client = wiro_nodes::api::Client::new(config).unwrap();
    let handle = client
        .run("PixVerse/text-to-video-v4", &common::small_video("x"))
        .await
        .unwrap();
    let task = client
        .wait_for_task(&handle, &common::quick_wait(), |_| {})
        .await
        .unwrap();
    assert!(task.succeeded());
}

#[tokio::test]
async fn a_download_resumes_after_the_body_is_cut() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let output = &common::finished_video(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let whole = client
        .download(
            &output.url,
            &dir.path().join("whole"),
            &output.name,
            output.size_bytes(),
            |_| {},
        )
        .await
        .unwrap();
    emulator.inject(Operation::Download, Fault::TruncateBody, 1);
    let resumed = client
        .download(
            &output.url,
            &dir.path().join("resumed"),
            &output.name,
            output.size_bytes(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(resumed.sha256, whole.sha256);
    assert_eq!(resumed.size, whole.size);
    assert_eq!(
        emulator.stats().requests(Operation::Download),
        3,
        "one whole, one cut, one resumed"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("resumed"))
        .unwrap()
        .collect();
    assert_eq!(leftovers.len(), 1, "no .part file is left");
}

#[tokio::test]
async fn a_large_download_cut_midway_resumes_to_the_same_bytes_and_hash() {
    // 12 MiB: large enough to be hashed on a thread of its own, beside the writer.
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("large.txt");
    let bytes: Vec<u8> = (0..12u32 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(&source, &bytes).unwrap();
    let uploaded = client.upload(&source, None).await.unwrap();
    emulator.inject(Operation::Download, Fault::TruncateBody, 1);
    let file = client
        .download(
            &uploaded.url,
            &dir.path().join("got"),
            "large.txt",
            Some(bytes.len() as u64),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        emulator.stats().requests(Operation::Download),
        2,
        "one cut, one resumed"
    );
    assert_eq!(std::fs::read(&file.path).unwrap(), bytes);
    assert_eq!(file.sha256, hex::encode(Sha256::digest(&bytes)));
}

#[tokio::test]
async fn a_wait_deadline_names_the_task_and_leaves_it_running() {
    let emulator = common::emulator(wiro_nodes::emulator::EmulatorConfig::with_speed(0.2)).await;
    let client = common::client(&emulator);
    let handle = client
        .run("PixVerse/text-to-video-v4", &common::small_video("slow"))
        .await
        .unwrap();
    let options = wiro_nodes::api::WaitOptions {
        deadline: Some(Duration::from_millis(300)),
        ..common::quick_wait()
    };
    let error = client
        .wait_for_task(&handle, &options, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, Error::WaitTimeout { .. }), "{error}");
    assert!(error.to_string().contains(&handle.taskid));
    let task = client
        .task_detail(TaskLookup::Id(handle.taskid.clone()))
        .await
        .unwrap();
    assert!(!task.is_terminal(), "a timeout does not stop the task");
    client.stop_task(&handle.taskid).await.unwrap();
}

#[tokio::test]
async fn a_cancelled_download_leaves_no_partial_file() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let output = &common::finished_video(&client).await;
    let dir = tempfile::tempdir().unwrap();
    emulator.inject(Operation::Download, Fault::Slow(Duration::from_secs(5)), 1);
    let download = client.download(
        &output.url,
        dir.path(),
        &output.name,
        output.size_bytes(),
        |_| {},
    );
    assert!(tokio::time::timeout(Duration::from_millis(300), download)
        .await
        .is_err());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn time_in_the_queue_does_not_count_against_the_wait_deadline() {
    let config = wiro_nodes::emulator::EmulatorConfig {
        max_running: Some(0), // every task stays queued
        ..wiro_nodes::emulator::EmulatorConfig::with_speed(50.0)
    };
    let emulator = common::emulator(config).await;
    let client = common::client(&emulator);
    let handle = client
        .run("PixVerse/text-to-video-v4", &common::small_video("queued"))
        .await
        .unwrap();
    let options = wiro_nodes::api::WaitOptions {
        deadline: Some(Duration::from_millis(200)),
        ..common::quick_wait()
    };
    let wait = client.wait_for_task(&handle, &options, |_| {});
    // Four times the deadline passes in the queue and the wait is still waiting.
    assert!(tokio::time::timeout(Duration::from_millis(800), wait)
        .await
        .is_err());
    client.stop_task(&handle.taskid).await.unwrap();
}
