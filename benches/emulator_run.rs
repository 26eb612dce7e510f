//! Times a full Run → task_postprocess_end → download of a 540p 5 s clip against the
//! emulator at high speed: once per fresh seed (the encode included) and again for a seed
//! already encoded (served from the clip cache).
//!
//! `cargo bench --bench emulator_run`

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use wiro_nodes::api::signing::{signature, HEADER_API_KEY, HEADER_NONCE, HEADER_SIGNATURE};
use wiro_nodes::emulator::{Emulator, EmulatorConfig, EmulatorHandle};

const ROUNDS: u64 = 5;

async fn post(http: &reqwest::Client, emulator: &EmulatorHandle, path: &str, body: Value) -> Value {
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos()
        .to_string();
    let secret = emulator.api_secret().expect("the demo project signs");
    http.post(format!("{}/{path}", emulator.base_url()))
        .header(HEADER_API_KEY, emulator.api_key())
        .header(HEADER_NONCE, &nonce)
        .header(
            HEADER_SIGNATURE,
            signature(emulator.api_key(), secret, &nonce),
        )
        .json(&body)
        .send()
        .await
        .expect("the emulator answers")
        .json()
        .await
        .expect("the answer is JSON")
}

/// One Run to a downloaded file; returns the time taken and the file size.
async fn one_run(
    http: &reqwest::Client,
    emulator: &EmulatorHandle,
    seed: u64,
) -> (Duration, usize) {
    let started = Instant::now();
    let body = json!({
        "prompt": "A cinematic shot of a rabbit and a turtle racing…",
        "aspectRatio": "16:9", "duration": "5", "quality": "540p",
        "seed": seed.to_string(), "Watermark": "false"
    });
    let run = post(http, emulator, "Run/PixVerse/text-to-video-v4", body).await;
    let taskid = run["taskid"]
        .as_str()
        .expect("the Run is accepted")
        .to_owned();
    let task = loop {
        let detail = post(http, emulator, "Task/Detail", json!({ "taskid": taskid })).await;
        let task = detail["tasklist"][0].clone();
        if task["status"] == "task_postprocess_end" {
            break task;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let url = task["outputs"][0]["url"]
        .as_str()
        .expect("an output")
        .to_owned();
    let bytes = http
        .get(url)
        .send()
        .await
        .expect("the download starts")
        .bytes()
        .await
        .expect("the download ends");
    (started.elapsed(), bytes.len())
}

fn summary(label: &str, times: &[Duration]) {
    let total: Duration = times.iter().sum();
    let mean = total / times.len() as u32;
    let best = times.iter().min().copied().unwrap_or_default();
    println!(
        "{label:<38} mean {mean:>8.1?}  best {best:>8.1?}  ({} runs)",
        times.len()
    );
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let emulator = Emulator::start(EmulatorConfig::with_speed(1_000_000.0))
            .await
            .expect("the emulator starts");
        let http = reqwest::Client::new();
        let mut fresh = Vec::new();
        let mut size = 0;
        for seed in 0..ROUNDS {
            let (time, bytes) = one_run(&http, &emulator, 1000 + seed).await;
            fresh.push(time);
            size = bytes;
        }
        let mut cached = Vec::new();
        for _ in 0..ROUNDS {
            cached.push(one_run(&http, &emulator, 1000).await.0);
        }
        println!("emulator_run: 540p 16:9 5 s clip (960x540, 120 frames, {size} bytes)");
        summary("Run→postprocess_end→download, encoded", &fresh);
        summary("same, clip from the cache", &cached);
        emulator.shutdown().await;
    });
}
