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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
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

/// Adds `entries` to `stored` and keeps the [`KEEP`] greatest (`ZADD` then
/// `ZREMRANGEBYRANK 0 -11`); returns how many were not stored before, as `ZADD` does. The
/// memory and file stores keep the rule with this, as Redis does with those two commands.
pub fn add(stored: &mut BTreeSet<Entry>, entries: impl IntoIterator<Item = Entry>) -> usize {
    let added = entries
        .into_iter()
        .filter(|entry| stored.insert(entry.clone()))
        .count();
    for _ in KEEP..stored.len() {
        stored.pop_first();
    }
    added
}

/// The stored members, newest first (`ZRANGE 0 9 REV`).
pub fn members_newest_first(stored: &BTreeSet<Entry>) -> Vec<String> {
    stored
        .iter()
        .rev()
        .map(|entry| entry.member.clone())
        .collect()
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

    /// The scores of what `stored` holds, newest first, read back through the members.
    fn stored_scores(stored: &BTreeSet<Entry>) -> Vec<u64> {
        members_newest_first(stored)
            .iter()
            .map(|member| RequestRecord::from_stored(member).unwrap().timestamp)
            .collect()
    }

    #[test]
    fn the_newest_record_comes_first_whatever_order_they_come_in() {
        let mut stored = BTreeSet::new();
        assert_eq!(add(&mut stored, [Entry::of(&record(1))]), 1);
        assert_eq!(add(&mut stored, [3, 2].map(|n| Entry::of(&record(n)))), 2);
        assert_eq!(
            add(&mut stored, [Entry::of(&record(2))]),
            0,
            "the same entry again adds nothing"
        );
        assert_eq!(stored_scores(&stored), [3, 2, 1]);
    }

    #[test]
    fn only_the_ten_newest_are_kept_and_older_ones_change_nothing() {
        let mut stored = BTreeSet::new();
        let entries = |range: std::ops::RangeInclusive<u64>| range.map(|n| Entry::of(&record(n)));
        add(&mut stored, entries(1..=5));
        add(&mut stored, entries(6..=12));
        assert_eq!(stored_scores(&stored), (3..=12).rev().collect::<Vec<_>>());
        assert_eq!(
            add(&mut stored, entries(1..=2)),
            2,
            "new to the set, if only briefly"
        );
        assert_eq!(stored_scores(&stored), (3..=12).rev().collect::<Vec<_>>());
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
