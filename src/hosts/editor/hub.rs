//! The run hub: at most one run at a time, its cancel token, and its events — kept in order
//! so a page that connects (or reconnects) mid-run sees the whole run, then the live tail.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Events of the current (or last) run, and the running run's cancel token.
#[derive(Debug)]
pub struct RunHub {
    state: Mutex<HubState>,
    live: broadcast::Sender<Arc<str>>,
}

#[derive(Debug, Default)]
struct HubState {
    run: u64,
    history: Vec<Arc<str>>,
    running: Option<CancellationToken>,
    /// Ends when the running run has ended (its tasks stopped).
    ended: Option<CancellationToken>,
}

impl Default for RunHub {
    fn default() -> Self {
        Self {
            state: Mutex::new(HubState::default()),
            live: broadcast::channel(4096).0,
        }
    }
}

impl RunHub {
    fn state(&self) -> MutexGuard<'_, HubState> {
        // A panic while holding the lock leaves plain data behind: still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a new run: its id and cancel token, or `None` while another run goes on.
    pub fn begin(&self) -> Option<(u64, CancellationToken)> {
        let mut state = self.state();
        if state.running.is_some() {
            return None;
        }
        state.run += 1;
        state.history.clear();
        let cancel = CancellationToken::new();
        state.running = Some(cancel.clone());
        state.ended = Some(CancellationToken::new());
        Some((state.run, cancel))
    }

    /// The run has ended: another may start.
    pub fn end(&self) {
        let mut state = self.state();
        state.running = None;
        if let Some(ended) = &state.ended {
            ended.cancel();
        }
    }

    /// Cancels the running run, as Ctrl-C does; false when none runs.
    pub fn cancel(&self) -> bool {
        match &self.state().running {
            Some(cancel) => {
                cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancels the running run, if any, and waits until its nodes have stopped their tasks.
    pub async fn cancel_and_wait(&self) {
        let ended = {
            let state = self.state();
            if let Some(cancel) = &state.running {
                cancel.cancel();
            }
            state.running.as_ref().and(state.ended.clone())
        };
        if let Some(ended) = ended {
            ended.cancelled().await;
        }
    }

    /// Sends an event to every page and keeps it for pages that connect later.
    pub fn publish(&self, event: &Value) {
        let text: Arc<str> = event.to_string().into();
        let mut state = self.state();
        state.history.push(Arc::clone(&text));
        let _ = self.live.send(text); // nobody listening is fine
    }

    /// The events so far and a receiver of the ones to come, with none lost in between.
    pub fn subscribe(&self) -> (Vec<Arc<str>>, broadcast::Receiver<Arc<str>>) {
        let state = self.state();
        (state.history.clone(), self.live.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_waits_for_the_first_to_end() {
        let hub = RunHub::default();
        let (first, _) = hub.begin().expect("nothing runs yet");
        assert!(hub.begin().is_none());
        assert!(hub.cancel());
        hub.end();
        let (second, _) = hub.begin().expect("the first ended");
        assert_eq!(second, first + 1);
    }

    #[test]
    fn a_late_page_sees_the_whole_run() {
        let hub = RunHub::default();
        let _ = hub.begin();
        hub.publish(&serde_json::json!({ "kind": "started" }));
        let (history, _live) = hub.subscribe();
        assert_eq!(history.len(), 1);
    }
}
