//! Records in Upstash Redis over its REST API, in one sorted set ([`super::newest`]): a write
//! is one pipeline of two commands, `ZADD` of the batch's ten newest and `ZREMRANGEBYRANK key 0
//! -11`; a read is one `ZRANGE key 0 9 REV`. No script: Upstash bills every command a script
//! runs and takes the database's lock for it, and a sorted set needs neither.
//!
//! - One process-wide `reqwest` client (rustls with ring, no OpenSSL), made on first use and
//!   reused by every call, so connections to Upstash are kept alive across requests. Connect
//!   timeout 2 s, whole-request timeout 3 s, replies capped at 1 MiB.
//! - Every reply element is checked ([`reply`]): a command error inside an HTTP 200 is a failure.
//! - One call per write; the app's writer (`after_response`) retries it when storage was
//!   unavailable ([`StoreError::Unavailable`]), and a refusal (bad token, command error) is
//!   final at once. Retrying is safe: a record is always the same member, so a call that
//!   storage applied but did not acknowledge (a 5xx after applying, an answer after the
//!   timeout, a dropped connection) adds nothing when it is made again.
//! - A key that holds another type (the list of older versions, another app's value) is a
//!   refusal that names the key and what to do, on writes and reads alike.
//! - Reads carry the read-only token, writes the write token; a refused token (401/403) is
//!   reported with the variable it came from, so the message says what to fix.
//! - Stored entries that are not valid records are skipped and counted, never an error.
//! - Errors say what happened in a few words; they never carry the token, the URL or the
//!   transport's own message. Transient failures (unreachable, timeout, 429, 5xx) are
//!   [`StoreError::Unavailable`]; refusals (401/403, other 4xx, command errors, malformed
//!   replies) are [`StoreError::Rejected`].

pub mod reply;

use super::newest::newest;
use super::{KEEP, Recent, StoreError, Written};
use crate::record::RequestRecord;
use http::HeaderValue;
use once_cell::sync::Lazy;
use reply::Reply;
use serde_json::{Value, json};
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

/// A token as the header it is sent in. It cannot print itself: `Debug` shows only the variable
/// it came from, and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// `Bearer <token>`, marked sensitive so the HTTP stack never shows it either.
    pub header: HeaderValue,
    /// e.g. `KV_REST_API_TOKEN in .env.local`: what a message tells the user to check.
    pub origin: String,
    token: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<redacted> ({})", self.origin)
    }
}

impl Secret {
    pub(crate) fn new(header: HeaderValue, origin: String, token: &str) -> Self {
        let token = token.into();
        Self {
            header,
            origin,
            token,
        }
    }

    /// `shown`, text about to reach a message, with the token replaced by `<redacted>`. Only
    /// text that is shown: a reply that is parsed is never rewritten.
    pub fn redact(&self, shown: &str) -> String {
        shown.replace(&self.token, "<redacted>")
    }
}

/// Where the database is and the tokens to use, as [`crate::config`] checked them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstashStore {
    /// The REST base URL, without a trailing slash.
    pub url: String,
    pub write: Secret,
    /// The read-only token, or the write token when there is none.
    pub read: Secret,
    /// The sorted set's key: `WAIT_UNTIL_KEY`, else [`super::DEFAULT_KEY`].
    pub key: String,
}

impl UpstashStore {
    /// The sorted set's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Adds `batch` (any order) in one call: afterwards the set holds the [`KEEP`] newest
    /// records, each once. Only the batch's own [`KEEP`] newest are sent: the others could not
    /// stay. Safe to repeat.
    pub async fn add(&self, batch: &[RequestRecord]) -> Result<Written, StoreError> {
        let entries = newest(batch);
        if entries.is_empty() {
            return Ok(Written { sent: 0, added: 0 });
        }
        let key = self.key();
        let mut zadd = vec![json!("ZADD"), json!(key)];
        for entry in &entries {
            zadd.extend([json!(entry.score.to_string()), json!(entry.member)]);
        }
        let cut = format!("-{}", KEEP + 1);
        let body = serde_json::to_vec(&[json!(zadd), json!(["ZREMRANGEBYRANK", key, "0", cut])])
            .unwrap_or_default();
        let reply = self.post("/pipeline", &self.write, body).await?;
        let replies = reply::pipeline(&reply, 2).map_err(|_| malformed())?;
        let [added, cut] = <[Reply; 2]>::try_from(replies).map_err(|_| malformed())?;
        let (added, cut) = (self.result(added)?, self.result(cut)?);
        match (
            added.as_u64().and_then(|n| usize::try_from(n).ok()),
            cut.as_u64(),
        ) {
            (Some(added), Some(_)) if added <= entries.len() => Ok(Written {
                sent: entries.len(),
                added,
            }),
            _ => Err(malformed()),
        }
    }

    /// The newest records, read once (a reader is waiting; it can fire again).
    pub async fn recent(&self) -> Result<Recent, StoreError> {
        let last = (KEEP - 1).to_string();
        let command = ["ZRANGE", self.key(), "0", &last, "REV"];
        let body = serde_json::to_vec(&command).unwrap_or_default();
        let reply = self.post("/", &self.read, body).await?;
        let reply = reply::single(&reply).map_err(|_| malformed())?;
        match self.result(reply)? {
            Value::Array(members) => Ok(Recent::from_members(
                members
                    .iter()
                    .map(|member| member.as_str().unwrap_or_default()),
            )),
            _ => Err(malformed()),
        }
    }

    /// A command's result, or its error as a refusal.
    fn result(&self, reply: Reply) -> Result<Value, StoreError> {
        match reply {
            Reply::Result(result) => Ok(result),
            Reply::Error(message) => Err(self.command_failed(&message)),
        }
    }

    /// Storage's words for a failed command; a key of another type says which and what to do.
    /// The only place storage's own text enters a message, so the tokens are taken out here: a
    /// server that echoes one must not leak it to logs and answers.
    fn command_failed(&self, message: &str) -> StoreError {
        StoreError::Rejected(if message.contains("WRONGTYPE") {
            format!(
                "storage key `{}` holds another type of value, not this app's sorted set (the \
                 list of an older version, or another app's): delete that key, or set \
                 WAIT_UNTIL_KEY to another name",
                self.key()
            )
        } else {
            let message = reply::shown(&self.read.redact(&self.write.redact(message)));
            format!("storage command failed: {message}")
        })
    }

    /// One REST call with `credential` (reads carry the read-only token): the body of a 2xx
    /// answer, or what went wrong in a few words.
    async fn post(
        &self,
        path: &str,
        credential: &Secret,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        let client = HTTP
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("the HTTP client could not start".into()))?;
        let mut response = client
            .post(format!("{}{path}", self.url))
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
        if status.is_success() {
            return Ok(bytes);
        }
        let code = status.as_u16();
        let message = reply::error_message(&bytes);
        // Upstash answers a failed single command with a 4xx, the npm emulator with a 500: a
        // key of another type is a refusal either way, never worth a retry.
        if let Some(message) = message.as_deref().filter(|m| m.contains("WRONGTYPE")) {
            return Err(self.command_failed(message));
        }
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
            _ => match message {
                Some(message) => self.command_failed(&message),
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

#[cfg(test)]
mod tests;
