//! Stores again the records of failure lines: `cargo run --bin replay < logs.txt`.
//!
//! Reads exported function logs on stdin (plain, timestamp-prefixed, or the JSON lines of
//! `vercel logs --json`), finds the failure lines, and writes their records into the configured
//! Upstash database (same settings as the app: environment, then `.env.local`) with the app's
//! own write: the same checks, retries and rule, each record as the same bytes the app wrote, so
//! the set ends up holding the ten newest records, each once, and replaying twice changes
//! nothing the second time. Prints what it found, what the write did, and how many of the
//! records are among the ten newest afterwards. Exits non-zero when it found nothing to store or
//! storage refused, so it can be run again.

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
        StoreChoice::Memory | StoreChoice::File => {
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
    match store.add(&found.records).await {
        Ok(written) => {
            println!(
                "replay: wrote {} records: {} new, {} stored already",
                written.sent,
                written.added,
                written.sent - written.added
            );
            // One read more, so the report says what stayed: a record older than the ten newest
            // is new to storage for a moment, then cut.
            match store.recent().await {
                Ok(recent) => println!(
                    "replay: {} of them among the ten newest now",
                    found
                        .records
                        .iter()
                        .filter(|record| recent.records.contains(record))
                        .count()
                ),
                Err(error) => eprintln!("replay: written, but the check read failed: {error}"),
            }
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
