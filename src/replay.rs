//! Finding the records of failure lines in exported logs, so they can be stored again.
//!
//! What it reads, line by line, mixed freely:
//! - the failure line itself, as the app printed it to stderr;
//! - the same behind a prefix (a timestamp, a level, a path): the first `{` starts it, and
//!   whatever follows the JSON object is ignored;
//! - the JSON lines of `vercel logs --json` (`{"type":"log","data":{"message":…}}`), where
//!   the function's log text is `data.message` (possibly several lines of text), and log-drain
//!   style objects with a top-level `message`. The CLI's closing `summary` line says whether
//!   the query had more entries than it printed; that is reported, never silently dropped.
//!
//! What it promises:
//! - Every record must pass the checks of anything read from storage
//!   ([`RequestRecord::from_stored`]); others are counted as invalid, never replayed.
//! - Each id once, and in time order (oldest first, by timestamp and then id; v7 ids are
//!   time-ordered), whatever order the export lists: `vercel logs` prints newest first.
//! - A line that names the failure event but cannot be read (cut, or edited) is counted as
//!   unreadable, so a partial export is never mistaken for a complete one.

use crate::background::WRITE_FAILED;
use crate::record::RequestRecord;
use serde_json::Value;
use std::collections::HashSet;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// The records to store again, oldest first, each id once.
    pub records: Vec<RequestRecord>,
    /// Failure lines read.
    pub lines: usize,
    /// Records in failure lines that did not pass the checks.
    pub invalid: usize,
    /// Lines that name the failure event but hold no readable failure line.
    pub unreadable: usize,
    /// Records seen again (the same failure line exported twice, say).
    pub duplicates: usize,
    /// The export stopped at its limit: more entries matched. Holds the CLI's `next` cursor.
    pub more_pages: Option<String>,
}

/// Every failed record in `log`, oldest first.
pub fn failed_records(log: &str) -> Found {
    let mut scan = Scan::default();
    for line in log.lines() {
        scan.line(line);
    }
    let mut found = scan.found;
    found
        .records
        .sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
    found
}

#[derive(Default)]
struct Scan {
    found: Found,
    seen: HashSet<String>,
}

impl Scan {
    fn line(&mut self, line: &str) {
        let names_event = line.contains(WRITE_FAILED);
        // Export lines are JSON objects; anything else only matters if it names the event.
        if !names_event && !line.trim_start().starts_with('{') {
            return;
        }
        match first_object(line) {
            Some(value) if value["event"] == WRITE_FAILED => self.failure_line(&value),
            Some(value) => {
                self.summary(&value);
                // An export's entry: the function's own text is in `message`.
                let message = value["data"]["message"]
                    .as_str()
                    .or(value["message"].as_str());
                match message {
                    Some(message) if message.contains(WRITE_FAILED) => {
                        for inner in message.lines() {
                            self.line(inner);
                        }
                    }
                    _ if names_event => self.found.unreadable += 1,
                    _ => {}
                }
            }
            None if names_event => self.found.unreadable += 1,
            None => {}
        }
    }

    /// `vercel logs --json` ends with `{"type":"summary","pagination":{"hasMore","next"}}`.
    fn summary(&mut self, value: &Value) {
        let pagination = &value["pagination"];
        if value["type"] == "summary" && pagination["hasMore"] == true {
            let next = pagination["next"].as_str().unwrap_or_default();
            self.found.more_pages = Some(next.to_string());
        }
    }

    fn failure_line(&mut self, line: &Value) {
        self.found.lines += 1;
        // `records` since grouped lines; `record` in lines of earlier versions.
        let records = match (&line["records"], &line["record"]) {
            (Value::Array(records), _) => records.iter().collect(),
            (_, record @ Value::Object(_)) => vec![record],
            _ => {
                self.found.unreadable += 1;
                return;
            }
        };
        for record in records {
            match RequestRecord::from_stored(&record.to_string()) {
                Some(record) if self.seen.insert(record.id.clone()) => {
                    self.found.records.push(record)
                }
                Some(_) => self.found.duplicates += 1,
                None => self.found.invalid += 1,
            }
        }
    }
}

