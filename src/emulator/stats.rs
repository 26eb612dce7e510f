//! `Stats`: what the emulator has seen, for tests and the command line's summary.

use std::collections::BTreeMap;

use super::faults::Operation;

/// Counters since the emulator started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests per operation, counted on arrival (also when a fault or an error answers).
    pub requests: BTreeMap<Operation, u64>,
    /// Faults that acted per operation, armed or drawn at random.
    pub faults: BTreeMap<Operation, u64>,
    /// Runs that created a task (including a Run whose answer was then cut by a fault).
    pub runs_accepted: u64,
    /// Runs answered with code 96 (concurrency limit): nothing was started.
    pub runs_refused_concurrency: u64,
    /// Runs answered with code 97 (insufficient balance): nothing was started.
    pub runs_refused_balance: u64,
    /// Tasks that ended with `task_postprocess_end` and `pexit "0"`.
    pub succeeded: u64,
    /// Tasks that ended with `task_postprocess_end` and a non-zero `pexit`.
    pub failed: u64,
    /// Tasks that ended with `task_cancel` (cancelled while queued or killed while running).
    pub cancelled: u64,
    /// For each task output downloaded so far: microseconds from the task's end
    /// (`task_postprocess_end` published) to the first request for its file, in arrival order.
    /// How late a client noticed the end.
    pub notice_micros: Vec<u64>,
    /// For each task output: when its task's end was published, in microseconds since the
    /// Unix epoch, in order (a client on the same machine measures how late it heard of it).
    pub ended_unix_micros: Vec<u64>,
    /// The most clips that were being encoded at once.
    pub encoders_peak: u64,
}

impl Stats {
    /// Requests seen for one operation.
    pub fn requests(&self, operation: Operation) -> u64 {
        self.requests.get(&operation).copied().unwrap_or(0)
    }

    /// The counters as JSON, as `GET /emulator/stats` serves them: `runs_accepted`,
    /// `runs_refused_concurrency`, `runs_refused_balance`, `succeeded`, `failed`, `cancelled`,
    /// `notice_micros`, `ended_unix_micros`, `encoders_peak`, and `requests` and `faults` by operation name.
    pub fn to_json(&self) -> serde_json::Value {
        let by_name =
            |counts: &BTreeMap<Operation, u64>| -> serde_json::Map<String, serde_json::Value> {
                counts
                    .iter()
                    .map(|(operation, count)| (operation.to_string(), (*count).into()))
                    .collect()
            };
        serde_json::json!({
            "runs_accepted": self.runs_accepted,
            "runs_refused_concurrency": self.runs_refused_concurrency,
            "runs_refused_balance": self.runs_refused_balance,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "notice_micros": self.notice_micros,
            "ended_unix_micros": self.ended_unix_micros,
            "encoders_peak": self.encoders_peak,
            "requests": by_name(&self.requests),
            "faults": by_name(&self.faults),
        })
    }

    /// Tasks that reached a terminal status.
    pub fn finished(&self) -> u64 {
        self.succeeded + self.failed + self.cancelled
    }
}
