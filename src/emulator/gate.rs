//! The gate every API request passes first: counted, answered by an armed 500/503/429 fault (or
//! cut by a `drop-before` one) or slowed by a `Slow` one, then checked for a valid signature.

// `Err(Response)` answers early; see `answer`.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use crate::api::wire::codes;

use super::answer::{deliver, failure};
use super::faults::{Fault, Operation};
use super::state::Shared;

/// Counts the request, answers the faults that replace an answer (500, 503, 429), waits out a
/// `Slow` one, then checks auth when `headers` are given. `Ok` carries the fault that
/// still has to act (dropping, truncating, 96/97, failing tasks).
pub(crate) async fn gate(
    shared: &Shared,
    operation: Operation,
    headers: Option<&HeaderMap>,
) -> Result<Option<Fault>, Response> {
    let fault = shared.arrive(operation);
    match fault {
        Some(Fault::ServerError) => {
            return Err(failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::GENERAL,
                format!("emulated server error on {operation} (fault injection)"),
            ))
        }
        Some(Fault::Unavailable) => {
            return Err(failure(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::GENERAL,
                format!("emulated outage on {operation} (fault injection): try again later"),
            ))
        }
        Some(Fault::RateLimited { retry_after }) => return Err(rate_limited(retry_after)),
        // Nothing is done: the answer is cut as `drop` cuts it, so the client cannot tell.
        Some(Fault::DropBeforeEffect) => {
            return Err(deliver(
                Some(Fault::DropConnection),
                &serde_json::json!({"result": false, "errors": []}),
            ))
        }
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        _ => {}
    }
    if let Some(headers) = headers {
        shared.authenticate(headers).map_err(|message| {
            failure(StatusCode::UNAUTHORIZED, codes::SIGN_IN_REQUIRED, message)
        })?;
    }
    Ok(fault.filter(|fault| !matches!(fault, Fault::Slow(_))))
}

fn rate_limited(retry_after: Duration) -> Response {
    let mut response = failure(
        StatusCode::TOO_MANY_REQUESTS,
        codes::GENERAL,
        "rate limit exceeded (fault injection): retry later",
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs()),
    );
    response
}

/// The gate of an operation whose body is a JSON object: [`gate`] with the request's
/// headers, then the body read as an object (empty means `{}`).
pub(crate) async fn gate_json(
    shared: &Shared,
    operation: Operation,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Option<Fault>, serde_json::Map<String, serde_json::Value>), Response> {
    let fault = gate(shared, operation, Some(headers)).await?;
    Ok((fault, super::answer::json_object(body)?))
}
