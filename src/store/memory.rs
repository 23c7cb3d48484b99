//! The embedded store for local runs: no account, no network, gone when the process exits.

use super::merge::newest_distinct;
use crate::record::RequestRecord;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct MemoryStore {
    newest_first: Mutex<Vec<RequestRecord>>,
}

impl MemoryStore {
    /// Merges `batch` in: afterwards the store holds the [`KEEP`](super::KEEP) newest distinct
    /// records by id ([`newest_distinct`]), what the Lua script does in Redis.
    pub fn merge(&self, batch: impl IntoIterator<Item = RequestRecord>) {
        let mut records = self.lock();
        let stored = std::mem::take(&mut *records);
        *records = newest_distinct(stored, batch);
    }

    /// Newest first, at most [`KEEP`](super::KEEP).
    pub fn recent(&self) -> Vec<RequestRecord> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RequestRecord>> {
        // A panic while holding the lock can at worst leave the store empty, which is still a
        // valid store, so a poisoned lock is safe to keep using.
        crate::sync::lock_unpoisoned(&self.newest_first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u64) -> RequestRecord {
        RequestRecord::numbered(n)
    }

    #[test]
    fn the_newest_record_comes_first_whatever_order_they_come_in() {
        let store = MemoryStore::default();
        store.merge([record(1)]);
        store.merge([record(3), record(2)]);
        store.merge([record(2)]);
        assert_eq!(store.recent(), [record(3), record(2), record(1)]);
    }

    #[test]
    fn only_the_ten_newest_are_kept() {
        let store = MemoryStore::default();
        store.merge((1..=5).map(record));
        store.merge((6..=12).map(record));
        let stamps: Vec<_> = store.recent().into_iter().map(|r| r.timestamp).collect();
        assert_eq!(stamps, (3..=12).rev().collect::<Vec<_>>());
    }
}
