//! Records in Upstash Redis: `LPUSH` + `LTRIM` in one pipeline call, `LRANGE` to read.
//!
//! - A write is retried only when storage was unavailable (see [`RetryPolicy`]); a refusal
//!   (bad token, command error such as `WRONGTYPE`) is final at once.
//! - Every reply element is checked: a command error inside an HTTP 200 is a failure.
//! - Reads carry the read-only token, writes the write token.
//! - Stored entries that are not valid records are skipped and counted, never an error.

use super::{KEEP, KEY, Recent, StoreError, WriteFailure};
use crate::config::UpstashSettings;
use crate::record::RequestRecord;
use crate::upstash::reply::Reply;
use crate::upstash::retry::RetryPolicy;
use crate::upstash::{Token, Upstash};
use serde_json::{Value, json};
use std::time::Instant;

pub struct UpstashStore {
    client: Upstash,
    policy: RetryPolicy,
}

impl UpstashStore {
    pub fn new(settings: UpstashSettings, policy: RetryPolicy) -> Self {
        Self {
            client: Upstash::new(settings),
            policy,
        }
    }

    /// Stores `batch` (oldest first, so the newest ends up first) in one pipeline call:
    /// `LPUSH key r1 … rN` + `LTRIM key 0 9`. `Ok(attempts)` once stored.
    pub async fn push_batch(&self, batch: &[RequestRecord]) -> Result<u32, WriteFailure> {
        let mut lpush = vec![json!("LPUSH"), json!(KEY)];
        lpush.extend(batch.iter().map(|record| json!(record.to_json())));
        let last = (KEEP - 1).to_string();
        let commands = [Value::Array(lpush), json!(["LTRIM", KEY, "0", last])];
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match self.client.pipeline(Token::Write, &commands).await {
                Ok(replies) => match first_error(&replies) {
                    None => return Ok(attempts),
                    Some(message) => {
                        StoreError::Rejected(format!("storage command failed: {message}"))
                    }
                },
                Err(error) => error,
            };
            let retry_in = match error {
                StoreError::Unavailable(_) => self.policy.delay_after(attempts, started.elapsed()),
                _ => None,
            };
            match retry_in {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(WriteFailure { attempts, error }),
            }
        }
    }

    /// The newest records, read once (a reader is waiting; it can fire again).
    pub async fn recent(&self) -> Result<Recent, StoreError> {
        let last = (KEEP - 1).to_string();
        let reply = self
            .client
            .command(Token::Read, &["LRANGE", KEY, "0", &last])
            .await?;
        match reply {
            Reply::Result(Value::Array(entries)) => Ok(parse_entries(&entries)),
            Reply::Result(_) => Err(StoreError::Rejected(
                "storage sent a malformed reply".into(),
            )),
            Reply::Error(message) => Err(StoreError::Rejected(format!(
                "storage command failed: {message}"
            ))),
        }
    }
}

fn first_error(replies: &[Reply]) -> Option<&str> {
    replies.iter().find_map(|reply| match reply {
        Reply::Error(message) => Some(message.as_str()),
        Reply::Result(_) => None,
    })
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
mod tests {
    use super::*;

    #[test]
    fn invalid_entries_are_skipped_and_counted() {
        let good = RequestRecord::from_parts("GET", &http::HeaderMap::new());
        let entries = [
            json!(good.to_json()),
            json!("not json"),
            json!(42),
            json!({"id": "an object, not a string"}),
            json!(r#"{"id":"x","timestamp":1,"method":"GET","userAgent":"","evil":true}"#),
        ];
        let recent = parse_entries(&entries);
        assert_eq!(recent.records, [good]);
        assert_eq!(recent.skipped, 4);
    }

    #[test]
    fn an_error_anywhere_in_a_pipeline_is_found() {
        let replies = [Reply::Result(json!(1)), Reply::Error("WRONGTYPE".into())];
        assert_eq!(first_error(&replies), Some("WRONGTYPE"));
        assert_eq!(first_error(&replies[..1]), None);
    }
}
