//! Routing one request: our compile-time table against the legacy per-request router.
//! Run with `cargo bench -p bundled_api --bench dispatch`.
//!
//! The legacy `#[bundled_api]` (vercel_runtime_macro 1.x) built a `vercel_runtime_router::Router`
//! from every route file on every request, then matched with regexes. Ours matches a static
//! table made at compile time. Both are measured on this app's two routes and on a larger
//! table with dynamic and catch-all routes.
//!
//! The `axum` group (`cargo bench -p bundled_api --bench dispatch -- axum`) answers the routes of
//! `examples/routes` both ways, from a request to the built response: ours as `#[bundled_api]`'s
//! generated code does (the table, `RouteParams` into the extensions, the route's handler),
//! and an axum 0.8 `Router` with the same routes and handlers as `bench/axum-routes`, called
//! with `tower::ServiceExt::oneshot`. Neither includes vercel_runtime's own per-request work
//! (the whole-function comparison is `cargo xtask bench axum`).

use bundled_api::__private::Segment::{self, *};
use bundled_api::__private::route;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

const TWO_ROUTES: &[&[Segment]] = &[
    &[Static("api"), Static("recent")],
    &[Static("api"), Static("wait-until")],
];
const TWO_FILES: &[&str] = &["api/recent.rs", "api/wait-until.rs"];

const TEN_ROUTES: &[&[Segment]] = &[
    &[Static("api"), Static("posts")],
    &[Static("api"), Static("recent")],
    &[Static("api"), Static("wait-until")],
    &[
        Static("api"),
        Static("posts"),
        Dynamic("id"),
        Static("comments"),
    ],
    &[Static("api"), Static("posts"), Dynamic("id")],
    &[Static("api"), Static("users"), Dynamic("id")],
    &[Static("api"), Dynamic("id")],
    &[Static("api"), Static("docs"), CatchAll("slug")],
    &[Static("api"), Static("files"), OptionalCatchAll("path")],
    &[Static("api"), CatchAll("rest")],
];
const TEN_FILES: &[&str] = &[
    "api/posts.rs",
    "api/recent.rs",
    "api/wait-until.rs",
    "api/posts/[id]/comments.rs",
    "api/posts/[id].rs",
    "api/users/[id].rs",
    "api/[id].rs",
    "api/docs/[...slug].rs",
    "api/files/[[...path]].rs",
    "api/[...rest].rs",
];

#[allow(deprecated)]
fn legacy(files: &[&str], path: &str) -> bool {
    let router = vercel_runtime_router::Router::from(files.to_vec());
    router.call(path).is_some()
}

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    group.bench_function("ours/2 routes", |b| {
        b.iter(|| route(black_box(TWO_ROUTES), black_box("/api/wait-until")))
    });
    group.bench_function("legacy/2 routes", |b| {
        b.iter(|| legacy(black_box(TWO_FILES), black_box("api/wait-until")))
    });
    group.bench_function("ours/10 routes, dynamic", |b| {
        b.iter(|| route(black_box(TEN_ROUTES), black_box("/api/users/42")))
    });
    group.bench_function("legacy/10 routes, dynamic", |b| {
        b.iter(|| legacy(black_box(TEN_FILES), black_box("api/users/42")))
    });
    group.finish();
}

/// The paths of the comparison: a static route, `[id]`, and a two-segment catch-all.
const EXAMPLE_PATHS: [(&str, &str); 3] = [
    ("static", "/api/hello"),
    ("[id]", "/api/users/1"),
    ("catch-all", "/api/docs/guides/setup"),
];

/// Runs a future that never waits (neither side's does) to its end, with no executor.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// The example's routes as `#[bundled_api]` compiles them: its table, in precedence order, and
/// its handlers (`examples/routes/api/`), reading their captures from `RouteParams`.
mod ours {
    use bundled_api::__private::Segment::{self, *};
    use bundled_api::__private::route;
    use bundled_api::RouteParams;
    use http::{HeaderValue, StatusCode, header};
    use serde_json::{Value, json};
    use vercel_runtime::{Response, ResponseBody};

