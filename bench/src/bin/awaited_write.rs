//! Benchmark baseline: `/api/wait-until` that AWAITS the write before it answers, i.e. what you
//! get without `wait_until`. Run with `cargo run --release -p bench --bin awaited_write` (same
//! storage settings as the app).
//!
//! Same record, same store and client as the app, and exactly one storage write per request,
//! awaited: the backend is called directly, with no write queue in front of it (the queue
//! coalesces concurrent writes, which is part of what the app does off the critical path). The
//! "off the critical path" benchmark measures what `wait_until` saves.

use std::sync::LazyLock;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};
use wait_until::store::Store;
use wait_until::store::newest::Entry;
use wait_until::{Config, RequestRecord};

/// The app's store, chosen by the app's configuration.
static STORE: LazyLock<Store> = LazyLock::new(|| Config::from_env().store);

async fn handler(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    let record = RequestRecord::of_request(&req);
    let stored = match &*STORE {
        Store::Upstash(store) => store.add(std::slice::from_ref(&record)).await.is_ok(),
        Store::Memory(store) => {
            store.add([Entry::of(&record)]);
            true
        }
        Store::File(store) => store.add(vec![Entry::of(&record)]).await.is_ok(),
        Store::Unconfigured(_) => false,
    };
    let body = serde_json::json!({ "recorded": stored, "id": record.id });
    Ok(Response::new(ResponseBody::from(body)))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handler)).await
}
