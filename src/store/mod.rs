//! Where records go: the ten newest, newest first, under one key.
//!
//! A [`Store`] is one of the backends (an enum, not a trait object: the set is closed, dispatch
//! stays static and futures stay `Send` without boxing), chosen by [`crate::config`]. It is the
//! app's `after_response` [`Sink`]: one call writes one batch, once; the writer batches, bounds
//! and retries. Every backend keeps the same promises:
//! - a batch is added by one rule ([`newest`]): afterwards the store holds the [`KEEP`] newest
//!   records, each once, newest first, whatever order batches, retries, instances and replays
//!   arrive in, so writing a batch again changes nothing;
//! - `recent` returns at most [`KEEP`] records, newest first, skipping (and counting) entries
//!   that are not valid records instead of failing;
//! - errors are values ([`StoreError`]) that carry no secrets.

pub mod file;
mod memory;
pub mod newest;
pub mod upstash;

pub use file::FileStore;
pub use memory::MemoryStore;
pub use upstash::UpstashStore;

use crate::record::RequestRecord;
use after_response::Sink;
use std::collections::HashSet;

/// The Redis sorted set that holds the records, unless `WAIT_UNTIL_KEY` names another. Not
/// `requests:recent`: that was the list of the versions before the sorted set.
pub const DEFAULT_KEY: &str = "requests:newest";
/// How many records are kept.
pub const KEEP: usize = 10;

// One per process: the size of the largest variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Store {
    Memory(MemoryStore),
    /// For `vercel dev`, whose processes last one request each.
    File(FileStore),
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

impl Recent {
    /// Stored members, newest first, as records: at most [`KEEP`], each id once; everything
    /// else (not a valid record, or an id already read) is skipped and counted.
    pub fn from_members<'a>(members: impl IntoIterator<Item = &'a str>) -> Self {
        let mut recent = Recent::default();
        let mut ids = HashSet::new();
        for member in members.into_iter().take(KEEP) {
            match RequestRecord::from_stored(member) {
                Some(record) if ids.insert(record.id.clone()) => recent.records.push(record),
                _ => recent.skipped += 1,
            }
        }
        recent
    }
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

/// What an Upstash write did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Records sent (the batch's ten newest, each once).
    pub sent: usize,
    /// Of those, the ones storage did not hold before (`ZADD`'s count). The rest were stored
    /// already: by an earlier attempt whose answer was lost, another instance, or a replay.
    /// One older than the ten newest counts here too, and is cut at once.
    pub added: usize,
}

impl Store {
    /// `memory`, `file` or `upstash`: what responses report as `storage`.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            Store::File(_) => "file",
            Store::Upstash(_) | Store::Unconfigured(_) => "upstash",
        }
    }

    pub async fn recent(&self) -> Result<Recent, StoreError> {
        // The local stores hand back their members; Upstash reads and checks its own reply.
        let members = match self {
            Store::Memory(store) => store.newest_first(),
            Store::File(store) => store.newest_first().await?,
            Store::Upstash(store) => return store.recent().await,
            Store::Unconfigured(message) => {
                return Err(StoreError::NotConfigured(message.clone()));
            }
        };
        Ok(Recent::from_members(members.iter().map(String::as_str)))
    }
}

/// The writer's sink: a batch is one call, retried by the writer when storage was unavailable.
impl Sink for Store {
    type Item = RequestRecord;
    type Error = StoreError;

