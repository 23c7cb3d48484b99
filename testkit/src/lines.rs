//! The app's background lines, read back: one line per record, a success line
//! (`[after-response] wrote <id> to <storage> (…)`) or a failure line (one JSON object holding the
//! records, ready to replay). Tests count records by these, never by storage calls.

use serde_json::Value;

/// How a success line starts; the record's id follows.
pub const STORED: &str = "[after-response] wrote ";

/// The `event` of a failure line.
pub const WRITE_FAILED: &str = "wait_until.write_failed";

/// The id a success line reports stored; `None` for any other line.
pub fn stored_id(line: &str) -> Option<&str> {
    line.strip_prefix(STORED)?.split(' ').next()
}

/// `line` parsed, when it is a failure line.
pub fn failure_line(line: &str) -> Option<Value> {
    serde_json::from_str::<Value>(line)
        .ok()
        .filter(|value| value["event"] == WRITE_FAILED)
}

/// Whether `line` is a failure line.
pub fn is_failure_line(line: &str) -> bool {
    failure_line(line).is_some()
}

/// The failure lines among `lines`, parsed.
pub fn failure_lines(lines: &[String]) -> Vec<Value> {
    lines.iter().filter_map(|line| failure_line(line)).collect()
}

/// The records the failure lines hold, in order, each line checked against its `count`.
pub fn records_of(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .flat_map(|line| {
            let records = line["items"].as_array().expect("records in a failure line");
            assert_eq!(line["count"], records.len(), "{line}");
            records.clone()
        })
        .collect()
}
