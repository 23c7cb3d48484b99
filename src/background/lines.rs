//! The lines background work leaves in the logs.
//!
//! - Success: one short line per stored record, e.g.
//!   `[wait-until] stored 01a2… in upstash (2 attempts, 131 ms)` (can be turned off).
//! - Failure: one line of JSON holding every record it is about, whole, so `replay` can store
//!   them again. The shape is the same for one record and for a group of records that failed
//!   together under overload: `records` is always an array. Nothing secret is ever part of it.

use crate::record::RequestRecord;
use serde::Serialize;
use std::time::Duration;

/// The `event` of a failure line; what log searches and `replay` look for.
pub const WRITE_FAILED: &str = "wait_until.write_failed";

#[derive(Serialize)]
struct FailureLine<'a> {
    event: &'static str,
    storage: &'static str,
    count: usize,
    records: &'a [RequestRecord],
    attempts: u32,
    error: &'a str,
}

/// The replayable failure line: one line of JSON.
pub fn failure_line(
    storage: &'static str,
    records: &[RequestRecord],
    attempts: u32,
    error: &str,
) -> String {
    let line = FailureLine {
        event: WRITE_FAILED,
        storage,
        count: records.len(),
        records,
        attempts,
        error,
    };
    // Strings and integers only: serialising cannot fail, and JSON escapes every line break.
    serde_json::to_string(&line).unwrap_or_default()
}

/// The short line for a stored record.
pub fn success_line(
    record: &RequestRecord,
    storage: &str,
    attempts: u32,
    took: Duration,
) -> String {
    format!(
        "[wait-until] stored {} in {storage} ({attempts} attempt{}, {} ms)",
        record.id,
        if attempts == 1 { "" } else { "s" },
        took.as_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(user_agent: &'static str) -> RequestRecord {
        let mut headers = http::HeaderMap::new();
        headers.insert("user-agent", http::HeaderValue::from_static(user_agent));
        RequestRecord::from_parts("GET", &headers)
    }

    #[test]
    fn a_failure_line_is_one_line_of_json_holding_every_record_whole() {
        let records = [record("line\tone"), record("two")];
        let line = failure_line("upstash", &records, 3, "storage answered HTTP 503");
        assert!(!line.contains('\n'));
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["event"], WRITE_FAILED);
        assert_eq!(parsed["storage"], "upstash");
        assert_eq!(parsed["count"], 2);
        assert_eq!(parsed["attempts"], 3);
        assert_eq!(parsed["error"], "storage answered HTTP 503");
        let back: Vec<RequestRecord> = serde_json::from_value(parsed["records"].clone()).unwrap();
        assert_eq!(back, records);
    }

    #[test]
    fn a_success_line_names_the_record_the_store_and_the_attempts() {
        let stored = record("ua");
        let one = success_line(&stored, "upstash", 1, Duration::from_millis(12));
        assert_eq!(
            one,
            format!(
                "[wait-until] stored {} in upstash (1 attempt, 12 ms)",
                stored.id
            )
        );
        let three = success_line(&stored, "memory", 3, Duration::from_millis(1500));
        assert!(
            three.ends_with("in memory (3 attempts, 1500 ms)"),
            "{three}"
        );
    }
}
