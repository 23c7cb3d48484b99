//! The one rule every store keeps: the [`KEEP`] newest records, each once, newest first.
//!
//! A record is stored as an [`Entry`]: its JSON text ([`RequestRecord::to_json`], id first) and
//! its time in milliseconds (the same clock read as its v7 id). Stores hold a set of entries
//! ordered by time, then by text, and cut it to the [`KEEP`] greatest: a Redis sorted set with
//! the time as score does exactly that (`ZADD` + `ZREMRANGEBYRANK`), and the memory store keeps
//! a `BTreeSet` of the same entries. So:
//! - a record written again is the same bytes, so the same member: retries, replays, late
//!   batches and other instances add nothing (idempotent, no script, no lock);
//! - the order of writes does not matter (a set), and records made in the same millisecond
//!   order by their ids (the text starts `{"id":"<v7 id>"`, and v7 ids sort as their time);
//! - a batch needs to carry only its own [`KEEP`] newest ([`newest`]): the others could not stay.

use super::KEEP;
use crate::record::RequestRecord;
use std::collections::BTreeSet;

/// A record as stored. Ordered as Redis orders a sorted set: by score, then by member bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The record's time in milliseconds since the Unix epoch: the sorted set's score.
    pub score: u64,
    /// The record's JSON text: the sorted set's member.
    pub member: String,
}

impl Entry {
    pub fn of(record: &RequestRecord) -> Self {
        Self {
            score: record.timestamp,
            member: record.to_json(),
        }
    }
}

/// The [`KEEP`] newest distinct entries of `batch`, newest first: all a write needs to send.
pub fn newest(batch: &[RequestRecord]) -> Vec<Entry> {
    let all: BTreeSet<Entry> = batch.iter().map(Entry::of).collect();
    all.into_iter().rev().take(KEEP).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u64) -> RequestRecord {
        RequestRecord::numbered(n)
    }

    fn scores(entries: &[Entry]) -> Vec<u64> {
        entries.iter().map(|entry| entry.score).collect()
    }

    #[test]
    fn a_batch_carries_its_ten_newest_each_once_newest_first() {
        let batch: Vec<_> = [3, 1, 12, 7, 7]
            .into_iter()
            .chain(20..=30)
            .map(record)
            .collect();
        assert_eq!(scores(&newest(&batch)), (21..=30).rev().collect::<Vec<_>>());
        let few = [record(2), record(9), record(2)];
        assert_eq!(scores(&newest(&few)), [9, 2]);
        assert!(newest(&[]).is_empty());
    }

    #[test]
    fn an_entry_is_the_record_s_text_and_time() {
        let entry = Entry::of(&record(42));
        assert_eq!(entry.score, 42);
        assert_eq!(entry.member, record(42).to_json());
        assert!(entry.member.starts_with(r#"{"id":""#), "the id comes first");
    }

    #[test]
    fn records_of_the_same_millisecond_order_by_id() {
        let mut later = record(5);
        later.id = later.id.replace("8000-000000000000", "8000-000000000001");
        let older = record(5);
        assert!(Entry::of(&later) > Entry::of(&older));
        assert!(Entry::of(&record(6)) > Entry::of(&later));
    }
}
