//! Records in Upstash Redis over its REST API: one Lua script call to write ([`script`]: merge
//! the batch so the list holds the ten newest distinct records by id), `LRANGE` to read.
//!
//! - One process-wide `reqwest` client (rustls with ring, no OpenSSL), made on first use and
//!   reused by every call, so connections to Upstash are kept alive across requests. Connect
//!   timeout 2 s, whole-request timeout 3 s (a write's attempt, however many calls it makes,
//!   too), replies capped at 1 MiB.
//! - Every reply element is checked ([`reply`]): a command error inside an HTTP 200 is a failure.
//! - A write is retried only when storage was unavailable ([`retry`]); a refusal (bad token,
//!   command error such as `WRONGTYPE`) is final at once. Retrying is safe: the merge is
//!   idempotent, so a call that storage applied but did not acknowledge (a 5xx after applying,
//!   an answer after the timeout, a dropped connection) changes nothing when it is made again.
//! - Reads carry the read-only token, writes the write token; a refused token (401/403) is
//!   reported with the variable it came from, so the message says what to fix.
//! - Stored entries that are not valid records are skipped and counted, never an error.
//! - Errors say what happened in a few words; they never carry the token, the URL or the
//!   transport's own message. Transient failures (unreachable, timeout, 429, 5xx) are
//!   [`StoreError::Unavailable`]; refusals (401/403, other 4xx, command errors, malformed
//!   replies) are [`StoreError::Rejected`].

pub mod reply;
pub mod retry;
pub mod script;
pub mod settings;

use super::merge::newest_distinct;
use super::{KEEP, KEY, Merged, Recent, StoreError, WriteFailure};
use crate::record::RequestRecord;
use once_cell::sync::Lazy;
use reply::Reply;
use retry::RetryPolicy;
use serde_json::Value;
pub use settings::{Credential, UpstashSettings};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The bound of one attempt: connecting, sending and reading the whole reply.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_REPLY_BYTES: usize = 1 << 20;

/// Built once per process. Building can only fail if TLS cannot start; then every call reports
/// storage as unavailable instead of panicking.
static HTTP: Lazy<Option<reqwest::Client>> = Lazy::new(|| {
    // reqwest is built without a crypto provider (see Cargo.toml); ring is ours. `Err` means one
    // is already installed, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        // Upstash never redirects: a wrong URL must fail loudly, not write somewhere else.
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .ok()
});

/// Which token a call carries: reads use the read-only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Write,
    Read,
}

pub struct UpstashStore {
    settings: UpstashSettings,
    policy: RetryPolicy,
}

impl UpstashStore {
    pub fn new(settings: UpstashSettings, policy: RetryPolicy) -> Self {
        Self { settings, policy }
    }

    /// Merges `batch` (any order) into the list in one call: afterwards it holds the [`KEEP`]
    /// newest distinct records by id. Only the batch's own [`KEEP`] newest are sent: the others
    /// could not be kept. Retried as the policy says; safe to repeat.
    pub async fn merge(&self, batch: &[RequestRecord]) -> Result<Merged, WriteFailure> {
        // Written as JSON once, whatever the number of attempts and calls.
        let newest: Vec<String> = newest_distinct([], batch)
            .into_iter()
            .map(RequestRecord::to_json)
            .collect();
        let attempt = || async {
            // One attempt may be two calls (`NOSCRIPT`, then the text): the bound is on both,
            // so that a write still ends within `RetryPolicy::longest_write(REQUEST_TIMEOUT)`.
            tokio::time::timeout(REQUEST_TIMEOUT, self.run_script(&newest))
                .await
                .unwrap_or_else(|_| Err(StoreError::Unavailable("storage timed out".into())))
        };
        let ((added, already), attempts) = self.policy.run(attempt).await?;
        Ok(Merged {
            attempts,
            added,
            already,
            older: batch.len() - added - already,
        })
    }

