//! Where records go: the ten newest, newest first, under one key.
//!
//! A [`Store`] is a backend (an enum, not a trait object: the set is closed, dispatch stays
//! static and futures stay `Send` without boxing) behind one [`WriteQueue`] that coalesces and
//! bounds background writes. Every backend keeps the same promises:
//! - a batch is merged by one rule ([`merge`]): afterwards the list holds the [`KEEP`] newest
//!   distinct records by id, newest first, whatever order batches, retries, instances and
//!   replays arrive in, so writing a batch again changes nothing;
//! - `recent` returns at most [`KEEP`] records, newest first, skipping (and counting) entries
//!   that are not valid records instead of failing;
//! - errors are values ([`StoreError`]) that carry no secrets.

pub mod choice;
mod memory;
pub mod merge;
mod queue;
pub mod upstash;

pub use choice::{Choice, StoreChoice};
pub use memory::MemoryStore;
pub use queue::{Limits, WriteQueue};
pub use upstash::{UpstashSettings, UpstashStore};

use crate::record::RequestRecord;
use upstash::retry::RetryPolicy;

/// The Redis list that holds the records.
pub const KEY: &str = "requests:recent";
/// How many records are kept.
pub const KEEP: usize = 10;

pub struct Store {
    backend: Backend,
    writes: WriteQueue,
}

// One per process: the size of the largest variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Backend {
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
    /// This instance had more writes waiting than it may hold (the queue was full, or a record
    /// waited too long for its turn); storage itself was never asked.
    Overloaded(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NotConfigured(m)
            | StoreError::Unavailable(m)
            | StoreError::Rejected(m)
            | StoreError::Overloaded(m) => f.write_str(m),
        }
    }
}

/// What a merge did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    /// Calls made, retries included.
    pub attempts: u32,
    /// Records now in the list that were not in it before.
    pub added: usize,
    /// Records that were in it already: written before by an earlier attempt whose answer was
    /// lost, another instance, or a replay.
    pub already: usize,
    /// The rest: older than every record kept (or given twice).
    pub older: usize,
}

/// How a write ended, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFailure {
    pub attempts: u32,
    pub error: StoreError,
}

impl Store {
    pub fn new(backend: Backend, limits: Limits) -> Self {
        Self {
            backend,
            writes: WriteQueue::new(limits),
        }
    }

    pub fn from_choice(choice: StoreChoice) -> Self {
        let backend = match choice {
            StoreChoice::Memory => Backend::Memory(MemoryStore::default()),
            StoreChoice::Upstash(settings) => {
                Backend::Upstash(UpstashStore::new(settings, RetryPolicy::default()))
            }
            StoreChoice::Unconfigured(message) => Backend::Unconfigured(message),
        };
        Self::new(backend, Limits::default())
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// `memory` or `upstash`: what responses report as `storage`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Upstash(_) | Backend::Unconfigured(_) => "upstash",
        }
    }

    /// Merges `record` in, together with whatever else is waiting; settles with this record's
    /// own outcome: on success, the attempts its batch took.
    pub async fn push(&self, record: &RequestRecord) -> Result<u32, WriteFailure> {
        self.writes
            .submit(record.clone(), |batch| self.write_batch(batch))
            .await
    }

    async fn write_batch(&self, batch: Vec<RequestRecord>) -> Result<u32, WriteFailure> {
        match &self.backend {
            Backend::Memory(store) => {
                store.merge(batch);
                Ok(1)
            }
            Backend::Upstash(store) => store.merge(&batch).await.map(|merged| merged.attempts),
            Backend::Unconfigured(message) => Err(WriteFailure {
                attempts: 0,
                error: StoreError::NotConfigured(message.clone()),
            }),
        }
    }

    pub async fn recent(&self) -> Result<Recent, StoreError> {
        match &self.backend {
            Backend::Memory(store) => Ok(Recent {
                records: store.recent(),
                skipped: 0,
            }),
            Backend::Upstash(store) => store.recent().await,
            Backend::Unconfigured(message) => Err(StoreError::NotConfigured(message.clone())),
        }
    }
}
