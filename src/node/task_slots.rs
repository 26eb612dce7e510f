//! `TaskSlots`: how many of a run's paid tasks may be active at once on the account, learned
//! from the server's code-96 answers, and the queue of Runs waiting for a slot.
//!
//! Wiro counts a task as active from `task_queue` until it ends, and refuses a Run beyond the
//! account's limit with code 96 — nothing started, nothing billed. So a refused Run is not a
//! failure: it waits here until one of the run's own tasks ends (or, when none of them is
//! active, for a backoff), then is sent again. Runs are sent one at a time, so one 96 teaches
//! the limit before the next Run goes out, and a batch of a thousand does not become a
//! thousand refusals.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::oneshot;

use super::claim_book::{AccountClaims, ClaimBook, SendingLock};

/// The first pause before a refused Run with no task of the run to wait for is sent again.
const FIRST_BACKOFF: Duration = Duration::from_secs(2);

/// The longest pause between two tries of a Run when no task of the run can free a slot.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A run's shared view of its paid tasks. Cheap to clone; clones share the state.
#[derive(Debug, Clone)]
pub struct TaskSlots {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// Held while a Run request is out, so Runs leave one at a time.
    sending: tokio::sync::Mutex<()>,
    first_backoff: Duration,
    /// Whether a refused Run waits here for a slot; if not, its node fails with the refusal
    /// (which started nothing) and its host sends it again when it sees fit.
    holds_refused: bool,
    /// The claims shared with other processes of the run, if any.
    book: Option<ClaimBook>,
    /// The tasks every run on this machine holds on the account, when kept.
    account: Option<AccountClaims>,
}

/// Held while a Run is out (and while its lost answer is looked for): no other Run of the run
/// leaves meanwhile, in this process or, through a [`ClaimBook`], in another.
#[derive(Debug)]
pub struct Sending<'a> {
    _here: tokio::sync::MutexGuard<'a, ()>,
    _elsewhere: Option<SendingLock>,
}

#[derive(Debug, Default)]
struct State {
    /// Tasks of this run that are active (accepted, not seen ending).
    active: HashSet<String>,
    /// Every task this run started or adopted: never adopted a second time.
    claimed: HashSet<String>,
    /// Slots granted to Runs not answered yet.
    reserved: usize,
    /// The most tasks allowed at once: set by the user, or learned from a 96.
    limit: Option<usize>,
    /// Whether `limit` was learned from the server.
    learned: bool,
    /// Runs waiting for a slot, first come first served.
    queue: VecDeque<oneshot::Sender<()>>,
    refusals: u64,
    peak: usize,
    /// The server's words when it refused a Run of this run for the account's balance (code
    /// 97): no later Run is sent, as each would be refused the same way.
    no_balance: Option<String>,
}

impl State {
    fn has_room(&self) -> bool {
        self.limit
            .is_none_or(|limit| self.active.len() + self.reserved < limit)
    }

    /// Hands free slots to the Runs waiting longest.
    fn grant(&mut self) {
        while self.has_room() {
            let Some(waiter) = self.queue.pop_front() else {
                return;
            };
            if waiter.send(()).is_ok() {
                self.reserved += 1;
            }
        }
    }
}

/// What a run learned about its tasks, for its report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaskSlotsReport {
    /// Runs the server refused because a limit was reached (code 96, or HTTP 429): nothing
    /// was started for them, and each was sent again.
    pub refusals: u64,
    /// The account's limit on active tasks, as the run learned it from code 96 (or as the
    /// user set it).
    pub limit: Option<usize>,
    /// Whether `limit` was learned from the server.
    pub learned: bool,
    /// The most tasks of the run active at once.
    pub peak: usize,
}

/// A granted slot for one Run. Dropped unused, it frees the slot again.
#[derive(Debug)]
pub struct Slot {
    slots: TaskSlots,
    held: bool,
    /// Past the limit on purpose, to see whether the account has room again.
    probe: bool,
}

/// What to do after the server refused a Run for a limit.
#[derive(Debug)]
pub enum AfterRefusal {
    /// Wait for this slot: it comes when one of the run's tasks ends.
    WaitForSlot(SlotWait),
    /// None of the run's tasks is active (the account's other tasks fill it): wait this long
    /// and send again.
    BackOff(Duration),
}

/// A Run's place in the queue for a slot.
#[derive(Debug)]
pub struct SlotWait {
    slots: TaskSlots,
    granted: Option<oneshot::Receiver<()>>,
}