    fn name(&self) -> &'static str {
        self.kind()
    }

    fn label(record: &RequestRecord) -> String {
        record.id.clone()
    }

    fn can_retry(error: &StoreError) -> bool {
        matches!(error, StoreError::Unavailable(_))
    }

    async fn write(&self, batch: &[RequestRecord]) -> Result<(), StoreError> {
        match self {
            Store::Memory(store) => {
                store.add(newest::newest(batch));
                Ok(())
            }
            Store::File(store) => store.add(newest::newest(batch)).await.map(drop),
            Store::Upstash(store) => store.add(batch).await.map(drop),
            Store::Unconfigured(message) => Err(StoreError::NotConfigured(message.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_store_keeps_each_record_pushed_and_reads_them_newest_first() {
        let store = Store::Memory(MemoryStore::default());
        assert_eq!(store.kind(), "memory");
        for n in [2, 1, 3, 2] {
            assert_eq!(store.write(&[RequestRecord::numbered(n)]).await, Ok(()));
        }
        let recent = store.recent().await.unwrap();
        assert_eq!(recent.records, [3, 2, 1].map(RequestRecord::numbered));
    }

    #[tokio::test]
    async fn the_file_store_keeps_what_is_written_and_a_failed_write_can_be_retried() {
        let scratch = testkit::TempDir::new("store");
        let folder = scratch.path().join("dev");
        let store = Store::File(FileStore::new(folder.join("requests.json")));
        assert_eq!(store.kind(), "file");
        for n in [2, 1, 3] {
            assert_eq!(store.write(&[RequestRecord::numbered(n)]).await, Ok(()));
        }
        let recent = store.recent().await.unwrap();
        assert_eq!(recent.records, [3, 2, 1].map(RequestRecord::numbered));

        // Its folder is a file now: neither a write nor a read can work.
        std::fs::remove_dir_all(&folder).unwrap();
        std::fs::write(&folder, "").unwrap();
        let failure = store
            .write(&[RequestRecord::numbered(4)])
            .await
            .unwrap_err();
        assert!(matches!(failure, StoreError::Unavailable(_)), "{failure:?}");
        assert!(Store::can_retry(&failure));
        assert!(matches!(
            store.recent().await,
            Err(StoreError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn an_unconfigured_store_fails_every_write_and_read_with_what_to_set() {
        let message = "set KV_REST_API_URL".to_string();
        let store = Store::Unconfigured(message.clone());
        assert_eq!(store.kind(), "upstash");
        let failure = StoreError::NotConfigured(message.clone());
        assert_eq!(
            store.write(&[RequestRecord::numbered(1)]).await,
            Err(failure.clone())
        );
        assert!(!Store::can_retry(&failure));
        assert_eq!(
            store.recent().await,
            Err(StoreError::NotConfigured(message))
        );
    }

    /// The writer's lines name a record by its id and the store by the kind the answers report,
    /// and a failure says storage's own words, as they are.
    #[test]
    fn lines_name_the_record_by_its_id_the_store_by_its_kind_and_errors_in_their_words() {
        let record = RequestRecord::numbered(7);
        assert_eq!(Store::label(&record), record.id);
        let file = Store::File(FileStore::new("unused.json"));
        for store in [
            Store::Memory(MemoryStore::default()),
            file,
            Store::Unconfigured("x".into()),
        ] {
            assert_eq!(store.name(), store.kind());
        }
        for error in [
            StoreError::NotConfigured("set it".into()),
            StoreError::Unavailable("storage timed out".into()),
            StoreError::Rejected("storage refused the token".into()),
        ] {
            let (StoreError::NotConfigured(words)
            | StoreError::Unavailable(words)
            | StoreError::Rejected(words)) = &error;
            assert_eq!(&error.to_string(), words);
        }
    }

    #[test]
    fn a_read_skips_and_counts_what_is_not_a_record_and_each_id_is_read_once() {
        let [newest, older] = [2, 1].map(|n| RequestRecord::numbered(n).to_json());
        let mut twin = RequestRecord::numbered(2);
        twin.user_agent = "the same id in other bytes".into();
        let twin = twin.to_json();
        let members = [newest.as_str(), "not json", &twin, r#"{"id":"x"}"#, &older];
        let recent = Recent::from_members(members);
        assert_eq!(recent.records, [2, 1].map(RequestRecord::numbered));
        assert_eq!(recent.skipped, 3);
    }

    #[test]
    fn a_read_takes_no_more_than_the_ten_kept() {
        let members: Vec<String> = (1..=12)
            .rev()
            .map(|n| RequestRecord::numbered(n).to_json())
            .collect();
        let recent = Recent::from_members(members.iter().map(String::as_str));
        assert_eq!(recent.records.len(), KEEP);
        assert_eq!(recent.records[0], RequestRecord::numbered(12));
        assert_eq!(recent.skipped, 0);
    }
}
