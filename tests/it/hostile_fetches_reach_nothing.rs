//! A workflow someone else wrote cannot make this machine fetch from its own network: every
//! spelling of a loopback address, a redirect into loopback, a name that resolves to loopback,
//! `file://` and `ftp://` are refused through `run`, `node exec`, the client itself and the
//! emulator's webhooks, and a local "metadata" server counts zero requests. The normal chain
//! still downloads its video.
#![cfg(feature = "cli")]

use crate::common;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiro_nodes::api::{Error, OutputFile};
use wiro_nodes::emulator::Operation;

/// A server that answers every request with `answer`, on 127.0.0.1 (and on [::1] at the same
/// port where this machine has IPv6), counting the requests that reach it.
struct Server {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl Server {
    async fn start(answer: String) -> Self {
        let v4 = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = v4.local_addr().expect("bound").port();
        let v6 = TcpListener::bind(("::1", port)).await.ok();
        let requests = Arc::new(AtomicUsize::new(0));
        let answer: &'static str = Box::leak(answer.into_boxed_str());
        for listener in std::iter::once(v4).chain(v6) {
            let counted = requests.clone();
            tokio::spawn(async move {
                while let Ok((mut socket, _)) = listener.accept().await {
                    let counted = counted.clone();
                    tokio::spawn(async move {
                        let mut head = Vec::new();
                        let mut buffer = [0u8; 1024];
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match socket.read(&mut buffer).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => head.extend_from_slice(&buffer[..n]),
                            }
                        }
                        counted.fetch_add(1, Ordering::SeqCst);
                        let _ = socket.write_all(answer.as_bytes()).await;
                        let _ = socket.shutdown().await;
                    });
                }
            });
        }
        Self { port, requests }
    }

    /// A "metadata service" holding a secret.
    async fn metadata() -> Self {
        Self::start(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret"
                .into(),
        )
        .await
    }

    /// A server that redirects every request to `location`.
    async fn redirecting_to(location: &str) -> Self {
        Self::start(format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ))
        .await
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Every way of writing the metadata server's address (and two schemes) a fetch must refuse.
fn hostile_urls(port: u16) -> Vec<String> {
    [
        "http://127.0.0.1:{port}/secret.txt",
        "http://localhost:{port}/secret.txt",
        "http://127.1:{port}/secret.txt",
        "http://2130706433:{port}/secret.txt",
        "http://0x7f000001:{port}/secret.txt",
        "http://0177.0.0.1:{port}/secret.txt",
        "http://[::1]:{port}/secret.txt",
        "http://[::ffff:127.0.0.1]:{port}/secret.txt",
        "http://0.0.0.0:{port}/secret.txt",
        "file:///etc/passwd",
        "ftp://127.0.0.1:{port}/secret.txt",
    ]
    .iter()
    .map(|template| template.replace("{port}", &port.to_string()))
    .collect()
}

/// The shared workflow of the report: fetch a URL, then upload what came back.
fn grab_and_leak(url: &str) -> Value {
    json!({"version": 1, "nodes": [
        {"id": "grab", "type": "wiro/output.download",
         "inputs": {"outputs": [{"url": url, "name": "loot.txt"}]}},
        {"id": "leak", "type": "wiro/file.upload",
         "inputs": {"path": {"$from": "grab.files.0.path"}}}
    ]})
}

/// What `wiro-nodes run` did with a workflow: its exit status, stdout and stderr together,
/// and the folder it ran in (downloads in `out/`).
struct Ran {
    code: Option<i32>,
    shown: String,
    dir: tempfile::TempDir,
}

/// Writes `workflow` into a new folder and runs it against `emulator` (as if it were the real
/// API), adding `configure`'s arguments and environment.
async fn run(
    emulator: &wiro_nodes::emulator::EmulatorHandle,
    workflow: &Value,
    configure: impl FnOnce(&mut tokio::process::Command),
) -> Ran {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("wf.json");
    std::fs::write(&file, workflow.to_string()).expect("written");
    let mut command = binary_for(emulator);
    command
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"));
    configure(&mut command);
    let done = command.output().await.expect("the binary runs");
    Ran {
        code: done.status.code(),
        shown: format!(
            "{}{}",
            String::from_utf8_lossy(&done.stdout),
            String::from_utf8_lossy(&done.stderr)
        ),
        dir,
    }
}

