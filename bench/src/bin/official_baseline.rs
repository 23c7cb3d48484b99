//! Benchmark baseline: what the official Vercel example does for `/api/wait-until`.
//! Run with `KV_REST_API_URL=… KV_REST_API_TOKEN=… cargo run --release -p bench --bin official_baseline`.
//!
//! Per request: build a record, then in `wait_until` build a NEW reqwest client and make one
//! Upstash pipeline call (`LPUSH` + `LTRIM`), checking only the HTTP status. No coalescing, no
//! bounds, no retries. It prints the same success and failure lines as our app so the
//! benchmark counts both the same way. Do not copy this: it is here to be measured against.

use serde_json::json;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};
use wait_until::RequestRecord;

async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {
    let record = RequestRecord::of_request(&req);
    let id = record.id.clone();
    state.wait_until(async move {
        let url = std::env::var("KV_REST_API_URL").unwrap_or_default();
        let token = std::env::var("KV_REST_API_TOKEN").unwrap_or_default();
        let body = json!([
            ["LPUSH", "requests:recent", record.to_json()],
            ["LTRIM", "requests:recent", "0", "9"]
        ]);
        let sent = reqwest::Client::new()
            .post(format!("{url}/pipeline"))
            .bearer_auth(token)
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                println!(
                    "[after-response] wrote {} to upstash (1 attempt)",
                    record.id
                )
            }
            Ok(response) => eprintln!(
                "[waitUntil] Failed to store request record: {}",
                response.status()
            ),
            Err(error) => eprintln!("[waitUntil] Failed to store request record: {error}"),
        }
    });
    let body = json!({ "recorded": true, "id": id });
    Ok(Response::new(ResponseBody::from(body)))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // reqwest is built without a crypto provider (see Cargo.toml).
    let _ = rustls::crypto::ring::default_provider().install_default();
    run(service_fn(handler)).await
}
