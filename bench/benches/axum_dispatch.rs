//! Section 9's in-process half (BENCHMARKS.md, "Why not axum"): the routes of `examples/routes`
//! answered both ways, from a request to the built response. Run with
//! `cargo bench -p bench --bench axum_dispatch` (`cargo xtask bench axum` runs it too).
//!
//! Ours as `#[bundled_api]`'s generated code does it (the table, `RouteParams` into the
//! extensions, the route's handler); axum's side is the `Router` of `bench/axum-routes` itself
//! (its `src/routes.rs`, compiled here as a module), called with `tower::ServiceExt::oneshot`.
//! Neither includes vercel_runtime's own per-request work (the whole-function comparison is
//! the rest of the section).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The baseline's routes and handlers: the very file `bench/axum-routes` runs behind
/// `VercelLayer`, so there is one copy to keep equal to the example.
#[path = "../axum-routes/src/routes.rs"]
mod axum_routes;

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
/// its handlers (`examples/routes/api/`), reading their captures from `RouteParams`. They take
/// an `http::Request<()>`: a real `vercel_runtime::Request`'s body can only come from hyper.
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

/// A request to the example's routes, to the built response: ours against an axum `Router`.
fn axum(c: &mut Criterion) {
    use tower::ServiceExt;
    let router = axum_routes::router();
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

criterion_group!(benches, axum);
criterion_main!(benches);
