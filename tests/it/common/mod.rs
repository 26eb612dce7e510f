//! Helpers shared by the integration tests: emulators on 127.0.0.1, a client tuned for fast
//! tests, signed raw requests (for testing the emulator without the client), MP4 facts.
#![allow(dead_code)]

use std::io::Cursor;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use wiro_nodes::api::signing::{signature, HEADER_API_KEY, HEADER_NONCE, HEADER_SIGNATURE};
use wiro_nodes::api::{Client, RetryPolicy, WaitOptions};
use wiro_nodes::emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// The lifecycle statuses in order (API.md).
pub const LIFECYCLE: [&str; 11] = [
    "task_queue",
    "task_accept",
    "task_preprocess_start",
    "task_preprocess_end",
    "task_assign",
    "task_start",
    "task_output",
    "task_output_full",
    "task_end",
    "task_postprocess_start",
    "task_postprocess_end",
];

/// Where a status sits in the lifecycle (error lines sit with the output lines).
pub fn rank(status: &str) -> usize {
    match status {
        "task_error" | "task_error_full" => 7,
        other => LIFECYCLE
            .iter()
            .position(|known| *known == other)
            .unwrap_or_else(|| panic!("unexpected status {other}")),
    }
}

pub async fn start(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("the emulator starts")
}

/// A fast emulator with the demo credentials.
pub async fn fast() -> EmulatorHandle {
    start(EmulatorConfig::with_speed(1000.0)).await
}

pub fn http() -> reqwest::Client {
    // The crate builds reqwest without a default TLS provider; plain http needs none, but
    // the builder insists on one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A fresh nonce: unix milliseconds plus a counter.
pub fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    (ms * 1000 + COUNTER.fetch_add(1, Ordering::Relaxed) % 1000).to_string()
}

/// A POST to `path` (under /v1) signed with the emulator's credentials and a fresh nonce.
pub fn signed(emulator: &EmulatorHandle, path: &str) -> reqwest::RequestBuilder {
    let request = http().post(format!("{}/{}", emulator.base_url(), path));
    sign(request, emulator.api_key(), emulator.api_secret(), &nonce())
}

/// Adds the auth headers for `nonce`.
pub fn sign(
    request: reqwest::RequestBuilder,
    key: &str,
    secret: Option<&str>,
    nonce: &str,
) -> reqwest::RequestBuilder {
    let request = request.header(HEADER_API_KEY, key);
    match secret {
        Some(secret) => request
            .header(HEADER_NONCE, nonce)
            .header(HEADER_SIGNATURE, signature(key, secret, nonce)),
        None => request,
    }
}

/// POSTs JSON, returns the status and the parsed body.
pub async fn post(emulator: &EmulatorHandle, path: &str, body: Value) -> (u16, Value) {
    let answer = signed(emulator, path).json(&body).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap())
}

/// POSTs a multipart form, returns the parsed body.
pub async fn post_form(
    emulator: &EmulatorHandle,
    path: &str,
    form: reqwest::multipart::Form,
) -> Value {
    let answer = signed(emulator, path).multipart(form).send().await.unwrap();
    answer.json().await.unwrap()
}

/// The docs' text-to-video body with a few fields replaced.
pub fn t2v(changes: Value) -> Value {
    let mut body = json!({
        "prompt": "A cinematic shot of a rabbit and a turtle racing through a sunlit meadow",
        "negativePrompt": "",
        "aspectRatio": "16:9",
        "duration": "5",
        "quality": "360p",
        "motionMode": "normal",
        "style": "",
        "seed": "",
        "Watermark": "false"
    });
    for (key, value) in changes.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

/// Runs text-to-video and returns (taskid, socketaccesstoken).
pub async fn run(emulator: &EmulatorHandle, body: Value) -> (String, String) {
    let (status, answer) = post(emulator, "Run/PixVerse/text-to-video-v4", body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], true, "{answer}");
    (
        answer["taskid"].as_str().unwrap().to_owned(),
        answer["socketaccesstoken"].as_str().unwrap().to_owned(),
    )
}

/// The task record by id.
pub async fn detail(emulator: &EmulatorHandle, taskid: &str) -> Value {
    let (status, answer) = post(emulator, "Task/Detail", json!({ "taskid": taskid })).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], true, "{answer}");
    answer["tasklist"][0].clone()
}