#[tokio::test]
async fn run_refuses_every_spelling_of_a_local_address_before_any_request() {
    let metadata = Server::metadata().await;
    let emulator = fast_emulator().await;
    for url in hostile_urls(metadata.port) {
        let ran = run(&emulator, &grab_and_leak(&url), |_| {}).await;
        assert_eq!(ran.code, Some(2), "{url}: {}", ran.shown);
        assert!(
            ran.shown.contains(r#"node "grab", input "outputs/0/url""#)
                && ran.shown.contains("nothing was sent"),
            "{url}: {}",
            ran.shown
        );
    }
    assert_eq!(
        metadata.requests(),
        0,
        "no request reached the metadata server"
    );
    assert_eq!(emulator.stats().requests(Operation::ToolDetail), 0);
    assert_eq!(emulator.stats().requests(Operation::Upload), 0);
}

#[tokio::test]
async fn node_exec_refuses_every_spelling_of_a_local_address_before_any_request() {
    let metadata = Server::metadata().await;
    let out = tempfile::tempdir().expect("a temporary folder");
    for url in hostile_urls(metadata.port) {
        let inputs = json!({"outputs": [{"url": url, "name": "loot.txt"}]});
        let done = binary()
            .args(["node", "exec", "wiro/output.download", "--inputs"])
            .arg(inputs.to_string())
            .arg("--out")
            .arg(out.path())
            .output()
            .await
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(2), "{url}: {stderr}");
        assert!(
            stderr.contains("wiro/output.download")
                && stderr.contains("outputs/0/url")
                && stderr.contains("[fetch-allowed]"),
            "{url}: {stderr}"
        );
    }
    assert_eq!(
        metadata.requests(),
        0,
        "no request reached the metadata server"
    );
}

#[tokio::test]
async fn a_redirect_or_a_name_into_loopback_is_refused_at_its_hop() {
    let metadata = Server::metadata().await;
    let emulator = fast_emulator().await;
    let inside = format!("http://127.0.0.1:{}/secret.txt", metadata.port);
    let by_name = format!("http://localhost:{}/secret.txt", metadata.port);
    for (target, says) in [(&inside, "loopback"), (&by_name, "resolves to")] {
        // An "outside" host the operator allowed, which points inside.
        let outside = Server::redirecting_to(target).await;
        let url = format!("http://127.0.0.1:{}/video.mp4", outside.port);
        let allowed = format!("127.0.0.1:{}", outside.port);
        let ran = run(&emulator, &grab_and_leak(&url), |command| {
            command.arg("--allow-fetch").arg(allowed);
        })
        .await;
        let shown = ran.shown;
        assert_eq!(ran.code, Some(1), "{target}: {shown}");
        assert!(
            shown.contains("grab failed")
                && shown.contains(&format!("{target} is not fetched"))
                && shown.contains(says),
            "{target}: {shown}"
        );
        assert_eq!(outside.requests(), 1, "the allowed host was asked once");
    }
    assert_eq!(
        metadata.requests(),
        0,
        "no request reached the metadata server"
    );
    assert_eq!(
        emulator.stats().requests(Operation::Upload),
        0,
        "nothing leaked"
    );
}

#[tokio::test]
async fn even_a_url_the_api_handed_out_never_reaches_inside_the_network() {
    let metadata = Server::metadata().await;
    let emulator = fast_emulator().await;
    let client = client(&emulator);
    let dir = tempfile::tempdir().expect("a temporary folder");
    for url in hostile_urls(metadata.port) {
        let output: OutputFile = serde_json::from_value(json!({
            "name": "loot.txt",
            "url": url,
            "seal": client.fetch_rules().seal(&url),
        }))
        .expect("an output file");
        let error = client
            .download_output(&output, dir.path(), "loot.txt", |_| {})
            .await
            .expect_err("refused");
        assert!(
            matches!(error, Error::FetchRefused { .. }),
            "{url}: {error}"
        );
    }
    assert_eq!(
        metadata.requests(),
        0,
        "no request reached the metadata server"
    );
    // The seal is what lets a public host through; a changed URL has none that fits.
    let video = finished_video(&client).await;
    assert!(video.seal.is_some(), "the API's outputs come sealed");
    let file = client
        .download_output(&video, dir.path(), "video.mp4", |_| {})
        .await
        .expect("the API's own output downloads");
    assert!(file.size > 0);
}

#[tokio::test]
async fn allowing_a_host_by_name_lets_a_workflow_fetch_from_it() {
    let metadata = Server::metadata().await;
    let emulator = fast_emulator().await;
    let url = format!("http://127.0.0.1:{}/secret.txt", metadata.port);
    let workflow = json!({"version": 1, "nodes": [
        {"id": "grab", "type": "wiro/output.download",
         "inputs": {"outputs": [{"url": url, "name": "notes.txt"}]}}
    ]});
    let allowed = format!("127.0.0.1:{}", metadata.port);
    let ran = run(&emulator, &workflow, |command| {
        command.env("WIRO_ALLOW_FETCH", allowed);
    })
    .await;
    assert_eq!(ran.code, Some(0), "{}", ran.shown);
    let fetched = std::fs::read(ran.dir.path().join("out/grab-notes.txt")).expect("downloaded");
    assert_eq!(fetched, b"secret");
    assert_eq!(metadata.requests(), 1);
}

#[tokio::test]
async fn a_runs_callback_url_into_this_machine_is_never_posted() {
    let metadata = Server::metadata().await;
    let emulator = emulator(wiro_nodes::emulator::EmulatorConfig::with_speed(500.0)).await;
    let http = hostile_urls(metadata.port).into_iter();
    for url in http.filter(|url| url.starts_with("http://")) {
        let (taskid, _) = common::run(&emulator, t2v(json!({ "callbackUrl": url }))).await;
        wait_end(&emulator, &taskid).await;
    }
    // Webhooks leave in the background when a task ends: give them time to arrive.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        metadata.requests(),
        0,
        "no webhook reached the metadata server"
    );
}
