//! Each injected fault, as a client sees it from the outside, and the counters behind them.
#![cfg(feature = "emulator")]

use crate::common;
use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use wiro_nodes::emulator::{EmulatorConfig, Fault, FaultSpec, Operation};

fn code(answer: &Value) -> i64 {
    assert_eq!(answer["result"], false, "{answer}");
    answer["errors"][0]["code"].as_i64().unwrap()
}

#[tokio::test]
async fn a_server_error_answers_500_and_runs_nothing() {
    let emulator = fast().await;
    emulator.inject(Operation::Run, Fault::ServerError, 1);
    let (status, answer) = post(&emulator, "Run/PixVerse/text-to-video-v4", t2v(json!({}))).await;
    assert_eq!(status, 500);
    assert_eq!(code(&answer), 0);
    assert_eq!(emulator.stats().runs_accepted, 0);
    // Only the first request was hit.
    run(&emulator, t2v(json!({}))).await;
    let stats = emulator.stats();
    assert_eq!(stats.requests(Operation::Run), 2);
    assert_eq!(stats.runs_accepted, 1);
}

#[tokio::test]
async fn a_run_cut_before_acting_creates_no_task() {
    let emulator = fast().await;
    emulator.inject(Operation::Run, Fault::DropBeforeEffect, 1);
    let outcome = signed(&emulator, "Run/PixVerse/text-to-video-v4")
        .json(&t2v(json!({})))
        .send()
        .await;
    let read = match outcome {
        Ok(answer) => answer.bytes().await.map(|_| ()),
        Err(problem) => Err(problem),
    };
    assert!(read.is_err(), "the client must not get a complete answer");
    let stats = emulator.stats();
    assert_eq!(stats.requests(Operation::Run), 1);
    assert_eq!(stats.runs_accepted, 0, "nothing was created");
    let (_, list) = post(&emulator, "Task/List", json!({})).await;
    assert_eq!(list["total"], "0");
}

