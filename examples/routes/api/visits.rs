//! `/api/visits`: work after the response. The handler answers at once and hands the rest to
//! `state.wait_until`: the runtime keeps it running after the response is sent, and on Vercel
//! the invocation lasts (its `end` waits) until it is done.

use crate::respond::json;
use http::StatusCode;
use serde_json::json;
use std::time::Duration;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

/// How long the work takes: long enough that it visibly finishes after the answer.
const WORK: Duration = Duration::from_millis(100);

pub async fn handler(_req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {
    // The work outlives the handler, so it owns what it uses: a clone of this request's log
    // context (moving `state` in would leave nothing to call `wait_until` on).
    let log = state.log_context.clone();
    state.wait_until(async move {
        // An example has no storage: the pause and the line stand for the real work (a database
        // write, an analytics call).
        tokio::time::sleep(WORK).await;
        // On Vercel this goes to this request's log; locally it is printed (`Info: ...`).
        log.info("visit recorded");
    });
    // 202: accepted, with the work still running.
    Ok(json(StatusCode::ACCEPTED, json!({ "visit": "accepted" })))
}
