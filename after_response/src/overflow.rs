//! Failure lines under overload, grouped: one line for many items.
//!
//! An overloaded instance refuses items thousands of times a second; one line each would flood
//! the logs exactly when they matter most. So a group collects the items refused within
//! `overflow_window` of its first, up to `overflow_max_bytes` of their JSON; one more opens the
//! next group. Each group is one failure line (the same shape as any other), written once by
//! whichever of its reporters takes it first: the one that found it full, or the first awake
//! when its window ends, into that reporter's request log. Every reporter returns only once the
//! line holding its item is written, so its request's `wait_until` covers it: nothing is lost.

use crate::Config;
use crate::log::{RequestLog, failure_line};
use serde::Serialize;
use serde_json::Value;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

struct Group {
    id: u64,
    items: Vec<Value>,
    bytes: usize,
    /// Distinct reasons, in order of first appearance.
    reasons: Vec<String>,
    closes_at: Instant,
    written: watch::Sender<bool>,
}

pub(crate) struct Overflow {
    event: &'static str,
    window: Duration,
    max_bytes: usize,
    /// The open group, and the id of the next one.
    open: Mutex<(Option<Group>, u64)>,
}

impl Overflow {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            event: config.event,
            window: config.overflow_window,
            max_bytes: config.overflow_max_bytes,
            open: Mutex::new((None, 0)),
        }
    }

    /// Adds `item`, refused for `reason`, to the open group; returns once a line holding it has
    /// been written (to `log`, or to another reporter's log).
    pub(crate) async fn report(
        &self,
        item: &impl Serialize,
        reason: &str,
        log: &RequestLog,
        sink: &str,
    ) {
        // An item that cannot be JSON is still counted in its line, as `null`.
        let item = serde_json::to_value(item).unwrap_or(Value::Null);
        let (mine, mut written, closes_at, full) = self.join(item, reason);
        if let Some(full) = full {
            self.write(full, log, sink);
        }
        tokio::select! {
            // Taken and written by another reporter.
            _ = written.wait_for(|done| *done) => return,
            _ = tokio::time::sleep_until(closes_at) => {}
        }
        match self.take(mine) {
            Some(group) => self.write(group, log, sink),
            // Another reporter took it at the same moment; it writes before it next yields.
            None => {
                let _ = written.wait_for(|done| *done).await;
            }
        }
    }

    /// Puts `item` in the open group, or opens a new one. Returns the group's id, a way to learn
    /// it was written, when it closes, and a group that just became full, to write now.
    fn join(
        &self,
        item: Value,
        reason: &str,
    ) -> (u64, watch::Receiver<bool>, Instant, Option<Group>) {
        let size = item.to_string().len();
        let mut guard = self.lock();
        let (open, next_id) = &mut *guard;
        let fits = open
            .as_ref()
            .is_some_and(|group| group.bytes + size <= self.max_bytes);
        let full = if fits { None } else { open.take() };
        let group = open.get_or_insert_with(|| {
            *next_id += 1;
            Group {
                id: *next_id,
                items: Vec::new(),
                bytes: 0,
                reasons: Vec::new(),
                closes_at: Instant::now() + self.window,
                written: watch::Sender::new(false),
            }
        });
        group.items.push(item);
        group.bytes += size;
        if !group.reasons.iter().any(|known| known == reason) {
            group.reasons.push(reason.to_string());
        }
        (group.id, group.written.subscribe(), group.closes_at, full)
    }

    /// The open group, if it is group `id`: a reporter whose window ended takes only its own
    /// (another may have taken it, full, and opened the next).
    fn take(&self, id: u64) -> Option<Group> {
        let mut open = self.lock();
        match &open.0 {
            Some(group) if group.id == id => open.0.take(),
            _ => None,
        }
    }

    fn write(&self, group: Group, log: &RequestLog, sink: &str) {
        let reasons = group.reasons.join("; ");
        log.error(&failure_line(self.event, sink, &group.items, 0, &reasons));
        group.written.send_replace(true);
    }

    fn lock(&self) -> MutexGuard<'_, (Option<Group>, u64)> {
        // Every critical section is a push or a take: a panic cannot leave a group half made.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
