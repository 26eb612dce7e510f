//! Helpers shared by the benches that run the `wiro-nodes` binary as child processes: the
//! emulator in one process, the client in another, so each one's CPU time and memory are its
//! own.
#![allow(dead_code)]

#[path = "peak_rss.rs"]
mod peak_rss;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// The `wiro-nodes` binary cargo built for this bench, or the one `WIRO_NODES_BIN` names (to
/// measure an older build with the same bench).
pub fn binary() -> PathBuf {
    std::env::var_os("WIRO_NODES_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wiro-nodes")))
}

/// A `wiro-nodes emulator` child process.
pub struct EmulatorProcess {
    child: Child,
    /// `host:port` it listens on.
    pub addr: String,
    /// The environment that points a client at it.
    pub env: Vec<(String, String)>,
}

impl EmulatorProcess {
    /// Starts `wiro-nodes emulator ARGS` and reads the four `export` lines it prints.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(binary())
            .arg("emulator")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the emulator starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut env = Vec::new();
        for _ in 0..4 {
            let line = lines.next().expect("an export line").expect("utf-8");
            let (name, value) = line
                .strip_prefix("export ")
                .and_then(|rest| rest.split_once('='))
                .expect("export NAME=VALUE");
            env.push((name.to_owned(), value.to_owned()));
        }
        let base = &env
            .iter()
            .find(|(n, _)| n == "WIRO_BASE_URL")
            .expect("base")
            .1;
        let addr = base
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
            .to_owned();
        Self { child, addr, env }
    }

    /// The emulator's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `GET /emulator/stats`.
    pub fn stats(&self) -> Value {
        let mut stream = TcpStream::connect(&self.addr).expect("connect to the emulator");
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        write!(
            stream,
            "GET /emulator/stats HTTP/1.0\r\nHost: {}\r\n\r\n",
            self.addr
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        serde_json::from_str(body).expect("stats JSON")
    }

    /// Stops it with SIGINT (it removes what it stored) and waits for it.
    pub fn stop(mut self) {
        // SAFETY: signalling our own child by its id.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
    }
}

/// A count from the environment variable `name` (to shrink or grow a bench), else `default`.
pub fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A line of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`); 0 when the process is gone.
pub fn proc_kib(pid: u32, field: &str) -> u64 {
    peak_rss::status_kib(&pid.to_string(), field)
}

/// Waits for the child `pid` (not reaped yet) and returns its exit status and resource use.
pub fn reap(pid: u32) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child, with valid pointers.
    let waited = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid as libc::pid_t, "wait4 reaps the child");
    (status, usage)
}

/// What a finished client process used.
pub struct ClientRun {
    /// Exit status.
    pub status: i32,
    /// User plus system CPU seconds.
    pub cpu_seconds: f64,
    /// Peak resident memory (`ru_maxrss`), KiB.
    pub max_rss_kib: u64,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// What it printed on stdout.
    pub stdout: String,
}

/// Runs `wiro-nodes ARGS` with `env` and measures it with `wait4`.
// The child is reaped by `wait4`, which clippy does not know for a `wait`.
#[allow(clippy::zombie_processes)]
pub fn run_client(args: &[&str], env: &[(String, String)]) -> ClientRun {
    let started = std::time::Instant::now();
    let mut child = Command::new(binary())
        .args(args)
        .envs(env.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the client starts");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    let (status, usage) = reap(child.id());
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    ClientRun {
        status: libc::WEXITSTATUS(status),
        cpu_seconds: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss as u64,
        wall_seconds: started.elapsed().as_secs_f64(),
        stdout,
    }
}

/// A workflow of `chains` text-to-video → wait → download chains at 360p. With `seed`, every
/// clip is the same (the emulator encodes it once); without, each task has its own clip.
pub fn chains_workflow(chains: usize, seed: Option<u32>, poll_seconds: f64) -> Value {
    let mut nodes = Vec::new();
    for chain in 0..chains {
        let mut inputs = json!({ "prompt": format!("clip number {chain}"), "quality": "360p" });
        if let Some(seed) = seed {
            inputs["seed"] = json!(seed);
        }
        nodes.push(json!({ "id": format!("v{chain}"), "type": "pixverse/text-to-video-v4", "inputs": inputs }));
        nodes.push(json!({ "id": format!("v{chain}-wait"), "type": "wiro/task.wait",
            "inputs": { "task": { "$from": format!("v{chain}.task") }, "poll_seconds": poll_seconds } }));
        nodes.push(
            json!({ "id": format!("v{chain}-get"), "type": "wiro/output.download",
            "inputs": { "outputs": { "$from": format!("v{chain}-wait.outputs") } } }),
        );
    }
    json!({ "version": 1, "nodes": nodes })
}

/// Writes `workflow` into a new folder under `dir` and runs it with the client against
/// `emulator`, `--json`.
pub fn run_workflow(dir: &Path, workflow: &Value, emulator: &EmulatorProcess) -> ClientRun {
    let file = dir.join("workflow.json");
    std::fs::write(&file, serde_json::to_vec(workflow).expect("JSON")).expect("write workflow");
    let out = dir.join("out");
    run_client(
        &[
            "run",
            file.to_str().expect("utf-8 path"),
            "--out",
            out.to_str().expect("utf-8 path"),
            "--json",
        ],
        &emulator.env,
    )
}

/// The `p`-th percentile (0–100) of `values`, nearest rank; 0 when empty.
pub fn percentile(values: &[u64], p: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The emulator's notice latencies (task end → first download request), microseconds.
pub fn notice_micros(stats: &Value) -> Vec<u64> {
    stats["notice_micros"]
        .as_array()
        .map(|all| all.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// Milliseconds, for printing.
pub fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}
