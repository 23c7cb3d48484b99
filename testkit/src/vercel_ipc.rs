//! Vercel's side of the runtime's production protocol, played against the real binary.
//!
//! On Vercel, `vercel_runtime` connects to the Unix socket named by `VERCEL_IPC_PATH` and sends
//! NUL-terminated JSON messages: `server-started` (with the `httpPort` to send requests to)
//! once it listens, a `log` message per line logged through a request's `log_context` (text in
//! base64, attributed by `invocationId` and `requestId`), and an `end` per request once that
//! request's `wait_until` work has settled. Requests carry those ids in the headers
//! `x-vercel-internal-invocation-id` and `x-vercel-internal-request-id`.
//!
//! [`Ipc`] listens on such a socket, records every message with the moment it arrived, and
//! answers questions about them. It is the platform's side, not a stand-in for our code. It
//! records on a thread of its own, so that it serves synchronous tools as well as async tests
//! (whose waits run off the runtime's threads).

use base64::Engine;
use serde_json::Value;
use std::io::Read;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub const INVOCATION_ID: &str = "x-vercel-internal-invocation-id";
pub const REQUEST_ID: &str = "x-vercel-internal-request-id";

/// One request's ids, as Vercel sends them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Context {
    pub invocation_id: String,
    pub request_id: u64,
}

impl Context {
    pub fn new(n: u64) -> Context {
        Context {
            invocation_id: format!("inv-{n}"),
            request_id: n,
        }
    }

    /// The headers that carry these ids to the function.
    pub fn headers(&self) -> [(&'static str, String); 2] {
        [
            (INVOCATION_ID, self.invocation_id.clone()),
            (REQUEST_ID, self.request_id.to_string()),
        ]
    }

    fn of(payload: &Value) -> Option<Context> {
        let context = &payload["context"];
        Some(Context {
            invocation_id: context["invocationId"].as_str()?.to_string(),
            request_id: context["requestId"].as_u64()?,
        })
    }
}

/// The lines of `logs` attributed to `context`, in order.
pub fn logs_of<'a>(logs: &'a [LogLine], context: &Context) -> Vec<&'a LogLine> {
    logs.iter()
        .filter(|line| line.context.as_ref() == Some(context))
        .collect()
}

/// A message from the runtime and when it arrived.
#[derive(Debug, Clone)]
pub struct Message {
    pub at: Instant,
    pub json: Value,
}

impl Message {
    pub fn kind(&self) -> &str {
        self.json["type"].as_str().unwrap_or_default()
    }

    /// The request it is about, if any.
    pub fn context(&self) -> Option<Context> {
        Context::of(&self.json["payload"])
    }

    /// The text of a `log` message, decoded; `None` for any other message.
    pub fn log(&self) -> Option<LogLine> {
        if self.kind() != "log" {
            return None;
        }
        let payload = &self.json["payload"];
        let base64 = payload["message"].as_str().expect("a log has a message");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(base64)
            .expect("a log message is base64");
        Some(LogLine {
            at: self.at,
            context: Context::of(payload),
            level: payload["level"]
                .as_str()
                .or(payload["stream"].as_str())
                .unwrap_or_default()
                .to_string(),
            text: String::from_utf8(bytes).expect("a log message is UTF-8"),
        })
    }
}

/// A `log` message, decoded.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: Instant,
    pub context: Option<Context>,
    pub level: String,
    pub text: String,
}

/// What the socket received so far.
#[derive(Debug, Default)]
pub struct Received {
    pub messages: Vec<Message>,
    /// When the runtime closed its end (the process exited).
    pub closed: Option<Instant>,
    /// Bytes after the last NUL at close: a message cut off, which must never happen.
    pub cut_off: Vec<u8>,
}

impl Received {
    /// The `end` message of each request, in order of arrival.
    pub fn ends(&self) -> Vec<(Context, Instant)> {
        self.messages
            .iter()
            .filter(|m| m.kind() == "end")
            .map(|m| (m.context().expect("an end names its request"), m.at))
            .collect()
    }

