//! Paths outside `/api` when the binary serves them itself (`cargo run`, `vercel dev`).
//!
//! On Vercel, `vercel.json` sends `/` to the static `public/` files and only `/api/*` reaches the
//! function, so this is what a local run needs and nothing more: the page at `/`, 404 elsewhere.
//! The page carries its Content-Security-Policy here as `vercel.json` gives it on Vercel: from
//! `security`, the one list.

use crate::respond::{allow_only, not_found, with_headers};
use crate::security;
use http::{Method, StatusCode};
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

/// Compiled in, so the page is there whatever the working directory.
const INDEX_HTML: &str = include_str!("../public/index.html");

/// The `fallback` of `#[bundled_api]`: what no route file matched.
pub async fn fallback(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    Ok(unrouted(&req))
}

/// The answer to `req`, which no route file matched: the page at `/`, else a 404.
pub fn unrouted<B>(req: &http::Request<B>) -> Response<ResponseBody> {
    match req.uri().path() {
        "/" | "/index.html" => allow_only(req, &[Method::GET, Method::HEAD]).unwrap_or_else(page),
        _ => not_found(),
    }
}

/// The page, with the headers it carries on Vercel: `with_headers` gives it those of every
/// answer, and the page's own are added here (inserted: `extend` would append duplicates).
fn page() -> Response<ResponseBody> {
    let mut response = with_headers(StatusCode::OK, "text/html; charset=utf-8", INDEX_HTML);
    let headers = response.headers_mut();
    for (name, value) in security::PAGE_ONLY {
        headers.insert(name, value);
    }
    response
}
