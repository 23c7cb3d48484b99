//! A TEST DOUBLE of the Upstash REST API, in front of a real `redis-server`.
//!
//! It answers as Upstash does where the emulator does not (400 with `{"error"}` for a failed
//! command, per-command errors inside a 200 pipeline, 401 for an unknown token, the read-only
//! token refused for writes), records what it received (path, `Authorization`, body) and what
//! it answered, and injects what the real service does only on its bad days: latency, 5xx, a
//! command error, a malformed reply, a reply too large to read, a reply that never ends, a
//! dropped connection, and a call applied on Redis whose answer is then lost (a 5xx, a dropped
//! connection, or an answer after the app's timeout: the `Fault::AppliedThen…` faults, which
//! make a retried write reach storage twice). With only a delay set it is storage that answers
//! every call after that delay, which is what the benchmarks need for "storage is slow".
//!
//! Tests that need a call to be in flight while something else happens do not race a delay
//! against it: they [`hold`](FakeUpstash::hold) storage, wait for the call to be
//! [`seen`](FakeUpstash::wait_for_calls), act, and release it.
//!
//! It serves on the tokio runtime it was started on; a synchronous caller starts it inside a
//! multi-thread runtime that it keeps alive.

use crate::serve::{Answer, serve};
use crate::{redis::Redis, resp};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;

pub const WRITE_TOKEN: &str = "fake-write-token";
pub const READ_TOKEN: &str = "fake-read-token";

/// The app's cap on a reply it reads from storage (`MAX_REPLY_BYTES` in
/// `src/store/upstash/mod.rs`): 1 MiB.
pub const REPLY_CAP_BYTES: usize = 1 << 20;

/// The length of a [`Fault::Oversized`] body: one byte over the app's cap.
pub const OVERSIZED_BYTES: usize = REPLY_CAP_BYTES + 1;

