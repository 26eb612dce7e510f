//! `GET /cdn/{dir}/{name}`: uploaded files and task outputs, public like Wiro's CDN host, with
//! `Range: bytes=N-` so a cut download can resume.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::super::answer::cut_body;
use super::super::faults::{Fault, Operation};
use super::super::gate::gate;
use super::super::state::Shared;

/// Serves a stored file, whole or from a byte offset.
pub(crate) async fn download(
    State(shared): State<Arc<Shared>>,
    Path((dir, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let fault = match gate(&shared, Operation::Download, None).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    let path = format!("{dir}/{name}");
    shared.requested_file(&path);
    let Some(file) = shared.file(&path) else {
        return (
            StatusCode::NOT_FOUND,
            "no such file (outputs are kept while the emulator runs)",
        )
            .into_response();
    };
    let total = file.body.len();
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
        // A range in another unit, or several ranges, is ignored and the whole file sent, as
        // RFC 9110 allows; only a single byte range that cannot be served is refused (416).
        .filter(|value| value.trim().starts_with("bytes=") && !value.contains(','))
        .map(|value| parse_range(value, total));
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, total),
        Some(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end),
        Some(None) => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{total}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    // Both ends are within the file: parse_range checked them.
    let part = match file.body.read(start, end).await {
        Ok(part) => part,
        Err(problem) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the stored file could not be read: {problem}"),
            )
                .into_response()
        }
    };
    let length = part.len() as u64;
    let body = match fault {
        Some(Fault::TruncateBody | Fault::DropConnection) => cut_body(part),
        _ => Body::from(part),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let set = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&file.content_type) {
        set.insert(header::CONTENT_TYPE, value);
    }
    set.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // A dropped connection gives no length (chunked); a truncated body promises the full one.
    if fault != Some(Fault::DropConnection) {
        set.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if status == StatusCode::PARTIAL_CONTENT {
        let value = format!("bytes {start}-{}/{total}", end.saturating_sub(1));
        if let Ok(value) = HeaderValue::from_str(&value) {
            set.insert(header::CONTENT_RANGE, value);
        }
    }
    response
}

/// `bytes=N-` or `bytes=N-M` as a half-open `start..end`; `None` when it cannot be served.
fn parse_range(value: &str, total: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let suffix: u64 = suffix.parse().ok()?;
            (total.saturating_sub(suffix), total)
        }
        (start, "") => (start.parse().ok()?, total),
        (start, end) => {
            let end: u64 = end.parse().ok()?;
            (start.parse().ok()?, end.saturating_add(1).min(total))
        }
    };
    (start < end && end <= total).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_read_as_the_rfc_says() {
        assert_eq!(parse_range("bytes=10-", 100), Some((10, 100)));
        assert_eq!(parse_range("bytes=10-19", 100), Some((10, 20)));
        assert_eq!(parse_range("bytes=90-500", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=-5", 100), Some((95, 100)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-", 100), None);
    }
}
