//! Vercel's side of the runtime's production protocol, played against the real binary.
//!
//! On Vercel, `vercel_runtime` connects to the Unix socket named by `VERCEL_IPC_PATH` and sends
//! NUL-terminated JSON messages: `server-started` (with the `httpPort` to send requests to)
//! once it listens, a `log` message per line logged through a request's `log_context` (text in
//! base64, attributed by `invocationId` and `requestId`), and an `end` per request once that
//! request's `wait_until` work has settled. Requests carry those ids in the headers
//! `x-vercel-internal-invocation-id` and `x-vercel-internal-request-id`.
//!
//! This listens on such a socket, records every message with the moment it arrived, and
//! answers questions about them. It is the platform's side, not a stand-in for our code.

use base64::Engine;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::UnixListener;

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

    pub fn context(&self) -> Option<Context> {
        Context::of(&self.json["payload"])
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

pub struct Ipc {
    pub path: PathBuf,
    messages: Arc<Mutex<Vec<Message>>>,
    /// Set when the runtime closed its end (the process exited).
    closed: Arc<Mutex<Option<Instant>>>,
    /// Bytes after the last NUL at close: a message cut off, which must never happen.
    leftover: Arc<Mutex<Vec<u8>>>,
}

impl Ipc {
    /// Listens on `dir/ipc.sock` and records what the one connecting runtime sends.
    pub fn listen(dir: &std::path::Path) -> Ipc {
        let path = dir.join("ipc.sock");
        let listener = UnixListener::bind(&path).expect("bind the IPC socket");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(Mutex::new(None));
        let leftover = Arc::new(Mutex::new(Vec::new()));
        let (sink, done, rest) = (messages.clone(), closed.clone(), leftover.clone());
        tokio::spawn(async move {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buffer = Vec::new();
            let mut chunk = [0u8; 64 * 1024];
            while let Ok(n) = stream.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                let at = Instant::now();
                buffer.extend_from_slice(&chunk[..n]);
                while let Some(end) = buffer.iter().position(|b| *b == 0) {
                    let raw: Vec<u8> = buffer.drain(..=end).collect();
                    let json = serde_json::from_slice(&raw[..end]).unwrap_or_else(|_| {
                        panic!("not JSON: {:?}", String::from_utf8_lossy(&raw))
                    });
                    sink.lock().unwrap().push(Message { at, json });
                }
            }
            *rest.lock().unwrap() = buffer;
            *done.lock().unwrap() = Some(Instant::now());
        });
        Ipc {
            path,
            messages,
            closed,
            leftover,
        }
    }

    pub fn messages(&self) -> Vec<Message> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits for `server-started` and returns its `httpPort`.
    pub async fn server_started(&self, within: Duration) -> u16 {
        let started = self
            .wait_for(within, "server-started", |messages| {
                messages
                    .iter()
                    .find(|m| m.kind() == "server-started")
                    .cloned()
            })
            .await;
        let port = &started.json["payload"]["httpPort"];
        port.as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("no httpPort in {}", started.json))
    }

    /// The `end` message of each request, in order of arrival.
    pub fn ends(&self) -> Vec<(Context, Instant)> {
        self.messages()
            .iter()
            .filter(|m| m.kind() == "end")
            .map(|m| (m.context().expect("an end names its request"), m.at))
            .collect()
    }

    /// Waits until `count` requests have ended.
    pub async fn wait_for_ends(&self, count: usize, within: Duration) -> Vec<(Context, Instant)> {
        self.wait_for(within, &format!("{count} end messages"), |_| {
            let ends = self.ends();
            (ends.len() >= count).then_some(ends)
        })
        .await
    }

    /// Every `log` message, decoded.
    pub fn logs(&self) -> Vec<LogLine> {
        self.messages()
            .iter()
            .filter(|m| m.kind() == "log")
            .map(|m| {
                let payload = &m.json["payload"];
                let base64 = payload["message"].as_str().expect("a log has a message");
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(base64)
                    .expect("a log message is base64");
                LogLine {
                    at: m.at,
                    context: Context::of(payload),
                    level: payload["level"]
                        .as_str()
                        .or(payload["stream"].as_str())
                        .unwrap_or_default()
                        .to_string(),
                    text: String::from_utf8(bytes).expect("a log message is UTF-8"),
                }
            })
            .collect()
    }

    /// Waits until the runtime has closed the socket, and checks no message was cut off.
    pub async fn wait_closed(&self, within: Duration) -> Instant {
        let closed = self
            .wait_for(within, "the IPC socket to close", |_| {
                *self.closed.lock().unwrap()
            })
            .await;
        let leftover = self.leftover.lock().unwrap();
        assert!(
            leftover.is_empty(),
            "a message was cut off: {:?}",
            String::from_utf8_lossy(&leftover)
        );
        closed
    }

    async fn wait_for<T>(
        &self,
        within: Duration,
        what: &str,
        check: impl Fn(&[Message]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = check(&self.messages()) {
                return found;
            }
            if Instant::now() >= deadline {
                let messages = self.messages();
                let last = &messages[messages.len().saturating_sub(10)..];
                panic!(
                    "timed out after {within:?} waiting for {what}; got {} messages, the last: {last:#?}",
                    messages.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