/// What the next request gets instead of a normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This HTTP status with `{"error":"injected"}`, nothing run.
    Status(u16),
    /// Runs nothing; a 200 pipeline whose every element is `{"error": message}`.
    CommandError(&'static str),
    /// A 200 whose body is not JSON.
    Malformed,
    /// Runs nothing; a 200 with this JSON body: a reply of the right form with the wrong
    /// content (a count that cannot be, a result of another type).
    Reply(Value),
    /// The connection is closed without an answer.
    Drop,
    /// A `307` to the same path here: followed, the call would be made again and succeed.
    Redirect,
    /// Runs nothing; a 200 whose body is exactly [`OVERSIZED_BYTES`] long (one byte over the
    /// app's 1 MiB cap) and a successful reply of the right shape: a read's one entry, or a
    /// pipeline's first result, is a long string. Read whole, it would be taken as a success.
    Oversized,
    /// Runs nothing; a 200 whose body is a successful reply (as [`Fault::Oversized`]) of exactly
    /// this many bytes: to find where the app's cap is, to the byte.
    Sized(usize),
    /// Runs nothing; a 200 whose chunked body starts a successful reply (as [`Fault::Oversized`])
    /// and then trickles: one byte every this long, never ending. Storage that keeps a
    /// connection busy without ever answering: only a bound on the whole request ends it.
    Trickle(Duration),
    /// Runs nothing; a 200 with a chunked body that never ends: the start of a successful reply
    /// (as [`Fault::Oversized`]), then a string that goes on as fast as the client reads, until
    /// the client hangs up. [`FakeUpstash::streaming`] counts the ones still going.
    Endless,
    /// Runs the commands on Redis as a normal call would (token checks included), then answers
    /// this HTTP status with `{"error":"injected after the commands ran"}` instead of their
    /// replies: storage that applied a call and failed to say so. A 5xx or 429 is one the app retries, so the same
    /// call is made again over what is already stored.
    AppliedThenStatus(u16),
    /// Runs the commands on Redis as a normal call would, then closes the connection without
    /// an answer: the call was applied, the client cannot know it.
    AppliedThenDrop,
    /// Runs the commands on Redis as a normal call would, then answers with their replies only
    /// after this long. Longer than the app's 3 s attempt timeout, the app has given up on the
    /// call, and made it again, before the answer comes (the call of a client that hung up is
    /// dropped: it was applied, it is never answered).
    AppliedThenLate(Duration),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

impl Seen {
    /// The ids of the records this write carried, as sent.
    pub fn written_ids(&self) -> Vec<String> {
        written_ids(&self.path, &self.body)
    }

    /// The records this write carried, as the raw JSON text sent.
    pub fn written_records(&self) -> Vec<String> {
        written_records(&self.path, &self.body)
    }

    /// Whether this is a write: the pipeline of `ZADD` and the trim.
    pub fn is_write(&self) -> bool {
        is_write(&self.path, &self.body)
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
    /// The ids of the records this write carried, as sent.
    pub fn written_ids(&self) -> Vec<String> {
        written_ids(&self.path, &self.body)
    }

    /// Whether this is a write: the pipeline of `ZADD` and the trim.
    pub fn is_write(&self) -> bool {
        is_write(&self.path, &self.body)
    }
}

/// A write is a pipeline of two commands: `ZADD <key> <score> <record>…`, then
/// `ZREMRANGEBYRANK <key> 0 -11`.
fn is_write(path: &str, body: &Value) -> bool {
    path == "/pipeline" && body[0][0] == "ZADD" && body[1][0] == "ZREMRANGEBYRANK"
}

/// The records in a write's body (the `ZADD`'s members), as sent (an argument that is not a
/// string as its JSON text, so that a check of the record refuses it); none for any other
/// request.
fn written_records(path: &str, body: &Value) -> Vec<String> {
    if !is_write(path, body) {
        return Vec::new();
    }
    let zadd = body[0].as_array().expect("a ZADD");
    zadd.get(3..)
        .unwrap_or_default()
        .iter()
        .step_by(2)
        .map(|raw| raw.as_str().map_or_else(|| raw.to_string(), str::to_string))
        .collect()
}

/// The ids of the records in a write's body; none for any other request.
pub(crate) fn written_ids(path: &str, body: &Value) -> Vec<String> {
    written_records(path, body)
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
    /// The write token and the read-only one.
    tokens: [String; 2],
    delay_ms: AtomicU64,
    faults: Mutex<VecDeque<Fault>>,
    seen: Mutex<Vec<Seen>>,
    answered: Mutex<Vec<Answered>>,
    /// How many [`Hold`]s are in force; calls pass the gate only at zero.
    holds: AtomicUsize,
    /// [`Fault::Endless`] and [`Fault::Trickle`] bodies still streaming.
    streaming: Arc<AtomicUsize>,
}

/// Storage held: every call waits, after it was recorded as seen, until this is released or
/// dropped (so a failing test never leaves calls held). See [`FakeUpstash::hold`].
#[must_use = "storage is released as soon as the hold is dropped"]
pub struct Hold {
    shared: Arc<Shared>,
}

impl Hold {
    /// Lets the held calls (and every later one) through, unless another hold is in force.
    pub fn release(self) {}
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.shared.holds.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct FakeUpstash {
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeUpstash {
    /// Starts it in front of `redis`, answering at once and as Upstash does.
    pub async fn start(redis: &Redis) -> FakeUpstash {
        Self::start_with_tokens(redis, WRITE_TOKEN, READ_TOKEN).await
    }

    /// [`FakeUpstash::start`], taking `write` and `read` as its tokens.
    pub async fn start_with_tokens(redis: &Redis, write: &str, read: &str) -> FakeUpstash {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Upstash test double");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let shared = Arc::new(Shared {
            redis_port: redis.port,
            tokens: [write.into(), read.into()],
            delay_ms: AtomicU64::new(0),
            faults: Mutex::new(VecDeque::new()),
            seen: Mutex::new(Vec::new()),
            answered: Mutex::new(Vec::new()),
            holds: AtomicUsize::new(0),
            streaming: Arc::new(AtomicUsize::new(0)),
        });
        let server = serve(listener, shared.clone(), handle);
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
            ("KV_REST_API_TOKEN", &self.shared.tokens[0]),
            ("KV_REST_API_READ_ONLY_TOKEN", &self.shared.tokens[1]),
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

    /// Holds storage until the returned [`Hold`] is released or dropped: every call from now
    /// on is recorded as [`seen`](Self::seen) (and takes its fault, if one is queued), then
    /// waits, unanswered, with nothing run. Released, each goes on as if it had just arrived
    /// (the [`delay`](Self::delay), then its answer).
    ///
    /// The app gives up on a call after 3 s (its request timeout) and hangs up; a held call
    /// whose client hung up is dropped, never run. So a test holds storage only while it makes
    /// its requests and waits for their events, not for the app's timeout.
    pub fn hold(&self) -> Hold {
        self.shared.holds.fetch_add(1, Ordering::SeqCst);
        Hold {
            shared: self.shared.clone(),
        }
    }

    /// Waits until at least `count` calls were received (held or not), and returns them all;
    /// panics naming the calls seen so far after `within`.
    pub async fn wait_for_calls(&self, count: usize, within: Duration) -> Vec<Seen> {
        let seen = crate::poll_for(within, || async {
            let seen = self.seen();
            (seen.len() >= count).then_some(seen)
        })
        .await;
        seen.unwrap_or_else(|| {
            let paths: Vec<String> = self.seen().into_iter().map(|s| s.path).collect();
            panic!(
                "{count} calls to storage: not seen within {within:?}; seen {}: {paths:?}",
                paths.len()
            )
        })
    }

    /// How many [`Fault::Endless`] and [`Fault::Trickle`] answers are still streaming: their
    /// client has not hung up.
    pub fn streaming(&self) -> usize {
        self.shared.streaming.load(Ordering::SeqCst)
    }

    /// Every request received, in order of arrival, whatever it was answered.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The requests whose commands ran and were answered with their replies, in the order they
    /// were answered. The `Fault::AppliedThen…` calls ran theirs too but are not listed, except
    /// an [`AppliedThenLate`](Fault::AppliedThenLate) one whose client waited for its answer.
    pub fn answered(&self) -> Vec<Answered> {
        self.shared.answered.lock().unwrap().clone()
    }
}

impl Drop for FakeUpstash {
    fn drop(&mut self) {
        self.server.abort();
    }
}

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

    // Faults apply in order of arrival; then every request waits while storage is held, and
    // then the configured delay.
    let fault = shared.faults.lock().unwrap().pop_front();
    while shared.holds.load(Ordering::SeqCst) > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
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
        Some(Fault::Reply(body)) => return Ok(answer(200, body)),
        Some(Fault::Malformed) => {
            return Ok(Response::new(full(Bytes::from_static(
                b"<html>bad gateway</html>",
            ))));
        }
        Some(fault @ (Fault::Oversized | Fault::Sized(_))) => {
            let size = match fault {
                Fault::Sized(size) => size,
                _ => OVERSIZED_BYTES,
            };
            let (start, end) = long_reply(&path, &body);
            let pad = size.saturating_sub(start.len() + end.len());
            let reply = [start.as_bytes(), &vec![b'x'; pad], end.as_bytes()].concat();
            return Ok(json_response(200, full(Bytes::from(reply))));
        }
        Some(Fault::Trickle(every)) => {
            let (start, _) = long_reply(&path, &body);
            let trickle = Unending::trickle(start, every, shared.streaming.clone());
            return Ok(json_response(200, trickle.boxed()));
        }
        Some(Fault::Endless) => {
            let (start, _) = long_reply(&path, &body);
            let endless = Unending::endless(start, shared.streaming.clone());
            return Ok(json_response(200, endless.boxed()));
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
        // Applied first: these act once the commands have run, below.
        Some(Fault::AppliedThenStatus(_) | Fault::AppliedThenDrop | Fault::AppliedThenLate(_))
        | None => {}
    }

    let [write, read] = &shared.tokens;
    let read_only = match authorization.as_deref() {
        Some(a) if a == format!("Bearer {write}") => false,
        Some(a) if a == format!("Bearer {read}") => true,
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
        // Redis waits for more on an empty command; Upstash refuses it.
        let reply = if command.is_empty() {
            Err("ERR empty command".to_string())
        } else {
            resp::run(shared.redis_port, command).await?
        };
        replies.push(reply);
    }
    // The commands have run: what the applied faults do instead of answering at once.
    match fault {
        Some(Fault::AppliedThenStatus(code)) => {
            return Ok(answer(
                code,
                json!({"error": "injected after the commands ran"}),
            ));
        }
        Some(Fault::AppliedThenDrop) => {
            return Err(std::io::Error::other(
                "injected: connection dropped after the commands ran",
            ));
        }
        Some(Fault::AppliedThenLate(after)) => tokio::time::sleep(after).await,
        _ => {}
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
        "ZRANGE"
            | "ZREVRANGE"
            | "ZCARD"
            | "ZSCORE"
            | "LRANGE"
            | "LLEN"
            | "GET"
            | "PING"
            | "TYPE"
            | "EXISTS"
    )
}

fn answer(status: u16, body: Value) -> Response<BoxBody<Bytes, std::io::Error>> {
    json_response(status, full(Bytes::from(body.to_string())))
}

fn json_response(
    status: u16,
    body: BoxBody<Bytes, std::io::Error>,
) -> Response<BoxBody<Bytes, std::io::Error>> {
    let mut response = Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn full(bytes: Bytes) -> BoxBody<Bytes, std::io::Error> {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A successful reply to this request, cut around one long string: what goes before it and
/// what closes it. A write's results, the first padded by a field beside it
/// (`[{"result":0,"padding":"…"},{"result":0}]`), a read's one entry (`{"result":["…"]}`), or another
/// pipeline's first result, one `{"result":"OK"}` for each further command
/// (`[{"result":"…"},{"result":"OK"}]`).
fn long_reply(path: &str, body: &Value) -> (String, String) {
    if is_write(path, body) {
        // The write's success (nothing added, nothing cut), with a long field the app ignores.
        (
            r#"[{"result":0,"padding":""#.to_string(),
            r#""},{"result":0}]"#.to_string(),
        )
    } else if path == "/pipeline" {
        let commands = body.as_array().map_or(1, Vec::len).max(1);
        let rest = r#",{"result":"OK"}"#.repeat(commands - 1);
        (r#"[{"result":""#.to_string(), format!(r#""}}{rest}]"#))
    } else {
        (r#"{"result":[""#.to_string(), r#""]}"#.to_string())
    }
}

/// The body of [`Fault::Endless`] and [`Fault::Trickle`]: `start`, then `chunk` for as long as
/// the connection takes it, as fast as the client reads or one every `pace`. Counted in
/// `streaming` from creation until hyper drops it, which it does once the client has hung up.
struct Unending {
    start: Option<Bytes>,
    chunk: Bytes,
    pace: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
    streaming: Arc<AtomicUsize>,
}

impl Unending {
    /// `x`s in 16 KiB chunks, as fast as the client reads.
    fn endless(start: String, streaming: Arc<AtomicUsize>) -> Unending {
        Self::new(start, vec![b'x'; 16 * 1024], None, streaming)
    }

    /// One `x` every `every`.
    fn trickle(start: String, every: Duration, streaming: Arc<AtomicUsize>) -> Unending {
        let pace = (every, Box::pin(tokio::time::sleep(every)));
        Self::new(start, vec![b'x'], Some(pace), streaming)
    }

    fn new(
        start: String,
        chunk: Vec<u8>,
        pace: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
        streaming: Arc<AtomicUsize>,
    ) -> Unending {
        streaming.fetch_add(1, Ordering::SeqCst);
        Unending {
            start: Some(Bytes::from(start)),
            chunk: Bytes::from(chunk),
            pace,
            streaming,
        }
    }
}

impl Body for Unending {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(start) = self.start.take() {
            return Poll::Ready(Some(Ok(Frame::data(start))));
        }
        if let Some((every, next)) = &mut self.pace {
            if next.as_mut().poll(context).is_pending() {
                return Poll::Pending;
            }
            let at = tokio::time::Instant::now() + *every;
            next.as_mut().reset(at);
        }
        // Unpaced, always ready: the connection writes until the socket is full, then waits
        // for the client to read, so this goes exactly as fast as the client reads.
        Poll::Ready(Some(Ok(Frame::data(self.chunk.clone()))))
    }
}

impl Drop for Unending {
    fn drop(&mut self) {
        self.streaming.fetch_sub(1, Ordering::SeqCst);
    }
}
