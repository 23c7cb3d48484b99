//! Paths outside `/api` when the binary serves them itself (`cargo run`, `vercel dev`).
//!
//! On Vercel, `vercel.json` sends `/` to the static `public/` files and only `/api/*` reaches the
//! function, so this is what a local run needs and nothing more: the page at `/`, 404 elsewhere.

use crate::respond::{allow_only, not_found, with_headers};
use http::{Method, StatusCode};
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

/// Compiled in, so the page is there whatever the working directory.
const INDEX_HTML: &str = include_str!("../public/index.html");

/// The `fallback` of `#[bundled_api]`: what no route file matched.
pub async fn fallback(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    Ok(match req.uri().path() {
        "/" | "/index.html" => {
            allow_only(&req, &[Method::GET, Method::HEAD]).unwrap_or_else(|| {
                with_headers(StatusCode::OK, "text/html; charset=utf-8", INDEX_HTML)
            })
        }
        _ => not_found(),
    })
}
