//! Where the lines about one request's items go, and what they say.
//!
//! On Vercel the runtime runs in production mode: a line reaches the request's logs, attributed
//! to it, only as an IPC `log` message with the request's ids, which `AppState::log_context`
//! sends for requests that came with Vercel's internal ids. The runtime sends the request's
//! `end` only once its `wait_until` work has settled, so a line sent from that work still lands
//! in its request. Locally there is no IPC: lines go to stdout (info) and stderr (errors) as
//! they are. Either way a line is the same text, so what reads it needs no mode.
//!
//! - Success: `[after-response] wrote <label> to <sink> (2 attempts, 131 ms)`.
//! - Failure: one line of JSON, `{"event","sink","count","items","attempts","error"}`, holding
//!   every item it is about, whole, so replay can write them again.

use serde::Serialize;
use std::sync::OnceLock;
use std::time::Duration;
use vercel_runtime::{AppState, LogContext};

/// How a success line starts; the item's label follows.
pub const WROTE: &str = "[after-response] wrote ";

/// The log of one request, cheap to clone into its background work.
#[derive(Clone)]
pub(crate) enum RequestLog {
    /// The runtime attributes lines to the request (production mode).
    Attributed(LogContext),
    /// stdout for info, stderr for errors.
    Std,
    /// Unit tests read what was written.
    #[cfg(test)]
    Memory(std::sync::Arc<std::sync::Mutex<Vec<String>>>),
}

impl RequestLog {
    /// The log of a request with `headers`: attributed when the runtime speaks IPC and the
    /// request carries both ids.
    pub(crate) fn of(headers: &http::HeaderMap, state: &AppState) -> Self {
        Self::choose(runtime_speaks_ipc(), headers, state)
    }

    fn choose(ipc: bool, headers: &http::HeaderMap, state: &AppState) -> Self {
        if ipc && carries_request_ids(headers) {
            RequestLog::Attributed(state.log_context.clone())
        } else {
            RequestLog::Std
        }
    }

    pub(crate) fn info(&self, line: &str) {
        match self {
            RequestLog::Attributed(context) => context.info(line),
            RequestLog::Std => println!("{line}"),
            #[cfg(test)]
            RequestLog::Memory(lines) => lines.lock().unwrap().push(format!("info {line}")),
        }
    }

    pub(crate) fn error(&self, line: &str) {
        match self {
            RequestLog::Attributed(context) => context.error(line),
            RequestLog::Std => eprintln!("{line}"),
            #[cfg(test)]
            RequestLog::Memory(lines) => lines.lock().unwrap().push(format!("error {line}")),
        }
    }
}

#[derive(Serialize)]
struct FailureLine<'a, T> {
    event: &'a str,
    sink: &'a str,
    count: usize,
    items: &'a [T],
    attempts: u32,
    error: &'a str,
}

/// The replayable failure line: one line of JSON (JSON escapes every line break).
pub(crate) fn failure_line<T: Serialize>(
    event: &str,
    sink: &str,
    items: &[T],
    attempts: u32,
    error: &str,
) -> String {
    let line = FailureLine {
        event,
        sink,
        count: items.len(),
        items,
        attempts,
        error,
    };
    // An item that cannot be serialised still leaves a line, saying so, never nothing.
    serde_json::to_string(&line).unwrap_or_else(|cannot| {
        let error = format!("{error}; its items could not be written as JSON: {cannot}");
        serde_json::json!({ "event": event, "sink": sink, "count": items.len(), "error": error })
            .to_string()
    })
}

/// The short line of a written item.
pub(crate) fn success_line(label: &str, sink: &str, attempts: u32, took: Duration) -> String {
    let plural = if attempts == 1 { "" } else { "s" };
    let ms = took.as_millis();
    format!("{WROTE}{label} to {sink} ({attempts} attempt{plural}, {ms} ms)")
}

