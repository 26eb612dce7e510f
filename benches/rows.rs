//! `run --rows`: how well a table uses the account's task slots, and what a big table costs the
//! client.
//!
//! `cargo bench --bench rows`. Two parts, each against a `wiro-nodes emulator` child process
//! (the client is another child, so its CPU time and peak memory are its own, from `wait4`):
//!
//! - **Slot use**: `ROWS_SLOT_ROWS` rows (200) against an emulator that runs at most 5 tasks
//!   at once and refuses more (code 96), every task taking the same time T. The account's ideal
//!   is ceil(rows / 5) × T plus one download; T and the download are the medians of five
//!   one-row runs of the same flow (its wait's time, less how late it noticed the end as the
//!   emulator saw it, and its download's time, from the `--json` report).
//! - **Scale**: `ROWS_SCALE_ROWS` rows (10,000) of text-to-video → wait → download: the
//!   time `validate --rows` takes for the whole table, then the run's client CPU per chain and
//!   peak RSS, with `--out` on the disk and again in memory (`/dev/shm`, when there is one):
//!   the difference is the disk's own work (syncs, a folder and a file per row).
//!
//! - **Floor**: `ROWS_FLOOR_CHAINS` chains (2,000) of the same requests and durable writes made
//!   with plain blocking calls (`rows/floor.rs`): the kernel's CPU per chain for the chain's
//!   work itself, the part of the scale's figure no client can go below.
//!
//! Every row asks for seed 7 at 360p, so the emulator encodes one clip and the bench measures
//! the client, not the encoder. `ROWS_BENCH_PART=slots`, `=scale` or `=floor` runs one part
//! only.

#[path = "rows/floor.rs"]
mod floor;
#[path = "support/mod.rs"]
mod support;

use std::path::Path;

use serde_json::Value;
use support::{count_from_env, notice_micros, run_client, EmulatorProcess};

/// Rows of the slot-use part.
const SLOT_ROWS: usize = 200;
/// Active tasks the emulator allows in the slot-use part.
const SLOTS: usize = 5;
/// One-row runs that measure T and a download.
const SINGLE_RUNS: usize = 5;
/// Rows of the scale part.
const SCALE_ROWS: usize = 10_000;
/// Chains of the floor part.
const FLOOR_CHAINS: usize = 2_000;

/// The flow every row runs: text-to-video → wait → download.
fn flow(poll_seconds: f64) -> Value {
    serde_json::json!({"version": 1, "nodes": [
        {"id": "video", "type": "pixverse/text-to-video-v4",
         "inputs": {"prompt": "x", "quality": "360p", "duration": 5, "seed": 7}},
        {"id": "wait", "type": "wiro/task.wait",
         "inputs": {"task": {"$from": "video.task"}, "poll_seconds": poll_seconds}},
        {"id": "save", "type": "wiro/output.download",
         "inputs": {"outputs": {"$from": "wait.outputs"}}}
    ]})
}

/// Writes the flow and a table of `rows` prompts into `dir`.
fn write_inputs(dir: &Path, rows: usize) {
    let flow = serde_json::to_vec(&flow(2.0)).expect("JSON");
    std::fs::write(dir.join("flow.json"), flow).expect("write the flow");
    let mut table = String::from("video.prompt\n");
    for row in 0..rows {
        table.push_str(&format!("\"clip number {row}, a fox\"\n"));
    }
    std::fs::write(dir.join("table.csv"), table).expect("write the table");
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().expect("utf-8 path").to_owned()
}

fn main() {
    let part = std::env::var("ROWS_BENCH_PART").unwrap_or_default();
    if part.is_empty() || part == "slots" {
        slot_use(count_from_env("ROWS_SLOT_ROWS", SLOT_ROWS));
    }
    if part.is_empty() || part == "scale" {
        scale(count_from_env("ROWS_SCALE_ROWS", SCALE_ROWS));
    }
    if part.is_empty() || part == "floor" {
        chain_floor(count_from_env("ROWS_FLOOR_CHAINS", FLOOR_CHAINS));
    }
}

fn chain_floor(chains: usize) {
    let emulator = EmulatorProcess::start(&["--speed", "50", "--key-only"]);
    let env = |name: &str| {
        let (_, value) = emulator
            .env
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} from the emulator"));
        value.clone()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    floor::measure(
        chains,
        &env("WIRO_BASE_URL"),
        &env("WIRO_SOCKET_URL"),
        &env("WIRO_API_KEY"),
        &dir.path().join("out"),
    );
    emulator.stop();
}

