//! A small client for the Upstash Redis REST API over one shared HTTP client.
//!
//! - One process-wide `reqwest` client (rustls with ring, no OpenSSL), made on first use and
//!   reused by every call, so connections to Upstash are kept alive across requests.
//! - Connect timeout 2 s, whole-request timeout 3 s, replies capped at 1 MiB.
//! - Errors say what happened in a few words; they never carry the token, the URL or the
//!   transport's own message. Transient failures (unreachable, timeout, 429, 5xx) are
//!   [`StoreError::Unavailable`]; refusals (401/403, other 4xx, command errors, malformed
//!   replies) are [`StoreError::Rejected`].

pub mod reply;
pub mod retry;

use crate::config::UpstashSettings;
use crate::store::StoreError;
use once_cell::sync::Lazy;
use reply::Reply;
use serde_json::Value;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
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
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .ok()
});

/// Which token a call carries: reads use the read-only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    Write,
    Read,
}

pub struct Upstash {
    settings: UpstashSettings,
}

impl Upstash {
    pub fn new(settings: UpstashSettings) -> Self {
        Self { settings }
    }

    /// `POST /` with one command, e.g. `["LRANGE", "requests:recent", "0", "9"]`.
    pub async fn command(&self, token: Token, command: &[&str]) -> Result<Reply, StoreError> {
        let body = serde_json::to_vec(command).unwrap_or_default();
        let reply = self.post("/", token, body).await?;
        reply::single(&reply).map_err(|_| malformed())
    }

    /// `POST /pipeline`: one reply per command, each to be checked by the caller.
    pub async fn pipeline(
        &self,
        token: Token,
        commands: &[Value],
    ) -> Result<Vec<Reply>, StoreError> {
        let body = serde_json::to_vec(commands).unwrap_or_default();
        let reply = self.post("/pipeline", token, body).await?;
        reply::pipeline(&reply, commands.len()).map_err(|_| malformed())
    }

    async fn post(&self, path: &str, token: Token, body: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let client = HTTP
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("the HTTP client could not start".into()))?;
        let token = match token {
            Token::Write => &self.settings.write_token,
            Token::Read => &self.settings.read_token,
        };
        let mut response = client
            .post(format!("{}{path}", self.settings.url))
            .bearer_auth(token)
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
        Err(match code {
            401 | 403 => StoreError::Rejected(format!("storage refused the token (HTTP {code})")),
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
