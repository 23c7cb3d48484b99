//! The rule every write follows, whatever order batches, retries, instances and replays arrive
//! in: the list holds the [`KEEP`] newest distinct records by id, newest first.
//!
//! Ids are v7 UUIDs ([`crate::record::is_id`]): their text sorts as the time they were made, so
//! "newest" is "greatest id". Merging is a union by id followed by a cut, which makes it idempotent (a
//! batch written twice changes nothing the second time), commutative (batches may land in any
//! order) and safe to cut early: a record with [`KEEP`] newer ones in its own batch cannot be
//! kept, so a batch needs to carry only its [`KEEP`] newest ([`newest_distinct`] of the batch
//! alone).
//!
//! The memory store applies this function; Upstash applies the same rule on the server, in one
//! Lua script (`upstash/merge.lua`), and the tests hold the two to the same results.

use super::KEEP;
use crate::record::RequestRecord;
use std::borrow::Borrow;
use std::collections::BTreeMap;

/// The [`KEEP`] newest records of `stored` and `incoming` together, each id once, newest first.
/// Where an id is in both, the stored record stays: a record once written is never replaced.
/// Records or references to them: a batch's newest are picked without copying the batch.
pub fn newest_distinct<R: Borrow<RequestRecord>>(
    stored: impl IntoIterator<Item = R>,
    incoming: impl IntoIterator<Item = R>,
) -> Vec<R> {
    let mut by_id = BTreeMap::new();
    for record in stored.into_iter().chain(incoming) {
        by_id.entry(record.borrow().id.clone()).or_insert(record);
    }
    by_id.into_values().rev().take(KEEP).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u64) -> RequestRecord {
        RequestRecord::numbered(n)
    }

    fn ids_of(records: &[RequestRecord]) -> Vec<&str> {
        records.iter().map(|r| r.id.as_str()).collect()
    }

    fn ids(records: &[RequestRecord]) -> Vec<String> {
        records.iter().map(|r| r.id.clone()).collect()
    }

    fn numbered(range: impl DoubleEndedIterator<Item = u64>) -> Vec<String> {
        range.map(|n| record(n).id).collect()
    }

    #[test]
    fn newest_first_whatever_order_they_come_in() {
        let merged = newest_distinct([record(2), record(9)], [record(5), record(1), record(7)]);
        assert_eq!(ids(&merged), numbered([9, 7, 5, 2, 1].into_iter()));
    }

    #[test]
    fn only_the_ten_newest_are_kept_and_a_late_older_record_does_not_push_one_out() {
        let stored = newest_distinct([], (11..=20).map(record));
        let merged = newest_distinct(stored.clone(), (1..=10).map(record));
        assert_eq!(merged, stored, "older records arriving late change nothing");
        let merged = newest_distinct(stored, [record(15), record(21), record(3)]);
        assert_eq!(ids(&merged), numbered((12..=21).rev()));
    }

    #[test]
    fn each_id_once_and_the_stored_record_stays() {
        let mut twin = record(4);
        twin.user_agent = "a replayed copy that differs".into();
        let merged = newest_distinct([record(4), record(4)], [twin, record(4)]);
        assert_eq!(merged, [record(4)]);
    }

    #[test]
    fn ids_compare_as_their_text_does_digit_by_digit() {
        // Made in the same millisecond, or not: the text decides, from its first digit on.
        let ids = [
            "01a20bdb-f919-72e0-8000-000000000000",
            "01a20bdb-f919-72e0-8000-00000000000a",
            "01a20bdb-f919-72e0-9000-000000000000",
            "01a20bdb-f919-72e1-8000-000000000000",
            "01a20bdb-f91a-7000-8000-000000000000",
            "01a20bdc-0000-7000-8000-000000000000",
            "11a20bdb-f919-72e0-8000-000000000000",
        ];
        let records = ids.iter().map(|id| RequestRecord {
            id: id.to_string(),
            ..record(0)
        });
        let newest_first: Vec<&str> = ids.iter().rev().copied().collect();
        assert_eq!(ids_of(&newest_distinct([], records)), newest_first);
    }

    #[test]
    fn nothing_in_gives_nothing_out() {
        assert!(newest_distinct::<RequestRecord>([], []).is_empty());
    }
}
