//! Whether the account can take one more task: Wiro's concurrency limit (code 96) and
//! balance (code 97), checked under the lock that creates the task, and faults that refuse
//! a Run whatever the limits say.

use axum::response::Response;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::api::wire::codes;

use super::super::answer::refuse;
use super::super::basics::lock;
use super::super::faults::Fault;
use super::super::state::Shared;
use super::super::task_book::TaskBook;

/// The refusal a fault asks for, whatever the account's real limits are.
pub(super) fn injected_refusal(
    shared: &Shared,
    fault: Option<Fault>,
    price: f64,
) -> Option<Response> {
    match fault {
        Some(Fault::ConcurrencyLimit) => Some(concurrency_refused(shared, "fault injection")),
        Some(Fault::InsufficientBalance) => {
            Some(balance_refused(shared, price, None, "fault injection"))
        }
        _ => None,
    }
}

/// Takes the task into the book, or refuses it with Wiro's code 96 or 97. The limits are
/// checked under the same lock that creates the task, so two Runs cannot both take the last
/// place or the last dollar. Returns the task's id and socket access token.
pub(super) fn admit(
    shared: &Shared,
    slug: &str,
    price: f64,
    parameters: Map<String, Value>,
    stop: &CancellationToken,
) -> Result<(String, String), Response> {
    let callback_url = parameters
        .get("callbackUrl")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned);
    let mut book = lock(&shared.tasks);
    if let Some(answer) = over_limits(shared, &mut book, price) {
        return Err(answer);
    }
    Ok(create_task(
        &mut book,
        slug,
        parameters,
        price,
        callback_url,
        stop.clone(),
    ))
}

/// The refusal when the account has no place left for another task (code 96) or its balance,
/// less what unfinished tasks are promised, is below the price (code 97).
fn over_limits(shared: &Shared, book: &mut TaskBook, price: f64) -> Option<Response> {
    let unfinished = book.unfinished();
    let available = book.balance.map(|balance| balance - book.reserved());
    // Slots plus queue places: past that, Wiro's concurrency limit (code 96).
    let limit = shared
        .config
        .max_running
        .zip(shared.config.max_queued)
        .map(|(running, queued)| running + queued);
    if let Some(limit) = limit.filter(|limit| unfinished >= *limit) {
        return Some(concurrency_refused(
            shared,
            &format!("{unfinished} task(s) running or queued, the project allows {limit}"),
        ));
    }
    available
        .filter(|available| *available < price)
        .map(|available| balance_refused(shared, price, Some(available), "balance"))
}

/// Creates the task of the model `slug` (raw, `slugowner/slugproject`) and returns its id and
/// socket access token.
fn create_task(
    book: &mut TaskBook,
    slug: &str,
    parameters: Map<String, Value>,
    price: f64,
    callback_url: Option<String>,
    stop: CancellationToken,
) -> (String, String) {
    let id = book.create(parameters, price, callback_url, stop);
    let (owner, project) = slug.split_once('/').unwrap_or((slug, ""));
    let token = book
        .by_id
        .get_mut(&id)
        .and_then(|entry| {
            // Task/List filters on these, as Wiro's records carry them.
            let extra = &mut entry.record.extra;
            extra.insert("modelslugowner".into(), Value::from(owner));
            extra.insert("modelslugproject".into(), Value::from(project));
            entry.record.socketaccesstoken.clone()
        })
        .unwrap_or_default();
    (id, token)
}

fn concurrency_refused(shared: &Shared, why: &str) -> Response {
    shared.count_refused_run(codes::CONCURRENCY_LIMIT);
    refuse(
        codes::CONCURRENCY_LIMIT,
        format!(
            "concurrency limit reached ({why}): wait for a running task to end, then run again"
        ),
    )
}

fn balance_refused(shared: &Shared, price: f64, available: Option<f64>, why: &str) -> Response {
    shared.count_refused_run(codes::INSUFFICIENT_BALANCE);
    let available = available
        .map(|available| format!(", the balance allows ${available:.2}"))
        .unwrap_or_default();
    refuse(
        codes::INSUFFICIENT_BALANCE,
        format!("insufficient balance ({why}): this run costs ${price:.2}{available}; add credits and run again"),
    )
}
