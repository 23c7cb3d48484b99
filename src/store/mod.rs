//! Where records go: the ten newest, newest first, under one key.
//!
//! One enum instead of a trait object: the set of backends is closed, dispatch stays static and
//! the futures stay `Send` without boxing. Every backend keeps the same promises:
//! - `push` stores a record as the newest and keeps only the [`KEEP`] newest.
//! - `recent` returns at most [`KEEP`] records, newest first, skipping (and counting) entries that
//!   are not valid records instead of failing.
//! - Errors are values ([`StoreError`]) that carry no secrets.

mod memory;
mod upstash;

pub use memory::MemoryStore;
pub use upstash::UpstashStore;

use crate::config::StoreChoice;
use crate::record::RequestRecord;
use crate::upstash::retry::RetryPolicy;

/// The Redis list that holds the records.
pub const KEY: &str = "requests:recent";
/// How many records are kept.
pub const KEEP: usize = 10;

pub enum Store {
    Memory(MemoryStore),
    Upstash(UpstashStore),
    /// Upstash was wanted but is not configured: reads fail with this message, writes fail and
    /// leave a replayable failure line.
    Unconfigured(String),
}

/// What a read returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recent {
    pub records: Vec<RequestRecord>,
    /// Entries that were not valid records.
    pub skipped: usize,
}

/// Why storage did not do what was asked. Messages are short and carry no secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// No usable settings.
    NotConfigured(String),
    /// Storage could not be reached, timed out or answered 5xx / 429: worth a retry.
    Unavailable(String),
    /// Storage answered, but refused (a command error, 4xx) or said something we cannot read.
    Rejected(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NotConfigured(m) | StoreError::Unavailable(m) | StoreError::Rejected(m) => {
                f.write_str(m)
            }
        }
    }
}

/// How a write ended, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFailure {
    pub attempts: u32,
    pub error: StoreError,
}

impl Store {
    pub fn from_choice(choice: &StoreChoice) -> Self {
        match choice {
            StoreChoice::Memory => Store::Memory(MemoryStore::default()),
            StoreChoice::Upstash(settings) => {
                Store::Upstash(UpstashStore::new(settings.clone(), RetryPolicy::default()))
            }
            StoreChoice::Unconfigured(message) => Store::Unconfigured(message.clone()),
        }
    }

    /// `memory` or `upstash`: what responses report as `storage`.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            Store::Upstash(_) | Store::Unconfigured(_) => "upstash",
        }
    }

    /// Stores `record` as the newest; on success, how many attempts it took.
    pub async fn push(&self, record: &RequestRecord) -> Result<u32, WriteFailure> {
        match self {
            Store::Memory(store) => {
                store.push(record.clone());
                Ok(1)
            }
            Store::Upstash(store) => store.push(record).await,
            Store::Unconfigured(message) => Err(WriteFailure {
                attempts: 0,
                error: StoreError::NotConfigured(message.clone()),
            }),
        }
    }

    pub async fn recent(&self) -> Result<Recent, StoreError> {
        match self {
            Store::Memory(store) => Ok(Recent {
                records: store.recent(),
                skipped: 0,
            }),
            Store::Upstash(store) => store.recent().await,
            Store::Unconfigured(message) => Err(StoreError::NotConfigured(message.clone())),
        }
    }
}
