//! Benchmark baseline: `/api/wait-until` that AWAITS the write before it answers, i.e. what you
//! get without `wait_until`. Run with `cargo run --release -p bench --bin awaited_write` (same
//! storage settings as the app).
//!
//! Same record, same store and client as the app; the only difference is that the client waits
//! for storage. The "off the critical path" benchmark measures what `wait_until` saves.

use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};
use wait_until::{App, RequestRecord};

async fn handler(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    let record = RequestRecord::of_request(&req);
    let stored = App::global().store().push(&record).await.is_ok();
    let body = serde_json::json!({ "recorded": stored, "id": record.id });
    Ok(Response::new(ResponseBody::from(body)))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handler)).await
}
