//! Drives one task through Wiro's statuses, with timing scaled by the configured speed:
//! `task_queue → task_accept → task_preprocess_start → task_preprocess_end → task_assign →
//! task_start → task_output… → task_output_full → task_end → task_postprocess_start →
//! task_postprocess_end`. A failing task writes `task_error` lines instead of finishing its
//! output and ends with `pexit "1"`; Kill and Cancel end it at `task_cancel` (see
//! `routes/tasks.rs`), after which this driver only stops. What the task makes is its
//! [`Work`]: the same phases for every model.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::api::wire::{OutputFile, Task, TaskStatus, WireNumber};

use super::basics::{lock, now_secs};
use super::callback;
use super::faults::Fault;
use super::state::Shared;
use super::task_book::TaskEntry;
use super::work::{store, Made, Work};

/// Progress lines written while a task runs.
const OUTPUT_LINES: u32 = 5;

/// Milliseconds each phase takes at speed 1.0.
mod phase_ms {
    pub const QUEUE: f64 = 400.0;
    pub const ACCEPT: f64 = 200.0;
    pub const PREPROCESS: f64 = 300.0;
    pub const ASSIGN: f64 = 200.0;
    pub const START: f64 = 300.0;
    pub const OUTPUT_LINE: f64 = 400.0;
    pub const END: f64 = 200.0;
    pub const POSTPROCESS: f64 = 300.0;
}

/// Why a task fails on purpose: a fault says so, or its prompt asks for it.
pub(crate) fn failure_reason(work: &Work, fault: Option<Fault>) -> Option<&'static str> {
    if fault == Some(Fault::TaskFails) {
        Some("a run=fail fault was injected")
    } else if work.prompt().contains("[emulator:fail]") {
        Some("the prompt asks for it with [emulator:fail]")
    } else {
        None
    }
}

/// Runs a task to its end (or until it is killed, cancelled or the emulator stops).
pub(crate) async fn drive(
    shared: Arc<Shared>,
    id: String,
    work: Work,
    fail: Option<&'static str>,
    stop: CancellationToken,
) {
    let driver = Driver {
        shared: &shared,
        id: &id,
        stop: &stop,
        slowness: if work.prompt().contains(SLOW_MARK) {
            100.0
        } else {
            1.0
        },
    };
    if let Some((record, callback)) = driver.run(&work, fail).await {
        ended(&shared, &record, callback);
    }
}

/// What happens once a task has ended, whoever ended it: counters and the callback.
pub(crate) fn ended(shared: &Shared, record: &Task, callback_url: Option<String>) {
    shared.count_end(record);
    if let Some(url) = callback_url {
        callback::send(shared.callback_client(), url, record.clone());
    }
}

/// A prompt holding this runs its task 100 times slower than the emulator's speed: a task
/// still running when a test looks again.
pub(crate) const SLOW_MARK: &str = "[emulator:slow]";

struct Driver<'a> {
    shared: &'a Arc<Shared>,
    id: &'a str,
    stop: &'a CancellationToken,
    /// What the phases' times are multiplied by (see [`SLOW_MARK`]).
    slowness: f64,
}

