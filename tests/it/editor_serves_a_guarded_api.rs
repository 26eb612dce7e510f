//! The browser editor's server: its API answers only this machine's page that holds the token,
//! validates with the executor's own problem list, saves in the CLI's format, and runs a
//! workflow with live events and a downloadable video.
#![cfg(feature = "editor")]

use crate::common;
use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use wiro_nodes::hosts::editor::{Editor, EditorConfig, TOKEN_HEADER};

fn flow() -> Value {
    json!({
        "version": 1,
        "nodes": [
            { "id": "video", "type": "pixverse/text-to-video-v4",
              "inputs": { "prompt": "a paper boat", "quality": "360p" } },
            { "id": "wait", "type": "wiro/task.wait", "inputs": { "task": { "$from": "video.task" } } },
            { "id": "download", "type": "wiro/output.download",
              "inputs": { "outputs": { "$from": "wait.outputs" } } }
        ]
    })
}

#[tokio::test]
async fn the_api_refuses_a_missing_token_a_foreign_host_and_a_foreign_origin() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    let http = http();
    let url = format!("{}/api/nodes", editor_base(&editor));
    let status = |request: reqwest::RequestBuilder| async move {
        request.send().await.unwrap().status().as_u16()
    };

    assert_eq!(status(http.get(&url)).await, 401);
    assert_eq!(
        status(http.get(&url).header(TOKEN_HEADER, "0".repeat(64))).await,
        401
    );
    assert_eq!(
        status(http.get(&url).header(TOKEN_HEADER, editor.token())).await,
        200
    );
    assert_eq!(
        status(http.get(format!("{url}?token={}", editor.token()))).await,
        200
    );
    let port = editor.addr().port();
    assert_eq!(
        status(
            http.get(&url)
                .header(TOKEN_HEADER, editor.token())
                .header("host", format!("attacker.example:{port}"))
        )
        .await,
        421
    );
    assert_eq!(
        status(
            http.get(&url)
                .header(TOKEN_HEADER, editor.token())
                .header("origin", "http://127.0.0.1:1")
        )
        .await,
        403
    );
    assert_eq!(
        status(
            http.get(&url)
                .header(TOKEN_HEADER, editor.token())
                .header("origin", format!("http://localhost:{port}"))
        )
        .await,
        200
    );
    // The page itself carries no secret and loads without the token.
    let page = http
        .get(format!("{}/", editor_base(&editor)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
}

#[tokio::test]
async fn the_catalog_and_session_never_show_credentials() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    let http = http();
    for path in ["/api/nodes", "/api/session"] {
        let text = http
            .get(format!("{}{path}", editor_base(&editor)))
            .header(TOKEN_HEADER, editor.token())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !text.contains(emulator.api_key()),
            "{path} shows the API key"
        );
        if let Some(secret) = emulator.api_secret() {
            assert!(!text.contains(secret), "{path} shows the API secret");
        }
    }
}

#[tokio::test]
async fn validation_names_the_rule_on_its_node_and_field() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    let mut workflow = flow();
    workflow["nodes"][0]["inputs"]["quality"] = json!("1080p");
    workflow["nodes"][0]["inputs"]["duration"] = json!(8);
    let answer: Value = http()
        .post(format!("{}/api/validate", editor_base(&editor)))
        .header(TOKEN_HEADER, editor.token())
        .json(&workflow)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let problems = answer["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["node"] == "video" && p["rule"] == "pixverse/1080p-max-5s"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_run_that_would_fetch_from_this_machine_is_refused_before_any_request() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    // Where a cloud VM's metadata service answers, and this machine's loopback.
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.1:18777/secret.txt",
    ] {
        let workflow = json!({"version": 1, "nodes": [
            {"id": "grab", "type": "wiro/output.download",
             "inputs": {"outputs": [{"url": url, "name": "loot.txt"}]}}
        ]});
        let answer = http()
            .post(format!("{}/api/run", editor_base(&editor)))
            .header(TOKEN_HEADER, editor.token())
            .json(&json!({ "workflow": workflow }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 422, "{url}");
        let answer: Value = answer.json().await.unwrap();
        let problem = &answer["problems"][0];
        assert_eq!(problem["node"], "grab", "{answer}");
        assert_eq!(problem["path"], "outputs/0/url", "{answer}");
        assert_eq!(problem["rule"], "fetch-allowed", "{answer}");
    }
    assert!(
        !dir.path().join("out/wiro-journal.jsonl").exists(),
        "nothing was run"
    );
}

