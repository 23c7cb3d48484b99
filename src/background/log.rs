//! Where the lines about one request's background work go.
//!
//! On Vercel the runtime runs in production mode: it talks to the platform over the Unix socket
//! named by `VERCEL_IPC_PATH`, and a line reaches the request's logs, attributed to it, only when
//! it is sent as an IPC `log` message with the request's ids. `AppState::log_context` does that
//! for requests that came with Vercel's internal ids (`x-vercel-internal-invocation-id` and
//! `x-vercel-internal-request-id`). The runtime sends the request's `end` only once its
//! `wait_until` work has settled, so a line sent from that work still lands in its request.
//!
//! Locally (`cargo run`, `vercel dev`) there is no IPC and no ids: `log_context` would print to
//! stdout with a `Level:` prefix, so lines go to stdout (info) and stderr (errors) as they are.
//! Either way a line is the same text, so what reads it (a person, `replay`) needs no mode.

use http::HeaderMap;
use std::sync::OnceLock;
use vercel_runtime::{AppState, LogContext, Request};

/// The two headers by which the runtime attributes a log message to a request.
const INVOCATION_ID: &str = "x-vercel-internal-invocation-id";
const REQUEST_ID: &str = "x-vercel-internal-request-id";

/// The log of one request, cheap to clone into its background work.
#[derive(Clone)]
pub struct RequestLog {
    sink: Sink,
}

#[derive(Clone)]
enum Sink {
    /// The runtime attributes lines to the request (production mode).
    Attributed(LogContext),
    /// stdout for info, stderr for errors.
    Std,
    /// Unit tests read what was written.
    #[cfg(test)]
    Memory(std::sync::Arc<std::sync::Mutex<Vec<String>>>),
}

impl RequestLog {
    /// The log of `req`: attributed when the runtime speaks IPC and `req` carries both ids.
    pub fn of(req: &Request, state: &AppState) -> Self {
        let sink = if runtime_speaks_ipc() && carries_request_ids(req.headers()) {
            Sink::Attributed(state.log_context.clone())
        } else {
            Sink::Std
        };
        Self { sink }
    }

    pub fn info(&self, line: &str) {
        match &self.sink {
            Sink::Attributed(context) => context.info(line),
            Sink::Std => println!("{line}"),
            #[cfg(test)]
            Sink::Memory(lines) => lines.lock().unwrap().push(format!("info {line}")),
        }
    }

    pub fn error(&self, line: &str) {
        match &self.sink {
            Sink::Attributed(context) => context.error(line),
            Sink::Std => eprintln!("{line}"),
            #[cfg(test)]
            Sink::Memory(lines) => lines.lock().unwrap().push(format!("error {line}")),
        }
    }

    /// A log that keeps its lines (`"info …"`, `"error …"`) for a unit test to read.
    #[cfg(test)]
    pub fn in_memory() -> (Self, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        let lines = std::sync::Arc::default();
        let log = Self {
            sink: Sink::Memory(std::sync::Arc::clone(&lines)),
        };
        (log, lines)
    }
}

/// Production mode: the runtime connects to `VERCEL_IPC_PATH` at start-up when it is set.
fn runtime_speaks_ipc() -> bool {
    static IPC: OnceLock<bool> = OnceLock::new();
    *IPC.get_or_init(|| std::env::var_os("VERCEL_IPC_PATH").is_some_and(|path| !path.is_empty()))
}

/// The runtime's own test: the invocation id is text, the request id an unsigned integer.
/// Without both it has no context to attribute a line to (and would print it to stdout).
fn carries_request_ids(headers: &HeaderMap) -> bool {
    let invocation = headers.get(INVOCATION_ID).and_then(|v| v.to_str().ok());
    let request = headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    invocation.is_some() && request.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, http::HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn a_request_is_attributable_only_with_both_ids_as_the_runtime_parses_them() {
        assert!(carries_request_ids(&headers(&[
            (INVOCATION_ID, "inv-1"),
            (REQUEST_ID, "7")
        ])));
        assert!(!carries_request_ids(&headers(&[(INVOCATION_ID, "inv-1")])));
        assert!(!carries_request_ids(&headers(&[(REQUEST_ID, "7")])));
        assert!(!carries_request_ids(&headers(&[
            (INVOCATION_ID, "inv-1"),
            (REQUEST_ID, "not a number")
        ])));
        assert!(!carries_request_ids(&headers(&[
            (INVOCATION_ID, "inv-1"),
            (REQUEST_ID, "-1")
        ])));
        assert!(!carries_request_ids(&HeaderMap::new()));
    }
}
