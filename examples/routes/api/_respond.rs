//! A helper shared by the routes. Its name starts with `_`, so `#[bundled_api]` does not take it
//! for a route; `main.rs` declares it as a module.

use http::{HeaderValue, StatusCode, header};
use vercel_runtime::{Response, ResponseBody};

/// `status` with a JSON body, never cached.
pub fn json(status: StatusCode, body: serde_json::Value) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
