//! Stores again the records of failure lines: `cargo run --bin replay < logs.txt`.
//!
//! Reads exported function logs on stdin, finds the `wait_until.write_failed` lines, and pushes
//! their records to the configured Upstash database (same settings as the app: environment,
//! then `.env.local`), oldest first, with the same checks and retries as the app's writes.
//! Exits non-zero if anything could not be stored, so it can be run again.

use std::io::Read;
use std::process::ExitCode;
use wait_until::config::{Config, StoreChoice};
use wait_until::replay::failed_records;
use wait_until::store::UpstashStore;
use wait_until::upstash::retry::RetryPolicy;

/// Records per pipeline call, as the app's write queue does.
const BATCH: usize = 100;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut log = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut log) {
        eprintln!("replay: cannot read stdin: {error}");
        return ExitCode::FAILURE;
    }
    let settings = match Config::from_env().store {
        StoreChoice::Upstash(settings) => settings,
        _ => {
            eprintln!("replay: set KV_REST_API_URL and KV_REST_API_TOKEN (or .env.local)");
            return ExitCode::FAILURE;
        }
    };
    let found = failed_records(&log);
    if found.rejected > 0 {
        eprintln!(
            "replay: {} failure lines held invalid records; skipped",
            found.rejected
        );
    }
    let store = UpstashStore::new(settings, RetryPolicy::default());
    let mut stored = 0;
    for batch in found.records.chunks(BATCH) {
        if let Err(failure) = store.push_batch(batch).await {
            eprintln!(
                "replay: stored {stored} of {}; then failed: {}",
                found.records.len(),
                failure.error
            );
            return ExitCode::FAILURE;
        }
        stored += batch.len();
    }
    println!("replay: stored {stored} records");
    ExitCode::SUCCESS
}