impl TaskSlots {
    /// No limit until the server (or `limit`) sets one.
    pub fn new(limit: Option<usize>) -> Self {
        Self::with_backoff(limit, FIRST_BACKOFF)
    }

    /// As [`TaskSlots::new`], waiting `first_backoff` (doubling up to 30 s) when a refused Run
    /// has no task of the run to wait for.
    pub fn with_backoff(limit: Option<usize>, first_backoff: Duration) -> Self {
        Self::build(limit, first_backoff, true, None)
    }

    /// As [`TaskSlots::new`] with no limit, sharing Runs and claims with the other processes
    /// of `book` (the parallel `node exec` steps of one n8n execution).
    pub fn sharing(book: ClaimBook) -> Self {
        Self::build(None, FIRST_BACKOFF, true, Some(book))
    }

    fn build(
        limit: Option<usize>,
        first_backoff: Duration,
        holds_refused: bool,
        book: Option<ClaimBook>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    limit: limit.map(|limit| limit.max(1)),
                    ..State::default()
                }),
                sending: tokio::sync::Mutex::new(()),
                first_backoff,
                holds_refused,
                book,
                account: None,
            }),
        }
    }

    /// These slots, also writing every task a Run of theirs starts or adopts in `claims`,
    /// and never taking one written there (by another run on this machine) for a lost
    /// answer. A claim that cannot be written is said (the task is kept); claims that
    /// cannot be read leave a lost answer unsettled, as a [`ClaimBook`]'s do. Call it on
    /// new slots: on slots already cloned it changes nothing.
    pub fn with_account_claims(mut self, claims: AccountClaims) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.account = Some(claims);
        }
        self
    }

    /// Slots that do not hold a refused Run: its node fails with the refusal at once, for a
    /// host that waits on its own terms (a Temporal workflow's durable timer, say).
    pub fn returning_refusals() -> Self {
        Self::build(None, FIRST_BACKOFF, false, None)
    }

    /// Whether a refused Run waits here for a slot and is sent again.
    pub fn holds_refused(&self) -> bool {
        self.inner.holds_refused
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements: a panic elsewhere does not spoil it.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A slot for one Run, now or when one frees up.
    pub fn acquire(&self) -> SlotWait {
        let mut state = self.state();
        let granted = if state.queue.is_empty() && state.has_room() {
            state.reserved += 1;
            None
        } else {
            let (sender, receiver) = oneshot::channel();
            state.queue.push_back(sender);
            Some(receiver)
        };
        SlotWait {
            slots: self.clone(),
            granted,
        }
    }

    /// A slot past the limit, to learn whether the account has room again: for a refused Run
    /// that waited long for a slot while none of the run's tasks ended (their ends may not
    /// be watched, or the account's other tasks ended instead).
    pub fn probe(&self) -> Slot {
        self.state().reserved += 1;
        Slot {
            slots: self.clone(),
            held: true,
            probe: true,
        }
    }

    /// How long a refused Run waits for a slot before it probes: the longest backoff.
    pub fn probe_after(&self) -> Duration {
        MAX_BACKOFF
    }

    /// Serialises Run requests: hold the guard while the request is out and its task is
    /// claimed. `Err` when the shared claim book cannot be locked: the Run is not sent.
    pub async fn sending(&self) -> Result<Sending<'_>, String> {
        let here = self.inner.sending.lock().await;
        let elsewhere = match &self.inner.book {
            Some(book) => Some(
                book.lock_sending()
                    .await
                    .map_err(|error| format!("claim book {}: {error}", book.dir().display()))?,
            ),
            None => None,
        };
        Ok(Sending {
            _here: here,
            _elsewhere: elsewhere,
        })
    }

    /// The task `taskid` is active on the account (a resumed task being waited for, say).
    pub fn track(&self, taskid: &str) {
        if taskid.is_empty() {
            return; // a token-only handle: its id is learned when it ends, and not counted
        }
        let mut state = self.state();
        state.active.insert(taskid.to_owned());
        state.claimed.insert(taskid.to_owned());
        state.peak = state.peak.max(state.active.len());
    }

    /// The task `taskid` ended (finished, failed, cancelled or killed): its slot is free.
    pub fn ended(&self, taskid: &str) {
        let mut state = self.state();
        if state.active.remove(taskid) {
            state.grant();
        }
    }

    /// Marks `taskid` as belonging to the run already (a host that keeps the run elsewhere
    /// says which tasks it holds).
    pub fn claim(&self, taskid: &str) {
        self.state().claimed.insert(taskid.to_owned());
    }

    /// Claims a task a Run of this process just started or adopted, here and in the shared
    /// claim book, while the [`Sending`] guard is held. `Err` when the book cannot be
    /// written: the caller keeps the task (it is paid for) and says that another process
    /// could take it for a lost answer of its own.
    pub fn claim_shared(&self, taskid: &str) -> Result<(), String> {
        self.claim(taskid);
        let account = (self.inner.account.as_ref()).map(|claims| {
            (claims.claim(taskid))
                .map_err(|error| format!("claims {}: {error}", claims.path().display()))
        });
        match &self.inner.book {
            Some(book) => book
                .claim(taskid)
                .map_err(|error| format!("claim book {}: {error}", book.dir().display())),
            None => Ok(()),
        }
        .and(account.unwrap_or(Ok(())))
    }

    /// Every task this run started or adopted (in any process sharing its claim book), and
    /// every task another run on this machine claimed on the account since the window of a
    /// Run sent at `sent_at` opened, so a lost Run's answer is never matched to a task that
    /// already belongs to another node. `Err` when the claims cannot be read.
    pub fn claimed(&self, sent_at: std::time::SystemTime) -> Result<HashSet<String>, String> {
        let mut claimed = self.state().claimed.clone();
        if let Some(book) = &self.inner.book {
            let shared = book
                .claimed()
                .map_err(|error| format!("claim book {}: {error}", book.dir().display()))?;
            claimed.extend(shared);
        }
        if let Some(claims) = &self.inner.account {
            let since = sent_at
                .checked_sub(crate::api::FIND_RUN_CLOCK_MARGIN)
                .unwrap_or(std::time::UNIX_EPOCH);
            let shared = (claims.claimed_since(since))
                .map_err(|error| format!("claims {}: {error}", claims.path().display()))?;
            claimed.extend(shared);
        }
        Ok(claimed)
    }

    /// The server refused a Run for the account's balance (code 97), saying `message`: the
    /// run's later Runs are not sent.
    pub fn out_of_balance(&self, message: &str) {
        self.state()
            .no_balance
            .get_or_insert_with(|| message.to_owned());
    }

    /// What the server said when the balance did not cover a Run of this run, if it did.
    pub fn balance_refusal(&self) -> Option<String> {
        self.state().no_balance.clone()
    }

    /// How many of the run's tasks are active now.
    pub fn active(&self) -> usize {
        self.state().active.len()
    }

    /// What the run learned.
    pub fn report(&self) -> TaskSlotsReport {
        let state = self.state();
        TaskSlotsReport {
            refusals: state.refusals,
            limit: state.limit,
            learned: state.learned,
            peak: state.peak,
        }
    }

    /// The pause before the `attempt`-th try (from 1) of a Run that has no task to wait for.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.inner
            .first_backoff
            .saturating_mul(factor)
            .min(MAX_BACKOFF)
    }
}

