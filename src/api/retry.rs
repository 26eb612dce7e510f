//! `Retries`: the one retry loop of the api layer. After a failed try it waits the server's
//! `Retry-After` (or the policy's backoff) and allows another, within the policy's attempt
//! count and deadline. The caller says whether a failure may be retried at all.

use std::time::{Duration, Instant};

use super::{Error, Result, RetryPolicy};

/// The tries of one operation so far, under one [`RetryPolicy`].
///
/// ```text
/// let mut retries = Retries::new(policy, "Task/Detail");
/// loop {
///     match try_once().await {
///         Ok(answer) => return Ok(answer),
///         Err((error, retry_after)) => {
///             let retryable = error.is_transient();
///             retries.wait_to_retry(error, retry_after, retryable).await?;
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub(crate) struct Retries<'a> {
    policy: RetryPolicy,
    operation: &'a str,
    started: Instant,
    failed: u32,
}

impl<'a> Retries<'a> {
    /// No try made yet; `operation` names it in the log.
    pub(crate) fn new(policy: RetryPolicy, operation: &'a str) -> Self {
        Self {
            policy,
            operation,
            started: Instant::now(),
            failed: 0,
        }
    }

    /// Counts a failed try. When it is `retryable`, the policy allows another try and the
    /// pause (`retry_after`, else the backoff) ends before the deadline, sleeps that pause and
    /// returns `Ok`; otherwise gives `error` back.
    pub(crate) async fn wait_to_retry(
        &mut self,
        error: Error,
        retry_after: Option<Duration>,
        retryable: bool,
    ) -> Result<()> {
        self.failed += 1;
        if !retryable || self.failed >= self.policy.max_attempts {
            return Err(error);
        }
        let pause = retry_after.unwrap_or_else(|| self.policy.backoff(self.failed));
        if self.started.elapsed() + pause > self.policy.deadline {
            return Err(error);
        }
        tracing::debug!(
            operation = self.operation,
            attempt = self.failed,
            ?pause,
            %error,
            "retrying"
        );
        tokio::time::sleep(pause).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error() -> Error {
        Error::Server {
            status: 500,
            message: "boom".into(),
        }
    }

    fn quick(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            deadline: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn gives_up_after_the_last_attempt() {
        let mut retries = Retries::new(quick(3), "test");
        assert!(retries
            .wait_to_retry(server_error(), None, true)
            .await
            .is_ok());
        assert!(retries
            .wait_to_retry(server_error(), None, true)
            .await
            .is_ok());
        let error = retries.wait_to_retry(server_error(), None, true).await;
        assert!(matches!(error, Err(Error::Server { status: 500, .. })));
    }

    #[tokio::test]
    async fn never_retries_what_the_caller_says_is_not_retryable() {
        let mut retries = Retries::new(quick(5), "test");
        let error = retries.wait_to_retry(server_error(), None, false).await;
        assert!(error.is_err());
    }

    #[tokio::test]
    async fn a_retry_after_past_the_deadline_gives_up_at_once() {
        let policy = RetryPolicy {
            deadline: Duration::from_secs(1),
            ..quick(5)
        };
        let mut retries = Retries::new(policy, "test");
        let wait = Some(Duration::from_secs(3600));
        assert!(retries
            .wait_to_retry(server_error(), wait, true)
            .await
            .is_err());
    }
}
