//! The embedded store for local runs: no account, no network, gone when the process exits.
//! It keeps the rule of [`super::newest`] on a `BTreeSet`, as Redis keeps it on a sorted set.

use super::KEEP;
use super::newest::Entry;
use std::collections::BTreeSet;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<BTreeSet<Entry>>,
}

impl MemoryStore {
    /// Adds `entries` and keeps the [`KEEP`] greatest (`ZADD` then `ZREMRANGEBYRANK 0 -11`);
    /// returns how many were not stored before, as `ZADD` does.
    pub fn add(&self, entries: impl IntoIterator<Item = Entry>) -> usize {
        let mut stored = self.lock();
        let added = entries
            .into_iter()
            .filter(|entry| stored.insert(entry.clone()))
            .count();
        for _ in KEEP..stored.len() {
            stored.pop_first();
        }
        added
    }

    /// The members, newest first (`ZRANGE 0 9 REV`).
    pub fn newest_first(&self) -> Vec<String> {
        self.lock()
            .iter()
            .rev()
            .map(|entry| entry.member.clone())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<Entry>> {
        // A panic while holding the lock can at worst leave fewer entries, which is still a
        // valid store, so a poisoned lock is safe to keep using.
        crate::sync::lock_unpoisoned(&self.entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RequestRecord;

    fn entry(n: u64) -> Entry {
        Entry::of(&RequestRecord::numbered(n))
    }

    fn scores(store: &MemoryStore) -> Vec<u64> {
        let stored = store.newest_first();
        stored
            .iter()
            .map(|member| RequestRecord::from_stored(member).unwrap().timestamp)
            .collect()
    }

    #[test]
    fn the_newest_record_comes_first_whatever_order_they_come_in() {
        let store = MemoryStore::default();
        assert_eq!(store.add([entry(1)]), 1);
        assert_eq!(store.add([entry(3), entry(2)]), 2);
        assert_eq!(
            store.add([entry(2)]),
            0,
            "the same entry again adds nothing"
        );
        assert_eq!(scores(&store), [3, 2, 1]);
    }

    #[test]
    fn only_the_ten_newest_are_kept_and_older_ones_change_nothing() {
        let store = MemoryStore::default();
        store.add((1..=5).map(entry));
        store.add((6..=12).map(entry));
        assert_eq!(scores(&store), (3..=12).rev().collect::<Vec<_>>());
        assert_eq!(
            store.add([entry(1), entry(2)]),
            2,
            "new to the set, if only briefly"
        );
        assert_eq!(scores(&store), (3..=12).rev().collect::<Vec<_>>());
    }
}
