#![cfg(feature = "emulator")]
//! Every client operation against the emulator: folder, upload, run, detail by id and token,
//! wait (socket), download, kill, cancel, tool detail.

use crate::common;
use std::time::Duration;

use wiro_nodes::api::{TaskLookup, TaskStatus};
use wiro_nodes::emulator::EmulatorConfig;

#[tokio::test]
async fn upload_into_a_folder_then_generate_wait_and_download() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let folder = client.folder_create("inputs", None).await.unwrap();
    assert!(!folder.id.is_empty());
    assert_eq!(folder.name, "inputs");

    let image = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/meadow.png");
    let uploaded = client.upload(&image, Some(&folder.id)).await.unwrap();
    assert_eq!(uploaded.contenttype, "image/png");
    assert_eq!(
        uploaded.size.as_ref().and_then(|s| s.as_u64()),
        Some(std::fs::metadata(&image).unwrap().len())
    );
    assert!(
        uploaded.url.starts_with("http://127.0.0.1"),
        "{}",
        uploaded.url
    );

    let mut parameters = common::small_video("the meadow at dusk");
    parameters.insert("inputImageUrl".into(), uploaded.url.clone().into());
    parameters.remove("aspectRatio");
    let handle = client
        .run("PixVerse/image-to-video-v4", &parameters)
        .await
        .unwrap();
    assert!(!handle.taskid.is_empty() && !handle.socketaccesstoken.is_empty());

    let mut statuses = Vec::new();
    let task = client
        .wait_for_task(&handle, &common::quick_wait(), |event| {
            if let wiro_nodes::api::TaskEvent::Status { status, .. } = event {
                statuses.push(status)
            }
        })
        .await
        .unwrap();
    assert!(task.succeeded());
    assert_eq!(statuses.last(), Some(&TaskStatus::PostprocessEnd));
    assert!(
        task.total_cost().unwrap() > 0.0,
        "a successful task is billed"
    );

    let by_token = client
        .task_detail(TaskLookup::Token(handle.socketaccesstoken.clone()))
        .await
        .unwrap();
    assert_eq!(by_token.id, handle.taskid);

    let dir = tempfile::tempdir().unwrap();
    let output = &task.outputs[0];
    let file = client
        .download(
            &output.url,
            dir.path(),
            &output.name,
            output.size_bytes(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(Some(file.size), output.size_bytes());
    assert_eq!(file.contenttype, "video/mp4");
    let bytes = std::fs::read(&file.path).unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    use sha2::Digest;
    assert_eq!(file.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
    // The meadow image is 16:9: its 360p video is 640x360.
    let reader =
        mp4::Mp4Reader::read_header(std::io::Cursor::new(&bytes), bytes.len() as u64).unwrap();
    let track = reader.tracks().values().next().unwrap();
    assert_eq!((track.width(), track.height()), (640, 360));
}

#[tokio::test]
async fn kill_stops_a_running_task_and_cancel_removes_a_queued_one() {
    let emulator = common::emulator(EmulatorConfig {
        max_running: Some(1),
        ..EmulatorConfig::with_speed(2.0)
    })
    .await;
    let client = common::client(&emulator);
    let running = client
        .run("PixVerse/text-to-video-v4", &common::small_video("first"))
        .await
        .unwrap();
    let queued = client
        .run("PixVerse/text-to-video-v4", &common::small_video("second"))
        .await
        .unwrap();
    // Wait until the first one is past the queue.
    for _ in 0..200 {
        let task = client
            .task_detail(TaskLookup::Id(running.taskid.clone()))
            .await
            .unwrap();
        if !task.status.is_queued() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled = client.task_cancel(&queued.taskid).await.unwrap();
    assert_eq!(cancelled.status, TaskStatus::Cancel);
    let killed = client.task_kill(&running.taskid).await.unwrap();
    assert_eq!(killed.status, TaskStatus::Cancel);
    let detail = client
        .task_detail(TaskLookup::Id(running.taskid.clone()))
        .await
        .unwrap();
    assert_eq!(detail.status, TaskStatus::Cancel);
    assert_eq!(
        detail.total_cost().unwrap_or(0.0),
        0.0,
        "a killed task is not billed"
    );
    // Stopping an ended task says so, and does nothing.
    let again = client.stop_task(&running.taskid).await.unwrap();
    assert_eq!(again.how(), "already ended");
}

#[tokio::test]
async fn stop_task_picks_cancel_or_kill_by_state() {
    let emulator = common::emulator(EmulatorConfig {
        max_running: Some(0),
        ..EmulatorConfig::with_speed(50.0)
    })
    .await;
    let client = common::client(&emulator);
    let queued = client
        .run(
            "PixVerse/text-to-video-v4",
            &common::small_video("never starts"),
        )
        .await
        .unwrap();
    assert_eq!(
        client.stop_task(&queued.taskid).await.unwrap().how(),
        "cancelled"
    );
}

#[tokio::test]
async fn tool_detail_describes_the_model_parameters() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let detail = client
        .tool_detail("pixverse/text-to-video-v4")
        .await
        .unwrap();
    let text = detail.to_string();
    assert!(
        text.contains("quality") && text.contains("1080p") && text.contains("motionMode"),
        "{text}"
    );
}

#[tokio::test]
async fn each_log_line_is_reported_once_live_or_polled() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    for socket_drops in [false, true] {
        if socket_drops {
            emulator.inject(
                wiro_nodes::emulator::Operation::Socket,
                wiro_nodes::emulator::Fault::SocketDrop,
                1,
            );
        }
        let handle = client
            .run("PixVerse/text-to-video-v4", &common::small_video("logs"))
            .await
            .unwrap();
        let mut lines = Vec::new();
        let task = client
            .wait_for_task(&handle, &common::quick_wait(), |event| {
                if let wiro_nodes::api::TaskEvent::Log {
                    line,
                    stderr: false,
                } = event
                {
                    lines.push(line);
                }
            })
            .await
            .unwrap();
        let expected: Vec<String> = task
            .debugoutput
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_owned)
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(lines, expected, "socket drops: {socket_drops}");
    }
}

