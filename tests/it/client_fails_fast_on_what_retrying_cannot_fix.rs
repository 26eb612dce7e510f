//! What trying again cannot fix fails at the first try, saying what is wrong: a host name that
//! does not exist, an address that is not http(s), and a redirect (API calls carry the key and
//! never follow one; downloads follow up to 10, to http and https only). The error names where
//! a redirect pointed.
//!
//! Each client here waits an hour between tries, so a retry would show as a test that never
//! ends; `no_retry` turns that into a failure with a message.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiro_nodes::api::{Client, ClientConfig, Credentials, Error, RetryPolicy, TaskLookup};

/// A client of `base_url` that would wait an hour before any second try.
fn patient_client(base_url: &str) -> Client {
    let config = ClientConfig::new(Credentials::new("key", "secret"))
        .with_base_url(base_url)
        .with_retry(RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(3600),
            max_backoff: Duration::from_secs(3600),
            deadline: Duration::from_secs(7200),
        });
    Client::new(config).expect("a valid configuration")
}

/// The operation's error, or a failure if it was still trying after 20 s (it retried).
async fn no_retry<T: std::fmt::Debug>(
    call: impl std::future::Future<Output = Result<T, Error>>,
) -> Error {
    tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("failed at the first try instead of waiting to retry")
        .expect_err("the call cannot succeed")
}

/// A server on 127.0.0.1 that answers every request with `answer` and counts the requests.
async fn answering(answer: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let origin = format!("http://{}", listener.local_addr().expect("bound"));
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                if read_request(&mut socket).await {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
            });
        }
    });
    (origin, requests)
}

/// Reads one request's head and its `Content-Length` body; false if the peer left first.
async fn read_request(socket: &mut tokio::net::TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while seen.len() < head_end + length {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
    }
    true
}

fn video() -> serde_json::Map<String, serde_json::Value> {
    serde_json::json!({ "prompt": "a fox", "quality": "360p" })
        .as_object()
        .cloned()
        .expect("an object")
}

#[tokio::test]
async fn a_host_name_that_does_not_exist_fails_at_once_naming_it() {
    // RFC 6761: names under .invalid never exist.
    let client = patient_client("http://wiro-nodes.invalid/v1");
    let error = no_retry(client.task_detail(TaskLookup::Id("1".into()))).await;
    assert!(matches!(error, Error::BadAddress { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("\"wiro-nodes.invalid\" does not resolve"),
        "{message}"
    );
    assert!(!error.is_transient());
    // A Run is refused the same way, and nothing can have been started.
    let error = no_retry(client.run("PixVerse/text-to-video-v4", &video())).await;
    assert!(matches!(error, Error::BadAddress { .. }), "{error:?}");
}

#[tokio::test]
async fn an_api_redirect_is_never_followed_and_says_where_it_pointed() {
    let (origin, requests) = answering(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: https://elsewhere.example/v1/Run/PixVerse/text-to-video-v4\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    let client = patient_client(&format!("{origin}/v1"));
    let error = no_retry(client.run("PixVerse/text-to-video-v4", &video())).await;
    assert!(matches!(error, Error::BadAddress { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("HTTP 307")
            && message.contains("https://elsewhere.example/v1/Run/PixVerse/text-to-video-v4")
            && message.contains("WIRO_BASE_URL"),
        "{message}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 1, "sent once, not retried");

    let error = no_retry(client.task_detail(TaskLookup::Id("1".into()))).await;
    assert!(matches!(error, Error::BadAddress { .. }), "{error:?}");
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_download_redirected_off_http_fails_at_once_naming_the_target() {
    let (origin, requests) = answering(
        "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    let client = patient_client(&format!("{origin}/v1"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("{origin}/cdn/0.mp4");
    let error = no_retry(client.download(&url, dir.path(), "0.mp4", None, |_| {})).await;
    assert!(matches!(error, Error::BadAddress { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("HTTP 302") && message.contains("file:///etc/passwd"),
        "{message}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    assert!(
        std::fs::read_dir(dir.path())
            .expect("listed")
            .next()
            .is_none(),
        "no file and no partial file is left"
    );
}

#[tokio::test]
async fn an_output_address_that_is_not_http_is_refused_before_any_request() {
    let client = patient_client("http://127.0.0.1:9/v1");
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (url, why) in [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://127.0.0.1/0.mp4", "only http and https"),
        ("not a url", "not a URL"),
    ] {
        let error = no_retry(client.download(url, dir.path(), "0.mp4", None, |_| {})).await;
        assert!(
            matches!(error, Error::FetchRefused { .. }),
            "{url}: {error:?}"
        );
        assert!(error.to_string().contains(why), "{error}");
    }
}

#[tokio::test]
async fn a_download_follows_an_http_redirect_and_names_a_dead_target() {
    // A CDN may redirect: followed, and the file arrives whole.
    let (file_server, _) = answering(
        "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await;
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nLocation: {file_server}/0.mp4\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (origin, _) = answering(Box::leak(redirect.into_boxed_str())).await;
    // The file server is another host than the API's: the operator allowed it (every port of
    // 127.0.0.1, so that the dead target below is dialled too).
    let client = Client::new(
        ClientConfig::new(Credentials::new("key", "secret"))
            .with_base_url(format!("{origin}/v1"))
            .with_allow_fetch(["127.0.0.1".parse().expect("a host")])
            .with_retry(RetryPolicy {
                max_attempts: 2,
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(10),
                deadline: Duration::from_secs(5),
            }),
    )
    .expect("a valid configuration");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = client
        .download(
            &format!("{origin}/cdn/0.mp4"),
            dir.path(),
            "0.mp4",
            Some(5),
            |_| {},
        )
        .await
        .expect("the redirect is followed");
    assert_eq!(std::fs::read(&file.path).expect("written"), b"hello");

    // A redirect to a port nobody listens on: the error says where it went.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let dead = format!("http://{}/0.mp4", closed.local_addr().expect("bound"));
    drop(closed);
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nLocation: {dead}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (origin, _) = answering(Box::leak(redirect.into_boxed_str())).await;
    let error = client
        .download(
            &format!("{origin}/cdn/0.mp4"),
            dir.path(),
            "1.mp4",
            None,
            |_| {},
        )
        .await
        .expect_err("nobody serves the target");
    assert!(
        error
            .to_string()
            .contains(&format!("after a redirect to {dead}")),
        "{error}"
    );
}
