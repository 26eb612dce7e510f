//! Fault injection: which operation misbehaves, how, and for how many requests.
//!
//! The command-line syntax is `OPERATION=FAULT[:TIMES]`, e.g. `run=500`, `detail=429@2`,
//! `detail=503`, `run=drop`, `run=drop-before`, `download=truncate`, `detail=slow@1500`, `socket=drop`,
//! `run=96`, `run=97`, `run=fail:3`. `TIMES` (default 1) counts the first matching requests.
//!
//! Two faults cut an API answer, and they differ in what the server did first: `drop` acts,
//! then cuts the answer (for a Run: the task exists and runs — an answer lost after the task
//! was created); `drop-before` cuts the connection without acting (for a Run: nothing was
//! created). A client sees the same broken answer in both cases.
//!
//! ```
//! use wiro_nodes::emulator::{Fault, FaultSpec, Operation};
//! let spec: FaultSpec = "detail=429@2:3".parse().unwrap();
//! assert_eq!(spec.operation, Operation::TaskDetail);
//! assert_eq!(spec.fault, Fault::RateLimited { retry_after: std::time::Duration::from_secs(2) });
//! assert_eq!(spec.times, 3);
//! assert_eq!(spec.to_string(), "detail=429@2:3");
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// An operation of the emulated API, as counted in [`Stats`](super::Stats) and targeted by faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// `POST /File/FolderCreate` (`folder`).
    FolderCreate,
    /// `POST /File/Upload` (`upload`).
    Upload,
    /// `POST /Run/{owner}/{model}` (`run`).
    Run,
    /// `POST /Task/Detail` (`detail`).
    TaskDetail,
    /// `POST /Task/Kill` (`kill`).
    TaskKill,
    /// `POST /Task/Cancel` (`cancel`).
    TaskCancel,
    /// `POST /Task/List` (`list`).
    TaskList,
    /// `POST /Task/InputOutputDelete` (`delete`).
    TaskFilesDelete,
    /// `POST /Tool/List` (`tools`).
    ToolList,
    /// `POST /Tool/Detail` (`tool`).
    ToolDetail,
    /// `GET /cdn/...`: an output or uploaded file (`download`).
    Download,
    /// The WebSocket at `/v1/socket` (`socket`).
    Socket,
}

impl Operation {
    /// Every operation, in display order.
    pub const ALL: [Operation; 12] = [
        Operation::FolderCreate,
        Operation::Upload,
        Operation::Run,
        Operation::TaskDetail,
        Operation::TaskKill,
        Operation::TaskCancel,
        Operation::TaskList,
        Operation::TaskFilesDelete,
        Operation::ToolList,
        Operation::ToolDetail,
        Operation::Download,
        Operation::Socket,
    ];

    /// The short name used in fault specs (`run`, `detail`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Operation::FolderCreate => "folder",
            Operation::Upload => "upload",
            Operation::Run => "run",
            Operation::TaskDetail => "detail",
            Operation::TaskKill => "kill",
            Operation::TaskCancel => "cancel",
            Operation::TaskList => "list",
            Operation::TaskFilesDelete => "delete",
            Operation::ToolList => "tools",
            Operation::ToolDetail => "tool",
            Operation::Download => "download",
            Operation::Socket => "socket",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Operation {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "foldercreate" | "folder-create" => Some(Operation::FolderCreate),
            "task-detail" | "taskdetail" => Some(Operation::TaskDetail),
            "task-kill" | "taskkill" => Some(Operation::TaskKill),
            "task-cancel" | "taskcancel" => Some(Operation::TaskCancel),
            "task-list" | "tasklist" => Some(Operation::TaskList),
            "files-delete" | "inputoutputdelete" | "task-files-delete" => {
                Some(Operation::TaskFilesDelete)
            }
            "tool-list" | "toollist" => Some(Operation::ToolList),
            "tool-detail" | "tooldetail" => Some(Operation::ToolDetail),
            "cdn" => Some(Operation::Download),
            _ => None,
        };
        alias
            .or_else(|| Operation::ALL.into_iter().find(|op| op.name() == wanted))
            .ok_or_else(|| {
                FaultParseError(format!(
                    "unknown operation {text:?}: expected one of {}",
                    Operation::ALL.map(Operation::name).join(", ")
                ))
            })
    }
}

