//! Stores again the records of failure lines: `cargo run --bin replay < logs.txt`.
//!
//! Reads exported function logs on stdin (plain, timestamp-prefixed, or the JSON lines of
//! `vercel logs --json`) and writes the records of their failure lines into the configured
//! Upstash database (same settings as the app: environment, then `.env.local`) with the app's
//! own writer: the same checks, retries and rule, each record as the same bytes the app wrote,
//! so the set ends up holding the ten newest records, each once, and replaying twice changes
//! nothing. Says what it found and wrote, then how many of the records are among the ten newest.
//! Exits non-zero when it found nothing to store or storage refused, so it can be run again.

use std::io::Read;
use std::process::ExitCode;
use wait_until::store::Store;
use wait_until::{App, Config};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut log = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut log) {
        eprintln!("replay: cannot read stdin: {error}");
        return ExitCode::FAILURE;
    }
    let config = Config::from_env();
    match &config.store {
        Store::Upstash(_) => {}
        Store::Unconfigured(message) => {
            eprintln!("replay: {message}");
            return ExitCode::FAILURE;
        }
        Store::Memory(_) | Store::File(_) => {
            eprintln!("replay: set KV_REST_API_URL and KV_REST_API_TOKEN (or .env.local)");
            return ExitCode::FAILURE;
        }
    }
    // The function's own app, without a success line per record: replay reports what it wrote.
    let app = App::new(Config {
        success_lines: false,
        ..config
    });
    let Some(found) = app.writer().replay_log(&log).await else {
        return ExitCode::FAILURE;
    };
    // A record older than the ten newest is written for a moment, then cut: say what stayed.
    match app.store().recent().await {
        Ok(recent) => println!(
            "replay: {} of them among the ten newest now",
            found
                .items
                .iter()
                .filter(|r| recent.records.contains(r))
                .count()
        ),
        Err(error) => eprintln!("replay: written, but the check read failed: {error}"),
    }
    ExitCode::SUCCESS
}
