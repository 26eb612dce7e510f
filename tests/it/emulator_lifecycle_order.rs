//! Every documented status, in order, on the socket and through Task/Detail; a late socket
//! registration gets the current state first; a failing task shows stderr and ends unpaid.
#![cfg(feature = "emulator")]

use crate::common;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use wiro_nodes::emulator::{EmulatorConfig, Fault, Operation};

fn kinds(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|frame| frame["type"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_in_lifecycle_order(statuses: &[String]) {
    let ranks: Vec<usize> = statuses.iter().map(|status| rank(status)).collect();
    assert!(
        ranks.windows(2).all(|pair| pair[0] <= pair[1]),
        "out of order: {statuses:?}"
    );
}

#[tokio::test]
async fn the_socket_shows_every_status_in_order_and_late_listeners_get_the_current_state() {
    // Slow enough (a phase of ~100 ms at most) that registering right after Run is in time.
    let emulator = start(EmulatorConfig::with_speed(4.0)).await;
    let (taskid, token) = run(&emulator, t2v(json!({}))).await;

    let early = tokio::spawn({
        let socket_url = emulator.socket_url();
        let token = token.clone();
        async move { follow_url(&socket_url, &token).await }
    });
    wait_status(&emulator, &taskid, "task_start").await;
    let late = follow(&emulator, &token).await;
    let early = early.await.unwrap();

    let seen = kinds(&early);
    assert_eq!(seen[0], "task_queue", "registered while queued: {seen:?}");
    assert_in_lifecycle_order(&seen);
    for status in LIFECYCLE {
        assert!(
            seen.iter().any(|s| s == status),
            "{status} missing in {seen:?}"
        );
    }
    let outputs: Vec<&Value> = early
        .iter()
        .filter(|f| f["type"] == "task_output")
        .collect();
    assert!(outputs.len() >= 3, "several log lines: {seen:?}");
    assert!(outputs[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("generating frame "));
    for frame in &early {
        assert_eq!(frame["id"], taskid.as_str());
        assert_eq!(frame["tasktoken"], token.as_str());
        assert_eq!(frame["result"], true);
    }
    let last = early.last().unwrap();
    assert_eq!(last["type"], "task_postprocess_end");
    assert_eq!(last["message"][0]["name"], "0.mp4");
    assert_eq!(last["success"], true);
    assert_eq!(last["terminal"], true);
    assert_eq!(last["exitCode"], 0);

    let late_kinds = kinds(&late);
    assert!(rank(&late_kinds[0]) >= rank("task_start"), "{late_kinds:?}");
    assert_in_lifecycle_order(&late_kinds);
    assert_eq!(late_kinds.last().unwrap(), "task_postprocess_end");

    // Registering after the end gets the final frame alone, then the socket closes.
    let after = follow(&emulator, &token).await;
    assert_eq!(kinds(&after), vec!["task_postprocess_end"]);
    assert_eq!(after[0]["message"], last["message"]);
}

async fn follow_url(socket_url: &str, token: &str) -> Vec<Value> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let (mut socket, _) = tokio_tungstenite::connect_async(socket_url).await.unwrap();
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "connected");
    let register = json!({"type": "task_info", "tasktoken": token}).to_string();
    socket.send(Message::text(register)).await.unwrap();
    let mut frames = Vec::new();
    while let Some(frame) = next_json(&mut socket).await {
        frames.push(frame);
    }
    frames
}

#[tokio::test]
async fn polling_task_detail_sees_the_statuses_in_lifecycle_order() {
    let emulator = start(EmulatorConfig::with_speed(8.0)).await;
    let (taskid, _) = run(&emulator, t2v(json!({}))).await;
    let mut seen: Vec<String> = Vec::new();
    loop {
        let task = detail(&emulator, &taskid).await;
        let status = task["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "task_postprocess_end" {
            assert_eq!(task["pexit"], "0");
            assert_eq!(task["outputs"].as_array().unwrap().len(), 1);
            assert!(task["debugoutput"]
                .as_str()
                .unwrap()
                .contains("generating frame 120/120"));
            break;
        }
        assert!(
            task["outputs"].as_array().unwrap().is_empty(),
            "no outputs before the end"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_in_lifecycle_order(&seen);
    assert!(seen.len() >= 5, "polling fast sees most statuses: {seen:?}");
    assert_eq!(seen.last().unwrap(), "task_postprocess_end");
}

async fn assert_fails_unpaid(emulator: &wiro_nodes::emulator::EmulatorHandle, body: Value) {
    let (taskid, token) = run(emulator, body).await;
    let frames = follow(emulator, &token).await;
    let seen = kinds(&frames);
    assert_in_lifecycle_order(&seen);
    let error = frames
        .iter()
        .find(|frame| frame["type"] == "task_error")
        .unwrap_or_else(|| panic!("no task_error in {seen:?}"));
    assert!(error["message"].as_str().unwrap().contains("RuntimeError"));
    assert!(seen.iter().any(|s| s == "task_error_full"), "{seen:?}");
    let last = frames.last().unwrap();
    assert_eq!(last["type"], "task_postprocess_end");
    assert_eq!(last["success"], false);
    assert_eq!(last["exitCode"], 1);

    let task = detail(emulator, &taskid).await;
    assert_eq!(task["status"], "task_postprocess_end");
    assert_eq!(task["pexit"], "1");
    assert!(!task["debugerror"].as_str().unwrap().is_empty());
    assert_eq!(task["totalcost"], "0");
    assert!(task["outputs"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_failing_task_shows_stderr_and_ends_with_pexit_1_and_no_cost() {
    let emulator = start(EmulatorConfig {
        speed: 200.0,
        balance: Some(10.0),
        ..EmulatorConfig::default()
    })
    .await;
    assert_fails_unpaid(
        &emulator,
        t2v(json!({"prompt": "a rabbit [emulator:fail] and a turtle"})),
    )
    .await;
    emulator.inject(Operation::Run, Fault::TaskFails, 1);
    assert_fails_unpaid(&emulator, t2v(json!({}))).await;
    let stats = emulator.stats();
    assert_eq!(stats.failed, 2);
    assert_eq!(stats.succeeded, 0);
    assert_eq!(
        emulator.balance(),
        Some(10.0),
        "failed tasks are not billed"
    );
}

#[tokio::test]
async fn a_successful_task_is_billed_and_reported_to_its_callback() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = listener.local_addr().unwrap();
    let callback_url = format!("http://{hook}/hook");
    let received = tokio::spawn(async move {
        let (mut connection, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let read = connection.read(&mut buffer).await.unwrap();
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    let _ = connection
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return serde_json::from_str::<Value>(body).unwrap();
                }
            }
        }
    });
    // The hook listens on this machine: allowed by name, as an operator would.
    let emulator = start(EmulatorConfig {
        speed: 1000.0,
        balance: Some(10.0),
        allow_callbacks: vec![hook.to_string().parse().unwrap()],
        ..EmulatorConfig::default()
    })
    .await;
    let (taskid, _) = run(&emulator, t2v(json!({"callbackUrl": callback_url}))).await;
    let task = wait_end(&emulator, &taskid).await;
    let cost: f64 = task["totalcost"].as_str().unwrap().parse().unwrap();
    assert!(cost > 0.0);
    assert!((emulator.balance().unwrap() - (10.0 - cost)).abs() < 1e-9);
    let posted = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .expect("the callback arrives")
        .unwrap();
    assert_eq!(posted["result"], true);
    assert_eq!(posted["tasklist"][0]["id"], taskid.as_str());
    assert_eq!(posted["tasklist"][0]["status"], "task_postprocess_end");
}

#[tokio::test]
async fn a_task_waits_in_the_queue_while_max_running_tasks_run() {
    let emulator = start(EmulatorConfig {
        max_running: Some(1),
        ..EmulatorConfig::with_speed(20.0)
    })
    .await;
    let (first, _) = run(&emulator, t2v(json!({}))).await;
    let (second, _) = run(&emulator, t2v(json!({}))).await;
    wait_status(&emulator, &first, "task_start").await;
    assert_eq!(detail(&emulator, &second).await["status"], "task_queue");
    // The second leaves the queue only once the first has ended.
    loop {
        let status = detail(&emulator, &second).await["status"].clone();
        if status != "task_queue" {
            let first_status = detail(&emulator, &first).await["status"].clone();
            assert_eq!(first_status, "task_postprocess_end");
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(wait_end(&emulator, &second).await["pexit"], "0");
}
