//! Peak memory of streamed transfers: a 95 MB upload and a 400 MB download must not grow the
//! process's peak resident memory by anything like their size.
//!
//! `cargo bench --bench transfer_memory`. The server here generates and discards bodies on the
//! fly, so every byte of growth is the client's.

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiro_nodes::api::{Client, ClientConfig, Credentials};

#[path = "support/peak_rss.rs"]
mod peak_rss;
use peak_rss::peak_rss_kib;

const DOWNLOAD_BYTES: u64 = 400 * 1024 * 1024;
const UPLOAD_BYTES: u64 = 95 * 1024 * 1024;

/// Answers a GET with DOWNLOAD_BYTES of generated data, and a POST by reading and dropping the
/// body, then answering an upload envelope.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                    return;
                }
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_lowercase();
            if head.starts_with("get") {
                let answer = format!("HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: {DOWNLOAD_BYTES}\r\n\r\n");
                let _ = socket.write_all(answer.as_bytes()).await;
                let chunk = vec![0x5au8; 256 * 1024];
                let mut sent = 0;
                while sent < DOWNLOAD_BYTES {
                    let n = chunk.len().min((DOWNLOAD_BYTES - sent) as usize);
                    if socket.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    sent += n as u64;
                }
            } else {
                let length: u64 = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                let mut buffer = vec![0u8; 256 * 1024];
                let mut left = length;
                while left > 0 {
                    let n = socket.read(&mut buffer).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    left -= n as u64;
                }
                let body = format!(
                    r#"{{"result":true,"errors":[],"list":[{{"id":"1","name":"big.mp4","contenttype":"video/mp4","size":"{length}","url":"http://x/big.mp4"}}]}}"#
                );
                let answer = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
    }
}

#[tokio::main]
async fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener));
    let config =
        ClientConfig::new(Credentials::new("k", "s")).with_base_url(format!("http://{addr}/v1"));
    let client = Client::new(config).expect("client");
    let dir = tempfile::tempdir().expect("tempdir");

    let big = dir.path().join("big.mp4");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(UPLOAD_BYTES))
        .expect("sparse file");
    let before = peak_rss_kib();
    let started = Instant::now();
    let uploaded = client.upload(&big, None).await.expect("upload");
    let upload_time = started.elapsed();
    let after_upload = peak_rss_kib();
    // The server reports the multipart body it read: the file plus the part headers.
    assert!(uploaded.size.and_then(|s| s.as_u64()).unwrap_or(0) > UPLOAD_BYTES);

    let started = Instant::now();
    let file = client
        .download(
            &format!("http://{addr}/cdn/big.mp4"),
            dir.path(),
            "down.mp4",
            Some(DOWNLOAD_BYTES),
            |_| {},
        )
        .await
        .expect("download");
    let download_time = started.elapsed();
    let after_download = peak_rss_kib();
    assert_eq!(file.size, DOWNLOAD_BYTES);

    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    println!("peak RSS before: {:.1} MiB", before as f64 / 1024.0);
    println!(
        "upload   {:>5.0} MiB in {:>6.2} s: peak RSS grew {:>5.1} MiB",
        mib(UPLOAD_BYTES),
        upload_time.as_secs_f64(),
        after_upload.saturating_sub(before) as f64 / 1024.0
    );
    println!(
        "download {:>5.0} MiB in {:>6.2} s ({:.0} MiB/s, sha256 included): peak RSS grew {:>5.1} MiB",
        mib(DOWNLOAD_BYTES),
        download_time.as_secs_f64(),
        mib(DOWNLOAD_BYTES) / download_time.as_secs_f64(),
        after_download.saturating_sub(after_upload) as f64 / 1024.0
    );
}
