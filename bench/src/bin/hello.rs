//! Benchmark baseline: a bare vercel_runtime 2.x function that answers "hello" on every path.
//! Run with `cargo run --release -p bench --bin hello`.
//!
//! The cold-start benchmark compares our bundled function against this: the difference is what
//! our routes, configuration and storage set-up cost at start.

use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};

async fn handler(_req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    Ok(Response::new(ResponseBody::from("hello")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handler)).await
}
