//! The route the crate's own doctests bundle: the README's `api/main.rs` example is compiled
//! against this folder, because `#[bundled_api]` reads `api/` next to the crate's `Cargo.toml`.
//! It ships in the package so the doctests also pass there.

use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

pub async fn handler(_req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    Ok(Response::new(ResponseBody::from("hello")))
}
