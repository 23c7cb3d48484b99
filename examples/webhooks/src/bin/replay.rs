//! Delivers again the events of failure lines:
//! `vercel logs … --json | cargo run -p webhooks-example --bin webhooks-replay`.
//!
//! Reads exported logs on stdin (plain, prefixed, or `vercel logs --json`), finds the
//! `webhooks.failed` lines, and delivers their events, oldest first, to `WEBHOOK_URL` with the
//! function's own sink and retries: the same JSON and `Idempotency-Key` as the first time, so a
//! receiver that keeps to the key acts on each event once, however often this runs. Exits
//! non-zero when it found nothing to deliver or a delivery failed, so it can be run again.

use std::io::Read;
use std::process::ExitCode;
use webhooks_example::{Webhook, writer};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut log = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut log) {
        eprintln!("replay: cannot read stdin: {error}");
        return ExitCode::FAILURE;
    }
    let webhooks = writer(Webhook::from_env());
    let mut found = webhooks.read_log(&log);
    println!(
        "replay: found {} events in {} failure lines ({} invalid, {} unreadable, {} duplicates skipped)",
        found.items.len(),
        found.lines,
        found.invalid,
        found.unreadable,
        found.duplicates
    );
    if found.unreadable > 0 {
        eprintln!(
            "replay: {} lines name a failure but could not be read (cut or edited); their events are not delivered",
            found.unreadable
        );
    }
    if let Some(next) = &found.more_pages {
        eprintln!(
            "replay: the export stopped at its limit and more entries matched: export the next page with `--next {next}` and replay it too"
        );
    }
    if found.items.is_empty() {
        eprintln!("replay: nothing to deliver (no failure lines with valid events in the input)");
        return ExitCode::FAILURE;
    }
    // `vercel logs` prints newest first; deliver in the order the events came.
    found
        .items
        .sort_by(|a, b| (a.received_at_ms, &a.id).cmp(&(b.received_at_ms, &b.id)));
    match webhooks.replay(&found.items).await {
        Ok(written) => {
            let plural = if written.attempts == 1 { "" } else { "s" };
            println!(
                "replay: delivered {} events ({} attempt{plural}, {} ms)",
                found.items.len(),
                written.attempts,
                written.took.as_millis()
            );
            ExitCode::SUCCESS
        }
        Err((delivered, failure)) => {
            eprintln!(
                "replay: delivered {delivered} of {} events, then: {failure}; nothing was lost, run it again",
                found.items.len()
            );
            ExitCode::FAILURE
        }
    }
}