/// How an operation misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 with the error envelope (code 0) (`500`).
    ServerError,
    /// HTTP 503 with the error envelope (code 0), as a gateway in front of a restarting server
    /// answers (`503`).
    Unavailable,
    /// HTTP 429 with a `Retry-After` header in whole seconds (`429@SECONDS`, default 1).
    RateLimited {
        /// What the `Retry-After` header says.
        retry_after: Duration,
    },
    /// The operation is performed, then the connection is cut before the answer is complete:
    /// the client cannot know whether it worked (`drop`). For a Run, the task was created
    /// and runs: its answer is lost.
    DropConnection,
    /// The connection is cut before the operation is performed: the client sees the same
    /// broken answer as with `drop`, but nothing happened (`drop-before`). For a Run, no
    /// task was created.
    DropBeforeEffect,
    /// Downloads: the full `Content-Length` is announced and the body stops halfway (`truncate`).
    TruncateBody,
    /// The answer comes after this delay (`slow@MILLISECONDS`).
    Slow(Duration),
    /// The WebSocket closes right after the reply to `task_info` (`socket=drop`).
    SocketDrop,
    /// Run answers code 96 (concurrency limit) without starting a task (`96`).
    ConcurrencyLimit,
    /// Run answers code 97 (insufficient balance) without starting a task (`97`).
    InsufficientBalance,
    /// Run starts a task that fails: stderr lines, `pexit "1"`, no outputs, no cost (`fail`).
    TaskFails,
}

impl Fault {
    /// Whether this fault means anything for `operation`.
    pub fn applies_to(self, operation: Operation) -> bool {
        match self {
            Fault::ServerError
            | Fault::Unavailable
            | Fault::RateLimited { .. }
            | Fault::Slow(_) => true,
            Fault::DropConnection => operation != Operation::Socket,
            Fault::DropBeforeEffect => {
                !matches!(operation, Operation::Socket | Operation::Download)
            }
            Fault::SocketDrop => operation == Operation::Socket,
            Fault::TruncateBody => operation == Operation::Download,
            Fault::ConcurrencyLimit | Fault::InsufficientBalance | Fault::TaskFails => {
                operation == Operation::Run
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::ServerError => f.write_str("500"),
            Fault::Unavailable => f.write_str("503"),
            Fault::RateLimited { retry_after } => write!(f, "429@{}", retry_after.as_secs()),
            Fault::DropConnection | Fault::SocketDrop => f.write_str("drop"),
            Fault::DropBeforeEffect => f.write_str("drop-before"),
            Fault::TruncateBody => f.write_str("truncate"),
            Fault::Slow(delay) => write!(f, "slow@{}", delay.as_millis()),
            Fault::ConcurrencyLimit => f.write_str("96"),
            Fault::InsufficientBalance => f.write_str("97"),
            Fault::TaskFails => f.write_str("fail"),
        }
    }
}

/// One fault for the first `times` requests of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultSpec {
    /// Which operation misbehaves.
    pub operation: Operation,
    /// How.
    pub fault: Fault,
    /// For how many of the next matching requests.
    pub times: usize,
}

impl FaultSpec {
    /// `fault` on the next `times` requests of `operation`.
    pub fn new(operation: Operation, fault: Fault, times: usize) -> Self {
        Self {
            operation,
            fault,
            times,
        }
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.operation, self.fault)?;
        if self.times != 1 {
            write!(f, ":{}", self.times)?;
        }
        Ok(())
    }
}

/// Why a fault spec could not be read; the message names the part and the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultParseError(String);

impl FaultParseError {
    pub(crate) fn new(message: String) -> Self {
        Self(message)
    }
}

