//! Routing one request: our compile-time table against the legacy per-request router.
//! Run with `cargo bench -p bundled_api --bench dispatch`.
//!
//! The legacy `#[bundled_api]` (vercel_runtime_macro 1.x) built a `vercel_runtime_router::Router`
//! from every route file on every request, then matched with regexes. Ours matches a static
//! table made at compile time. Both are measured on this app's two routes and on a larger
//! table with dynamic and catch-all routes.

use bundled_api::__private::Segment::{self, *};
use bundled_api::__private::route;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

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

criterion_group!(benches, dispatch);
criterion_main!(benches);
