//! A TEST DOUBLE of the Upstash REST API, in front of a real `redis-server`.
//!
//! It answers as Upstash does where the emulator does not (400 with `{"error"}` for a failed
//! command, per-command errors inside a 200 pipeline, 401 for an unknown token, the read-only
//! token refused for writes), records what it received (path, `Authorization`, body) and what
//! it answered, and injects what the real service does only on its bad days: latency, 5xx, a
//! command error, a malformed reply, a dropped connection. With only a delay set it is storage
//! that answers every call after that delay, which is what the benchmarks need for "storage is
//! slow".
//!
//! It serves on the tokio runtime it was started on; a synchronous caller starts it inside a
//! multi-thread runtime that it keeps alive.

use crate::{redis::Redis, resp};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

pub const WRITE_TOKEN: &str = "fake-write-token";
pub const READ_TOKEN: &str = "fake-read-token";

/// What the next request gets instead of a normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This HTTP status with `{"error":"injected"}`, nothing run.
    Status(u16),
    /// Runs nothing; a 200 pipeline whose every element is `{"error": message}`.
    CommandError(&'static str),
    /// A 200 whose body is not JSON.
    Malformed,
    /// The connection is closed without an answer.
    Drop,
    /// A `307` to the same path here: followed, the call would be made again and succeed.
    Redirect,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

impl Seen {
    /// The ids of the records this `LPUSH` pipeline carried, oldest first as sent.
    pub fn pushed_ids(&self) -> Vec<String> {
        pushed_ids(&self.path, &self.body)
    }

    /// The records this `LPUSH` pipeline carried, as the raw JSON text sent, oldest first.
    pub fn pushed_records(&self) -> Vec<String> {
        pushed_records(&self.path, &self.body)
    }
}

/// A request whose commands ran, and the moment its answer was handed to the connection.
#[derive(Debug, Clone)]
pub struct Answered {
    pub at: std::time::Instant,
    pub path: String,
    pub body: Value,
}

impl Answered {
    /// The ids of the records this `LPUSH` pipeline stored, oldest first as sent.
    pub fn pushed_ids(&self) -> Vec<String> {
        pushed_ids(&self.path, &self.body)
    }
}

/// The records in an `LPUSH` pipeline's body, as sent (an argument that is not a string as its
/// JSON text, so that a check of the record refuses it); none for any other request.
fn pushed_records(path: &str, body: &Value) -> Vec<String> {
    if path != "/pipeline" || body[0][0] != "LPUSH" {
        return Vec::new();
    }
    body[0].as_array().expect("an LPUSH command")[2..]
        .iter()
        .map(|raw| raw.as_str().map_or_else(|| raw.to_string(), str::to_string))
        .collect()
}

/// The ids of the records in an `LPUSH` pipeline's body; none for any other request.
fn pushed_ids(path: &str, body: &Value) -> Vec<String> {
    pushed_records(path, body)
        .iter()
        .map(|raw| {
            let record: Value = serde_json::from_str(raw).expect("a record is JSON");
            record["id"]
                .as_str()
                .expect("a record has an id")
                .to_string()
        })
        .collect()
}

struct Shared {
    redis_port: u16,
    delay_ms: AtomicU64,
    faults: Mutex<VecDeque<Fault>>,
    seen: Mutex<Vec<Seen>>,
    answered: Mutex<Vec<Answered>>,
}

pub struct FakeUpstash {
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeUpstash {
    /// Starts it in front of `redis`, answering at once and as Upstash does.
    pub async fn start(redis: &Redis) -> FakeUpstash {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Upstash test double");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let shared = Arc::new(Shared {
            redis_port: redis.port,
            delay_ms: AtomicU64::new(0),
            faults: Mutex::new(VecDeque::new()),
            seen: Mutex::new(Vec::new()),
            answered: Mutex::new(Vec::new()),
        });
        let serving = shared.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(shared.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeUpstash {
            url,
            shared,
            server,
        }
    }

    /// The environment that points the app at this double, with distinct read and write tokens.
    pub fn env(&self) -> [(&'static str, &str); 3] {
        [
            ("KV_REST_API_URL", &self.url),
            ("KV_REST_API_TOKEN", WRITE_TOKEN),
            ("KV_REST_API_READ_ONLY_TOKEN", READ_TOKEN),
        ]
    }

    /// Every later request waits this long before it is answered.
    pub fn delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The next requests, one fault each, in order.
    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.faults.lock().unwrap().extend(faults);
    }

    /// Every request received, in order of arrival, whatever it was answered.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The requests whose commands ran, in the order they were answered.
    pub fn answered(&self) -> Vec<Answered> {
        self.shared.answered.lock().unwrap().clone()
    }
}

impl Drop for FakeUpstash {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Answer = Result<Response<Full<Bytes>>, std::io::Error>;

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Answer {
    let path = req.uri().path().to_string();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = req
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    shared.seen.lock().unwrap().push(Seen {
        path: path.clone(),
        authorization: authorization.clone(),
        body: body.clone(),
    });

    // Faults apply in order of arrival, then every request waits the configured delay.
    let fault = shared.faults.lock().unwrap().pop_front();
    let delay = shared.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    match fault {
        Some(Fault::Status(code)) => return Ok(answer(code, json!({"error": "injected"}))),
        Some(Fault::CommandError(message)) => {
            let count = body.as_array().map_or(1, Vec::len);
            let errors = vec![json!({ "error": message }); count];
            return Ok(answer(200, Value::Array(errors)));
        }
        Some(Fault::Malformed) => {
            return Ok(Response::new(Full::new(Bytes::from_static(
                b"<html>bad gateway</html>",
            ))));
        }
        Some(Fault::Drop) => return Err(std::io::Error::other("injected: connection dropped")),
        Some(Fault::Redirect) => {
            let mut response = answer(307, json!({"error": "moved"}));
            if let Ok(location) = hyper::header::HeaderValue::from_str(&path) {
                response
                    .headers_mut()
                    .insert(hyper::header::LOCATION, location);
            }
            return Ok(response);
        }
        None => {}
    }

    let read_only = match authorization.as_deref() {
        Some(a) if a == format!("Bearer {WRITE_TOKEN}") => false,
        Some(a) if a == format!("Bearer {READ_TOKEN}") => true,
        _ => return Ok(answer(401, json!({"error": "Unauthorized"}))),
    };
    let commands: Vec<Vec<String>> = match (path.as_str(), &body) {
        ("/", Value::Array(_)) => vec![strings(&body)],
        ("/pipeline", Value::Array(items)) => items.iter().map(strings).collect(),
        _ => return Ok(answer(400, json!({"error": "bad request"}))),
    };
    if read_only && commands.iter().any(|c| !is_read(c)) {
        return Ok(answer(
            403,
            json!({"error": "NOPERM this token cannot write"}),
        ));
    }
    let mut replies = Vec::new();
    for command in &commands {
        replies.push(resp::run(shared.redis_port, command).await?);
    }
    shared.answered.lock().unwrap().push(Answered {
        at: std::time::Instant::now(),
        path: path.clone(),
        body: body.clone(),
    });
    Ok(if path == "/" {
        match replies.remove(0) {
            Ok(result) => answer(200, json!({ "result": result })),
            Err(error) => answer(400, json!({ "error": error })),
        }
    } else {
        let elements = replies
            .into_iter()
            .map(|r| match r {
                Ok(result) => json!({ "result": result }),
                Err(error) => json!({ "error": error }),
            })
            .collect();
        answer(200, Value::Array(elements))
    })
}

fn strings(command: &Value) -> Vec<String> {
    command
        .as_array()
        .map(|args| {
            args.iter()
                .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn is_read(command: &[String]) -> bool {
    let name = command
        .first()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or_default();
    matches!(
        name.as_str(),
        "LRANGE" | "LLEN" | "GET" | "PING" | "TYPE" | "EXISTS"
    )
}

fn answer(status: u16, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
