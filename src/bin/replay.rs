//! Stores again the records of failure lines: `cargo run --bin replay < logs.txt`.
//!
//! Reads exported function logs on stdin (plain, timestamp-prefixed, or the JSON lines of
//! `vercel logs --json`), finds the failure lines, and merges their records into the configured
//! Upstash database (same settings as the app: environment, then `.env.local`) with the app's
//! own write: the same checks, retries and merge rule, so the list ends up holding the ten
//! newest distinct records, and replaying twice changes nothing the second time. Prints what it
//! found and what the merge did. Exits non-zero when it found nothing to store or storage
//! refused, so it can be run again.

use std::io::Read;
use std::process::ExitCode;
use wait_until::replay::failed_records;
use wait_until::settings::Settings;
use wait_until::store::upstash::retry::RetryPolicy;
use wait_until::store::{Choice, StoreChoice, UpstashStore};

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
    // One call, whatever the number: only the ten newest of them can be kept.
    match store.merge(&found.records).await {
        Ok(merged) => {
            println!(
                "replay: merged {} records: {} added to the ten newest, {} were stored already, {} older than the records kept",
                found.records.len(),
                merged.added,
                merged.already,
                merged.older
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!(
                "replay: storage failed after {} attempt{}: {}; nothing was lost, run it again",
                failure.attempts,
                if failure.attempts == 1 { "" } else { "s" },
                failure.error
            );
            ExitCode::FAILURE
        }
    }
}
