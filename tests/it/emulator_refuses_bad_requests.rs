//! What the emulator refuses, and how it says so: auth mistakes (401, code 98), unknown
//! models and tasks (code 1), broken PixVerse rules (code 0, field named, no task created),
//! Kill/Cancel on the wrong kind of task, and uploads of the wrong type or size.
#![cfg(feature = "emulator")]

use crate::common;
use bytes::Bytes;
use common::*;
use serde_json::{json, Value};
use wiro_nodes::api::wire::MAX_UPLOAD_BYTES;
use wiro_nodes::emulator::EmulatorConfig;

fn first_error(answer: &Value) -> (i64, String) {
    assert_eq!(answer["result"], false, "{answer}");
    let error = &answer["errors"][0];
    (
        error["code"].as_i64().unwrap(),
        error["message"].as_str().unwrap().to_owned(),
    )
}

async fn raw(
    emulator: &wiro_nodes::emulator::EmulatorHandle,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = http()
        .post(format!("{}/Task/Detail", emulator.base_url()))
        .json(&json!({"taskid": "1"}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let answer = request.send().await.unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

#[tokio::test]
async fn auth_mistakes_answer_401_with_code_98_and_say_what_is_wrong() {
    let emulator = fast().await;
    let key = emulator.api_key().to_owned();
    let good = wiro_nodes::api::signing::signature(&key, emulator.api_secret().unwrap(), "42");
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "x-api-key header is missing"),
        (&[("x-api-key", "someone-else")], "does not match"),
        (&[("x-api-key", &key)], "this project requires a signature"),
        (
            &[
                ("x-api-key", &key),
                ("x-nonce", "43"),
                ("x-signature", &good),
            ],
            "bad signature",
        ),
    ];
    for (headers, expected) in cases {
        let (status, answer) = raw(&emulator, headers).await;
        assert_eq!(status, 401, "{answer}");
        let (code, message) = first_error(&answer);
        assert_eq!(code, 98);
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
    // The right signature passes auth (and finds no task 1).
    let (status, answer) = raw(
        &emulator,
        &[
            ("x-api-key", &key),
            ("x-nonce", "42"),
            ("x-signature", &good),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(first_error(&answer).0, 1);
}

#[tokio::test]
async fn a_key_only_project_takes_the_key_alone() {
    let emulator = start(EmulatorConfig::with_speed(1000.0).key_only()).await;
    assert_eq!(emulator.api_secret(), None);
    let (status, answer) = raw(&emulator, &[("x-api-key", "wiro-emulator-key")]).await;
    assert_eq!(status, 200);
    assert_eq!(
        first_error(&answer).0,
        1,
        "auth passed, the task is unknown"
    );
    let (status, _) = raw(&emulator, &[("x-api-key", "wrong")]).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_replayed_nonce_is_refused_when_the_emulator_is_asked_to() {
    let emulator = start(EmulatorConfig {
        reject_replayed_nonce: true,
        ..EmulatorConfig::with_speed(1000.0)
    })
    .await;
    let key = emulator.api_key().to_owned();
    let signature = wiro_nodes::api::signing::signature(&key, emulator.api_secret().unwrap(), "7");
    let headers = [
        ("x-api-key", key.as_str()),
        ("x-nonce", "7"),
        ("x-signature", &signature),
    ];
    assert_eq!(raw(&emulator, &headers).await.0, 200);
    let (status, answer) = raw(&emulator, &headers).await;
    assert_eq!(status, 401);
    let (code, message) = first_error(&answer);
    assert_eq!(code, 98);
    assert!(message.contains("replayed nonce"), "{message}");
}

#[tokio::test]
async fn unknown_models_tasks_and_paths_are_not_found() {
    let emulator = fast().await;
    let (status, answer) = post(&emulator, "Run/PixVerse/text-to-video-v9", t2v(json!({}))).await;
    assert_eq!(status, 200);
    let (code, message) = first_error(&answer);
    assert_eq!(code, 1);
    assert!(message.contains("PixVerse/text-to-video-v9"), "{message}");
    let (_, answer) = post(&emulator, "Task/Detail", json!({"tasktoken": "nope"})).await;
    assert_eq!(first_error(&answer).0, 1);
    let (status, _) = post(&emulator, "Task/Teleport", json!({})).await;
    assert_eq!(status, 404);
    // Slugs match whatever their case.
    let (_, answer) = post(&emulator, "Run/pixverse/TEXT-TO-VIDEO-V4", t2v(json!({}))).await;
    assert_eq!(answer["result"], true, "{answer}");
}

#[tokio::test]
async fn broken_pixverse_rules_are_refused_with_the_field_named_and_no_task_created() {
    let emulator = fast().await;
    let cases = [
        (
            json!({"quality": "1080p", "duration": "8"}),
            "duration",
            "pixverse/1080p-max-5s",
        ),
        (
            json!({"quality": "1080p", "motionMode": "fast"}),
            "motionMode",
            "pixverse/1080p-not-fast",
        ),
        (
            json!({"motionMode": "fast", "duration": "8"}),
            "duration",
            "pixverse/fast-needs-5s",
        ),
        (json!({"prompt": "p".repeat(2049)}), "prompt", "maxLength"),
        (json!({"aspectRatio": "2:1"}), "aspectRatio", "enum"),
        (json!({"seed": "-1"}), "seed", "minimum"),
    ];
    for (changes, field, rule) in cases {
        let (status, answer) = post(
            &emulator,
            "Run/PixVerse/text-to-video-v4",
            t2v(changes.clone()),
        )
        .await;
        assert_eq!(status, 200);
        let (code, message) = first_error(&answer);
        assert_eq!(code, 0, "{answer}");
        assert!(
            message.starts_with(&format!("{field}: ")),
            "{message:?} for {changes}"
        );
        assert!(message.contains(rule), "{message:?} lacks {rule}");
    }
    // Every problem of one body comes back at once.
    let (_, answer) = post(
        &emulator,
        "Run/PixVerse/text-to-video-v4",
        t2v(json!({"quality": "1080p", "duration": "8", "motionMode": "fast", "prompt": ""})),
    )
    .await;
    assert!(answer["errors"].as_array().unwrap().len() >= 3, "{answer}");
    assert_eq!(emulator.stats().runs_accepted, 0, "no task was created");
}

#[tokio::test]
async fn kill_refuses_a_queued_task_and_cancel_refuses_a_running_one() {
    // No run slot: every task stays queued.
    let queued = start(EmulatorConfig {
        max_running: Some(0),
        ..EmulatorConfig::with_speed(1000.0)
    })
    .await;
    let (taskid, token) = run(&queued, t2v(json!({}))).await;
    wait_status(&queued, &taskid, "task_queue").await;
    let (_, answer) = post(&queued, "Task/Kill", json!({"taskid": taskid})).await;
    let (code, message) = first_error(&answer);
    assert_eq!(code, 0);
    assert!(
        message.contains("queued") && message.contains("Task/Cancel"),
        "{message}"
    );
    let (_, answer) = post(&queued, "Task/Cancel", json!({"taskid": taskid})).await;
    assert_eq!(answer["result"], true, "{answer}");
    let task = &answer["tasklist"][0];
    assert_eq!(task["status"], "task_cancel");
    assert!(task["canceltime"].as_str().is_some());
    let (_, answer) = post(&queued, "Task/Cancel", json!({"taskid": taskid})).await;
    assert!(first_error(&answer).1.contains("already ended"));
    assert_eq!(
        follow(&queued, &token).await.last().unwrap()["type"],
        "task_cancel"
    );

    // Speed 1: a task runs for a few seconds.
    let running = start(EmulatorConfig::with_speed(1.0)).await;
    let (taskid, token) = run(&running, t2v(json!({}))).await;
    wait_status(&running, &taskid, "task_start").await;
    let (_, answer) = post(&running, "Task/Cancel", json!({"taskid": taskid})).await;
    let (code, message) = first_error(&answer);
    assert_eq!(code, 0);
    assert!(
        message.contains("running") && message.contains("Task/Kill"),
        "{message}"
    );
    let (_, answer) = post(&running, "Task/Kill", json!({"socketaccesstoken": token})).await;
    assert_eq!(answer["tasklist"][0]["status"], "task_cancel", "{answer}");
    let task = detail(&running, &taskid).await;
    assert_eq!(task["status"], "task_cancel");
    assert_eq!(task["totalcost"], "0");
    assert!(task["outputs"].as_array().unwrap().is_empty());
    assert_eq!(queued.stats().cancelled + running.stats().cancelled, 2);
}

#[tokio::test]
async fn uploads_of_a_refused_type_or_over_100_mb_are_refused() {
    let emulator = fast().await;
    let exe = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"MZ\x90\x00".to_vec()).file_name("setup.exe"),
    );
    let answer: Value = post_form(&emulator, "File/Upload", exe).await;
    let (code, message) = first_error(&answer);
    assert_eq!(code, 0);
    assert!(
        message.contains("setup.exe") && message.contains("not accepted"),
        "{message}"
    );

    // 100 MiB + 1 byte, streamed in 1 MiB chunks that all share one buffer.
    let chunk = Bytes::from(vec![0u8; 1 << 20]);
    let chunks = (0..=MAX_UPLOAD_BYTES / (1 << 20)).map(move |index| {
        let piece = if index == MAX_UPLOAD_BYTES / (1 << 20) {
            chunk.slice(..1)
        } else {
            chunk.clone()
        };
        Ok::<_, std::io::Error>(piece)
    });
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let big = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::stream_with_length(body, MAX_UPLOAD_BYTES + 1)
            .file_name("huge.mp4"),
    );
    let answer: Value = post_form(&emulator, "File/Upload", big).await;
    let (code, message) = first_error(&answer);
    assert_eq!(code, 0);
    assert!(message.contains("upload limit"), "{message}");

    // A good upload is stored and served with its content type.
    let png = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\nrest".to_vec()).file_name("cat.png"),
    );
    let answer: Value = post_form(&emulator, "File/Upload", png).await;
    assert_eq!(answer["result"], true, "{answer}");
    let file = &answer["list"][0];
    assert_eq!(file["contenttype"], "image/png");
    assert_eq!(file["size"], "12");
    let served = http()
        .get(file["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().len(), 12);
}
