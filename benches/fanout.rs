//! 1,000 text-to-video → wait → download chains in one run: the client's CPU time per chain,
//! its peak resident memory, and how late it noticed the tasks' ends (p99).
//!
//! `cargo bench --bench fanout`. The emulator (`--speed 10`) and the client are separate
//! processes, so the CPU and memory figures are the client's alone (`wait4` rusage). Every
//! chain asks for the same seed: the emulator encodes one clip, and the bench measures the
//! client, not the encoder.

#[path = "support/mod.rs"]
mod support;

use support::{
    chains_workflow, count_from_env, ms, notice_micros, percentile, proc_kib, run_workflow,
    EmulatorProcess,
};

/// Chains in the run.
const CHAINS: usize = 1000;

fn main() {
    let chains = count_from_env("FANOUT_CHAINS", CHAINS);
    let emulator = EmulatorProcess::start(&["--speed", "10"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let run = run_workflow(
        dir.path(),
        &chains_workflow(chains, Some(7), 2.0),
        &emulator,
    );
    assert_eq!(run.status, 0, "the run failed:\n{}", run.stdout);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    let stats = emulator.stats();
    let notices = notice_micros(&stats);
    let emulator_peak = proc_kib(emulator.pid(), "VmHWM:");
    emulator.stop();

    println!("chains                      {chains}");
    println!("tasks in flight at most     {}", report["tasks"]["peak"]);
    println!("wall                        {:.2} s", run.wall_seconds);
    println!("client CPU                  {:.3} s", run.cpu_seconds);
    println!(
        "client CPU per chain        {:.3} ms",
        run.cpu_seconds * 1000.0 / chains as f64
    );
    println!(
        "client peak RSS             {:.1} MB",
        run.max_rss_kib as f64 / 1024.0
    );
    println!(
        "notice median / p99 / max   {:.2} / {:.2} / {:.2} ms ({} downloads)",
        ms(percentile(&notices, 50.0)),
        ms(percentile(&notices, 99.0)),
        ms(percentile(&notices, 100.0)),
        notices.len()
    );
    println!(
        "emulator peak RSS           {:.1} MB",
        emulator_peak as f64 / 1024.0
    );
}