fn slot_use(rows: usize) {
    let slots = SLOTS.to_string();
    let emulator = EmulatorProcess::start(&[
        "--speed",
        "10",
        "--max-running",
        &slots,
        "--max-queued",
        "0",
    ]);
    // One row alone, SINGLE_RUNS times: how long a task takes and one download (medians).
    let (mut tasks, mut downloads) = (Vec::new(), Vec::new());
    for run in 0..SINGLE_RUNS {
        let (task, download) = one_row(&emulator, run);
        tasks.push(task);
        downloads.push(download);
    }
    let (task, download) = (median(&mut tasks), median(&mut downloads));

    let dir = tempfile::tempdir().expect("temp dir");
    write_inputs(dir.path(), rows);
    let run = run_client(
        &[
            "run",
            &path(dir.path(), "flow.json"),
            "--rows",
            &path(dir.path(), "table.csv"),
            "--out",
            &path(dir.path(), "out"),
        ],
        &emulator.env,
    );
    assert_eq!(run.status, 0, "the table's run failed");
    let stats = emulator.stats();
    emulator.stop();
    let rounds = rows.div_ceil(SLOTS);
    let ideal = rounds as f64 * task + download;
    println!("slot use: {rows} rows, {SLOTS} active tasks at most");
    println!(
        "  task time T (median of {SINGLE_RUNS} one-row runs)  {:.1} ms",
        task * 1000.0
    );
    println!(
        "  one download                   {:.1} ms",
        download * 1000.0
    );
    println!(
        "  ideal ceil({rows}/{SLOTS}) x T + download  {:.2} s",
        ideal
    );
    println!("  measured (client process)      {:.2} s", run.wall_seconds);
    println!(
        "  ratio measured / ideal         {:.3}",
        run.wall_seconds / ideal
    );
    println!(
        "  Runs accepted / refused (96)   {} / {}",
        stats["runs_accepted"], stats["runs_refused_concurrency"]
    );
}

/// The task time and the download time of a one-row run (the `run`-th on this emulator), in
/// seconds. The wait ends when the client has noticed the task's end; the emulator stamps how
/// late that was (the task's end to the download's request), so T is the task's own time.
fn one_row(emulator: &EmulatorProcess, run: usize) -> (f64, f64) {
    let single = tempfile::tempdir().expect("temp dir");
    write_inputs(single.path(), 1);
    let one = run_client(
        &[
            "run",
            &path(single.path(), "flow.json"),
            "--out",
            &path(single.path(), "out"),
            "--json",
        ],
        &emulator.env,
    );
    assert_eq!(one.status, 0, "the one-row run failed:\n{}", one.stdout);
    let report: Value = serde_json::from_str(&one.stdout).expect("the --json report");
    let seconds = |id: &str| -> f64 {
        let node = report["nodes"]
            .as_array()
            .and_then(|nodes| nodes.iter().find(|node| node["id"] == id))
            .expect("the node is in the report");
        node["elapsed"]["secs"].as_f64().unwrap_or(0.0)
            + node["elapsed"]["nanos"].as_f64().unwrap_or(0.0) / 1e9
    };
    let notice = notice_micros(&emulator.stats())
        .get(run)
        .map_or(0.0, |micros| *micros as f64 / 1e6);
    (seconds("wait") - notice, seconds("save"))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn scale(rows: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_inputs(dir.path(), rows);
    let (flow, table) = (path(dir.path(), "flow.json"), path(dir.path(), "table.csv"));
    let emulator = EmulatorProcess::start(&["--speed", "50"]);
    let mut validations: Vec<f64> = (0..3)
        .map(|_| {
            let checked = run_client(&["validate", &flow, "--rows", &table], &emulator.env);
            assert_eq!(checked.status, 0, "validate failed:\n{}", checked.stdout);
            checked.wall_seconds
        })
        .collect();
    validations.sort_by(f64::total_cmp);
    let validate_rss = run_client(&["validate", &flow, "--rows", &table], &emulator.env);
    emulator.stop();
    println!("scale: {rows} rows x 3 nodes");
    println!(
        "  validate --rows (median of 3)  {:.3} s ({:.1} MB peak RSS)",
        validations[1],
        validate_rss.max_rss_kib as f64 / 1024.0
    );
    // The run writes its journal, folders and videos on the disk, then in memory: the
    // difference is what the disk's own work (syncs, new folders and files) costs the client.
    let in_memory = Path::new("/dev/shm");
    let on_disk = tempfile::tempdir().expect("temp dir");
    let memory = in_memory
        .is_dir()
        .then(|| tempfile::tempdir_in(in_memory).expect("temp dir in /dev/shm"));
    let outs = [
        ("on disk", Some(&on_disk)),
        ("in memory (tmpfs)", memory.as_ref()),
    ];
    for (place, out) in outs {
        let Some(out) = out else {
            println!("  (no /dev/shm: no run with the outputs in memory)");
            continue;
        };
        let emulator = EmulatorProcess::start(&["--speed", "50"]);
        let out = path(out.path(), "out");
        let run = run_client(
            &["run", &flow, "--rows", &table, "--out", &out],
            &emulator.env,
        );
        assert_eq!(run.status, 0, "the table's run failed");
        let stats = emulator.stats();
        emulator.stop();
        println!("  the outputs {place}:");
        println!("    run wall                     {:.2} s", run.wall_seconds);
        println!("    client CPU                   {:.3} s", run.cpu_seconds);
        println!(
            "    client CPU per chain         {:.3} ms",
            run.cpu_seconds * 1000.0 / rows as f64
        );
        println!(
            "    client peak RSS              {:.1} MB",
            run.max_rss_kib as f64 / 1024.0
        );
        println!(
            "    Runs accepted                {}",
            stats["runs_accepted"]
        );
    }
}
