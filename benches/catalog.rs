//! The model catalog at scale: `catalog sync --all` of 300 models from an emulator, then
//! `nodes --json` (every spec built) and `validate` (only the nodes a workflow uses) with that
//! 300-model catalog; wall time (median) and peak resident memory of each child.
//!
//! `cargo bench --bench catalog` (`CATALOG_BENCH_RUNS=N` runs per command, default 20;
//! `CATALOG_BENCH_MODELS=N` models in all, default 300).

#[path = "support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs the binary with `args` in `dir` and `env`; wall seconds and peak MiB.
fn once(dir: &std::path::Path, args: &[&str], env: &[(String, String)]) -> (f64, f64) {
    let started = Instant::now();
    // Reaped by `wait4` in `support::reap`, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(support::binary())
        .current_dir(dir)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let (status, usage) = support::reap(child.id());
    assert_eq!(status, 0, "{args:?} failed");
    (
        started.elapsed().as_secs_f64(),
        usage.ru_maxrss as f64 / 1024.0,
    )
}

fn measure(name: &str, runs: usize, run: impl Fn() -> (f64, f64)) {
    let mut times = Vec::new();
    let mut peak: f64 = 0.0;
    for _ in 0..runs {
        let (seconds, mib) = run();
        times.push(seconds * 1e3);
        peak = peak.max(mib);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{name:<40} {:>10.2} {:>10.2} {peak:>12.1}",
        times[times.len() / 2],
        times[times.len() - 1]
    );
}

fn main() {
    let runs = support::count_from_env("CATALOG_BENCH_RUNS", 20);
    let models = support::count_from_env("CATALOG_BENCH_MODELS", 300);
    // The emulator publishes 11 models of its own; the rest are generated.
    let synthetic = models.saturating_sub(11).to_string();
    let emulator = support::EmulatorProcess::start(&["--synthetic-models", &synthetic]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let flow = dir.path().join("flow.json");
    std::fs::write(
        &flow,
        r#"{"version": 1, "nodes": [{"id": "pics", "type": "wiro/image-studio",
            "inputs": {"prompt": "a fox", "numberOfOutputs": 3}}]}"#,
    )
    .expect("write the workflow");
    let catalog = dir.path().join("catalog.json");
    let mut env = emulator.env.clone();
    env.push(("WIRO_CATALOG".into(), catalog.display().to_string()));
    println!(
        "{:<40} {:>10} {:>10} {:>12}",
        "command", "median ms", "max ms", "max RSS MiB"
    );
    measure(
        &format!("catalog sync --all ({models} models)"),
        runs.min(5),
        || {
            let _ = std::fs::remove_file(&catalog);
            once(
                dir.path(),
                &["catalog", "sync", "--all", "--allow-fetch", "127.0.0.1"],
                &env,
            )
        },
    );
    measure("nodes --json", runs, || {
        once(dir.path(), &["nodes", "--json"], &env)
    });
    let flow = flow.display().to_string();
    measure("validate (one catalog node)", runs, || {
        once(dir.path(), &["validate", &flow], &env)
    });
    let size = std::fs::metadata(&catalog).map(|m| m.len()).unwrap_or(0);
    println!(
        "median and slowest of {runs} runs (sync: {}); catalog file {:.1} MiB; binary {}",
        runs.min(5),
        size as f64 / (1024.0 * 1024.0),
        support::binary().display()
    );
    emulator.stop();
}
