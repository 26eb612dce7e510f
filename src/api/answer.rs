//! Reading an answer: HTTP status, the `result`/`errors` envelope and the body, mapped to
//! [`Error`] variants. Both server conventions work: HTTP 200 with `result: false`, and 4xx/5xx.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;

use super::wire::{codes, Envelope};
use super::Error;

const SNIPPET_CHARS: usize = 200;

/// Maps one answer to the typed body or to the error it means.
pub(crate) fn parse_answer<T: DeserializeOwned>(
    operation: &str,
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
) -> Result<T, Error> {
    // Read straight from the text, twice at most (the envelope, then the body): a task's
    // answer is read for every poll, and a `Value` of it costs more than both readings.
    let envelope: Option<Envelope> = serde_json::from_str(body).ok();
    let success = (200..300).contains(&status);

    if let (true, Some(envelope)) = (success, &envelope) {
        if envelope.result && envelope.errors.is_empty() {
            return serde_json::from_str(body).map_err(|problem| Error::Protocol {
                operation: operation.into(),
                status,
                problem: problem.to_string(),
                snippet: snippet(body),
            });
        }
    }

    let first = envelope
        .as_ref()
        .and_then(|envelope| envelope.errors.first());
    let code = first.map(|item| item.code());
    let message = match &envelope {
        Some(envelope) if !envelope.errors.is_empty() => envelope
            .errors
            .iter()
            .map(|item| item.message.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        _ => snippet(body),
    };

    match (status, code) {
        (401 | 403, _) | (_, Some(codes::SIGN_IN_REQUIRED | codes::TOKEN_INVALID)) => {
            Err(Error::Authentication {
                status,
                code: code.unwrap_or(codes::SIGN_IN_REQUIRED),
                message,
            })
        }
        (_, Some(codes::INSUFFICIENT_BALANCE)) => Err(Error::InsufficientBalance { message }),
        (_, Some(codes::CONCURRENCY_LIMIT)) => Err(Error::ConcurrencyLimit { message }),
        (429, _) => Err(Error::RateLimited {
            retry_after,
            message,
        }),
        (408 | 500..=599, _) => Err(Error::Server { status, message }),
        (404, _) | (_, Some(codes::NOT_FOUND)) => Err(Error::NotFound { message }),
        (_, Some(code)) => Err(Error::Rejected {
            status,
            code,
            message,
        }),
        (_, None) if envelope.is_some() && !success => Err(Error::Rejected {
            status,
            code: codes::GENERAL,
            message,
        }),
        (_, None) => Err(Error::Protocol {
            operation: operation.into(),
            status,
            problem: if serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok() {
                "the answer is JSON but neither a success nor an error envelope".into()
            } else {
                "the answer is not JSON".into()
            },
            snippet: snippet(body),
        }),
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The first characters of a body, for error messages.
pub(crate) fn snippet(body: &str) -> String {
    let mut text: String = body.chars().take(SNIPPET_CHARS).collect();
    if body.chars().count() > SNIPPET_CHARS {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::wire::RunAccepted;

    fn run(status: u16, body: &str) -> Result<RunAccepted, Error> {
        parse_answer("Run/x/y", status, None, body)
    }

    #[test]
    fn success_body_is_parsed() {
        let ok = run(
            200,
            r#"{"result":true,"errors":[],"taskid":"2221","socketaccesstoken":"t"}"#,
        );
        assert_eq!(ok.unwrap().taskid, "2221");
    }

    #[test]
    fn codes_map_to_variants_on_http_200_and_on_error_statuses() {
        for status in [200, 400] {
            let body = |code: i64| {
                format!(r#"{{"result":false,"errors":[{{"code":{code},"message":"m{code}"}}]}}"#)
            };
            assert!(
                matches!(run(status, &body(97)), Err(Error::InsufficientBalance { message }) if message == "m97")
            );
            assert!(matches!(
                run(status, &body(96)),
                Err(Error::ConcurrencyLimit { .. })
            ));
            assert!(matches!(run(status, &body(1)), Err(Error::NotFound { .. })));
            assert!(matches!(
                run(status, &body(98)),
                Err(Error::Authentication { code: 98, .. })
            ));
            assert!(
                matches!(run(status, &body(0)), Err(Error::Rejected { code: 0, message, .. }) if message == "m0")
            );
        }
    }

    #[test]
    fn statuses_without_envelope_are_classified() {
        assert!(matches!(
            run(401, "nope"),
            Err(Error::Authentication { status: 401, .. })
        ));
        assert!(matches!(
            parse_answer::<RunAccepted>("x", 429, Some(Duration::from_secs(3)), ""),
            Err(Error::RateLimited { retry_after: Some(d), .. }) if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            run(502, "<html>bad gateway</html>"),
            Err(Error::Server { status: 502, .. })
        ));
        assert!(matches!(
            run(404, "Cannot POST /v1/x"),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn unreadable_answers_are_protocol_errors_with_status_and_snippet() {
        match run(200, "<html>maintenance</html>") {
            Err(Error::Protocol {
                status, snippet, ..
            }) => {
                assert_eq!(status, 200);
                assert!(snippet.contains("maintenance"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            run(200, r#"{"result":true,"errors":[]}"#),
            Err(Error::Protocol { .. })
        ));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        let later = SystemTime::now() + Duration::from_secs(30);
        headers.insert(RETRY_AFTER, httpdate::fmt_http_date(later).parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
    }
}
