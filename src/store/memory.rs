//! The embedded store for `cargo run`: no account, no network, gone when the process exits.
//! It keeps the rule of [`super::newest`] on a `BTreeSet`, as Redis keeps it on a sorted set.

use super::newest::{self, Entry};
use std::collections::BTreeSet;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<BTreeSet<Entry>>,
}

impl MemoryStore {
    /// Adds `entries` by the rule; returns how many were not stored before, as `ZADD` does.
    pub fn add(&self, entries: impl IntoIterator<Item = Entry>) -> usize {
        newest::add(&mut self.lock(), entries)
    }

    /// The members, newest first (`ZRANGE 0 9 REV`).
    pub fn newest_first(&self) -> Vec<String> {
        newest::members_newest_first(&self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<Entry>> {
        // A panic while holding the lock can at worst leave fewer entries, which is still a
        // valid store, so a poisoned lock is safe to keep using.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