/// Production mode: the runtime connects to `VERCEL_IPC_PATH` at start-up when it is set.
fn runtime_speaks_ipc() -> bool {
    static IPC: OnceLock<bool> = OnceLock::new();
    *IPC.get_or_init(|| names_a_socket(std::env::var_os("VERCEL_IPC_PATH")))
}

/// The runtime's own reading of `VERCEL_IPC_PATH`: set and not empty.
fn names_a_socket(path: Option<std::ffi::OsString>) -> bool {
    path.is_some_and(|path| !path.is_empty())
}

/// The runtime's own test: the invocation id is text, the request id an unsigned integer.
/// Without both it has no context to attribute a line to (and would print it with a prefix).
fn carries_request_ids(headers: &http::HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    text("x-vercel-internal-invocation-id").is_some()
        && text("x-vercel-internal-request-id").is_some_and(|id| id.parse::<u64>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, http::HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn a_request_is_attributable_only_with_both_ids_as_the_runtime_parses_them() {
        let (inv, req) = (
            "x-vercel-internal-invocation-id",
            "x-vercel-internal-request-id",
        );
        assert!(carries_request_ids(&headers(&[(inv, "inv-1"), (req, "7")])));
        assert!(!carries_request_ids(&headers(&[(inv, "inv-1")])));
        assert!(!carries_request_ids(&headers(&[(req, "7")])));
        assert!(!carries_request_ids(&headers(&[(inv, "i"), (req, "x")])));
        assert!(!carries_request_ids(&headers(&[(inv, "i"), (req, "-1")])));
        assert!(!carries_request_ids(&http::HeaderMap::new()));
    }

    #[test]
    fn lines_are_attributed_only_in_production_mode_to_a_request_with_both_ids() {
        let state = AppState::new(LogContext::new(None, None, None));
        let ids = headers(&[
            ("x-vercel-internal-invocation-id", "inv-1"),
            ("x-vercel-internal-request-id", "7"),
        ]);
        let attributed = |ipc, headers| {
            matches!(
                RequestLog::choose(ipc, headers, &state),
                RequestLog::Attributed(_)
            )
        };
        assert!(attributed(true, &ids));
        assert!(!attributed(false, &ids));
        assert!(!attributed(true, &http::HeaderMap::new()));
        assert!(names_a_socket(Some("/tmp/ipc.sock".into())));
        assert!(!names_a_socket(Some("".into())) && !names_a_socket(None));
        // This test process was not started by Vercel.
        assert!(!runtime_speaks_ipc());
    }

    #[test]
    fn a_failure_line_is_one_line_of_json_holding_every_item_whole() {
        let items = ["line\tone\nbreak", "two"];
        let line = failure_line("ev", "upstash", &items, 3, "storage answered HTTP 503");
        assert!(!line.contains('\n'));
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["event"], "ev");
        assert_eq!(parsed["sink"], "upstash");
        assert_eq!(parsed["count"], 2);
        assert_eq!(parsed["attempts"], 3);
        assert_eq!(parsed["error"], "storage answered HTTP 503");
        assert_eq!(parsed["items"], serde_json::json!(items));
    }

    #[test]
    fn an_item_that_cannot_be_json_still_leaves_a_failure_line_saying_so() {
        let items = [std::collections::HashMap::from([((1, 2), 3)])];
        let line = failure_line("ev", "s", &items, 1, "down");
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (parsed["event"].as_str(), parsed["count"].as_u64()),
            (Some("ev"), Some(1))
        );
        assert!(
            parsed["error"].as_str().unwrap().starts_with("down; "),
            "{line}"
        );
    }

    #[test]
    fn a_success_line_names_the_item_the_sink_and_the_attempts() {
        let one = success_line("id-1", "upstash", 1, Duration::from_millis(12));
        assert_eq!(
            one,
            "[after-response] wrote id-1 to upstash (1 attempt, 12 ms)"
        );
        let three = success_line("id-2", "memory", 3, Duration::from_millis(1500));
        assert_eq!(
            three,
            "[after-response] wrote id-2 to memory (3 attempts, 1500 ms)"
        );
    }
}
