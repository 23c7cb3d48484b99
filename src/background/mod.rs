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

pub mod lines;
pub mod log;
pub mod overflow;

use crate::app::App;
use crate::record::RequestRecord;
use crate::store::{StoreError, WriteFailure};
use log::RequestLog;
use tokio::time::Instant;
use vercel_runtime::{AppState, Request};

pub use lines::WRITE_FAILED;

/// Schedules the write of `record` with `state.wait_until` and returns at once.
pub fn store_after_response(
    app: &'static App,
    req: &Request,
    state: &AppState,
    record: RequestRecord,
) {
    let log = RequestLog::of(req, state);
    state.wait_until(settle(app, log, record));
}

/// Stores `record` and leaves the line its outcome calls for.
async fn settle(app: &'static App, log: RequestLog, record: RequestRecord) {
    let store = app.store();
    let started = Instant::now();
    match store.push(&record).await {
        Ok(attempts) => {
            if app.success_lines() {
                log.info(&lines::success_line(
                    &record,
                    store.kind(),
                    attempts,
                    started.elapsed(),
                ));
            }
        }
        Err(WriteFailure {
            error: StoreError::Overloaded(reason),
            ..
        }) => app.overflow().report(record, reason, &log).await,
        Err(failure) => log.error(&lines::failure_line(
            store.kind(),
            std::slice::from_ref(&record),
            failure.attempts,
            &failure.error.to_string(),
        )),
    }
}
