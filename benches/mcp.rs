//! The MCP server at scale: `tools/list` (every page) with a 300-model catalog, cold (the
//! first listing builds every tool) and warm; and how late an agent hears that a task ended —
//! from the emulator publishing `task_postprocess_end` to the client reading the progress
//! notification that says so, over Streamable HTTP on the same machine (one clock).
//!
//! `cargo bench --bench mcp` (`MCP_BENCH_RUNS=N` listings, default 20; `MCP_BENCH_MODELS=N`
//! models, default 300; `MCP_BENCH_CALLS=N` paid calls for the latency, default 10). The
//! client speaks raw JSON-RPC over HTTP (an initialize-era session), so the figures are the
//! server's and the wire's, not a client library's.

#[path = "support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::{json, Value};

/// An initialize-era session with the server.
struct Session {
    http: reqwest::Client,
    url: String,
    id: String,
    next: u64,
}

impl Session {
    async fn open(url: &str) -> Self {
        let http = reqwest::Client::new();
        let answer = http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "1"}}})
                .to_string(),
            )
            .send()
            .await
            .expect("initialize");
        let id = answer
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .expect("a session id")
            .to_owned();
        let _ = answer.bytes().await;
        let mut session = Self {
            http,
            url: url.to_owned(),
            id,
            next: 1,
        };
        session
            .post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await
            .bytes()
            .await
            .expect("initialized");
        session
    }

    async fn post(&mut self, body: Value) -> reqwest::Response {
        self.http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", "2025-06-18")
            .body(body.to_string())
            .send()
            .await
            .expect("a request")
    }

    /// Sends a request; calls `on_message` with each JSON-RPC message of the answer's stream
    /// and its arrival time, until the response with the request's id.
    async fn request(
        &mut self,
        method: &str,
        params: Value,
        mut on_message: impl FnMut(&Value, SystemTime),
    ) -> Value {
        self.next += 1;
        let id = self.next;
        let answer = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        let mut stream = answer.bytes_stream();
        let mut pending = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap_or_else(|error| panic!("{method}: {error}"));
            let now = SystemTime::now();
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find('\n') {
                let line = pending[..end].trim_end().to_owned();
                pending.drain(..=end);
                let Some(data) = line.strip_prefix("data:") else {
                    continue;
                };
                let Ok(message) = serde_json::from_str::<Value>(data.trim()) else {
                    continue;
                };
                on_message(&message, now);
                if message["id"] == json!(id) {
                    return message;
                }
            }
        }
        panic!("{method}: the stream ended without an answer");
    }

    /// Every tool, page after page.
    async fn list_all(&mut self) -> usize {
        let (mut count, mut cursor) = (0, None::<String>);
        loop {
            let params = match &cursor {
                Some(cursor) => json!({"cursor": cursor}),
                None => json!({}),
            };
            let answer = self.request("tools/list", params, |_, _| {}).await;
            count += answer["result"]["tools"].as_array().map_or(0, Vec::len);
            match answer["result"]["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return count,
            }
        }
    }
}

fn unix_micros(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros() as u64)
}

fn main() {
    // reqwest is built without a default TLS provider (as the crate's client is).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runs = support::count_from_env("MCP_BENCH_RUNS", 20);
    let models = support::count_from_env("MCP_BENCH_MODELS", 300);
    let calls = support::count_from_env("MCP_BENCH_CALLS", 10);
    let synthetic = models.saturating_sub(11).to_string();
    let emulator =
        support::EmulatorProcess::start(&["--synthetic-models", &synthetic, "--speed", "10"]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let catalog = dir.path().join("catalog.json");
    let mut env = emulator.env.clone();
    env.push(("WIRO_CATALOG".into(), catalog.display().to_string()));
    let synced = Command::new(support::binary())
        .args(["catalog", "sync", "--all"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("catalog sync");
    assert!(synced.success(), "catalog sync failed");
    let mut server = Command::new(support::binary())
        .current_dir(dir.path())
        .args(["mcp", "--http", "--out", "out", "--wait-seconds", "60"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the MCP server starts");
    let mut first = String::new();
    let mut out = BufReader::new(server.stdout.take().expect("stdout"));
    out.read_line(&mut first).expect("its URL");
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let url = first
        .trim()
        .strip_prefix("MCP server: ")
        .expect("MCP server: URL")
        .to_owned();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let mut session = Session::open(&url).await;
        let started = Instant::now();
        let tools = session.list_all().await;
        let cold = started.elapsed().as_secs_f64() * 1e3;
        let mut warm = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            session.list_all().await;
            warm.push(started.elapsed().as_secs_f64() * 1e3);
        }
        warm.sort_by(f64::total_cmp);
        println!(
            "tools/list, every page ({tools} tools): cold {cold:.1} ms; warm median {:.1} ms, slowest {:.1} ms of {runs}",
            warm[warm.len() / 2],
            warm[warm.len() - 1]
        );
        let mut late = Vec::new();
        for call in 0..calls {
            let mut heard = None;
            let params = json!({
                "name": "pixverse_text-to-video-v4",
                "arguments": {"prompt": format!("bench call {call}"), "max_cost_usd": 10},
                "_meta": {"progressToken": call},
            });
            let answer = session
                .request("tools/call", params, |message, at| {
                    let said = message["params"]["message"].as_str().unwrap_or("");
                    if said == "status: task_postprocess_end" && heard.is_none() {
                        heard = Some(unix_micros(at));
                    }
                })
                .await;
            assert_eq!(
                answer["result"]["structuredContent"]["state"], "completed",
                "{answer}"
            );
            let ended = emulator.stats()["ended_unix_micros"]
                .as_array()
                .and_then(|all| all.last())
                .and_then(Value::as_u64)
                .expect("the emulator's end time");
            late.push(heard.expect("the end was heard").saturating_sub(ended));
        }
        late.sort_unstable();
        println!(
            "task end -> agent's progress notification ({calls} paid calls): median {:.1} ms, slowest {:.1} ms",
            support::ms(late[late.len() / 2]),
            support::ms(late[late.len() - 1])
        );
    });
    let _ = server.kill();
    let _ = server.wait();
    emulator.stop();
}
