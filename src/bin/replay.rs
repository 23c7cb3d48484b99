//! Stores again the records of failure lines: `cargo run --bin replay < logs.txt`.
//!
//! Reads exported function logs on stdin (plain, timestamp-prefixed, or the JSON lines of
//! `vercel logs --json`), finds the failure lines, and pushes their records to the configured
//! Upstash database (same settings as the app: environment, then `.env.local`) in time order,
//! with the same checks and retries as the app's writes. Prints what it found and stored.
//! Exits non-zero when it found nothing to store or storage refused, so it can be run again.

use std::io::Read;
use std::process::ExitCode;
use wait_until::replay::failed_records;
use wait_until::settings::Settings;
use wait_until::store::upstash::retry::RetryPolicy;
use wait_until::store::{Choice, Limits, StoreChoice, UpstashStore};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut log = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut log) {
        eprintln!("replay: cannot read stdin: {error}");
        return ExitCode::FAILURE;
    }
    let settings = match Choice::from_settings(&Settings::from_env()).store {
        StoreChoice::Upstash(settings) => settings,
        StoreChoice::Unconfigured(message) => {
            eprintln!("replay: {message}");
            return ExitCode::FAILURE;
        }
        StoreChoice::Memory => {
            eprintln!("replay: set KV_REST_API_URL and KV_REST_API_TOKEN (or .env.local)");
            return ExitCode::FAILURE;
        }
    };
    let found = failed_records(&log);
    println!(
        "replay: found {} records in {} failure lines ({} invalid, {} unreadable, {} duplicates skipped)",
        found.records.len(),
        found.lines,
        found.invalid,
        found.unreadable,
        found.duplicates
    );
    if found.unreadable > 0 {
        eprintln!(
            "replay: {} lines name a failure but could not be read (cut or edited); their records are not replayed",
            found.unreadable
        );
    }
    if let Some(next) = &found.more_pages {
        eprintln!(
            "replay: the export stopped at its --limit and more entries matched: export the next page with `--next {next}` and replay it too"
        );
    }
    if found.records.is_empty() {
        eprintln!("replay: nothing to store (no failure lines with valid records in the input)");
        return ExitCode::FAILURE;
    }
    let store = UpstashStore::new(settings, RetryPolicy::default());
    let mut stored = 0;
    // As many records per call as the app's write queue sends.
    for batch in found.records.chunks(Limits::default().max_batch()) {
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
    println!("replay: stored {stored} records, oldest first");
    ExitCode::SUCCESS
}
