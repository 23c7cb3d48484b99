//! The answer for a path no route matches.

use vercel_runtime::{Response, ResponseBody};

/// `404` with the JSON body `{"error":"not found"}` and `cache-control: no-store`: a route
/// added by the next deployment must not be hidden by a cached 404.
///
/// It also carries `x-content-type-options: nosniff` (a browser must never sniff an API answer
/// into HTML) and `referrer-policy: no-referrer` (an API answer has no page to refer from).
///
/// ```
/// let response = bundled_api::not_found();
/// assert_eq!(response.status(), 404);
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// ```
#[must_use]
pub fn not_found() -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::from(r#"{"error":"not found"}"#));
    *response.status_mut() = http::StatusCode::NOT_FOUND;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        http::header::REFERRER_POLICY,
        http::HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_404_is_json_and_never_cached() {
        let response = not_found();
        assert_eq!(response.status(), http::StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "application/json"
        );
        assert_eq!(response.headers()[http::header::CACHE_CONTROL], "no-store");
        assert_eq!(
            response.headers()[http::header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        assert_eq!(
            response.headers()[http::header::REFERRER_POLICY],
            "no-referrer"
        );
    }
}