impl SlotWait {
    /// The slot is there already: no waiting.
    pub fn is_ready(&self) -> bool {
        self.granted.is_none()
    }

    /// Waits for the slot.
    pub async fn granted(mut self) -> Slot {
        if let Some(receiver) = self.granted.as_mut() {
            // The sender lives in the queue until it grants: it is never dropped unsent
            // while the state lives, and the state lives as long as `self.slots`.
            let _ = receiver.await;
        }
        self.granted = None;
        Slot {
            slots: self.slots.clone(),
            held: true,
            probe: false,
        }
    }
}

impl Drop for SlotWait {
    fn drop(&mut self) {
        // Given up while waiting (the run was cancelled): a slot granted meanwhile goes back.
        if let Some(mut receiver) = self.granted.take() {
            if receiver.try_recv().is_ok() {
                let mut state = self.slots.state();
                state.reserved -= 1;
                state.grant();
            }
        }
    }
}

impl Slot {
    /// Checks, right before the Run is sent, that the slot still fits a limit learned since
    /// it was granted; if not, gives it up and queues again.
    pub fn confirm(mut self) -> Result<Slot, SlotWait> {
        let mut state = self.slots.state();
        let full = !self.probe && state.limit.is_some_and(|limit| state.active.len() >= limit);
        if !full {
            drop(state);
            return Ok(self);
        }
        self.held = false;
        state.reserved -= 1;
        let (sender, receiver) = oneshot::channel();
        state.queue.push_back(sender);
        state.grant();
        drop(state);
        Err(SlotWait {
            slots: self.slots.clone(),
            granted: Some(receiver),
        })
    }

