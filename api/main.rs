//! The one Vercel Function: every route file under `api/` is compiled into it.
//!
//! Run with `cargo run` (http://127.0.0.1:3000, or `VERCEL_DEV_PORT`).

use bundled_api::bundled_api;
use std::sync::LazyLock;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};
use wait_until::{App, Config};

/// The instance's app, configured from the environment once per cold start. The route files
/// reach it; nothing in the library does.
static APP: LazyLock<App> = LazyLock::new(|| App::new(Config::from_env()));

/// Dispatches to `api/**/*.rs`; the page and 404s come from `web::fallback`.
#[bundled_api(fallback = wait_until::web::fallback)]
async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {}

#[tokio::main]
async fn main() -> Result<(), Error> {
    for line in APP.startup_lines() {
        println!("{line}");
    }
    run(service_fn(handler)).await
}
