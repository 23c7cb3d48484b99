//! The routes of `examples/routes` as an axum `Router`, on vercel_runtime's `axum` feature: the
//! baseline `cargo xtask bench axum` measures `#[bundled_api]` against.
//!
//! The routes and their handlers are in `routes.rs`; this file runs them as a Vercel function,
//! as vercel_runtime's docs do: `VercelLayer` in front of the `Router`.

mod routes;

use vercel_runtime::Error;
use vercel_runtime::axum::VercelLayer;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let service = tower::ServiceBuilder::new()
        .layer(VercelLayer::new())
        .service(routes::router());
    vercel_runtime::run(service).await
}