impl Driver<'_> {
    /// Waits `ms` (scaled by the speed); `None` when the task was stopped meanwhile.
    async fn pause(&self, ms: f64) -> Option<()> {
        let speed = if self.shared.config.speed > 0.0 {
            self.shared.config.speed
        } else {
            1.0
        };
        let delay = Duration::from_secs_f64(ms * self.slowness / 1000.0 / speed);
        if delay < Duration::from_millis(1) {
            // Tokio's timer has millisecond ticks: at very high speeds a sleep would round
            // every phase up to a whole millisecond.
            tokio::task::yield_now().await;
            return (!self.stop.is_cancelled()).then_some(());
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => Some(()),
            _ = self.stop.cancelled() => None,
        }
    }

    /// Changes the task under the lock; `None` when it has already ended (killed).
    fn update<T>(&self, change: impl FnOnce(&mut TaskEntry) -> T) -> Option<T> {
        let mut book = lock(&self.shared.tasks);
        let entry = book.by_id.get_mut(self.id)?;
        if entry.is_terminal() || self.stop.is_cancelled() {
            return None;
        }
        Some(change(entry))
    }

    fn publish(&self, status: TaskStatus, message: Value) -> Option<()> {
        self.update(|entry| entry.publish(status, message))
    }

    /// Appends a line to `debugoutput` (or `debugerror`) and publishes it as `status`.
    fn log(&self, status: TaskStatus, line: String) -> Option<()> {
        self.update(|entry| {
            let log = if status == TaskStatus::Error {
                &mut entry.record.debugerror
            } else {
                &mut entry.record.debugoutput
            };
            let text = log.get_or_insert_with(String::new);
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&line);
            entry.publish(status, json!(line));
        })
    }

    async fn run(&self, work: &Work, fail: Option<&str>) -> Option<(Task, Option<String>)> {
        self.pause(phase_ms::QUEUE).await?;
        let _slot = match &self.shared.slots {
            Some(slots) => tokio::select! {
                permit = slots.acquire() => Some(permit.ok()?),
                _ = self.stop.cancelled() => return None,
            },
            None => None,
        };
        for (status, ms) in [
            (TaskStatus::Accept, phase_ms::ACCEPT),
            (TaskStatus::PreprocessStart, phase_ms::PREPROCESS),
            (TaskStatus::PreprocessEnd, phase_ms::ACCEPT),
            (TaskStatus::Assign, phase_ms::ASSIGN),
        ] {
            self.publish(status, Value::Null)?;
            self.pause(ms).await?;
        }
        let started = Instant::now();
        self.update(|entry| {
            entry.record.starttime = Some(WireNumber::from(now_secs()));
            entry.publish(TaskStatus::Start, Value::Null);
        })?;
        // Dropping `making` (the task killed, the emulator stopping) stops the work.
        let making = fail.is_none().then(|| work.start(self.shared, self.id));
        self.pause(phase_ms::START).await?;
        let lines = if fail.is_some() { 2 } else { OUTPUT_LINES };
        for line in 1..=lines {
            let text = work.progress(self.id, line, OUTPUT_LINES);
            self.log(TaskStatus::Output, text)?;
            self.pause(phase_ms::OUTPUT_LINE).await?;
        }
        let outcome = match (fail, making) {
            (Some(reason), _) => Err(format!(
                "RuntimeError: the emulated model failed on purpose: {reason}"
            )),
            (None, Some(making)) => tokio::select! {
                done = making => done
                    .map_err(|problem| format!("the output task failed: {problem}"))
                    .and_then(|made| made),
                _ = self.stop.cancelled() => return None,
            },
            (None, None) => Err("no work was started".into()),
        };
        match outcome {
            Ok(made) => self.succeed(started, made).await,
            Err(line) => self.fail(started, line).await,
        }
    }

    /// The phases after a success: the full log, the end, post-processing, the outputs.
    async fn succeed(&self, started: Instant, made: Made) -> Option<(Task, Option<String>)> {
        let full = self.update(|entry| entry.record.debugoutput.clone().unwrap_or_default())?;
        self.publish(TaskStatus::OutputFull, json!(full))?;
        self.pause(phase_ms::END).await?;
        self.publish(TaskStatus::End, Value::Null)?;
        self.pause(phase_ms::POSTPROCESS).await?;
        self.publish(TaskStatus::PostprocessStart, Value::Null)?;
        self.pause(phase_ms::POSTPROCESS).await?;
        if self.stop.is_cancelled() {
            return None;
        }
        match store(self.shared, made).await {
            Ok(outputs) => {
                let urls: Vec<String> = outputs.iter().map(|output| output.url.clone()).collect();
                let done = self.finish(started, Ok(outputs));
                if done.is_none() {
                    // Killed while its files were being stored: nobody will ever see them.
                    for url in urls.iter().filter(|url| !url.is_empty()) {
                        self.shared.remove_file_by_url(url);
                    }
                }
                done
            }
            Err(line) => {
                self.log(TaskStatus::Error, line)?;
                self.finish(started, Err(()))
            }
        }
    }

    /// The phases after a failure: the error line, the full error log, the end.
    async fn fail(&self, started: Instant, line: String) -> Option<(Task, Option<String>)> {
        self.log(TaskStatus::Error, line)?;
        self.pause(phase_ms::OUTPUT_LINE).await?;
        let full = self.update(|entry| entry.record.debugerror.clone().unwrap_or_default())?;
        self.publish(TaskStatus::ErrorFull, json!(full))?;
        self.pause(phase_ms::END).await?;
        self.publish(TaskStatus::End, Value::Null)?;
        self.pause(phase_ms::POSTPROCESS).await?;
        self.publish(TaskStatus::PostprocessStart, Value::Null)?;
        self.pause(phase_ms::POSTPROCESS).await?;
        self.finish(started, Err(()))
    }

    /// Ends the task at `task_postprocess_end`: paid and with its output, or failed and free.
    fn finish(
        &self,
        started: Instant,
        outputs: Result<Vec<OutputFile>, ()>,
    ) -> Option<(Task, Option<String>)> {
        let mut book = lock(&self.shared.tasks);
        let entry = book.by_id.get_mut(self.id)?;
        if entry.is_terminal() || self.stop.is_cancelled() {
            return None;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let record = &mut entry.record;
        record.endtime = Some(WireNumber::from(now_secs()));
        record.elapsedseconds = Some(WireNumber::new(format!("{elapsed:.4}")));
        let charged = match outputs {
            Ok(outputs) => {
                let price = entry.price;
                record.pexit = Some(WireNumber::new("0"));
                record.totalcost = Some(WireNumber::new(format!("{price:.12}")));
                record.cps = Some(WireNumber::new(format!(
                    "{:.12}",
                    price / elapsed.max(0.001)
                )));
                record.outputs = outputs;
                price
            }
            Err(()) => {
                record.pexit = Some(WireNumber::new("1"));
                record.totalcost = Some(WireNumber::new("0"));
                0.0
            }
        };
        let outputs = serde_json::to_value(&record.outputs).unwrap_or(Value::Null);
        for output in record
            .outputs
            .iter()
            .filter(|output| !output.url.is_empty())
        {
            self.shared.output_ended(&output.url);
        }
        entry.publish(TaskStatus::PostprocessEnd, outputs);
        let done = (entry.record.clone(), entry.callback_url.clone());
        if let Some(balance) = book.balance.as_mut() {
            *balance -= charged;
        }
        Some(done)
    }
}
