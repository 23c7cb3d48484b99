//! Locking a `std::sync::Mutex` whose data stays valid even if a holder panicked.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, ignoring poison. Only for data that every critical section leaves valid at
/// each step (a push, a take, a drain): then a panic elsewhere in a holder breaks nothing, and
/// refusing the lock forever would lose every later record instead. Each caller says why its
/// data qualifies.
pub(crate) fn lock_unpoisoned<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
