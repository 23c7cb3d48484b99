//! The function: `#[bundled_api]` compiles every route file under `api/` into this one binary
//! (one cold start for all of them) and writes the body of `handler`. A new file is a new route:
//! `api/users/[id].rs` answers `/api/users/42`. Any other path gets a JSON 404.

use bundled_api::bundled_api;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};

#[bundled_api]
async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handler)).await
}