    static ROUTES: &[&[Segment]] = &[
        &[Static("api"), Static("hello")],
        &[Static("api"), Static("users"), Dynamic("id")],
        &[Static("api"), Static("docs"), CatchAll("slug")],
    ];
    const USERS: &[(u64, &str)] = &[(1, "Ada"), (2, "Grace")];

    fn json(status: StatusCode, body: Value) -> Response<ResponseBody> {
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

    async fn hello(_req: http::Request<()>) -> Response<ResponseBody> {
        json(StatusCode::OK, json!({ "message": "hello" }))
    }

    async fn user(req: http::Request<()>) -> Response<ResponseBody> {
        let id = RouteParams::of(&req).get("id").unwrap_or_default();
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

    async fn docs(req: http::Request<()>) -> Response<ResponseBody> {
        let slug: &[String] = RouteParams::of(&req).get_all("slug");
        json(StatusCode::OK, json!({ "slug": slug }))
    }

    /// What the generated `handler` does with a request.
    pub async fn handler(mut req: http::Request<()>) -> Response<ResponseBody> {
        match route(ROUTES, req.uri().path()) {
            Some((0, _)) => hello(req).await,
            Some((1, params)) => {
                req.extensions_mut().insert(params);
                user(req).await
            }
            Some((2, params)) => {
                req.extensions_mut().insert(params);
                docs(req).await
            }
            _ => bundled_api::not_found(),
        }
    }
}

/// The same routes and handlers as an axum `Router`: `bench/axum-routes/src/main.rs`.
mod axum_router {
    use axum::extract::Path;
    use axum::http::{StatusCode, Uri, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::{Json, Router};
    use percent_encoding::percent_decode_str;
    use serde_json::{Value, json};

    const USERS: &[(u64, &str)] = &[(1, "Ada"), (2, "Grace")];

    fn json(status: StatusCode, body: Value) -> Response {
        (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
    }

    async fn hello() -> Response {
        json(StatusCode::OK, json!({ "message": "hello" }))
    }

    async fn user(Path(id): Path<String>) -> Response {
        let id = match id.parse::<u64>() {
            Ok(number) if id.bytes().all(|b| b.is_ascii_digit()) => number,
            _ => {
                return json(
                    StatusCode::BAD_REQUEST,
                    json!({ "error": "the id must be digits" }),
                );
            }
        };
        match USERS.iter().find(|(known, _)| *known == id) {
            Some((id, name)) => json(StatusCode::OK, json!({ "id": id, "name": name })),
            None => json(StatusCode::NOT_FOUND, json!({ "error": "no such user" })),
        }
    }

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

    async fn not_found() -> Response {
        let headers = [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ];
        let body = Json(json!({ "error": "not found" }));
        (StatusCode::NOT_FOUND, headers, body).into_response()
    }

    pub fn router() -> Router {
        Router::new()
            .route("/api/hello", get(hello))
            .route("/api/users/{id}", get(user))
            .route("/api/docs/{*slug}", get(docs))
            .fallback(not_found)
    }
}

/// A request to the example's routes, to the built response: ours against an axum `Router`.
fn axum(c: &mut Criterion) {
    use tower::ServiceExt;
    let router = axum_router::router();
    let mut group = c.benchmark_group("axum");
    for (name, path) in EXAMPLE_PATHS {
        // Both answer the same status (and body: checked by the bench's whole-function run).
        let ours = ready(ours::handler(http::Request::get(path).body(()).unwrap()));
        let theirs = ready(
            router.clone().oneshot(
                http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            ),
        );
        assert_eq!(ours.status(), 200, "{path}");
        assert_eq!(theirs.unwrap().status(), 200, "{path}");
        group.bench_function(format!("ours/{name}"), |b| {
            b.iter(|| {
                let req = http::Request::get(black_box(path)).body(()).unwrap();
                ready(ours::handler(req))
            })
        });
        group.bench_function(format!("axum/{name}"), |b| {
            b.iter(|| {
                let req = http::Request::get(black_box(path))
                    .body(axum::body::Body::empty())
                    .unwrap();
                ready(router.clone().oneshot(req))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, dispatch, axum);
criterion_main!(benches);
