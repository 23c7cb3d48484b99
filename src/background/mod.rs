//! The work that runs after the response: storing the record, and saying how it went.
//!
//! Each request's record is pushed through the store's write queue inside `state.wait_until`,
//! and its outcome becomes a line in that request's log ([`log`]: attributed to the request on
//! Vercel, stdout/stderr locally):
//!
//! - stored: one short success line (unless `WAIT_UNTIL_SUCCESS_LINES=off`);
//! - failed (storage down, refused, not configured): one failure line holding the record;
//! - refused by an overloaded instance (queue full, waited too long): grouped with the other
//!   records refused around the same time into one failure line ([`overflow`]).
//!
//! Every record ends in exactly one of those, before its request's `wait_until` settles.
//! `?await=1` runs the same work before the response instead ([`store_before_response`]), so
//! the two differ only in when the answer leaves.

pub mod lines;
pub mod log;
pub mod overflow;

use crate::app::App;
use crate::record::RequestRecord;
use crate::store::{StoreError, WriteFailure};
use log::RequestLog;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use vercel_runtime::{AppState, Request};

pub use lines::WRITE_FAILED;

/// How a record's write went, as the request that awaited it sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Storage calls its batch took, retries included.
    pub attempts: u32,
    /// From handing the record to the write queue until it was stored: waiting for its turn,
    /// then the call (and any retries).
    pub took: Duration,
}

/// Schedules the write of `record` with `state.wait_until` and returns at once.
pub fn store_after_response(
    app: &'static App,
    req: &Request,
    state: &AppState,
    record: RequestRecord,
) {
    let log = RequestLog::of(req, state);
    state.wait_until(async move {
        // The outcome is in the log line `settle` leaves; nobody is waiting for it here.
        let _ = settle(app, log, record).await;
    });
}

/// Stores `record` before returning, leaving the same line a write after the response would:
/// the cost `wait_until` saves, for comparison (`/api/wait-until?await=1`).
///
/// The write still runs inside `state.wait_until`, and the handler awaits its outcome through
/// a channel: on SIGTERM the runtime drains `wait_until` work, not handlers, so a write run by
/// the handler itself could be dropped half way, with neither the record stored nor its line.
pub async fn store_before_response(
    app: &'static App,
    req: &Request,
    state: &AppState,
    record: RequestRecord,
) -> Result<Stored, StoreError> {
    let log = RequestLog::of(req, state);
    let (outcome, awaited) = oneshot::channel();
    state.wait_until(async move {
        // The handler may be gone (its connection closed at shutdown): the line says it all.
        let _ = outcome.send(settle(app, log, record).await);
    });
    awaited.await.unwrap_or_else(|_| {
        // Only if the task was dropped unfinished, which the runtime does not do to its work.
        Err(StoreError::Unavailable(
            "the write was stopped before it settled".into(),
        ))
    })
}

/// Stores `record` and leaves the line its outcome calls for; returns the outcome.
async fn settle(
    app: &'static App,
    log: RequestLog,
    record: RequestRecord,
) -> Result<Stored, StoreError> {
    let store = app.store();
    let started = Instant::now();
    match store.push(&record).await {
        Ok(attempts) => {
            let took = started.elapsed();
            if app.success_lines() {
                log.info(&lines::success_line(&record, store.kind(), attempts, took));
            }
            Ok(Stored { attempts, took })
        }
        Err(WriteFailure {
            error: StoreError::Overloaded(reason),
            ..
        }) => {
            app.overflow().report(record, reason.clone(), &log).await;
            Err(StoreError::Overloaded(reason))
        }
        Err(failure) => {
            log.error(&lines::failure_line(
                store.kind(),
                std::slice::from_ref(&record),
                failure.attempts,
                &failure.error.to_string(),
            ));
            Err(failure.error)
        }
    }
}
