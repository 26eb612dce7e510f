//! `Fate`: what a failed node leaves behind on the server — the one verdict that resume, the
//! Temporal workflow and `node exec`'s report all read, so that no host decides on its own
//! whether sending a paid Run again could pay twice.

use serde::Serialize;

use super::NodeError;
use crate::api::Error as ApiError;

/// What a node's failure left started, and whether trying the same again may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Nothing was started, and the same request may succeed later: the account's limit on
    /// active tasks (code 96) or on requests (HTTP 429), a connection that never opened, a
    /// server, an unreadable answer (not a refusal) or a transfer that failed for now.
    TryAgainLater,
    /// Nothing is left started: the inputs or the request were refused, it was never sent,
    /// or the task it started was stopped (not billed). Trying again is a new intent, and
    /// with the same inputs it fails the same way.
    NothingStarted,
    /// Something may have started and be paid for: a Run whose answer was lost, a task still
    /// running, a stop that failed, a node that panicked. Never sent again without finding
    /// out first.
    MayHaveStarted,
}

impl Fate {
    /// Whether the failure proves no task of it is left started, so that running the node
    /// again cannot pay a second time for one intent.
    pub fn leaves_nothing_started(self) -> bool {
        self != Fate::MayHaveStarted
    }
}

impl NodeError {
    /// What this failure left behind on the server.
    pub fn fate(&self) -> Fate {
        match self {
            NodeError::InvalidInputs(_) | NodeError::Outputs(_) | NodeError::NotRecorded(_) => {
                Fate::NothingStarted
            }
            NodeError::Panicked(_) => Fate::MayHaveStarted,
            NodeError::Cancelled { stopped: None } => Fate::NothingStarted,
            NodeError::Cancelled {
                stopped: Some(stopped),
            } if stopped.how.leaves_nothing_running() => Fate::NothingStarted,
            NodeError::Cancelled { .. } => Fate::MayHaveStarted,
            NodeError::Api(error) => api_fate(error),
        }
    }
}

/// The fate of one failed API operation.
fn api_fate(error: &ApiError) -> Fate {
    match error {
        // A 4xx the client could not read is still a refusal: the same request fails again.
        ApiError::Protocol { status, .. } if (400..500).contains(status) => Fate::NothingStarted,
        ApiError::ConcurrencyLimit { .. }
        | ApiError::RateLimited { .. }
        | ApiError::Connection { .. }
        | ApiError::Server { .. }
        | ApiError::Protocol { .. }
        | ApiError::Download { .. }
        | ApiError::Io { .. } => Fate::TryAgainLater,
        ApiError::InvalidArgument { .. }
        | ApiError::BadAddress { .. }
        | ApiError::FetchRefused { .. }
        | ApiError::Authentication { .. }
        | ApiError::InsufficientBalance { .. }
        | ApiError::NotFound { .. }
        | ApiError::Rejected { .. }
        | ApiError::TaskFailed { .. }
        | ApiError::TaskCancelled { .. } => Fate::NothingStarted,
        ApiError::OutcomeUnknown { .. } | ApiError::WaitTimeout { .. } | ApiError::Cancelled => {
            Fate::MayHaveStarted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{HowStopped, StoppedTask};

    #[test]
    fn only_what_proves_nothing_is_left_started_allows_a_second_run() {
        let lost = NodeError::Api(ApiError::OutcomeUnknown {
            operation: "Run/a/b".into(),
            message: "connection reset".into(),
            source: None,
        });
        assert_eq!(lost.fate(), Fate::MayHaveStarted);
        let limit = NodeError::Api(ApiError::ConcurrencyLimit {
            message: "too many".into(),
        });
        assert_eq!(limit.fate(), Fate::TryAgainLater);
        let refused = NodeError::Api(ApiError::InsufficientBalance {
            message: "top up".into(),
        });
        assert_eq!(refused.fate(), Fate::NothingStarted);
        let stopped = |how| NodeError::Cancelled {
            stopped: Some(StoppedTask {
                taskid: "7".into(),
                how,
                charged: None,
            }),
        };
        assert_eq!(stopped(HowStopped::Killed).fate(), Fate::NothingStarted);
        let not_stopped = stopped(HowStopped::NotStopped {
            error: "timeout".into(),
        });
        assert_eq!(not_stopped.fate(), Fate::MayHaveStarted);
        let unreadable_refusal = NodeError::Api(ApiError::Protocol {
            operation: "Run/a/b".into(),
            status: 413,
            problem: "not JSON".into(),
            snippet: "<html>".into(),
        });
        assert_eq!(unreadable_refusal.fate(), Fate::NothingStarted);
        assert!(!NodeError::Panicked("boom".into())
            .fate()
            .leaves_nothing_started());
    }
}
