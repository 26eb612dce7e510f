//! The MCP server as an agent meets it, over Streamable HTTP on 127.0.0.1 against the
//! emulator (raw JSON-RPC, an initialize-era client that cannot be asked): every refusal sends
//! nothing and names its reason; a call under its cap makes one Run whose video the agent
//! reads back; the same call again pays nothing; the server's budget holds.
//! (scripts/ci/mcp.sh drives the same server with the official Python SDK, both revisions.)

#![cfg(all(feature = "mcp", feature = "emulator"))]

use base64::Engine;
use serde_json::{json, Value};
use wiro_nodes::emulator::Operation;
use wiro_nodes::hosts::mcp::{serve_http, HttpServer, McpConfig};
use wiro_nodes::node::Registry;

use crate::common;

const PAID: &str = "pixverse_text-to-video-v4";

/// An initialize-era session: requests and their answers (read from the event stream).
struct Session {
    http: reqwest::Client,
    url: String,
    id: String,
    next: u64,
}

impl Session {
    async fn open(server: &HttpServer) -> Self {
        let http = common::http();
        let url = server.url();
        let answer = http
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "test", "version": "1"}}})
                .to_string(),
            )
            .send()
            .await
            .expect("initialize");
        assert!(answer.status().is_success(), "{}", answer.status());
        let id = answer.headers()["mcp-session-id"]
            .to_str()
            .expect("a session id")
            .to_owned();
        let _ = answer.bytes().await;
        let session = Self {
            http,
            url,
            id,
            next: 0,
        };
        session
            .post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        session
    }

    async fn post(&self, body: Value) -> String {
        let answer = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", "2025-06-18")
            .body(body.to_string())
            .send()
            .await
            .expect("a request");
        answer.text().await.expect("an answer")
    }

    /// The result of `method`, or the JSON-RPC error.
    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let text = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        text.lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
            .find(|message| message["id"] == json!(id))
            .unwrap_or_else(|| panic!("{method}: no answer in {text}"))
    }

    async fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let answer = self
            .request("tools/call", json!({"name": tool, "arguments": arguments}))
            .await;
        answer["result"].clone()
    }
}

