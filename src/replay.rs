//! Finding the records of failure lines in exported logs, so they can be stored again.
//!
//! - A failure line is found anywhere in a line (log exports prefix timestamps and levels):
//!   from its first `{`, a JSON object whose `event` is [`WRITE_FAILED`].
//! - Its record must pass the same checks as anything read from storage
//!   ([`RequestRecord::from_stored`]); others are counted as rejected, never replayed.
//! - Records come out oldest first (log order), each id once, so pushing them in order leaves
//!   the newest first.

use crate::background::WRITE_FAILED;
use crate::record::RequestRecord;
use serde_json::Value;
use std::collections::HashSet;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub records: Vec<RequestRecord>,
    /// Failure lines whose record did not pass the checks.
    pub rejected: usize,
}

pub fn failed_records(log: &str) -> Found {
    let mut found = Found::default();
    let mut seen = HashSet::new();
    for line in log.lines() {
        let Some(start) = line.find('{') else {
            continue;
        };
        let Ok(value) = serde_json::from_str::<Value>(&line[start..]) else {
            continue;
        };
        if value["event"] != WRITE_FAILED {
            continue;
        }
        match RequestRecord::from_stored(&value["record"].to_string()) {
            Some(record) if seen.insert(record.id.clone()) => found.records.push(record),
            Some(_) => {}
            None => found.rejected += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::background::failure_line;
    use crate::store::{StoreError, WriteFailure};

    fn failed(user_agent: &str) -> (RequestRecord, String) {
        let mut headers = http::HeaderMap::new();
        headers.insert("user-agent", user_agent.parse().unwrap());
        let record = RequestRecord::from_parts("GET", &headers);
        let failure = WriteFailure {
            attempts: 4,
            error: StoreError::Unavailable("down".into()),
        };
        let line = failure_line("upstash", &record, &failure);
        (record, line)
    }

    #[test]
    fn failure_lines_are_found_among_other_lines_and_behind_prefixes() {
        let (first, line1) = failed("one");
        let (second, line2) = failed("two");
        let log = format!(
            "storage: upstash (…)\n2026-11-22T16:00:00Z error {line1}\n[wait-until] stored x\n{line2}\n{{\"event\":\"other\"}}\n"
        );
        assert_eq!(
            failed_records(&log),
            Found {
                records: vec![first, second],
                rejected: 0
            }
        );
    }

    #[test]
    fn a_record_that_appears_twice_is_replayed_once() {
        let (record, line) = failed("twice");
        assert_eq!(
            failed_records(&format!("{line}\n{line}\n")).records,
            [record]
        );
    }

    #[test]
    fn a_tampered_record_is_rejected_not_replayed() {
        let (_, line) = failed("ok");
        let tampered = line.replace("\"method\":\"GET\"", "\"method\":\"\"");
        assert_eq!(
            failed_records(&tampered),
            Found {
                records: vec![],
                rejected: 1
            }
        );
    }
}
