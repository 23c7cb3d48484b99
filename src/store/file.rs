//! The store for `vercel dev`, which starts a new process of the function for every request:
//! kept in a file on this machine, records outlive each process. No account, no network.
//!
//! - The rule is every store's ([`super::newest`]), on the same `BTreeSet` as the memory store.
//! - Safe for several processes at once: a write holds an exclusive lock on a file beside the
//!   store (`….lock`) while it reads, adds and writes. The new set goes to a temporary file
//!   that is then renamed over the store, so a read (which takes no lock) sees the set before a
//!   write or after it, never half of one, and a process killed mid-write breaks nothing.
//! - A file that is not a set this store wrote is refused, with what to do, and never
//!   overwritten: a write fails (leaving its failure line) rather than lose what is there.
//! - File work blocks, so it runs on tokio's blocking threads, never on a request's.

use super::StoreError;
use super::newest::{self, Entry};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Where `vercel dev` keeps records, relative to the project (its working directory): inside
/// `.vercel/`, which the CLI makes and git ignores.
pub const DEV_PATH: &str = ".vercel/dev/requests-newest.json";

#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Adds `entries` by the rule; returns how many were not stored before, as `ZADD` does.
    pub async fn add(&self, entries: Vec<Entry>) -> Result<usize, StoreError> {
        let path = self.path.clone();
        blocking(move || {
            let _writer = lock(&path)?;
            let mut stored = read(&path)?;
            let added = newest::add(&mut stored, entries);
            write(&path, &stored)?;
            Ok(added)
        })
        .await
    }

    /// The members, newest first (`ZRANGE 0 9 REV`); none while the file does not exist.
    pub async fn newest_first(&self) -> Result<Vec<String>, StoreError> {
        let path = self.path.clone();
        blocking(move || Ok(newest::members_newest_first(&read(&path)?))).await
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(
            "the file store's work failed".into(),
        ))
    })
}

/// Holds the writers' lock until dropped; the OS lets go of it if the process dies.
fn lock(path: &Path) -> Result<File, StoreError> {
    let lock_path = sibling(path, "lock");
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(|e| io_error("cannot create", folder, e))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| io_error("cannot open", &lock_path, e))?;
    file.lock()
        .map_err(|e| io_error("cannot lock", &lock_path, e))?;
    Ok(file)
}

fn read(path: &Path) -> Result<BTreeSet<Entry>, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(io_error("cannot read", path, e)),
    };
    let entries: Vec<Entry> = serde_json::from_slice(&bytes).map_err(|_| {
        StoreError::Rejected(format!(
            "{} is not a store this app wrote: move it away or delete it to start afresh",
            path.display()
        ))
    })?;
    Ok(entries.into_iter().collect())
}

/// Replaces the store with `stored`, newest first, in one rename.
fn write(path: &Path, stored: &BTreeSet<Entry>) -> Result<(), StoreError> {
    let newest_first: Vec<&Entry> = stored.iter().rev().collect();
    let json = serde_json::to_vec_pretty(&newest_first).expect("entries serialise");
    let temporary = sibling(path, "tmp");
    std::fs::write(&temporary, json).map_err(|e| io_error("cannot write", &temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| io_error("cannot replace", path, e))
}

/// `<path>.<extension>`, beside the store.
fn sibling(path: &Path, extension: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

/// The path is the user's own project's; the error's kind says what to fix, without the OS's
/// wording.
fn io_error(what: &str, path: &Path, error: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what} {}: {}", path.display(), error.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RequestRecord;
    use testkit::TempDir;

    fn entry(n: u64) -> Entry {
        Entry::of(&RequestRecord::numbered(n))
    }

    /// A store in a fresh folder of its own (the kit's, removed when the test ends).
    struct Scratch {
        folder: TempDir,
        store: FileStore,
    }

    impl Scratch {
        fn new() -> Self {
            let folder = TempDir::new("file-store");
            let store = FileStore::new(folder.path().join("dev/requests-newest.json"));
            Self { folder, store }
        }

        async fn scores(&self) -> Vec<u64> {
            let members = self.store.newest_first().await.unwrap();
            members
                .iter()
                .map(|member| RequestRecord::from_stored(member).unwrap().timestamp)
                .collect()
        }
    }

    #[tokio::test]
    async fn records_outlive_the_store_that_wrote_them_and_keep_the_rule() {
        let scratch = Scratch::new();
        assert_eq!(scratch.scores().await, [0u64; 0], "no file yet: nothing");
        assert_eq!(scratch.store.add((1..=5).map(entry).collect()).await, Ok(5));
        // Another process of the function is another store on the same file.
        let next = FileStore::new(&scratch.store.path);
        assert_eq!(next.add((4..=12).map(entry).collect()).await, Ok(7));
        assert_eq!(next.add(vec![entry(12), entry(1)]).await, Ok(1));
        assert_eq!(scratch.scores().await, (3..=12).rev().collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn writers_at_once_lose_nothing() {
        let scratch = Scratch::new();
        // Each thread a writer of its own (a file, an open and a lock per write, as each
        // process has), 8 at once, 4 writes each: every write reads what the one before wrote.
        let path = scratch.store.path.clone();
        let writers = (0..8u64).map(|writer| {
            let store = FileStore::new(&path);
            tokio::spawn(async move {
                let mut added = 0;
                for n in 0..4 {
                    added += store.add(vec![entry(1 + writer * 4 + n)]).await.unwrap();
                }
                added
            })
        });
        let mut added = 0;
        for writer in writers {
            added += writer.await.unwrap();
        }
        assert_eq!(added, 32, "each entry was new when it was added");
        assert_eq!(scratch.scores().await, (23..=32).rev().collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_file_it_did_not_write_is_refused_and_left_as_it_is() {
        let scratch = Scratch::new();
        std::fs::create_dir_all(scratch.store.path.parent().unwrap()).unwrap();
        std::fs::write(&scratch.store.path, "my notes").unwrap();
        fn refused<T: std::fmt::Debug>(result: Result<T, StoreError>) {
            match result {
                Err(StoreError::Rejected(message)) => {
                    assert!(message.contains("requests-newest.json"), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        refused(scratch.store.add(vec![entry(1)]).await);
        refused(scratch.store.newest_first().await);
        assert_eq!(std::fs::read(&scratch.store.path).unwrap(), b"my notes");
    }

    #[tokio::test]
    async fn a_store_it_cannot_reach_is_unavailable_and_names_the_path() {
        let scratch = Scratch::new();
        // The store's folder is a file: nothing can be created inside it.
        std::fs::write(scratch.folder.path().join("dev"), "").unwrap();
        match scratch.store.add(vec![entry(1)]).await {
            Err(StoreError::Unavailable(message)) => assert!(message.contains("dev"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_file_holds_the_entries_newest_first_and_nothing_else() {
        let scratch = Scratch::new();
        scratch.store.add(vec![entry(1), entry(2)]).await.unwrap();
        let text = std::fs::read_to_string(&scratch.store.path).unwrap();
        let entries: Vec<Entry> = serde_json::from_str(&text).unwrap();
        assert_eq!(entries, [entry(2), entry(1)]);
        let folder = scratch.store.path.parent().unwrap();
        let mut names: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["requests-newest.json", "requests-newest.json.lock"],
            "no temporary file is left behind"
        );
    }
}
