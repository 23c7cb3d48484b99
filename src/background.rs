//! The work that runs after the response: storing the record, and saying how it went.
//!
//! Logs go to stdout/stderr, not `state.log_context`: the request's log stream closes with the
//! response, so lines from background work would be dropped or misattributed there.
//!
//! - Success: one short line on stdout.
//! - Final failure: exactly one JSON line on stderr holding the whole record, the attempts and
//!   the last error, so the record can be replayed (see the README). Nothing else is printed
//!   about it, and no token is ever part of it.

use crate::record::RequestRecord;
use crate::store::{KEY, Store, WriteFailure};
use serde::Serialize;
use std::time::Instant;
use vercel_runtime::AppState;

/// The `event` of a failure line; what log searches and the replay tool look for.
pub const WRITE_FAILED: &str = "wait_until.write_failed";

/// Schedules the write of `record` with `state.wait_until` and returns at once.
pub fn store_after_response(state: &AppState, store: &'static Store, record: RequestRecord) {
    state.wait_until(async move {
        let started = Instant::now();
        match store.push(&record).await {
            Ok(attempts) => println!(
                "[wait-until] stored {} in {} ({} attempt{}, {} ms)",
                record.id,
                store.kind(),
                attempts,
                if attempts == 1 { "" } else { "s" },
                started.elapsed().as_millis()
            ),
            Err(failure) => eprintln!("{}", failure_line(store.kind(), &record, &failure)),
        }
    });
}

#[derive(Serialize)]
struct FailureLine<'a> {
    event: &'static str,
    storage: &'static str,
    key: &'static str,
    record: &'a RequestRecord,
    attempts: u32,
    error: String,
}

/// The replayable failure line (one line of JSON).
pub fn failure_line(
    storage: &'static str,
    record: &RequestRecord,
    failure: &WriteFailure,
) -> String {
    let line = FailureLine {
        event: WRITE_FAILED,
        storage,
        key: KEY,
        record,
        attempts: failure.attempts,
        error: failure.error.to_string(),
    };
    serde_json::to_string(&line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    #[test]
    fn a_failure_line_is_one_line_of_json_holding_the_whole_record() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "user-agent",
            "line\nbreak"
                .parse()
                .unwrap_or(http::HeaderValue::from_static("x")),
        );
        let record = RequestRecord::from_parts("GET", &headers);
        let failure = WriteFailure {
            attempts: 3,
            error: StoreError::Unavailable("HTTP 503".into()),
        };
        let line = failure_line("upstash", &record, &failure);
        assert!(!line.contains('\n'));
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["event"], WRITE_FAILED);
        assert_eq!(parsed["attempts"], 3);
        assert_eq!(parsed["error"], "HTTP 503");
        let stored: RequestRecord = serde_json::from_value(parsed["record"].clone()).unwrap();
        assert_eq!(stored, record);
    }
}