    /// The `httpPort` of `server-started`, once it came.
    pub fn http_port(&self) -> Option<u16> {
        let started = self
            .messages
            .iter()
            .find(|m| m.kind() == "server-started")?;
        let port = &started.json["payload"]["httpPort"];
        Some(
            port.as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or_else(|| panic!("no httpPort in {}", started.json)),
        )
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Received>,
    /// Notified on every message and at close.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Received> {
        self.received.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct Ipc {
    pub path: PathBuf,
    shared: Arc<Shared>,
}

impl Ipc {
    /// Listens on `dir/vercel-ipc.sock` and records what the one connecting runtime sends.
    pub fn listen(dir: &Path) -> Ipc {
        let path = dir.join("vercel-ipc.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).expect("bind the IPC socket");
        let shared = Arc::new(Shared::default());
        let recording = shared.clone();
        std::thread::spawn(move || record(&listener, &recording));
        Ipc { path, shared }
    }

    /// What arrived so far.
    pub fn received(&self) -> MutexGuard<'_, Received> {
        self.shared.lock()
    }

    pub fn messages(&self) -> Vec<Message> {
        self.received().messages.clone()
    }

    /// The `end` message of each request, in order of arrival.
    pub fn ends(&self) -> Vec<(Context, Instant)> {
        self.received().ends()
    }

    /// Every `log` message, decoded.
    pub fn logs(&self) -> Vec<LogLine> {
        self.received()
            .messages
            .iter()
            .filter_map(Message::log)
            .collect()
    }

    /// Blocks until `check` finds what it wants in what arrived; `None` after `within`.
    pub fn try_wait<T>(
        &self,
        within: Duration,
        check: impl Fn(&Received) -> Option<T>,
    ) -> Option<T> {
        wait(&self.shared, within, check)
    }

    /// Waits for `server-started` and returns its `httpPort`.
    #[cfg(feature = "tokio")]
    pub async fn server_started(&self, within: Duration) -> u16 {
        self.wait_for(within, "server-started", Received::http_port)
            .await
    }

    /// Waits until `count` requests have ended.
    #[cfg(feature = "tokio")]
    pub async fn wait_for_ends(&self, count: usize, within: Duration) -> Vec<(Context, Instant)> {
        self.wait_for(within, &format!("{count} end messages"), move |r| {
            let ends = r.ends();
            (ends.len() >= count).then_some(ends)
        })
        .await
    }

    /// Waits until the runtime has closed the socket, and checks no message was cut off.
    #[cfg(feature = "tokio")]
    pub async fn wait_closed(&self, within: Duration) -> Instant {
        let closed = self
            .wait_for(within, "the IPC socket to close", |r| r.closed)
            .await;
        let received = self.received();
        assert!(
            received.cut_off.is_empty(),
            "a message was cut off: {:?}",
            String::from_utf8_lossy(&received.cut_off)
        );
        closed
    }

    /// Waits off the runtime's threads until `check` finds what it wants; panics naming `what`
    /// and the last messages after `within`.
    #[cfg(feature = "tokio")]
    pub async fn wait_for<T: Send + 'static>(
        &self,
        within: Duration,
        what: &str,
        check: impl Fn(&Received) -> Option<T> + Send + 'static,
    ) -> T {
        let shared = self.shared.clone();
        let found = tokio::task::spawn_blocking(move || wait(&shared, within, check))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        found.unwrap_or_else(|| {
            let messages = self.messages();
            let last = &messages[messages.len().saturating_sub(10)..];
            panic!(
                "timed out after {within:?} waiting for {what}; got {} messages, the last: {last:#?}",
                messages.len()
            )
        })
    }
}

fn wait<T>(shared: &Shared, within: Duration, check: impl Fn(&Received) -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    let mut received = shared.lock();
    loop {
        if let Some(found) = check(&received) {
            return Some(found);
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        received = shared
            .changed
            .wait_timeout(received, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Accepts the one runtime and records its NUL-terminated messages until it closes.
fn record(listener: &UnixListener, shared: &Shared) {
    let Ok((mut stream, _)) = listener.accept() else {
        return;
    };
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        let at = Instant::now();
        buffer.extend_from_slice(&chunk[..n]);
        let mut arrived = Vec::new();
        while let Some(end) = buffer.iter().position(|b| *b == 0) {
            let raw: Vec<u8> = buffer.drain(..=end).collect();
            let json = serde_json::from_slice(&raw[..end])
                .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&raw)));
            arrived.push(Message { at, json });
        }
        shared.lock().messages.extend(arrived);
        shared.changed.notify_all();
    }
    let mut received = shared.lock();
    received.cut_off = buffer;
    received.closed = Some(Instant::now());
    drop(received);
    shared.changed.notify_all();
}
