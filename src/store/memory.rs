//! The embedded store for local runs: no account, no network, gone when the process exits.

use super::KEEP;
use crate::record::RequestRecord;
use std::collections::VecDeque;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct MemoryStore {
    newest_first: Mutex<VecDeque<RequestRecord>>,
}

impl MemoryStore {
    /// Adds `batch` (oldest first) so its last record is the newest, and drops what falls
    /// beyond the [`KEEP`] newest: what `LPUSH key r1 … rN` + `LTRIM key 0 9` do in Redis.
    pub fn push_batch(&self, batch: impl IntoIterator<Item = RequestRecord>) {
        let mut records = self.lock();
        for record in batch {
            records.push_front(record);
        }
        records.truncate(KEEP);
    }

    /// Newest first, at most [`KEEP`].
    pub fn recent(&self) -> Vec<RequestRecord> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<RequestRecord>> {
        // A panic while holding the lock cannot leave the deque half-updated (push_front and
        // truncate keep it valid), so a poisoned lock is safe to keep using.
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
    fn the_newest_record_comes_first() {
        let store = MemoryStore::default();
        store.push_batch([record(1)]);
        store.push_batch([record(2), record(3)]);
        let ids: Vec<_> = store.recent().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["id-0003", "id-0002", "id-0001"]);
    }

    #[test]
    fn only_the_ten_newest_are_kept() {
        let store = MemoryStore::default();
        store.push_batch((1..=5).map(record));
        store.push_batch((6..=12).map(record));
        let stamps: Vec<_> = store.recent().into_iter().map(|r| r.timestamp).collect();
        assert_eq!(stamps, (3..=12).rev().collect::<Vec<_>>());
    }
}