    /// The Run was accepted: the slot now belongs to task `taskid` until it ends.
    pub fn accepted(mut self, taskid: &str) {
        self.held = false;
        let mut state = self.slots.state();
        state.reserved -= 1;
        state.active.insert(taskid.to_owned());
        state.claimed.insert(taskid.to_owned());
        state.peak = state.peak.max(state.active.len());
        let in_use = state.active.len() + state.reserved;
        if state.learned && state.limit.is_some_and(|limit| in_use > limit) {
            // A probe got through: the account has more room than was learned.
            state.limit = Some(in_use);
        }
    }

    /// The server refused the Run for its request rate (HTTP 429): nothing was started, and
    /// nothing is learned about the account's task limit. Frees the slot; the caller waits
    /// the server's Retry-After (or [`TaskSlots::backoff`]) and asks for a slot again.
    pub fn rate_limited(mut self) {
        self.held = false;
        let mut state = self.slots.state();
        state.reserved -= 1;
        state.refusals += 1;
        state.grant();
    }

    /// The server refused the Run for the account's limit on active tasks (code 96): nothing
    /// was started.
    /// Learns the limit from the run's active tasks when it has some, and says how to wait.
    pub fn refused(mut self, attempt: u32) -> AfterRefusal {
        self.held = false;
        let slots = self.slots.clone();
        let mut state = slots.state();
        state.reserved -= 1;
        state.refusals += 1;
        // Runs granted but not sent do not count: only accepted tasks fill the account.
        let in_use = state.active.len();
        if in_use == 0 {
            state.grant();
            drop(state);
            return AfterRefusal::BackOff(slots.backoff(attempt));
        }
        if state.limit.is_none_or(|limit| in_use < limit) {
            state.limit = Some(in_use);
            state.learned = true;
        }
        // First in line: it was granted before the others waiting.
        let (sender, receiver) = oneshot::channel();
        state.queue.push_front(sender);
        state.grant();
        drop(state);
        AfterRefusal::WaitForSlot(SlotWait {
            slots,
            granted: Some(receiver),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.held {
            // Not sent, or sent and failed in a way that started nothing.
            let mut state = self.slots.state();
            state.reserved -= 1;
            state.grant();
        }
    }
}

impl Default for TaskSlots {
    fn default() -> Self {
        Self::new(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refusal_teaches_the_limit_and_the_next_run_waits_for_a_task_to_end() {
        let slots = TaskSlots::new(None);
        for id in ["1", "2"] {
            slots.acquire().granted().await.accepted(id);
        }
        let third = slots.acquire().granted().await;
        let AfterRefusal::WaitForSlot(wait) = third.refused(1) else {
            panic!("two tasks are active: wait for one of them");
        };
        let report = slots.report();
        assert_eq!(
            (report.refusals, report.limit, report.learned),
            (1, Some(2), true)
        );
        // A newcomer queues behind the refused Run.
        let mut newcomer = tokio::spawn(slots.acquire().granted());
        let mut wait = tokio::spawn(wait.granted());
        tokio::task::yield_now().await;
        assert!(!wait.is_finished() && !newcomer.is_finished());
        slots.ended("1");
        let slot = (&mut wait).await.unwrap();
        assert!(!newcomer.is_finished(), "first come, first served");
        slot.accepted("3");
        slots.ended("2");
        (&mut newcomer).await.unwrap().accepted("4");
        assert_eq!(slots.report().peak, 2);
    }

    #[tokio::test]
    async fn a_refusal_with_no_task_of_the_run_active_backs_off() {
        let slots = TaskSlots::with_backoff(None, Duration::from_millis(10));
        let slot = slots.acquire().granted().await;
        match slot.refused(3) {
            AfterRefusal::BackOff(pause) => assert_eq!(pause, Duration::from_millis(40)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            slots.report().limit,
            None,
            "nothing learned from other clients' tasks"
        );
        assert_eq!(slots.backoff(40), MAX_BACKOFF);
    }

    #[tokio::test]
    async fn a_slot_given_up_or_dropped_goes_to_the_next_in_line() {
        let slots = TaskSlots::new(Some(1));
        let first = slots.acquire().granted().await;
        let waiting = slots.acquire();
        drop(waiting); // cancelled while queued
        drop(first); // sent nothing
        let again = slots.acquire().granted().await;
        again.accepted("9");
        assert_eq!(slots.active(), 1);
        slots.ended("9");
        assert_eq!(slots.active(), 0);
    }
}