    /// One attempt with `records` (their JSON): `EVALSHA`, and `EVAL` with the script's text
    /// if storage does not have it.
    async fn run_script(&self, records: &[String]) -> Result<(usize, usize), StoreError> {
        let reply = match self.script(script::Call::Cached, records).await? {
            Reply::Error(message) if script::is_missing(&message) => {
                self.script(script::Call::Text, records).await?
            }
            reply => reply,
        };
        match reply {
            Reply::Result(result) => script::counts(&result, records.len()).ok_or_else(malformed),
            Reply::Error(message) => Err(StoreError::Rejected(format!(
                "storage command failed: {message}"
            ))),
        }
    }

    /// The script call as a one-command pipeline: Upstash (and the emulator) answer a failed
    /// command there inside an HTTP 200, so `NOSCRIPT` reads as a reply, not as a 4xx or 5xx.
    async fn script(&self, call: script::Call, records: &[String]) -> Result<Reply, StoreError> {
        let commands = [script::command(call, records)];
        let mut replies = self.pipeline(Token::Write, &commands).await?;
        replies.pop().ok_or_else(malformed)
    }

    /// The newest records, read once (a reader is waiting; it can fire again).
    pub async fn recent(&self) -> Result<Recent, StoreError> {
        let last = (KEEP - 1).to_string();
        let command = ["LRANGE", KEY, "0", &last];
        let body = serde_json::to_vec(&command).unwrap_or_default();
        let reply = self.post("/", Token::Read, body).await?;
        match reply::single(&reply).map_err(|_| malformed())? {
            Reply::Result(Value::Array(entries)) => Ok(parse_entries(&entries)),
            Reply::Result(_) => Err(malformed()),
            Reply::Error(message) => Err(StoreError::Rejected(format!(
                "storage command failed: {message}"
            ))),
        }
    }

    /// `POST /pipeline`: one reply per command, each to be checked by the caller.
    async fn pipeline(&self, token: Token, commands: &[Value]) -> Result<Vec<Reply>, StoreError> {
        let body = serde_json::to_vec(commands).unwrap_or_default();
        let reply = self.post("/pipeline", token, body).await?;
        reply::pipeline(&reply, commands.len()).map_err(|_| malformed())
    }

    /// One REST call: the body of a 2xx answer, or what went wrong in a few words.
    async fn post(&self, path: &str, token: Token, body: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let client = HTTP
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("the HTTP client could not start".into()))?;
        let credential = match token {
            Token::Write => &self.settings.write,
            Token::Read => &self.settings.read,
        };
        let mut response = client
            .post(format!("{}{path}", self.settings.url))
            .header(http::header::AUTHORIZATION, credential.header.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if bytes.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(StoreError::Rejected(
                    "storage sent a reply that is too large".into(),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        let bytes = self.settings.read.scrub(self.settings.write.scrub(bytes));
        if status.is_success() {
            return Ok(bytes);
        }
        let code = status.as_u16();
        Err(match code {
            // Not worth a retry: the same token will be refused again. Say which one to check.
            401 | 403 => StoreError::Rejected(format!(
                "storage refused the token (HTTP {code}): check {}",
                credential.origin
            )),
            300..=399 => StoreError::Rejected(format!(
                "storage answered a redirect (HTTP {code}): the URL is not the database's REST URL"
            )),
            429 | 500..=599 => StoreError::Unavailable(format!("storage answered HTTP {code}")),
            _ => match reply::error_message(&bytes) {
                Some(message) => StoreError::Rejected(format!("storage command failed: {message}")),
                None => StoreError::Rejected(format!("storage answered HTTP {code}")),
            },
        })
    }
}

fn transport_error(error: reqwest::Error) -> StoreError {
    StoreError::Unavailable(
        if error.is_timeout() {
            "storage timed out"
        } else if error.is_connect() {
            "could not connect to storage"
        } else {
            "the request to storage failed"
        }
        .into(),
    )
}

fn malformed() -> StoreError {
    StoreError::Rejected("storage sent a malformed reply".into())
}

/// Valid records in order; everything else counted as skipped.
fn parse_entries(entries: &[Value]) -> Recent {
    let mut recent = Recent::default();
    for entry in entries.iter().take(KEEP) {
        match entry.as_str().and_then(RequestRecord::from_stored) {
            Some(record) => recent.records.push(record),
            None => recent.skipped += 1,
        }
    }
    recent
}

#[cfg(test)]
mod tests;
