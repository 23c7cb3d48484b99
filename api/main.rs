//! The one Vercel Function: every route file under `api/` is compiled into it.
//!
//! Run with `cargo run` (http://127.0.0.1:3000, or `VERCEL_DEV_PORT`).

use bundled_api::bundled_api;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};

/// Dispatches to `api/**/*.rs`; the page and 404s come from `web::fallback`.
#[bundled_api(fallback = wait_until::web::fallback)]
async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {}

#[tokio::main]
async fn main() -> Result<(), Error> {
    for line in wait_until::App::global().describe() {
        println!("{line}");
    }
    run(service_fn(handler)).await
}
