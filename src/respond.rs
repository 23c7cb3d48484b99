//! The one place that turns results into HTTP responses, and the JSON bodies they carry.
//!
//! Every answer is built here with `cache-control: no-store` (the records change with every
//! request, so no cache may keep them) and the headers of `security::EVERY_RESPONSE`, the 404
//! included. Errors are
//! `{"error": "<short message>"}`; storage errors map to statuses here and nowhere else.

use crate::record::RequestRecord;
use crate::security;
use crate::store::{Recent, StoreError};
use after_response::{Failure, Written as Stored};
use http::{HeaderValue, Method, StatusCode, header};
use serde::Serialize;
use vercel_runtime::{Response, ResponseBody};

/// `status` with `body` serialised as JSON.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<ResponseBody> {
    // Our bodies are plain structs of strings and numbers: serialising cannot fail.
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    with_headers(status, "application/json", text)
}

/// `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: &str) -> Response<ResponseBody> {
    json(status, &serde_json::json!({ "error": message }))
}

/// `404` `{"error":"not found"}`: what no route matched.
pub fn not_found() -> Response<ResponseBody> {
    error(StatusCode::NOT_FOUND, "not found")
}

/// `503` when storage is missing or down, `502` when it answered something wrong.
pub fn store_error(error: &StoreError) -> Response<ResponseBody> {
    self::error(store_status(error), &error.to_string())
}

/// An awaited write that failed: [`store_error`]'s status when storage said why, else `503`
/// (overloaded, timed out), with the message and the record's id (its failure line in the log
/// holds the record, for replay).
pub fn write_failed(failure: &Failure<StoreError>, id: &str) -> Response<ResponseBody> {
    let status = match failure {
        Failure::Sink { error, .. } => store_status(error),
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = serde_json::json!({ "error": failure.to_string(), "id": id, "awaited": true });
    json(status, &body)
}

fn store_status(error: &StoreError) -> StatusCode {
    match error {
        StoreError::NotConfigured(_) | StoreError::Unavailable(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        StoreError::Rejected(_) => StatusCode::BAD_GATEWAY,
    }
}

/// `None` when `req` uses one of `allowed`; else the `405` to send, with `Allow`.
pub fn allow_only<B>(req: &http::Request<B>, allowed: &[Method]) -> Option<Response<ResponseBody>> {
    if allowed.contains(req.method()) {
        return None;
    }
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    let allow = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    Some(response)
}

/// A response with a body, its content type, `cache-control: no-store` and the security
/// headers every answer carries.
pub fn with_headers(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<ResponseBody>,
) -> Response<ResponseBody> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in security::EVERY_RESPONSE {
        headers.insert(name, value);
    }
    response
}

/// What `/api/wait-until` answers: at once, before its write (`awaited: false`), or with
/// `?await=1` once the write is done, with how long it took on the server.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub recorded: bool,
    pub id: String,
    pub storage: &'static str,
    pub awaited: bool,
    /// Milliseconds from handing the record to the write queue until it was stored, to 0.01 ms;
    /// awaited writes only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_ms: Option<f64>,
    /// Storage calls the write took, retries included; awaited writes only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    pub message: &'static str,
}

impl Receipt {
    /// The receipt of record `id`: written after this answer, or before it as `stored` says.
    pub fn new(id: String, storage: &'static str, stored: Option<Stored>) -> Self {
        Self {
            recorded: true,
            id,
            storage,
            awaited: stored.is_some(),
            write_ms: stored.map(|s| (s.took.as_secs_f64() * 100_000.0).round() / 100.0),
            attempts: stored.map(|s| s.attempts),
            message: match stored {
                None => "Responded at once; the record is written after this response is sent.",
                Some(_) => "Stored before this response was sent.",
            },
        }
    }
}

/// What `/api/recent` answers.
#[derive(Debug, Serialize)]
pub struct RecentPage {
    pub requests: Vec<RequestRecord>,
    pub storage: &'static str,
    /// Stored entries that were not valid records and were left out.
    pub skipped: usize,
}

impl RecentPage {
    pub fn new(recent: Recent, storage: &'static str) -> Self {
        Self {
            requests: recent.records,
            storage,
            skipped: recent.skipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_down_is_a_503_and_a_bad_answer_a_502() {
        let down = store_error(&StoreError::Unavailable("timed out".into()));
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        let bad = store_error(&StoreError::Rejected("WRONGTYPE".into()));
        assert_eq!(bad.status(), StatusCode::BAD_GATEWAY);
        let missing = store_error(&StoreError::NotConfigured("set it".into()));
        assert_eq!(missing.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn an_awaited_receipt_carries_the_write_time_to_a_hundredth_of_a_millisecond() {
        let stored = Stored {
            attempts: 2,
            took: std::time::Duration::from_nanos(12_345_678),
        };
        let receipt = Receipt::new("an-id".into(), "upstash", Some(stored));
        let body = serde_json::to_value(&receipt).unwrap();
        assert_eq!(body["writeMs"], 12.35);
        assert_eq!(body["attempts"], 2);
        assert_eq!(body["awaited"], true);
        assert_eq!(body["id"], "an-id");
        assert_eq!(body["storage"], "upstash");
    }

    #[test]
    fn a_plain_receipt_says_it_did_not_wait_and_carries_no_write_time() {
        let body = serde_json::to_value(Receipt::new("an-id".into(), "memory", None)).unwrap();
        assert_eq!(body["awaited"], false);
        assert_eq!(body["id"], "an-id");
        assert!(
            body.get("writeMs").is_none() && body.get("attempts").is_none(),
            "{body}"
        );
    }

    #[test]
    fn a_failed_awaited_write_answers_with_a_storage_error_s_status_else_503() {
        // Its body (the message, the id) is read back by tests/it/awaited.rs.
        let sink = |error| Failure::Sink { error, attempts: 1 };
        for (failure, status) in [
            (
                sink(StoreError::Unavailable("down".into())),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                sink(StoreError::Rejected("WRONGTYPE".into())),
                StatusCode::BAD_GATEWAY,
            ),
            (
                Failure::Overloaded("the queue is full".into()),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                Failure::TimedOut { attempts: 3 },
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ] {
            let response = write_failed(&failure, "an-id");
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        }
    }

    #[test]
    fn the_404_is_json_and_never_cached_like_every_answer() {
        let response = not_found();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn json_answers_are_never_cached() {
        let response = json(StatusCode::OK, &serde_json::json!({}));
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn every_kind_of_answer_carries_the_security_headers() {
        // The 405 needs a real request (hyper's body): tests/it/headers.rs checks it on the binary.
        let answers = [
            ("json", json(StatusCode::OK, &serde_json::json!({}))),
            ("404", not_found()),
            ("503", store_error(&StoreError::Unavailable("down".into()))),
            ("page", with_headers(StatusCode::OK, "text/html", "")),
        ];
        for (what, response) in answers {
            for (name, value) in security::EVERY_RESPONSE {
                assert_eq!(
                    response.headers().get(&name),
                    Some(&value),
                    "{what}: {name}"
                );
            }
        }
    }
}
