//! Waiting for a task: live events from the WebSocket, with Task/Detail polling as the
//! fallback and as a slow side check. A socket that fails or drops never fails the wait.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;

use super::task_socket::{follow_socket, SocketMessage};
use super::wire::{SocketFrame, Task, TaskHandle, TaskStatus};
use super::{Client, Error, Result, TaskLookup};

/// How to wait for a task.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// Give up after this much time **not queued** (time in the queue does not count).
    /// `None` waits as long as it takes. The task itself is not stopped by a timeout.
    pub deadline: Option<Duration>,
    /// The shortest pause between two Task/Detail polls (used right after a change).
    pub min_poll: Duration,
    /// The longest pause between two polls while nothing changes.
    pub max_poll: Duration,
    /// The pause between side checks while the socket is live.
    pub side_check: Duration,
    /// Follow the WebSocket; when `false`, only poll.
    pub use_socket: bool,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            deadline: Some(Duration::from_secs(30 * 60)),
            min_poll: Duration::from_secs(2),
            max_poll: Duration::from_secs(15),
            side_check: Duration::from_secs(30),
            use_socket: true,
        }
    }
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// A WebSocket frame.
    Socket,
    /// A Task/Detail poll.
    Poll,
}

/// Something that happened to the task being waited for.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskEvent {
    /// The task moved to a new status.
    Status {
        /// The new status.
        status: TaskStatus,
        /// How it was learned.
        source: EventSource,
    },
    /// The task wrote a log line (`stderr` for `task_error` lines, which are not failures).
    Log {
        /// The line.
        line: String,
        /// From the error stream.
        stderr: bool,
    },
    /// The WebSocket could not be used; the wait goes on by polling.
    SocketLost {
        /// Why.
        reason: String,
    },
}

impl Client {
    /// Waits until the task ends and returns its final record when it succeeded.
    ///
    /// Fails with [`Error::TaskFailed`] (non-zero `pexit`, with the server's `debugerror`),
    /// [`Error::TaskCancelled`], or [`Error::WaitTimeout`]; every error names the task id.
    /// Dropping the future stops waiting (the task itself goes on: see [`Client::stop_task`]).
    pub async fn wait_for_task(
        &self,
        handle: &TaskHandle,
        options: &WaitOptions,
        on_event: impl FnMut(TaskEvent) + Send,
    ) -> Result<Task> {
        let (sender, mut frames) = mpsc::unbounded_channel();
        let socket = (options.use_socket && !handle.socketaccesstoken.is_empty()).then(|| {
            let url = self.config().socket_url.clone();
            let token = handle.socketaccesstoken.clone();
            // Aborted when dropped, so an abandoned wait leaves no socket open.
            AbortOnDropHandle::new(tokio::spawn(follow_socket(url, token, sender)))
        });
        let mut waiting = Waiting::new(handle.taskid.clone(), options, socket.is_some(), on_event);
        loop {
            let wake = waiting.wake_time()?;
            tokio::select! {
                message = frames.recv(), if waiting.socket_live => match message {
                    Some(SocketMessage::Frame(frame)) => waiting.on_frame(frame),
                    closed => waiting.on_socket_closed(closed),
                },
                _ = tokio::time::sleep_until(wake.into()) => {
                    if Instant::now() < waiting.next_poll {
                        continue; // the deadline check at the top of the loop decides
                    }
                    let answer = self.task_detail(TaskLookup::from(handle)).await;
                    if let ControlFlow::Break(end) = waiting.on_poll(answer) {
                        return end;
                    }
                }
            }
        }
    }
}

/// A wait's deadline, which counts only the time the task spent out of the queue.
struct Deadline {
    limit: Option<Duration>,
    /// Time waited while the task was not queued.
    active: Duration,
    last_tick: Instant,
}

impl Deadline {
    /// Starts counting now, towards `limit` if there is one.
    fn new(limit: Option<Duration>) -> Self {
        Self {
            limit,
            active: Duration::ZERO,
            last_tick: Instant::now(),
        }
    }

