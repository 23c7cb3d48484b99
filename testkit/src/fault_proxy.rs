//! A forwarding FAULT PROXY: a TEST DOUBLE for faults the real parts cannot produce, in front
//! of ANY Upstash-compatible REST URL (the npm emulator, mainly; the Upstash test double too).
//!
//! It forwards each request unchanged (method, path, query, headers, body) and hands back the
//! upstream's answer unchanged (status, headers, body), except for the requests it was told to
//! fail ([`FaultProxy::fail_next`]): those it still forwards, and only once the upstream has
//! answered (so their commands were applied) does it answer a status of its own, drop the
//! connection, or hand the upstream's answer back late. That is storage that applied a write
//! and lost its answer, which is what makes a retried write reach storage twice; the emulator
//! cannot be made to do it, and [`crate::fake_upstash`] does it only as itself
//! (`Fault::AppliedThen…`). Behind this proxy, the same faults meet a second, independent
//! implementation of the REST API.
//!
//! It serves on the tokio runtime it was started on.

use crate::serve::{Answer, serve};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName};
use hyper::{Request, Response};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// What the proxy does, after forwarding a request and reading the upstream's answer, instead
/// of handing that answer back at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answers this HTTP status with `{"error":"injected after the upstream applied the
    /// call"}`: the upstream applied the call, the client hears it failed. A 5xx or 429 is one
    /// the app retries.
    Status(u16),
    /// Closes the connection without an answer: the upstream applied the call, the client
    /// cannot know it.
    Drop,
    /// Hands the upstream's answer back only after this long. Longer than the app's 3 s
    /// attempt timeout, the app has given up on the call (and made it again) before it comes.
    Late(Duration),
}

/// One request as forwarded, with the upstream's status and the fault it met (if any).
#[derive(Debug, Clone)]
pub struct Forwarded {
    pub path: String,
    /// The request's body as JSON (`Null` if it was not JSON).
    pub body: Value,
    /// The upstream's status; `None` if the upstream could not be reached or did not answer.
    pub upstream_status: Option<u16>,
    pub fault: Option<Fault>,
}

impl Forwarded {
    /// The ids of the records this write (`ZADD` and the trim) carried; none for any other
    /// request.
    pub fn written_ids(&self) -> Vec<String> {
        crate::fake_upstash::written_ids(&self.path, &self.body)
    }
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    faults: Mutex<VecDeque<Fault>>,
    forwarded: Mutex<Vec<Forwarded>>,
}

pub struct FaultProxy {
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts it in front of `upstream` (a base URL such as `http://127.0.0.1:8080`), passing
    /// everything through until told otherwise.
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        // reqwest is built without a crypto provider (as in the app), and panics when none is
        // installed, even for plain HTTP.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            // Unchanged: a redirect goes back to the client, as it came.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("the fault proxy's client");
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            client,
            faults: Mutex::new(VecDeque::new()),
            forwarded: Mutex::new(Vec::new()),
        });
        let server = serve(listener, shared.clone(), forward);
        FaultProxy {
            url,
            shared,
            server,
        }
    }

    /// `upstream_env` (the environment that points the app at the upstream, such as
    /// [`Emulator::env`](crate::emulator::Emulator::env)) with its URL replaced by this proxy's.
    pub fn env<'a>(
        &'a self,
        upstream_env: [(&'static str, &'a str); 3],
    ) -> [(&'static str, &'a str); 3] {
        upstream_env.map(|(name, value)| match name {
            "KV_REST_API_URL" | "UPSTASH_REDIS_REST_URL" => (name, self.url.as_str()),
            _ => (name, value),
        })
    }

    /// The next requests, one fault each, in order of arrival; the requests after them pass.
    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.faults.lock().unwrap().extend(faults);
    }

    /// Every request forwarded so far, in the order the upstream answered them.
    pub fn forwarded(&self) -> Vec<Forwarded> {
        self.shared.forwarded.lock().unwrap().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Headers that belong to one connection, not to the request or answer: never passed on (the
/// client on either side sets its own).
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "content-length"
    )
}

fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for (name, value) in headers {
        if !hop_by_hop(name) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

async fn forward(shared: Arc<Shared>, req: Request<Incoming>) -> Answer {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_string());
    let bytes = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    // The fault is taken on arrival, so faults apply in the order requests come in.
    let fault = shared.faults.lock().unwrap().pop_front();

    let sent = shared
        .client
        .request(
            parts.method.clone(),
            format!("{}{path_and_query}", shared.upstream),
        )
        .headers(end_to_end(&parts.headers))
        .body(bytes.clone())
        .send()
        .await;
    let upstream = match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            let headers = end_to_end(response.headers());
            match response.bytes().await {
                Ok(body) => Some((status, headers, body)),
                Err(_) => None,
            }
        }
        Err(_) => None,
    };
    shared.forwarded.lock().unwrap().push(Forwarded {
        path,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        upstream_status: upstream.as_ref().map(|(status, _, _)| *status),
        fault,
    });

    match fault {
        Some(Fault::Status(code)) => return Ok(response(code, HeaderMap::new(), injected())),
        Some(Fault::Drop) => {
            return Err(std::io::Error::other(
                "injected: connection dropped after the upstream answered",
            ));
        }
        Some(Fault::Late(after)) => tokio::time::sleep(after).await,
        None => {}
    }
    Ok(match upstream {
        Some((status, headers, body)) => response(status, headers, body),
        None => response(
            502,
            HeaderMap::new(),
            Bytes::from_static(br#"{"error":"fault proxy: the upstream did not answer"}"#),
        ),
    })
}

fn injected() -> Bytes {
    Bytes::from_static(br#"{"error":"injected after the upstream applied the call"}"#)
}

fn response(
    status: u16,
    mut headers: HeaderMap,
    body: Bytes,
) -> Response<BoxBody<Bytes, std::io::Error>> {
    if !headers.contains_key("content-type") {
        headers.insert(
            "content-type",
            hyper::header::HeaderValue::from_static("application/json"),
        );
    }
    let mut response = Response::new(Full::new(body).map_err(|never| match never {}).boxed());
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = headers;
    response
}