#[tokio::test]
async fn rate_limiting_answers_429_with_retry_after() {
    let emulator = start(EmulatorConfig {
        faults: vec!["detail=429@2:2".parse().unwrap()],
        ..EmulatorConfig::with_speed(1000.0)
    })
    .await;
    for _ in 0..2 {
        let answer = signed(&emulator, "Task/Detail")
            .json(&json!({"taskid": "1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 429);
        assert_eq!(answer.headers()["retry-after"], "2");
        assert_eq!(code(&answer.json().await.unwrap()), 0);
    }
    let (status, _) = post(&emulator, "Task/Detail", json!({"taskid": "1"})).await;
    assert_eq!(status, 200, "the third request is served");
    assert_eq!(emulator.stats().requests(Operation::TaskDetail), 3);
}

#[tokio::test]
async fn a_dropped_run_connection_still_creates_exactly_one_task() {
    let emulator = fast().await;
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    let outcome = signed(&emulator, "Run/PixVerse/text-to-video-v4")
        .json(&t2v(json!({})))
        .send()
        .await;
    let read = match outcome {
        Ok(answer) => answer.bytes().await.map(|_| ()),
        Err(problem) => Err(problem),
    };
    assert!(read.is_err(), "the client must not get a complete answer");
    let stats = emulator.stats();
    assert_eq!(stats.requests(Operation::Run), 1);
    assert_eq!(
        stats.runs_accepted, 1,
        "the task exists although the answer was lost"
    );
    // The task runs to its end: its id is 2221, the first one handed out.
    let task = wait_end(&emulator, "2221").await;
    assert_eq!(task["pexit"], "0");
}

#[tokio::test]
async fn a_truncated_download_resumes_with_a_range_request() {
    let emulator = fast().await;
    let (taskid, _) = run(&emulator, t2v(json!({}))).await;
    let task = wait_end(&emulator, &taskid).await;
    let url = task["outputs"][0]["url"].as_str().unwrap().to_owned();
    let whole = download(&url).await;

    emulator.inject(Operation::Download, Fault::TruncateBody, 1);
    let answer = http().get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.content_length(),
        Some(whole.len() as u64),
        "the full length is announced"
    );
    let mut received = Vec::new();
    let mut stream = answer.bytes_stream();
    let mut failed = false;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => received.extend_from_slice(&chunk),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the body ends in an error");
    assert!(received.len() < whole.len(), "the body was cut");

    let rest = http()
        .get(&url)
        .header("range", format!("bytes={}-", received.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 206);
    assert_eq!(
        rest.headers()["content-range"],
        format!(
            "bytes {}-{}/{}",
            received.len(),
            whole.len() - 1,
            whole.len()
        )
        .as_str()
    );
    assert_eq!(rest.headers()["content-type"], "video/mp4");
    assert_eq!(
        rest.content_length(),
        Some((whole.len() - received.len()) as u64)
    );
    received.extend_from_slice(&rest.bytes().await.unwrap());
    assert_eq!(received, whole, "resumed bytes match");
    assert_eq!(emulator.stats().requests(Operation::Download), 3);
}

#[tokio::test]
async fn a_slow_answer_comes_after_the_delay() {
    let emulator = fast().await;
    let spec: FaultSpec = "detail=slow@300".parse().unwrap();
    emulator.inject_spec(spec);
    let started = Instant::now();
    let (status, _) = post(&emulator, "Task/Detail", json!({"taskid": "1"})).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_dropped_socket_closes_right_after_the_registration_reply() {
    let emulator = start(EmulatorConfig::with_speed(20.0)).await;
    let (taskid, token) = run(&emulator, t2v(json!({}))).await;
    emulator.inject(Operation::Socket, Fault::SocketDrop, 1);
    let (mut socket, _) = tokio_tungstenite::connect_async(emulator.socket_url())
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "connected");
    let register = json!({"type": "task_info", "tasktoken": token}).to_string();
    socket.send(Message::text(register)).await.unwrap();
    let current = next_json(&mut socket).await.unwrap();
    assert!(current["type"].as_str().unwrap().starts_with("task_"));
    // Nothing more: the connection ends without a closing handshake.
    match socket.next().await {
        None | Some(Err(_)) => {}
        Some(Ok(message)) => panic!("expected a dropped connection, got {message:?}"),
    }
    // The task is unaffected, and a new socket follows it to the end.
    let frames = follow(&emulator, &token).await;
    assert_eq!(frames.last().unwrap()["type"], "task_postprocess_end");
    assert_eq!(detail(&emulator, &taskid).await["pexit"], "0");
    assert_eq!(emulator.stats().requests(Operation::Socket), 2);
}

#[tokio::test]
async fn an_unknown_socket_token_gets_an_error_frame() {
    let emulator = fast().await;
    let frames = follow(&emulator, "no-such-token").await;
    assert_eq!(
        frames,
        vec![json!({"type": "error", "message": "unknown task token", "result": false})]
    );
}

#[tokio::test]
async fn concurrency_and_balance_limits_answer_96_and_97_without_a_task() {
    let emulator = fast().await;
    emulator.inject(Operation::Run, Fault::ConcurrencyLimit, 1);
    emulator.inject(Operation::Run, Fault::InsufficientBalance, 1);
    let (status, answer) = post(&emulator, "Run/PixVerse/text-to-video-v4", t2v(json!({}))).await;
    assert_eq!((status, code(&answer)), (200, 96));
    let (status, answer) = post(&emulator, "Run/PixVerse/text-to-video-v4", t2v(json!({}))).await;
    assert_eq!((status, code(&answer)), (200, 97));
    let stats = emulator.stats();
    assert_eq!(stats.runs_accepted, 0);
    assert_eq!(
        (stats.runs_refused_concurrency, stats.runs_refused_balance),
        (1, 1),
        "refusals are counted apart from accepted Runs"
    );

    // The same codes from the configured limits.
    let limited = start(EmulatorConfig {
        max_running: Some(0),
        max_queued: Some(1),
        balance: Some(0.5),
        ..EmulatorConfig::with_speed(1000.0)
    })
    .await;
    run(&limited, t2v(json!({}))).await;
    let (_, answer) = post(&limited, "Run/PixVerse/text-to-video-v4", t2v(json!({}))).await;
    assert_eq!(code(&answer), 96);
    assert_eq!(limited.stats().runs_accepted, 1);
    assert_eq!(limited.stats().runs_refused_concurrency, 1);
    let poor = start(EmulatorConfig {
        balance: Some(0.1),
        ..EmulatorConfig::with_speed(1000.0)
    })
    .await;
    let (_, answer) = post(&poor, "Run/PixVerse/text-to-video-v4", t2v(json!({}))).await;
    assert_eq!(code(&answer), 97);
    assert!(answer["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("costs"));
    poor.set_balance(Some(5.0));
    run(&poor, t2v(json!({}))).await;
}

#[tokio::test]
async fn every_operation_is_counted_even_when_a_fault_answers() {
    let emulator = fast().await;
    for operation in [
        Operation::FolderCreate,
        Operation::ToolList,
        Operation::ToolDetail,
    ] {
        emulator.inject(operation, Fault::ServerError, 1);
    }
    let (status, _) = post(&emulator, "File/FolderCreate", json!({"name": "inputs"})).await;
    assert_eq!(status, 500);
    let (_, answer) = post(&emulator, "File/FolderCreate", json!({"name": "inputs"})).await;
    assert_eq!(answer["list"][0]["name"], "inputs");
    let (_, answer) = post(&emulator, "File/FolderCreate", json!({"name": "no spaces"})).await;
    assert_eq!(code(&answer), 0);
    assert_eq!(post(&emulator, "Tool/List", json!({})).await.0, 500);
    let (_, answer) = post(&emulator, "Tool/List", json!({})).await;
    // PixVerse v4's two models, then the nine described as data.
    assert_eq!(answer["tool"].as_array().unwrap().len(), 11);
    assert_eq!(answer["tool"][0]["slugproject"], "text-to-video-v4");
    assert_eq!(post(&emulator, "Tool/Detail", json!({})).await.0, 500);
    let (_, answer) = post(
        &emulator,
        "Tool/Detail",
        json!({"slugowner": "PixVerse", "slugproject": "text-to-video-v4"}),
    )
    .await;
    let groups = answer["tool"][0]["parameters"].as_array().unwrap();
    let quality = groups
        .iter()
        .flat_map(|group| group["items"].as_array().unwrap())
        .find(|p| p["id"] == "quality")
        .unwrap();
    assert_eq!(quality["default"], "540p");
    assert_eq!(quality["options"].as_array().unwrap().len(), 4);
    let stats = emulator.stats();
    assert_eq!(stats.requests(Operation::FolderCreate), 3);
    assert_eq!(stats.requests(Operation::ToolList), 2);
    assert_eq!(stats.requests(Operation::ToolDetail), 2);
    assert_eq!(stats.requests(Operation::Run), 0);
}