/// The JSON object that starts at the first `{` of `line`, ignoring whatever follows it.
fn first_object(line: &str) -> Option<Value> {
    let start = line.find('{')?;
    serde_json::Deserializer::from_str(&line[start..])
        .into_iter::<Value>()
        .next()?
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::background::lines::failure_line;

    fn record(user_agent: &str, timestamp: u64) -> RequestRecord {
        let mut headers = http::HeaderMap::new();
        headers.insert("user-agent", user_agent.parse().unwrap());
        RequestRecord {
            timestamp,
            ..RequestRecord::from_parts("GET", &headers)
        }
    }

    fn line(records: &[RequestRecord]) -> String {
        failure_line("upstash", records, 4, "storage answered HTTP 503")
    }

    #[test]
    fn a_replayed_record_is_written_as_the_same_bytes_the_app_wrote() {
        // The same bytes are the same member of the sorted set: a replay adds no copy.
        let mut headers = http::HeaderMap::new();
        let user_agent = "a \"quoted\" é/<>".as_bytes();
        headers.insert(
            "user-agent",
            http::HeaderValue::from_bytes(user_agent).unwrap(),
        );
        headers.insert("x-vercel-ip-country", http::HeaderValue::from_static("jp"));
        let written = [RequestRecord::from_parts("GET", &headers)];
        let found = failed_records(&format!("2026-12-06 {}", line(&written)));
        assert_eq!(found.records.len(), 1);
        assert_eq!(found.records[0].to_json(), written[0].to_json());
    }

    #[test]
    fn failure_lines_are_found_among_other_lines_and_behind_prefixes() {
        let (first, second) = (record("one", 1), record("two", 2));
        let log = format!(
            "storage: upstash (…)\n2026-11-22T16:00:00Z error {}\n[wait-until] stored x\n{} trailing text\n{{\"event\":\"other\"}}\n",
            line(std::slice::from_ref(&first)),
            line(std::slice::from_ref(&second)),
        );
        let found = failed_records(&log);
        assert_eq!(found.records, [first, second]);
        assert_eq!((found.lines, found.invalid, found.unreadable), (2, 0, 0));
    }

    #[test]
    fn a_grouped_line_gives_every_record_it_holds() {
        let group = [record("a", 1), record("b", 2), record("c", 3)];
        let found = failed_records(&line(&group));
        assert_eq!(found.records, group);
        assert_eq!(found.lines, 1);
    }

    #[test]
    fn lines_of_earlier_versions_with_one_record_are_read_too() {
        let old = record("old", 5);
        let text = format!(
            r#"{{"event":"{WRITE_FAILED}","storage":"upstash","key":"requests:recent","record":{},"attempts":4,"error":"e"}}"#,
            old.to_json()
        );
        assert_eq!(failed_records(&text).records, [old]);
    }

    #[test]
    fn records_come_out_oldest_first_whatever_the_order_of_the_export() {
        let (a, b, c) = (record("a", 10), record("b", 20), record("c", 30));
        let newest_first = [c.clone(), b.clone(), a.clone()]
            .iter()
            .map(|r| line(std::slice::from_ref(r)))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(failed_records(&newest_first).records, [a, b, c]);
    }

    #[test]
    fn the_message_of_a_cli_json_line_or_a_drain_entry_is_read() {
        let (cli, drain) = (record("cli", 7), record("drain", 8));
        let cli_line = serde_json::json!({
            "type": "log",
            "data": {
                "timestamp": "2026-11-23T10:15:04.512Z",
                "level": "error",
                "message": format!("{}\n", line(std::slice::from_ref(&cli))),
                "requestPath": "/api/wait-until",
                "truncated": false,
            },
        });
        let drain_line = serde_json::json!({
            "id": "1",
            "message": line(std::slice::from_ref(&drain)),
        });
        let found = failed_records(&format!("{cli_line}\n{drain_line}"));
        assert_eq!(found.records, [cli, drain]);
        assert_eq!((found.lines, found.unreadable), (2, 0));
    }

    #[test]
    fn a_cli_summary_with_more_pages_is_reported() {
        let done =
            r#"{"type":"summary","recordsReturned":2,"pagination":{"hasMore":false,"next":null}}"#;
        assert_eq!(failed_records(done).more_pages, None);
        let more = r#"{"type":"summary","recordsReturned":100,"pagination":{"hasMore":true,"next":"c-42"}}"#;
        assert_eq!(failed_records(more).more_pages.as_deref(), Some("c-42"));
        // Indented as a tool may print it: still the summary.
        let indented = format!("  {more}");
        assert_eq!(
            failed_records(&indented).more_pages.as_deref(),
            Some("c-42")
        );
        // Only the summary says so: an entry that happens to carry `pagination` does not.
        let entry = r#"{"type":"log","pagination":{"hasMore":true,"next":"x"}}"#;
        assert_eq!(failed_records(entry).more_pages, None);
    }

    /// `data.message` can hold several lines of the function's output: each failure line in it
    /// counts, not only the first.
    #[test]
    fn every_failure_line_in_one_export_message_is_read() {
        let (a, b) = (record("a", 1), record("b", 2));
        let message = format!(
            "{}\n{}\n",
            line(std::slice::from_ref(&a)),
            line(std::slice::from_ref(&b))
        );
        let entry = serde_json::json!({"type": "log", "data": {"message": message}});
        let found = failed_records(&entry.to_string());
        assert_eq!(found.records, [a, b]);
        assert_eq!((found.lines, found.unreadable), (2, 0));
    }

    /// Records of the same millisecond come out by id (v7 ids are ordered within it too), not in
    /// the export's order, which is newest first.
    #[test]
    fn records_of_the_same_millisecond_come_out_by_id() {
        let (mut first, mut second) = (record("a", 7), record("b", 7));
        first.id = "0190a000-0000-7000-8000-000000000001".into();
        second.id = "0190a000-0000-7000-8000-000000000002".into();
        let newest_first = format!(
            "{}\n{}",
            line(std::slice::from_ref(&second)),
            line(std::slice::from_ref(&first))
        );
        assert_eq!(failed_records(&newest_first).records, [first, second]);
    }

    #[test]
    fn a_cut_message_in_an_export_is_counted_unreadable() {
        let whole = line(&[record("cut", 1)]);
        let entry = serde_json::json!({
            "type": "log",
            "data": { "message": &whole[..whole.len() - 20], "truncated": true },
        });
        let found = failed_records(&entry.to_string());
        assert!(found.records.is_empty());
        assert_eq!(found.unreadable, 1);
    }

    /// A log drain that carries the function's text under another name than `message`: the
    /// failure line is there, but not where it can be read, so it is counted, never dropped.
    #[test]
    fn an_export_entry_holding_the_event_outside_its_message_is_counted_unreadable() {
        let elsewhere = serde_json::json!({
            "type": "log",
            "data": { "text": line(&[record("elsewhere", 1)]), "message": "" },
        });
        let found = failed_records(&elsewhere.to_string());
        assert!(found.records.is_empty());
        assert_eq!((found.lines, found.unreadable), (0, 1));
    }

    #[test]
    fn a_failure_line_without_its_records_is_counted_unreadable() {
        for line in [
            format!(r#"{{"event":"{WRITE_FAILED}","count":1,"attempts":4}}"#),
            format!(r#"{{"event":"{WRITE_FAILED}","records":"a string","record":[]}}"#),
        ] {
            let found = failed_records(&line);
            assert!(found.records.is_empty(), "{line}");
            assert_eq!((found.lines, found.unreadable), (1, 1), "{line}");
        }
    }

    #[test]
    fn a_record_that_appears_twice_is_replayed_once_and_counted() {
        let twice = record("twice", 1);
        let one = line(std::slice::from_ref(&twice));
        let found = failed_records(&format!("{one}\n{one}\n"));
        assert_eq!(found.records, [twice]);
        assert_eq!(found.duplicates, 1);
    }

    #[test]
    fn a_tampered_record_is_counted_invalid_not_replayed() {
        let tampered = line(&[record("ok", 1)]).replace("\"method\":\"GET\"", "\"method\":\"\"");
        let found = failed_records(&tampered);
        assert!(found.records.is_empty());
        assert_eq!((found.lines, found.invalid), (1, 1));
    }

    #[test]
    fn a_cut_failure_line_is_counted_unreadable() {
        let whole = line(&[record("cut", 1)]);
        let found = failed_records(&whole[..whole.len() / 2]);
        assert!(found.records.is_empty());
        assert_eq!(found.unreadable, 1);
    }

    #[test]
    fn lines_without_the_event_are_ignored() {
        assert_eq!(
            failed_records("{\"message\":\"hello\"}\nplain\n{not json"),
            Found::default()
        );
    }
}
