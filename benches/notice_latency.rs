//! How late the client notices a task's end: the time from the emulator publishing
//! `task_postprocess_end` to the client's first request for the task's output file, over the
//! WebSocket and by polling only (the emulator refusing every socket), with 1 and with 1,000
//! tasks in flight.
//!
//! `cargo bench --bench notice_latency`. The emulator and the client are separate processes
//! (the release `wiro-nodes` binary); the emulator stamps both ends, so the figure is the
//! client's reaction plus one local HTTP round trip.

#[path = "support/mod.rs"]
mod support;

use support::{
    chains_workflow, count_from_env, ms, notice_micros, percentile, run_workflow, EmulatorProcess,
};

/// Single-task runs per case, for a median and a p99 of something.
const SINGLE_RUNS: usize = 20;
/// Tasks in flight in the big case.
const MANY: usize = 1000;
/// `poll_seconds` of every wait: the interval polling must notice within.
const POLL_SECONDS: f64 = 1.0;

fn main() {
    let many = count_from_env("NOTICE_TASKS", MANY);
    println!(
        "{:<28} {:>7} {:>10} {:>10} {:>10}",
        "case", "tasks", "median ms", "p99 ms", "max ms"
    );
    for (label, socket_refused) in [("socket", false), ("polling only (socket 500)", true)] {
        let mut args = vec!["--speed", "10"];
        if socket_refused {
            args.extend(["--fault", "socket=500:100000000"]);
        }
        // One task at a time, SINGLE_RUNS times.
        let emulator = EmulatorProcess::start(&args);
        for run in 0..SINGLE_RUNS {
            let dir = tempfile::tempdir().expect("temp dir");
            let done = run_workflow(
                dir.path(),
                &chains_workflow(1, Some(7), POLL_SECONDS),
                &emulator,
            );
            assert_eq!(done.status, 0, "run {run} failed:\n{}", done.stdout);
        }
        report(label, 1, &notice_micros(&emulator.stats()));
        emulator.stop();

        // MANY tasks at once.
        let emulator = EmulatorProcess::start(&args);
        let dir = tempfile::tempdir().expect("temp dir");
        let done = run_workflow(
            dir.path(),
            &chains_workflow(many, Some(7), POLL_SECONDS),
            &emulator,
        );
        assert_eq!(done.status, 0, "the big run failed:\n{}", done.stdout);
        report(label, many, &notice_micros(&emulator.stats()));
        emulator.stop();
    }
    println!(
        "(polling interval: {POLL_SECONDS} s; tasks at emulator --speed 10, 360p, one shared clip)"
    );
}

fn report(label: &str, tasks: usize, micros: &[u64]) {
    println!(
        "{:<28} {:>7} {:>10.2} {:>10.2} {:>10.2}",
        label,
        tasks,
        ms(percentile(micros, 50.0)),
        ms(percentile(micros, 99.0)),
        ms(percentile(micros, 100.0)),
    );
}
