//! Waiting for a task: live events from the WebSocket, with Task/Detail polling as the
//! fallback and as a slow side check. A socket that fails or drops never fails the wait.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::task::AbortOnDropHandle;

use super::wire::{SocketFrame, Task, TaskHandle, TaskInfoRequest, TaskStatus};
use super::{tls, Client, Error, Result, TaskLookup};

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

enum SocketMessage {
    Frame(SocketFrame),
    Closed(String),
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
        mut on_event: impl FnMut(TaskEvent) + Send,
    ) -> Result<Task> {
        let taskid = handle.taskid.clone();
        let (sender, mut frames) = mpsc::unbounded_channel();
        let socket = (options.use_socket && !handle.socketaccesstoken.is_empty()).then(|| {
            let url = self.config().socket_url.clone();
            let token = handle.socketaccesstoken.clone();
            // Aborted when dropped, so an abandoned wait leaves no socket open.
            AbortOnDropHandle::new(tokio::spawn(follow_socket(url, token, sender)))
        });
        let mut socket_live = socket.is_some();
        let mut socket_heard = false;

        let mut status: Option<TaskStatus> = None;
        let mut printed_log = 0usize;
        let mut last_socket_line: Option<String> = None;
        let mut active = Duration::ZERO;
        let mut last_tick = Instant::now();
        let mut poll_every = options.min_poll;
        let mut next_poll = Instant::now();

        loop {
            let now = Instant::now();
            if !status.as_ref().is_some_and(TaskStatus::is_queued) {
                active += now - last_tick;
            }
            last_tick = now;
            if let Some(limit) = options.deadline {
                if active >= limit {
                    return Err(Error::WaitTimeout {
                        taskid,
                        waited: active,
                        status: status
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "unknown".into()),
                    });
                }
            }
            let wake = match options.deadline {
                Some(limit) if !status.as_ref().is_some_and(TaskStatus::is_queued) => {
                    next_poll.min(now + (limit - active))
                }
                _ => next_poll,
            };

            tokio::select! {
                message = frames.recv(), if socket_live => match message {
                    Some(SocketMessage::Frame(frame)) => {
                        let kind = TaskStatus::parse(&frame.kind);
                        if matches!(kind, TaskStatus::Other(_)) {
                            continue; // `connected` and frame types this crate does not know
                        }
                        socket_heard = true;
                        if matches!(kind, TaskStatus::Output | TaskStatus::Error) {
                            let line = frame.message_text();
                            if !line.is_empty() {
                                let line_text = line.clone();
                                on_event(TaskEvent::Log { line, stderr: kind == TaskStatus::Error });
                                if kind == TaskStatus::Output {
                                    // `debugoutput` repeats these lines: a later poll goes on
                                    // after the last one shown.
                                    last_socket_line = Some(line_text);
                                }
                            }
                        }
                        if status.as_ref() != Some(&kind) {
                            on_event(TaskEvent::Status { status: kind.clone(), source: EventSource::Socket });
                            status = Some(kind.clone());
                        }
                        if kind.is_terminal() {
                            // The socket says it ended: the record says how.
                            next_poll = Instant::now();
                            poll_every = options.min_poll;
                        } else if next_poll > Instant::now() + options.side_check {
                            next_poll = Instant::now() + options.side_check;
                        }
                    }
                    closed => {
                        socket_live = false;
                        if status.as_ref().is_some_and(TaskStatus::is_terminal) {
                            continue; // the socket closes after the last frame, as it should
                        }
                        let reason = match closed {
                            Some(SocketMessage::Closed(reason)) if !reason.is_empty() => reason,
                            _ => "the socket closed".to_owned(),
                        };
                        on_event(TaskEvent::SocketLost { reason });
                        poll_every = options.min_poll;
                        next_poll = Instant::now();
                    }
                },
                _ = tokio::time::sleep_until(wake.into()) => {
                    if Instant::now() < next_poll {
                        continue; // the deadline check at the top of the loop decides
                    }
                    match self.task_detail(TaskLookup::from(handle)).await {
                        Ok(task) => {
                            if !socket_heard || !socket_live {
                                if let Some(last) = last_socket_line.take() {
                                    printed_log = lines_through(&task, &last).unwrap_or(printed_log);
                                }
                                printed_log = emit_new_log_lines(&task, printed_log, &mut on_event);
                            }
                            if status.as_ref() != Some(&task.status) {
                                on_event(TaskEvent::Status { status: task.status.clone(), source: EventSource::Poll });
                                status = Some(task.status.clone());
                                poll_every = options.min_poll;
                            } else {
                                poll_every = (poll_every.mul_f64(1.5)).min(options.max_poll);
                            }
                            if task.is_terminal() {
                                return outcome(task);
                            }
                        }
                        Err(error) if error.is_transient() => {
                            tracing::warn!(taskid, %error, "Task/Detail failed; still waiting");
                            poll_every = (poll_every * 2).min(options.max_poll);
                        }
                        Err(error) => return Err(with_task(error, &taskid)),
                    }
                    let pause = if socket_live && socket_heard { options.side_check } else { poll_every };
                    next_poll = Instant::now() + pause;
                }
            }
        }
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

/// Connects, registers with `task_info`, and forwards frames until the task ends or the
/// socket goes; the last message is always `Closed`.
async fn follow_socket(url: String, token: String, sender: mpsc::UnboundedSender<SocketMessage>) {
    let reason = match run_socket(&url, &token, &sender).await {
        Ok(()) => String::new(),
        Err(reason) => reason,
    };
    let _ = sender.send(SocketMessage::Closed(reason));
}

async fn run_socket(
    url: &str,
    token: &str,
    sender: &mpsc::UnboundedSender<SocketMessage>,
) -> std::result::Result<(), String> {
    let connector = tls::socket_config()
        .map(tokio_tungstenite::Connector::Rustls)
        .map_err(|e| e.to_string())?;
    // Status frames are small: a 4 KiB read buffer (it grows for a bigger frame) instead of
    // tungstenite's 128 KiB keeps a thousand open waits from holding 128 MB.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let connect =
        tokio_tungstenite::connect_async_tls_with_config(url, Some(config), false, Some(connector));
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .map_err(|_| format!("connecting to {url} timed out"))?
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    let register =
        serde_json::to_string(&TaskInfoRequest::new(token)).map_err(|e| e.to_string())?;
    socket
        .send(Message::text(register))
        .await
        .map_err(|e| format!("registering: {e}"))?;
    while let Some(message) = socket.next().await {
        let text = match message.map_err(|e| format!("socket dropped: {e}"))? {
            Message::Text(text) => text,
            Message::Close(frame) => {
                return Err(frame
                    .map(|f| format!("socket closed: {}", f.reason))
                    .unwrap_or_else(|| "socket closed".into()))
            }
            _ => continue,
        };
        let Ok(frame) = serde_json::from_str::<SocketFrame>(&text) else {
            continue;
        };
        if frame.tasktoken.as_deref().is_some_and(|t| t != token) {
            continue;
        }
        if frame.result == Some(false)
            && matches!(TaskStatus::parse(&frame.kind), TaskStatus::Other(_))
        {
            return Err(format!(
                "the socket refused the task: {}",
                frame.message_text()
            ));
        }
        let terminal = TaskStatus::parse(&frame.kind).is_terminal();
        if sender.send(SocketMessage::Frame(frame)).is_err() || terminal {
            return Ok(());
        }
    }
    Err("socket closed".into())
}
