//! The function: `#[bundled_api]` compiles every route file under `api/` into this one binary
//! and writes the body of `handler`, a dispatch over a static route table.
//!
//! - `api/hello.rs`: `/api/hello`, a static route;
//! - `api/users/[id].rs`: `/api/users/1`, one dynamic segment;
//! - `api/docs/[...slug].rs`: `/api/docs/guides/setup`, a catch-all;
//! - `api/visits.rs`: `/api/visits`, work that goes on after the response (`wait_until`);
//! - `api/_respond.rs`: a helper, not a route (its name starts with `_`).
//!
//! Any other path gets `bundled_api::not_found`, a JSON 404. Run with `cargo run` in this
//! folder (http://127.0.0.1:3000, or `VERCEL_DEV_PORT`).

use bundled_api::bundled_api;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};

#[path = "_respond.rs"]
mod respond;

#[bundled_api]
async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handler)).await
}

#[cfg(test)]
mod tests {
    use super::handler;
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::rt::TokioIo;
    use serde_json::{Value, json};
    use std::time::Duration;
    use vercel_runtime::{AppState, LogContext};

    /// How long one request may take: in process it takes milliseconds, so a handler that hangs
    /// fails its test by name instead of hanging the run.
    const ANSWER_WITHIN: Duration = Duration::from_secs(10);

    /// `GET path` answered by `handler`, in process, within [`ANSWER_WITHIN`] (the whole of each
    /// test's async work). A `Request`'s body type can only be made by hyper, so the request
    /// crosses an in-memory pipe between a hyper client and server.
    async fn get(path: &str) -> (u16, Value) {
        tokio::time::timeout(ANSWER_WITHIN, answer(path))
            .await
            .unwrap_or_else(|_| panic!("GET {path}: not done within {ANSWER_WITHIN:?}"))
    }

    async fn answer(path: &str) -> (u16, Value) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let service = hyper::service::service_fn(|req| {
            handler(req, AppState::new(LogContext::new(None, None, None)))
        });
        tokio::spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(server), service),
        );
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(client))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = http::Request::get(path)
            .header(http::header::HOST, "localhost")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        assert_eq!(response.headers()[http::header::CACHE_CONTROL], "no-store");
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "application/json"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn the_static_route_answers_at_its_file_path() {
        for path in ["/api/hello", "/api/hello/"] {
            assert_eq!(
                get(path).await,
                (200, json!({ "message": "hello" })),
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn the_dynamic_route_reads_its_id() {
        assert_eq!(
            get("/api/users/2").await,
            (200, json!({ "id": 2, "name": "Grace" }))
        );
        // Captures are percent-decoded: `%31` is `1`.
        assert_eq!(
            get("/api/users/%31").await,
            (200, json!({ "id": 1, "name": "Ada" }))
        );
        assert_eq!(
            get("/api/users/3").await,
            (404, json!({ "error": "no such user" }))
        );
    }

    #[tokio::test]
    async fn an_id_that_is_not_digits_is_refused() {
        for path in [
            "/api/users/abc",
            "/api/users/+1",
            "/api/users/-1",
            "/api/users/1.5",
            "/api/users/%201",
            "/api/users/99999999999999999999",
        ] {
            assert_eq!(
                get(path).await,
                (400, json!({ "error": "the id must be digits" })),
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn the_catch_all_gets_every_segment_decoded() {
        assert_eq!(
            get("/api/docs/intro").await,
            (200, json!({ "slug": ["intro"] }))
        );
        assert_eq!(
            get("/api/docs/guides/getting%20started/step-1").await,
            (
                200,
                json!({ "slug": ["guides", "getting started", "step-1"] })
            )
        );
        // An encoded `/` stays inside its segment: it does not split the path.
        assert_eq!(
            get("/api/docs/a%2Fb/c").await,
            (200, json!({ "slug": ["a/b", "c"] }))
        );
    }

    #[tokio::test]
    async fn the_visit_is_accepted() {
        // The work it starts runs on after the answer: `tests/it/consumer.rs` in the repository
        // checks that with the built binary, where the runtime's log and `end` show it.
        assert_eq!(
            get("/api/visits").await,
            (202, json!({ "visit": "accepted" }))
        );
    }

    #[tokio::test]
    async fn paths_no_route_names_are_404() {
        for path in [
            "/",
            "/api",
            "/api/hello/there",
            "/api/hello.rs",
            "/api/users",
            "/api/users/1/posts",
            "/api/visits/1",
            // A catch-all needs at least one segment.
            "/api/docs",
            // Dot and empty segments never reach a route, even encoded.
            "/api/docs/../users/1",
            "/api/docs/%2e%2e/x",
            "/api/docs//x",
            // The helper is not a route.
            "/api/_respond",
        ] {
            assert_eq!(
                get(path).await,
                (404, json!({ "error": "not found" })),
                "{path}"
            );
        }
    }
}
