//! The answer for a path no route matches.

use vercel_runtime::{Response, ResponseBody};

/// `404` with the JSON body `{"error":"not found"}`.
pub fn not_found() -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::from(r#"{"error":"not found"}"#));
    *response.status_mut() = http::StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