const FAULT_FORMS: &str =
    "500, 503, 429[@SECONDS], drop, drop-before, truncate, slow@MILLISECONDS, 96, 97 or fail";

impl FromStr for FaultSpec {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (operation, rest) = text.split_once('=').ok_or_else(|| {
            FaultParseError(format!(
                "fault {text:?} has no '=': write OPERATION=FAULT[:TIMES], e.g. run=500 or detail=429@2:3"
            ))
        })?;
        let operation: Operation = operation.parse()?;
        let (fault, times) = match rest.rsplit_once(':') {
            Some((fault, times)) => {
                let times: usize = times.trim().parse().map_err(|_| {
                    FaultParseError(format!(
                        "fault {text:?}: TIMES {times:?} is not a whole number"
                    ))
                })?;
                if times == 0 {
                    return Err(FaultParseError(format!(
                        "fault {text:?}: TIMES must be at least 1"
                    )));
                }
                (fault, times)
            }
            None => (rest, 1),
        };
        let fault = parse_fault(operation, fault.trim()).ok_or_else(|| {
            FaultParseError(format!(
                "fault {text:?}: {fault:?} is not a fault; expected {FAULT_FORMS}"
            ))
        })?;
        if !fault.applies_to(operation) {
            return Err(FaultParseError(format!(
                "fault {text:?}: {fault} does not apply to {operation}"
            )));
        }
        Ok(Self::new(operation, fault, times))
    }
}

fn parse_fault(operation: Operation, text: &str) -> Option<Fault> {
    let (name, argument) = match text.split_once('@') {
        Some((name, argument)) => (name, Some(argument.trim().parse::<u64>().ok()?)),
        None => (text, None),
    };
    let fault = match (name.to_ascii_lowercase().as_str(), argument) {
        ("500", None) => Fault::ServerError,
        ("503", None) => Fault::Unavailable,
        ("429", seconds) => Fault::RateLimited {
            retry_after: Duration::from_secs(seconds.unwrap_or(1)),
        },
        ("drop", None) if operation == Operation::Socket => Fault::SocketDrop,
        ("drop", None) => Fault::DropConnection,
        ("drop-before", None) => Fault::DropBeforeEffect,
        ("truncate", None) => Fault::TruncateBody,
        ("slow", Some(millis)) => Fault::Slow(Duration::from_millis(millis)),
        ("96", None) => Fault::ConcurrencyLimit,
        ("97", None) => Fault::InsufficientBalance,
        ("fail", None) => Fault::TaskFails,
        _ => return None,
    };
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form_round_trips() {
        for text in [
            "run=500",
            "detail=503:2",
            "detail=429@2",
            "run=drop",
            "run=drop-before",
            "list=500:2",
            "delete=drop",
            "download=truncate",
            "detail=slow@1500",
            "socket=drop",
            "run=96",
            "run=97",
            "run=fail:3",
            "upload=500:2",
            "tools=slow@10",
        ] {
            let spec: FaultSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
            assert_eq!(spec.to_string().parse::<FaultSpec>().unwrap(), spec);
        }
        let socket: FaultSpec = "socket=drop".parse().unwrap();
        assert_eq!(socket.fault, Fault::SocketDrop);
        let run: FaultSpec = "RUN=drop".parse().unwrap();
        assert_eq!(run.fault, Fault::DropConnection);
    }

    #[test]
    fn mistakes_are_named() {
        let message = |text: &str| text.parse::<FaultSpec>().unwrap_err().to_string();
        assert!(message("run").contains("no '='"));
        assert!(message("walk=500").contains("unknown operation"));
        assert!(message("run=teapot").contains("not a fault"));
        assert!(message("detail=truncate").contains("does not apply to detail"));
        assert!(message("run=500:x").contains("not a whole number"));
        assert!(message("run=500:0").contains("at least 1"));
        assert!(message("detail=slow").contains("not a fault"));
        assert!(message("download=drop-before").contains("does not apply to download"));
    }
}
