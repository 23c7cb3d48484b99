//! The routes of `examples/routes` as an axum `Router`: the handlers and [`router`], nothing
//! vercel_runtime-specific (`main.rs` puts the router behind `VercelLayer`).
//!
//! Same paths, statuses, JSON bodies and headers as the example; written as an axum user
//! would, with `Path` extractors, `Json` and a fallback. The bench asks both the same paths
//! first; where they still differ (a trailing slash, `..` or a bad escape as an `[id]`, a
//! method other than GET), BENCHMARKS.md (section 9) lists it. The bench's in-process half
//! (`bench/benches/axum_dispatch.rs`) compiles this same file, so both halves measure one router.

use axum::extract::Path;
use axum::http::Uri;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

const USERS: &[(u64, &str)] = &[(1, "Ada"), (2, "Grace")];

/// `status` with a JSON body, never cached: the example's `_respond::json`.
fn json(status: StatusCode, body: Value) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn hello() -> Response {
    json(StatusCode::OK, json!({ "message": "hello" }))
}

/// `/api/users/{id}`: `Path` hands over the segment percent-decoded.
async fn user(Path(id): Path<String>) -> Response {
    // Digits only (`parse` alone would also take `+1`).
    let id = match id.parse::<u64>() {
        Ok(number) if id.bytes().all(|b| b.is_ascii_digit()) => number,
        _ => {
            let error = json!({ "error": "the id must be digits" });
            return json(StatusCode::BAD_REQUEST, error);
        }
    };
    match USERS.iter().find(|(known, _)| *known == id) {
        Some((id, name)) => json(StatusCode::OK, json!({ "id": id, "name": name })),
        None => json(StatusCode::NOT_FOUND, json!({ "error": "no such user" })),
    }
}

/// `/api/docs/{*slug}`. axum decodes a wildcard as one string, so `a%2Fb/c` would come out as
/// `a/b/c`; to keep an encoded `/` inside its segment, as the example does, this splits the
/// raw path and decodes each segment. Empty and dot segments (`//`, `..`, `%2e%2e`) are a 404,
/// as in the example, where no route ever sees them.
async fn docs(uri: Uri) -> Response {
    let raw = uri.path().strip_prefix("/api/docs/").unwrap_or_default();
    let raw = raw.strip_suffix('/').unwrap_or(raw);
    let slug: Option<Vec<String>> = raw
        .split('/')
        .map(|segment| {
            let decoded = percent_decode_str(segment).decode_utf8().ok()?;
            (!matches!(&*decoded, "" | "." | "..")).then(|| decoded.into_owned())
        })
        .collect();
    match slug {
        Some(slug) => json(StatusCode::OK, json!({ "slug": slug })),
        None => not_found().await,
    }
}

/// Any other path: `bundled_api::not_found`'s answer, headers included.
async fn not_found() -> Response {
    let headers = [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    let body = Json(json!({ "error": "not found" }));
    (StatusCode::NOT_FOUND, headers, body).into_response()
}

/// The example's three routes and its 404, as one `Router`.
pub fn router() -> Router {
    Router::new()
        .route("/api/hello", get(hello))
        .route("/api/users/{id}", get(user))
        .route("/api/docs/{*slug}", get(docs))
        .fallback(not_found)
}
