//! The docs' flow against the emulator: one nonce for the session, Run with the documented
//! body, poll Task/Detail, download the output and find the promised video in it.
#![cfg(feature = "emulator")]

use crate::common;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{json, Value};
use wiro_nodes::emulator::EmulatorConfig;

/// Signs every request with the same unix-seconds nonce, as the docs' curl example does.
async fn docs_post(
    emulator: &wiro_nodes::emulator::EmulatorHandle,
    nonce: &str,
    path: &str,
    body: &Value,
) -> Value {
    let request = http().post(format!("{}/{path}", emulator.base_url()));
    let answer = sign(request, emulator.api_key(), emulator.api_secret(), nonce)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

async fn docs_flow(quality: &str, aspect: &str) -> (Value, Vec<u8>) {
    let emulator = start(EmulatorConfig::with_speed(1000.0)).await;
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let body = json!({
        "prompt": "A cinematic shot of a rabbit and a turtle racing…",
        "negativePrompt": "",
        "aspectRatio": aspect,
        "duration": "5",
        "quality": quality,
        "motionMode": "normal",
        "style": "",
        "seed": "",
        "Watermark": "false",
    });
    let run = docs_post(&emulator, &nonce, "Run/PixVerse/text-to-video-v4", &body).await;
    assert_eq!(run["result"], true, "{run}");
    assert_eq!(run["errors"], json!([]));
    let taskid = run["taskid"].as_str().expect("taskid is a string");
    assert!(taskid.parse::<u64>().is_ok(), "a numeric id as a string");
    let token = run["socketaccesstoken"].as_str().unwrap().to_owned();

    let deadline = Instant::now() + Duration::from_secs(120);
    let task = loop {
        let answer = docs_post(
            &emulator,
            &nonce,
            "Task/Detail",
            &json!({"tasktoken": token}),
        )
        .await;
        assert_eq!(answer["result"], true, "{answer}");
        assert_eq!(answer["total"], "1");
        let task = answer["tasklist"][0].clone();
        if task["status"] == "task_postprocess_end" {
            break task;
        }
        assert!(Instant::now() < deadline, "never ended: {task}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(task["id"], taskid);
    assert_eq!(task["pexit"], "0");
    assert_eq!(task["parameters"]["prompt"], body["prompt"]);
    assert!(task["totalcost"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
    assert!(task["elapsedseconds"].as_str().unwrap().contains('.'));
    for time in ["createtime", "starttime", "endtime"] {
        assert!(
            task[time].as_str().unwrap().parse::<u64>().is_ok(),
            "{time}"
        );
    }
    let output = &task["outputs"][0];
    assert_eq!(output["name"], "0.mp4");
    assert_eq!(output["contenttype"], "video/mp4");
    let bytes = download(output["url"].as_str().unwrap()).await;
    assert_eq!(output["size"], bytes.len().to_string());
    assert_eq!(&bytes[4..8], b"ftyp");
    (task, bytes)
}

#[tokio::test]
async fn the_docs_run_gives_a_540p_five_second_h264_clip() {
    let (_, bytes) = docs_flow("540p", "16:9").await;
    let (width, height, seconds, codec) = mp4_facts(&bytes);
    assert_eq!((width, height), (960, 540));
    assert!((seconds - 5.0).abs() < 0.01, "{seconds} s");
    assert_eq!(codec, "avc1");
}

#[tokio::test]
async fn a_1080p_portrait_run_gives_1080_by_1920() {
    let (_, bytes) = docs_flow("1080p", "9:16").await;
    let (width, height, seconds, _) = mp4_facts(&bytes);
    assert_eq!((width, height), (1080, 1920));
    assert!((seconds - 5.0).abs() < 0.01, "{seconds} s");
}
