//! Shared helpers for integration tests: an in-process emulator on 127.0.0.1 and a client
//! tuned for fast tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::time::Duration;

use wiro_nodes::api::{Client, RetryPolicy, WaitOptions};
use wiro_nodes::emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// An emulator whose tasks run in a blink.
pub async fn fast_emulator() -> EmulatorHandle {
    emulator(EmulatorConfig::with_speed(400.0)).await
}

/// An emulator with this configuration.
pub async fn emulator(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config)
        .await
        .expect("the emulator starts on 127.0.0.1")
}

/// A client for the emulator with short retry pauses.
pub fn client(emulator: &EmulatorHandle) -> Client {
    Client::new(emulator.client_config().with_retry(quick_retries())).expect("client")
}

/// Retries with pauses short enough for tests.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        deadline: Duration::from_secs(10),
    }
}

/// Waiting with fast polls and a deadline that fails a stuck test instead of hanging it.
pub fn quick_wait() -> WaitOptions {
    WaitOptions {
        deadline: Some(Duration::from_secs(60)),
        min_poll: Duration::from_millis(50),
        max_poll: Duration::from_millis(200),
        side_check: Duration::from_millis(500),
        use_socket: true,
    }
}

/// PixVerse text-to-video parameters at the cheapest size.
pub fn small_video(prompt: &str) -> serde_json::Map<String, serde_json::Value> {
    serde_json::json!({ "prompt": prompt, "quality": "360p", "aspectRatio": "16:9", "duration": 5 })
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// Reads an MP4's frame size and duration in seconds, as a player would.
pub fn mp4_size_and_seconds(path: &std::path::Path) -> (u16, u16, f64) {
    let bytes = std::fs::read(path).expect("the video file exists");
    let reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(&bytes), bytes.len() as u64)
        .expect("an MP4 that parses");
    let track = reader.tracks().values().next().expect("a video track");
    assert_eq!(track.media_type().expect("media type").to_string(), "h264");
    (
        track.width(),
        track.height(),
        reader.duration().as_secs_f64(),
    )
}

/// The example workflow `name` from `examples/`.
pub fn example(name: &str) -> wiro_nodes::graph::Workflow {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    wiro_nodes::graph::Workflow::from_file(&path).expect("the example parses")
}

/// Run options writing into `out`, reading inputs from `examples/`.
pub fn run_options(out: &std::path::Path) -> wiro_nodes::graph::RunOptions {
    wiro_nodes::graph::RunOptions {
        input_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        output_dir: out.to_path_buf(),
        ..wiro_nodes::graph::RunOptions::default()
    }
}
