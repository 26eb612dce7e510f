//! Resident memory from `/proc/PROCESS/status`, shared by the benches that report it.
#![allow(dead_code)]

/// Peak resident set size of this process, in KiB (Linux `VmHWM`; 0 elsewhere).
pub fn peak_rss_kib() -> u64 {
    status_kib("self", "VmHWM:")
}

/// A line of `/proc/PROCESS/status` in KiB (`VmRSS:`, `VmHWM:`), for a pid or `self`; 0 when
/// the process is gone or the line is missing.
pub fn status_kib(process: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}