    /// Counts the time since the last tick unless the task was `queued`. Gives the time
    /// counted as `Err` once it reaches the limit; else when to wake at the latest: at
    /// `next_poll`, or at the deadline when that comes first (never while queued, since
    /// queued time does not bring it closer).
    fn tick(&mut self, queued: bool, next_poll: Instant) -> std::result::Result<Instant, Duration> {
        let now = Instant::now();
        if !queued {
            self.active += now - self.last_tick;
        }
        self.last_tick = now;
        if let Some(limit) = self.limit {
            if self.active >= limit {
                return Err(self.active);
            }
        }
        Ok(match self.limit {
            Some(limit) if !queued => next_poll.min(now + (limit - self.active)),
            _ => next_poll,
        })
    }
}

/// One wait: what it knows of the task, what it has shown, and when it polls next.
struct Waiting<'a, F> {
    taskid: String,
    options: &'a WaitOptions,
    on_event: F,
    deadline: Deadline,
    /// The socket may still bring frames.
    socket_live: bool,
    /// The socket has told of the task, so it is the one showing the log.
    socket_heard: bool,
    status: Option<TaskStatus>,
    /// How many `debugoutput` lines were shown.
    printed_log: usize,
    /// The last output line the socket showed, which `debugoutput` repeats.
    last_socket_line: Option<String>,
    poll_every: Duration,
    next_poll: Instant,
}

impl<'a, F: FnMut(TaskEvent)> Waiting<'a, F> {
    fn new(taskid: String, options: &'a WaitOptions, socket_live: bool, on_event: F) -> Self {
        Self {
            taskid,
            options,
            on_event,
            deadline: Deadline::new(options.deadline),
            socket_live,
            socket_heard: false,
            status: None,
            printed_log: 0,
            last_socket_line: None,
            poll_every: options.min_poll,
            next_poll: Instant::now(),
        }
    }

    /// When to wake next, or [`Error::WaitTimeout`] when the deadline has passed.
    fn wake_time(&mut self) -> Result<Instant> {
        let queued = self.status.as_ref().is_some_and(TaskStatus::is_queued);
        self.deadline
            .tick(queued, self.next_poll)
            .map_err(|waited| Error::WaitTimeout {
                taskid: self.taskid.clone(),
                waited,
                status: self
                    .status
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "unknown".into()),
            })
    }

    /// Tells of `status` when it is new; says whether it was.
    fn show_status(&mut self, status: &TaskStatus, source: EventSource) -> bool {
        if self.status.as_ref() == Some(status) {
            return false;
        }
        (self.on_event)(TaskEvent::Status {
            status: status.clone(),
            source,
        });
        self.status = Some(status.clone());
        true
    }

    /// A frame from the socket: its log line and status are shown, and a poll comes soon
    /// after an end to learn how the task ended.
    fn on_frame(&mut self, frame: SocketFrame) {
        let kind = TaskStatus::parse(&frame.kind);
        if matches!(kind, TaskStatus::Other(_)) {
            return; // `connected` and frame types this crate does not know
        }
        self.socket_heard = true;
        if matches!(kind, TaskStatus::Output | TaskStatus::Error) {
            let line = frame.message_text();
            if !line.is_empty() {
                let line_text = line.clone();
                (self.on_event)(TaskEvent::Log {
                    line,
                    stderr: kind == TaskStatus::Error,
                });
                if kind == TaskStatus::Output {
                    // `debugoutput` repeats these lines: a later poll goes on
                    // after the last one shown.
                    self.last_socket_line = Some(line_text);
                }
            }
        }
        self.show_status(&kind, EventSource::Socket);
        if kind.is_terminal() {
            // The socket says it ended: the record says how.
            self.next_poll = Instant::now();
            self.poll_every = self.options.min_poll;
        } else if self.next_poll > Instant::now() + self.options.side_check {
            self.next_poll = Instant::now() + self.options.side_check;
        }
    }

    /// The socket's last message (`None` when it went without one): polling takes over.
    fn on_socket_closed(&mut self, closed: Option<SocketMessage>) {
        self.socket_live = false;
        if self.status.as_ref().is_some_and(TaskStatus::is_terminal) {
            return; // the socket closes after the last frame, as it should
        }
        let reason = match closed {
            Some(SocketMessage::Closed(reason)) if !reason.is_empty() => reason,
            _ => "the socket closed".to_owned(),
        };
        (self.on_event)(TaskEvent::SocketLost { reason });
        self.poll_every = self.options.min_poll;
        self.next_poll = Instant::now();
    }

    /// A Task/Detail answer: breaks with the outcome once the task has ended (or the poll
    /// failed for good), else sets the next poll, backing off while nothing changes.
    fn on_poll(&mut self, answer: Result<Task>) -> ControlFlow<Result<Task>> {
        match answer {
            Ok(task) => {
                if !self.socket_heard || !self.socket_live {
                    self.show_polled_log(&task);
                }
                if self.show_status(&task.status, EventSource::Poll) {
                    self.poll_every = self.options.min_poll;
                } else {
                    self.poll_every = (self.poll_every.mul_f64(1.5)).min(self.options.max_poll);
                }
                if task.is_terminal() {
                    return ControlFlow::Break(outcome(task));
                }
            }
            Err(error) if error.is_transient() => {
                tracing::warn!(taskid = self.taskid, %error, "Task/Detail failed; still waiting");
                self.poll_every = (self.poll_every * 2).min(self.options.max_poll);
            }
            Err(error) => return ControlFlow::Break(Err(with_task(error, &self.taskid))),
        }
        let pause = if self.socket_live && self.socket_heard {
            self.options.side_check
        } else {
            self.poll_every
        };
        self.next_poll = Instant::now() + pause;
        ControlFlow::Continue(())
    }

    /// Shows the polled record's log lines not shown yet, going on after the last line the
    /// socket showed.
    fn show_polled_log(&mut self, task: &Task) {
        if let Some(last) = self.last_socket_line.take() {
            self.printed_log = lines_through(task, &last).unwrap_or(self.printed_log);
        }
        self.printed_log = emit_new_log_lines(task, self.printed_log, &mut self.on_event);
    }
}

