//! The emulator's memory during and after 1,000 tasks that each have their own clip, and the
//! most clips it encoded at once.
//!
//! `cargo bench --bench emulator_memory`. The emulator (`--speed 10`) and the client are
//! separate processes; a thread samples the emulator's `VmRSS` from `/proc` every 100 ms.

#[path = "support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::{chains_workflow, count_from_env, proc_kib, run_workflow, EmulatorProcess};

/// Tasks in the soak.
const TASKS: usize = 1000;

fn main() {
    let tasks = count_from_env("SOAK_TASKS", TASKS);
    let emulator = EmulatorProcess::start(&["--speed", "10"]);
    let pid = emulator.pid();
    let idle = proc_kib(pid, "VmRSS:");
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(proc_kib(pid, "VmRSS:"));
                std::thread::sleep(Duration::from_millis(100));
            }
            peak
        })
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let run = run_workflow(dir.path(), &chains_workflow(tasks, None, 2.0), &emulator);
    done.store(true, Ordering::Relaxed);
    let during = sampler.join().expect("sampler");
    assert_eq!(run.status, 0, "the run failed:\n{}", run.stdout);
    let right_after = proc_kib(pid, "VmRSS:");
    std::thread::sleep(Duration::from_secs(3));
    let later = proc_kib(pid, "VmRSS:");
    // What the resident memory is: the heap and other anonymous memory, or mapped files
    // (the binary's own code among them).
    let (anon, file) = (proc_kib(pid, "RssAnon:"), proc_kib(pid, "RssFile:"));
    let stats = emulator.stats();
    emulator.stop();

    let mb = |kib: u64| kib as f64 / 1024.0;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("tasks (each its own 360p clip)   {tasks}");
    println!("wall                             {:.1} s", run.wall_seconds);
    println!("emulator RSS, before any task   {:.1} MB", mb(idle));
    println!("emulator RSS, most while running {:.1} MB", mb(during));
    println!("emulator RSS, right after        {:.1} MB", mb(right_after));
    println!("emulator RSS, 3 s after          {:.1} MB", mb(later));
    println!(
        "  of which anonymous / files      {:.1} / {:.1} MB",
        mb(anon),
        mb(file)
    );
    println!(
        "encoders at once, most           {} (cores: {cores})",
        stats["encoders_peak"]
    );
}
