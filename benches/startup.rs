//! Start-up of the `wiro-nodes` binary: wall time and peak resident memory of `--help`,
//! `nodes --json`, `schema`, `validate`, and `node exec` up to its first request.
//!
//! `cargo bench --bench startup` (`STARTUP_BENCH_RUNS=N` changes the runs per command).
//! Each command runs many times as a child process; the peak memory is the child's
//! `ru_maxrss` from `wait4`. `validate` and `node exec` talk to a local server here (the
//! key and address come from the environment, as an engine would set them): it answers
//! every request with a refusal at once, and notes when `node exec`'s first request
//! arrives, which is where that command's time stops (the child is then killed).

#[path = "support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Answers every request on the connection with a JSON refusal, and reports each request's
/// arrival on `arrived`.
fn answer(mut socket: TcpStream, arrived: mpsc::Sender<Instant>) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match socket.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let _ = arrived.send(Instant::now());
            let text = String::from_utf8_lossy(&head[..end]).to_lowercase();
            let length: usize = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let mut body = head.len() - end - 4;
            while body < length {
                match socket.read(&mut buffer) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => body += n,
                }
            }
            head.clear();
            let json = r#"{"result":false,"errors":[{"code":0,"message":"startup bench"}]}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{json}",
                json.len()
            );
            if socket.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// Waits for the child and returns its peak resident memory in KiB.
fn wait_peak_kib(pid: u32) -> u64 {
    support::reap(pid).1.ru_maxrss as u64
}

/// One run: wall time (to exit, or to the first request when `to_request`) and peak KiB.
fn once(
    args: &[&str],
    env: &[(&str, String)],
    arrivals: &mpsc::Receiver<Instant>,
    to_request: bool,
) -> (Duration, u64) {
    while arrivals.try_recv().is_ok() {}
    let mut command = Command::new(support::binary());
    command
        .args(args)
        .env_remove("WIRO_API_KEY")
        .env_remove("WIRO_API_SECRET")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    // Reaped by `wait4` in `wait_peak_kib`, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = command.spawn().expect("the binary starts");
    let pid = child.id();
    if to_request {
        let at = arrivals
            .recv_timeout(Duration::from_secs(10))
            .expect("node exec sends a request");
        // SAFETY: the child is not reaped yet, so the pid is still ours.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        let peak = wait_peak_kib(pid);
        (at - started, peak)
    } else {
        let peak = wait_peak_kib(pid);
        (started.elapsed(), peak)
    }
}

fn main() {
    let runs: usize = std::env::var("STARTUP_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (arrived, arrivals) = mpsc::channel();
    std::thread::spawn(move || {
        for socket in listener.incoming().flatten() {
            let arrived = arrived.clone();
            std::thread::spawn(move || answer(socket, arrived));
        }
    });
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/text-to-video.json");
    let api = [
        ("WIRO_API_KEY", "bench-key".to_owned()),
        ("WIRO_API_SECRET", "bench-secret".to_owned()),
        ("WIRO_BASE_URL", format!("http://{addr}/v1")),
        ("WIRO_SOCKET_URL", format!("ws://{addr}/v1")),
    ];
    let cases: [(&str, Vec<&str>, bool, bool); 6] = [
        ("--help", vec!["--help"], false, false),
        ("nodes --json", vec!["nodes", "--json"], false, false),
        (
            "schema pixverse/text-to-video-v4",
            vec!["schema", "pixverse/text-to-video-v4"],
            false,
            false,
        ),
        (
            "validate (local server)",
            vec!["validate", example],
            true,
            false,
        ),
        (
            "validate (embedded emulator)",
            vec!["validate", example],
            false,
            false,
        ),
        (
            "node exec wiro/task.detail, to 1st request",
            vec![
                "node",
                "exec",
                "wiro/task.detail",
                "--inputs",
                r#"{"task":{"taskid":"1","socketaccesstoken":"t"}}"#,
            ],
            true,
            true,
        ),
    ];
    println!(
        "{:<44} {:>10} {:>8} {:>11} {:>8}",
        "command", "median ms", "x help", "max RSS MiB", "x help"
    );
    let mut help = (0.0, 0.0);
    for (name, args, with_api, to_request) in cases {
        let env: &[(&str, String)] = if with_api { &api } else { &[] };
        let mut times = Vec::new();
        let mut peaks = Vec::new();
        for _ in 0..runs {
            let (time, peak) = once(&args, env, &arrivals, to_request);
            times.push(time.as_secs_f64() * 1e3);
            peaks.push(peak as f64 / 1024.0);
        }
        times.sort_by(f64::total_cmp);
        peaks.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let peak = peaks[peaks.len() - 1];
        if name == "--help" {
            help = (median, peak);
        }
        println!(
            "{name:<44} {median:>10.2} {:>7.1}x {peak:>11.1} {:>7.1}x",
            median / help.0,
            peak / help.1
        );
    }
    println!(
        "median of {runs} runs; max RSS is the highest ru_maxrss of the runs; binary {}",
        support::binary().display()
    );
}