fn text_of(result: &Value) -> String {
    result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|block| block["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An emulator, and a server over it with its outputs in a fresh folder's `out`.
async fn served() -> (
    wiro_nodes::emulator::EmulatorHandle,
    tempfile::TempDir,
    HttpServer,
) {
    let emulator = common::fast().await;
    let dir = tempfile::tempdir().expect("a folder");
    let mut config = McpConfig::new(common::client(&emulator), Registry::from_inventory());
    config.out_dir = dir.path().join("out");
    let server = serve_http(config, "127.0.0.1:0".parse().unwrap(), None)
        .await
        .expect("the server starts");
    (emulator, dir, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_pays_once_for_what_it_was_allowed_and_nothing_for_the_rest() {
    let emulator = common::fast().await;
    let dir = tempfile::tempdir().expect("a folder");
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).expect("files");
    let mut config = McpConfig::new(common::client(&emulator), Registry::from_inventory());
    config.files_dir = Some(files.clone());
    config.out_dir = dir.path().join("out");
    let server = serve_http(config.clone(), "127.0.0.1:0".parse().unwrap(), None)
        .await
        .expect("the server starts");
    let mut agent = Session::open(&server).await;

    let listed = agent.request("tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().expect("tools");
    let paid = tools
        .iter()
        .find(|tool| tool["name"] == PAID)
        .expect("the paid tool");
    assert!(paid["inputSchema"]["properties"]["max_cost_usd"].is_object());
    assert_eq!(paid["outputSchema"]["type"], "object");

    let video = json!({"prompt": "a kite over hills", "duration": 5, "quality": "540p"});
    let uncapped = agent.call(PAID, video.clone()).await;
    assert_eq!(uncapped["isError"], true);
    assert!(text_of(&uncapped).contains("max_cost_usd"), "{uncapped}");
    let low = agent
        .call(PAID, json!({"prompt": "a kite over hills", "duration": 5, "quality": "540p", "max_cost_usd": 0.01}))
        .await;
    assert!(text_of(&low).contains("above max_cost_usd"), "{low}");
    let wrong = agent
        .call(
            PAID,
            json!({"prompt": "a kite", "duration": 7, "max_cost_usd": 5}),
        )
        .await;
    assert!(text_of(&wrong).contains("duration"), "{wrong}");
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "not for agents").expect("a file outside the files folder");
    let outside = agent
        .call(
            "wiro_file_upload",
            json!({"path": secret.display().to_string()}),
        )
        .await;
    assert!(
        text_of(&outside).contains("is outside the folders"),
        "{outside}"
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&secret, files.join("link.txt")).expect("a symlink");
        let linked = agent
            .call("wiro_file_upload", json!({"path": "link.txt"}))
            .await;
        assert!(
            text_of(&linked).contains("is outside the folders"),
            "{linked}"
        );
    }
    assert_eq!(emulator.stats().runs_accepted, 0, "no refusal sent a Run");
    assert_eq!(emulator.stats().requests(Operation::Upload), 0);

    let mut allowed = video.clone();
    allowed["max_cost_usd"] = json!(5);
    let done = agent.call(PAID, allowed.clone()).await;
    let report = &done["structuredContent"];
    assert_eq!(report["state"], "completed", "{done}");
    assert_eq!(emulator.stats().runs_accepted, 1);
    let file = &report["files"][0];
    let on_disk = std::fs::read(file["path"].as_str().expect("a path")).expect("the video");
    let read = agent
        .request("resources/read", json!({"uri": file["uri"]}))
        .await;
    let blob = read["result"]["contents"][0]["blob"]
        .as_str()
        .expect("a blob");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .expect("base64");
    assert_eq!(bytes, on_disk);
    assert_eq!(&bytes[4..8], b"ftyp");

    let again = agent.call(PAID, allowed).await;
    assert_eq!(again["structuredContent"]["repeated"], true, "{again}");
    assert_eq!(again["structuredContent"]["task_id"], report["task_id"]);
    assert_eq!(emulator.stats().runs_accepted, 1, "the repeat paid nothing");

    // A client that retries before the first answer came: two identical calls at once.
    let mut other = Session::open(&server).await;
    let twice = json!({"prompt": "two at once", "max_cost_usd": 5});
    let (one, two) = tokio::join!(agent.call(PAID, twice.clone()), other.call(PAID, twice));
    assert_eq!(
        emulator.stats().runs_accepted,
        2,
        "one Run for the two: {one} {two}"
    );
    assert_eq!(
        one["structuredContent"]["task_id"],
        two["structuredContent"]["task_id"]
    );
    let repeated = [&one, &two]
        .iter()
        .filter(|answer| answer["structuredContent"]["repeated"] == true)
        .count();
    assert_eq!(repeated, 1);

    let followed = agent
        .call("wiro_follow_task", json!({"task_id": "no-such-task"}))
        .await;
    assert!(
        text_of(&followed).contains("not started by this server"),
        "{followed}"
    );
    drop(server);

    let mut budgeted = config;
    budgeted.max_cost_usd = Some(0.01);
    budgeted.out_dir = dir.path().join("out-budget");
    let server = serve_http(budgeted, "127.0.0.1:0".parse().unwrap(), None)
        .await
        .expect("the server starts");
    let mut agent = Session::open(&server).await;
    let over = agent
        .call(PAID, json!({"prompt": "another kite", "max_cost_usd": 5}))
        .await;
    assert!(text_of(&over).contains("budget"), "{over}");
    assert_eq!(
        emulator.stats().runs_accepted,
        2,
        "past the budget nothing is sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_answer_was_lost_is_found_not_sent_again() {
    let emulator = common::fast().await;
    let dir = tempfile::tempdir().expect("a folder");
    let mut config = McpConfig::new(common::client(&emulator), Registry::from_inventory());
    config.out_dir = dir.path().join("out");
    let call = json!({"prompt": "a lost answer", "max_cost_usd": 5});
    let server = serve_http(config.clone(), "127.0.0.1:0".parse().unwrap(), None)
        .await
        .expect("the server starts");
    let first = Session::open(&server).await.call(PAID, call.clone()).await;
    let task_id = first["structuredContent"]["task_id"].clone();
    server.stop().await;
    assert_eq!(emulator.stats().runs_accepted, 1);

    // The server died after Wiro accepted the Run and before its journal said so: keep
    // the `sending` line, drop what came after.
    let journal = config.out_dir.join(".mcp-journal.jsonl");
    let text = std::fs::read_to_string(&journal).expect("the journal");
    let kept: Vec<&str> = text
        .lines()
        .take_while(|line| !line.contains("\"started\""))
        .collect();
    assert!(kept.iter().any(|line| line.contains("\"sending\"")));
    std::fs::write(&journal, kept.join("\n") + "\n").expect("the cut journal");

    let server = serve_http(config, "127.0.0.1:0".parse().unwrap(), None)
        .await
        .expect("the server starts again");
    let again = Session::open(&server).await.call(PAID, call).await;
    assert_eq!(again["structuredContent"]["task_id"], task_id, "{again}");
    assert_eq!(again["structuredContent"]["repeated"], true);
    assert_eq!(
        emulator.stats().runs_accepted,
        1,
        "found in Task/List, not sent again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_never_takes_the_task_another_server_here_holds() {
    let emulator = common::fast().await;
    let dir = tempfile::tempdir().expect("a folder");
    let call = json!({"prompt": "the same call twice", "max_cost_usd": 5});
    let mut task_of = Vec::new();
    for (out, lose) in [("first", false), ("second", true)] {
        let mut config = McpConfig::new(common::client(&emulator), Registry::from_inventory());
        config.out_dir = dir.path().join(out);
        config.state_dir = Some(dir.path().join("state"));
        if lose {
            // Made on the server, its answer lost: the task list holds both tasks now.
            emulator.inject(
                Operation::Run,
                wiro_nodes::emulator::Fault::DropConnection,
                1,
            );
        }
        let server = serve_http(config, "127.0.0.1:0".parse().unwrap(), None)
            .await
            .expect("the server starts");
        let answer = Session::open(&server).await.call(PAID, call.clone()).await;
        task_of.push(answer["structuredContent"]["task_id"].clone());
        server.stop().await;
    }
    assert_eq!(emulator.stats().runs_accepted, 2);
    assert!(task_of[1].is_string(), "{task_of:?}");
    assert_ne!(
        task_of[0], task_of[1],
        "each server holds the task it paid for"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_a_cap_could_not_price_are_refused_before_any_request() {
    let (emulator, _dir, server) = served().await;
    let mut session = Session::open(&server).await;
    let model = "PixVerse/text-to-video-v4";
    for (parameters, rule) in [
        // A workflow's wire, which would have priced the model's defaults ($0.45) and sent
        // 1080p ($1.20).
        (
            json!({"$from": "x", "prompt": "p", "quality": "1080p", "duration": "5"}),
            "[reference]",
        ),
        // One of the model's names in another case: its default would run, and be charged.
        (
            json!({"prompt": "p", "Quality": "720p", "duration": "8"}),
            "[parameter-name]",
        ),
        // Sent as written, the server would get "8.0".
        (json!({"prompt": "p", "duration": "8.0"}), "[whole-number]"),
    ] {
        let arguments = json!({"model": model, "parameters": parameters, "max_cost_usd": 0.5});
        let answer = session.call("wiro_model_run", arguments).await;
        let text = text_of(&answer);
        assert_eq!(answer["isError"], true, "{answer}");
        assert!(
            text.contains(rule) && text.contains("nothing was sent"),
            "{text}"
        );
    }
    server.stop().await;
    assert_eq!(emulator.stats().runs_accepted, 0);
    assert_eq!(
        emulator.stats().requests(Operation::ToolDetail),
        0,
        "refused before the price was asked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_calls_at_once_each_get_the_one_tasks_files() {
    let (emulator, _dir, server) = served().await;
    let call = json!({"prompt": "five at once", "max_cost_usd": 5});
    let mut sessions = Vec::new();
    for _ in 0..5 {
        sessions.push(Session::open(&server).await);
    }
    let calls = sessions
        .iter_mut()
        .map(|session| session.call(PAID, call.clone()));
    let answers = futures_util::future::join_all(calls).await;
    assert_eq!(emulator.stats().runs_accepted, 1);
    for answer in &answers {
        let report = &answer["structuredContent"];
        assert_eq!(report["state"], "completed", "{answer}");
        let path = report["files"][0]["path"].as_str().expect("a file");
        assert_eq!(&std::fs::read(path).expect("the video")[4..8], b"ftyp");
    }
    server.stop().await;
}