#[tokio::test]
async fn a_saved_workflow_is_what_the_cli_reads() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    let http = http();
    let saved = http
        .post(format!("{}/api/save", editor_base(&editor)))
        .header(TOKEN_HEADER, editor.token())
        .json(&json!({ "name": "flow.json", "workflow": flow() }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status().as_u16(), 200);
    let text = std::fs::read_to_string(dir.path().join("flow.json")).unwrap();
    let read = wiro_nodes::graph::Workflow::from_json(&text).unwrap();
    assert_eq!(serde_json::to_value(&read).unwrap(), flow());
    let escaping = http
        .post(format!("{}/api/save", editor_base(&editor)))
        .header(TOKEN_HEADER, editor.token())
        .json(&json!({ "name": "../flow.json", "workflow": flow() }))
        .send()
        .await
        .unwrap();
    assert_eq!(escaping.status().as_u16(), 422);
}

#[tokio::test]
async fn a_run_streams_its_events_and_serves_the_video() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    let http = http();
    let events = format!("ws://{}/api/events?token={}", editor.addr(), editor.token());
    let (mut socket, _) = tokio_tungstenite::connect_async(&events)
        .await
        .expect("the event socket opens");
    let started = http
        .post(format!("{}/api/run", editor_base(&editor)))
        .header(TOKEN_HEADER, editor.token())
        .json(&json!({ "workflow": flow() }))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status().as_u16(), 200);
    let mut kinds = Vec::new();
    let end = loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            panic!("the socket closed before the run ended: {kinds:?}");
        };
        let event: Value = serde_json::from_str(&text).unwrap();
        kinds.push(event["kind"].as_str().unwrap_or_default().to_owned());
        if event["kind"] == "run_finished" {
            break event;
        }
    };
    assert_eq!(end["outcome"], "succeeded", "{end}");
    assert!(kinds.iter().any(|k| k == "task_started"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "transfer"), "{kinds:?}");
    let file = &end["files"][0];
    assert_eq!(file["name"], "download-0.mp4");
    let url = format!("{}{}", editor_base(&editor), file["url"].as_str().unwrap());
    assert_eq!(http.get(&url).send().await.unwrap().status().as_u16(), 401);
    let video = http
        .get(format!("{url}?token={}", editor.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(video.headers()["content-type"], "video/mp4");
    let bytes = video.bytes().await.unwrap();
    let (_, _, seconds, _) = mp4_facts(&bytes);
    assert!((seconds - 5.0).abs() < 0.5, "{seconds}");
}

#[tokio::test]
async fn catalog_models_are_offered_and_priced_from_the_catalog() {
    use wiro_nodes::models::catalog::{sync, Catalog, SyncScope};
    use wiro_nodes::node::Registry;

    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::new("");
    sync(&client(&emulator), &mut catalog, &SyncScope::All, 4)
        .await
        .unwrap();
    let mut config = EditorConfig::new(client(&emulator));
    config.workspace = dir.path().to_path_buf();
    config.out_dir = dir.path().join("out");
    config.registry = Registry::from_inventory().with_source(&catalog);
    let editor = Editor::start(config).await.unwrap();
    let get = |path: &str| {
        http()
            .get(format!("{}{path}", editor_base(&editor)))
            .header(TOKEN_HEADER, editor.token())
            .send()
    };
    let nodes: Value = get("/api/nodes").await.unwrap().json().await.unwrap();
    let studio = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["type"] == "wiro/image-studio")
        .expect("the catalog's image-studio is offered");
    assert_eq!(studio["category"], "models");
    assert_eq!(studio["spends_money"], true);
    let style = &studio["inputs"]["properties"]["style"];
    assert_eq!(
        style["x-enum-labels"]["watercolor"], "Watercolour",
        "{style}"
    );
    assert!(studio["ports"]["outputs"][0]["name"] == "task");

    let workflow = json!({
        "version": 1,
        "nodes": [
            { "id": "images", "type": "wiro/image-studio",
              "inputs": { "prompt": "a lighthouse", "numberOfOutputs": 2, "width": 256, "height": 256 } },
            { "id": "wait", "type": "wiro/task.wait", "inputs": { "task": { "$from": "images.task" } } }
        ]
    });
    let answer: Value = http()
        .post(format!("{}/api/validate", editor_base(&editor)))
        .header(TOKEN_HEADER, editor.token())
        .json(&workflow)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["problems"], json!([]), "{answer}");
    let estimate = &answer["price"]["nodes"][0]["estimate"];
    assert_eq!(estimate["kind"], "known", "{answer}");
    assert!(
        (estimate["usd"].as_f64().unwrap() - 0.04).abs() < 1e-9,
        "{answer}"
    );
}