/// Polls Task/Detail until the task ends.
pub async fn wait_end(emulator: &EmulatorHandle, taskid: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let task = detail(emulator, taskid).await;
        let status = task["status"].as_str().unwrap();
        if status == "task_postprocess_end" || status == "task_cancel" {
            return task;
        }
        assert!(
            Instant::now() < deadline,
            "task {taskid} did not end: {task}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Polls until the task is in `status` (or later in the lifecycle).
pub async fn wait_status(emulator: &EmulatorHandle, taskid: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let task = detail(emulator, taskid).await;
        if rank(task["status"].as_str().unwrap()) >= rank(status) {
            return task;
        }
        assert!(
            Instant::now() < deadline,
            "task {taskid} never reached {status}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// GETs a URL and returns its bytes, checking the announced length.
pub async fn download(url: &str) -> Vec<u8> {
    let answer = http().get(url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let announced = answer.content_length();
    let bytes = answer.bytes().await.unwrap().to_vec();
    assert_eq!(announced, Some(bytes.len() as u64));
    bytes
}

/// What an MP4 holds: (width, height, seconds, codec four-cc) of its video track.
pub fn mp4_facts(bytes: &[u8]) -> (u16, u16, f64, String) {
    let reader = mp4::Mp4Reader::read_header(Cursor::new(bytes), bytes.len() as u64).unwrap();
    assert_eq!(reader.tracks().len(), 1, "one track");
    let track = reader.tracks().values().next().unwrap();
    (
        track.width(),
        track.height(),
        track.duration().as_secs_f64(),
        track.box_type().unwrap().to_string(),
    )
}

/// A WebSocket registered for `token`: returns every frame until the server closes.
/// `on_first` runs after the first task frame arrives.
pub async fn follow(emulator: &EmulatorHandle, token: &str) -> Vec<Value> {
    let (mut socket, _) = tokio_tungstenite::connect_async(emulator.socket_url())
        .await
        .unwrap();
    let hello = next_json(&mut socket).await.expect("a connected frame");
    assert_eq!(hello["type"], "connected");
    let register = json!({"type": "task_info", "tasktoken": token}).to_string();
    socket.send(Message::text(register)).await.unwrap();
    let mut frames = Vec::new();
    while let Some(frame) = next_json(&mut socket).await {
        frames.push(frame);
    }
    frames
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON text frame; `None` once the socket closes (cleanly or not).
pub async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .expect("the socket answers within a minute")?
        {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

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

/// Reads an MP4 file's frame size and duration in seconds, as a player would.
pub fn mp4_size_and_seconds(path: &std::path::Path) -> (u16, u16, f64) {
    let bytes = std::fs::read(path).expect("the video file exists");
    let (width, height, seconds, codec) = mp4_facts(&bytes);
    assert_eq!(codec, "avc1", "an H.264 video track");
    (width, height, seconds)
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

/// The `wiro-nodes` binary with no Wiro settings from the environment (so it would use the
/// embedded emulator), killed if the test drops it.
#[cfg(feature = "cli")]
pub fn binary() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_wiro-nodes"));
    // No claims in the user's state folder: an emulator of a later test may reuse a port.
    command.env("WIRO_STATE_DIR", "");
    for name in [
        "WIRO_API_KEY",
        "WIRO_API_SECRET",
        "WIRO_BASE_URL",
        "WIRO_SOCKET_URL",
    ] {
        command.env_remove(name);
    }
    command.kill_on_drop(true);
    command
}

/// The binary pointed at `emulator` as if it were the real API (credentials in the environment).
#[cfg(feature = "cli")]
pub fn binary_for(emulator: &EmulatorHandle) -> tokio::process::Command {
    let mut command = binary();
    command
        .env("WIRO_BASE_URL", emulator.base_url())
        .env("WIRO_SOCKET_URL", emulator.socket_url())
        .env("WIRO_API_KEY", emulator.api_key())
        .env("WIRO_API_SECRET", emulator.api_secret().unwrap_or_default());
    command
}

/// Runs a small text-to-video task to its end and gives its video output.
pub async fn finished_video(client: &Client) -> wiro_nodes::api::OutputFile {
    let handle = client
        .run(
            "PixVerse/text-to-video-v4",
            &small_video("a finished video"),
        )
        .await
        .expect("the Run is accepted");
    let task = client
        .wait_for_task(&handle, &quick_wait(), |_| {})
        .await
        .expect("the task succeeds");
    task.outputs.into_iter().next().expect("a video output")
}

/// An executor over every registered node, on `emulator`, writing into `out`.
pub fn executor(emulator: &EmulatorHandle, out: &std::path::Path) -> wiro_nodes::graph::Executor {
    wiro_nodes::graph::Executor::new(
        wiro_nodes::node::Registry::from_inventory(),
        client(emulator),
        run_options(out),
    )
}

/// An editor on 127.0.0.1 that runs on `emulator`, with `dir` as its workspace and `dir/out`
/// as its output folder.
#[cfg(feature = "editor")]
pub async fn editor(
    emulator: &EmulatorHandle,
    dir: &std::path::Path,
) -> wiro_nodes::hosts::editor::EditorHandle {
    let mut config = wiro_nodes::hosts::editor::EditorConfig::new(client(emulator));
    config.workspace = dir.to_path_buf();
    config.out_dir = dir.join("out");
    config.state_dir = None;
    wiro_nodes::hosts::editor::Editor::start(config)
        .await
        .expect("the editor starts on 127.0.0.1")
}

/// The editor's address, `http://127.0.0.1:PORT`.
#[cfg(feature = "editor")]
pub fn editor_base(editor: &wiro_nodes::hosts::editor::EditorHandle) -> String {
    format!("http://{}", editor.addr())
}