/// How many `debugoutput` lines come up to and including the last occurrence of `last`.
fn lines_through(task: &Task, last: &str) -> Option<usize> {
    let lines: Vec<&str> = log_lines(task);
    lines
        .iter()
        .rposition(|line| *line == last)
        .map(|at| at + 1)
}

fn log_lines(task: &Task) -> Vec<&str> {
    task.debugoutput
        .as_deref()
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect()
}

/// Log lines from `debugoutput` that were not shown yet (when the socket is not telling).
fn emit_new_log_lines(task: &Task, shown: usize, on_event: &mut impl FnMut(TaskEvent)) -> usize {
    let lines = log_lines(task);
    for line in lines.iter().skip(shown) {
        on_event(TaskEvent::Log {
            line: (*line).to_owned(),
            stderr: false,
        });
    }
    lines.len().max(shown)
}

/// The final record of an ended task, as success or as the error it is.
fn outcome(task: Task) -> Result<Task> {
    if task.succeeded() {
        return Ok(task);
    }
    let debugerror = task.debugerror.clone().unwrap_or_default();
    if task.status == TaskStatus::Cancel {
        return Err(Error::TaskCancelled {
            taskid: task.id,
            debugerror,
        });
    }
    Err(Error::TaskFailed {
        taskid: task.id,
        status: task.status.to_string(),
        pexit: task
            .pexit
            .map(|p| p.to_string())
            .unwrap_or_else(|| "none".into()),
        debugerror,
    })
}

/// Puts the task id into an error's message, so no error loses it.
fn with_task(error: Error, taskid: &str) -> Error {
    match error {
        Error::NotFound { message } => Error::NotFound {
            message: format!("task {taskid}: {message}"),
        },
        Error::Rejected {
            status,
            code,
            message,
        } => Error::Rejected {
            status,
            code,
            message: format!("task {taskid}: {message}"),
        },
        Error::Authentication {
            status,
            code,
            message,
        } => Error::Authentication {
            status,
            code,
            message: format!("task {taskid}: {message}"),
        },
        Error::Protocol {
            operation,
            status,
            problem,
            snippet,
        } => Error::Protocol {
            operation: format!("{operation} (task {taskid})"),
            status,
            problem,
            snippet,
        },
        other => other,
    }
}