#[tokio::test]
async fn a_handle_with_only_a_token_can_be_waited_for() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let handle = client
        .run("PixVerse/text-to-video-v4", &common::small_video("token"))
        .await
        .unwrap();
    let token_only = wiro_nodes::api::TaskHandle {
        taskid: String::new(),
        socketaccesstoken: handle.socketaccesstoken.clone(),
    };
    let options = wiro_nodes::api::WaitOptions {
        use_socket: false,
        ..common::quick_wait()
    };
    let task = client
        .wait_for_task(&token_only, &options, |_| {})
        .await
        .unwrap();
    assert_eq!(task.id, handle.taskid);
}

#[tokio::test]
async fn a_handle_with_only_a_token_can_be_stopped() {
    let config = EmulatorConfig {
        max_running: Some(0),
        ..EmulatorConfig::with_speed(50.0)
    };
    let emulator = common::emulator(config).await;
    let client = common::client(&emulator);
    let handle = client
        .run("PixVerse/text-to-video-v4", &common::small_video("one"))
        .await
        .unwrap();
    let stopped = client
        .stop_task(TaskLookup::Token(handle.socketaccesstoken.clone()))
        .await
        .unwrap();
    assert_eq!(stopped.how(), "cancelled");
    assert_eq!(stopped.task().id, handle.taskid);

    // The cancel node does the same from a token-only handle.
    let second = client
        .run("PixVerse/text-to-video-v4", &common::small_video("two"))
        .await
        .unwrap();
    let registry = wiro_nodes::node::Registry::from_inventory();
    let node = registry.get("wiro/task.cancel").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ctx = wiro_nodes::node::NodeContext::new("cancel", client.clone(), dir.path());
    let inputs = serde_json::json!({ "task": { "taskid": "", "socketaccesstoken": second.socketaccesstoken } });
    let outputs = node.run(&ctx, inputs).await.unwrap();
    assert_eq!(outputs["detail"]["status"], "task_cancel");
    assert_eq!(emulator.stats().cancelled, 2);
}
