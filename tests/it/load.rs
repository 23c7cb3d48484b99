//! 20,000 requests from 100 workers (100 in flight), against the real binary writing through
//! the Upstash emulator to real Redis:
//!
//! - no answer other than `200`, and no request without an answer;
//! - exactly ten records left in Redis: the ten newest of those stored, newest first;
//! - every answered id accounted for exactly once: a success line on stdout or a failure line
//!   on stderr (a full queue ends a record in a grouped failure line, which counts), and nothing
//!   else on stderr.
//!
//! Counts records, never storage calls, so it holds however writes are batched.

use crate::{MAIN, busy_cores};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::app::{App, test_client};
use testkit::emulator::Emulator;
use testkit::lines::is_failure_line;
use testkit::redis::Redis;
use testkit::{HEAVY_TEST_LIMIT, poll_for, within};

const REQUESTS: usize = 20_000;
const CONCURRENCY: usize = 100;

/// What one worker saw: the ids it was answered with, and everything that was not a `200`.
#[derive(Default)]
struct Tally {
    ids: Vec<String>,
    not_ok: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_requests_at_c100_are_all_answered_and_accounted_for() {
    let _alone = busy_cores().await;
    within(HEAVY_TEST_LIMIT, "20,000 requests settled", async {
        let redis = Redis::start();
        let emulator = Emulator::start(&redis);
        let app = App::start(MAIN, &emulator.env()).await;
        let url = Arc::new(app.url("/api/wait-until"));
        let client = test_client();

        // 100 workers, each sending its next request as soon as the last is answered.
        let started = Instant::now();
        let workers: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let mut tally = Tally::default();
                    for _ in 0..REQUESTS / CONCURRENCY {
                        match receipt_id(&client, &url).await {
                            Ok(id) => tally.ids.push(id),
                            Err(what) => tally.not_ok.push(what),
                        }
                    }
                    tally
                })
            })
            .collect();
        let mut answered = HashSet::new();
        let mut not_ok = Vec::new();
        for worker in workers {
            let tally = tokio::time::timeout(Duration::from_secs(60), worker)
                .await
                .expect("every worker done within 60 s")
                .expect("a worker panicked");
            answered.extend(tally.ids);
            not_ok.extend(tally.not_ok);
        }
        let load_took = started.elapsed();
        assert!(
            not_ok.is_empty(),
            "{} of {REQUESTS} requests were not answered 200, e.g. {:?}",
            not_ok.len(),
            &not_ok[..not_ok.len().min(5)]
        );
        assert_eq!(answered.len(), REQUESTS, "every answer has its own id");

        // Every record settles, stored or failed, each exactly once; what has not within 30 s is
        // named below.
        let settled = poll_for(Duration::from_secs(30), || async {
            let settled = self::settled(&app);
            (settled.len() >= REQUESTS).then_some(settled)
        })
        .await
        .unwrap_or_else(|| self::settled(&app));
        let mut seen = HashMap::new();
        for (id, outcome) in &settled {
            if let Some(earlier) = seen.insert(id.as_str(), *outcome) {
                panic!("{id} settled twice: {earlier}, then {outcome}");
            }
        }
        let accounted: HashSet<String> = seen.keys().map(|id| id.to_string()).collect();
        let unaccounted: Vec<&String> = answered.difference(&accounted).take(5).collect();
        let unknown: Vec<&String> = accounted.difference(&answered).take(5).collect();
        assert!(
            unaccounted.is_empty() && unknown.is_empty(),
            "answered but never settled, e.g. {unaccounted:?}; settled but never answered, e.g. {unknown:?}"
        );
        let stray: Vec<String> = app
            .stderr()
            .into_iter()
            .filter(|line| !is_failure_line(line))
            .take(5)
            .collect();
        assert!(stray.is_empty(), "stderr beyond failure lines: {stray:?}");

        // What the app's writes cost, before the test's own reads add to it.
        let (writes, billed) = (redis.calls("zadd"), redis.billed());
        // Exactly the ten newest stored records stay (the greatest ids: v7 ids sort as the time
        // they were made), newest first, each one a record we were answered for.
        let entries = redis.entries();
        assert_eq!(entries.len(), 10, "records left in Redis");
        let mut listed = Vec::new();
        for entry in &entries {
            let record: serde_json::Value = serde_json::from_str(entry).expect("a stored record");
            let id = record["id"].as_str().unwrap_or_default();
            assert_eq!(seen.get(id), Some(&"stored"), "{entry}");
            listed.push(id.to_string());
        }
        let mut newest_stored: Vec<&str> = seen
            .iter()
            .filter(|(_, outcome)| **outcome == "stored")
            .map(|(id, _)| *id)
            .collect();
        newest_stored.sort_by(|a, b| b.cmp(a));
        newest_stored.truncate(10);
        assert_eq!(listed, newest_stored, "the ten newest stored, newest first");

        let stored = seen.values().filter(|o| **o == "stored").count();
        println!(
            "{REQUESTS} requests at c={CONCURRENCY} in {load_took:.2?} ({:.0}/s); {stored} stored, \
             {} failed, {} writes ({} billed commands); settled after {:.2?}",
            REQUESTS as f64 / load_took.as_secs_f64(),
            REQUESTS - stored,
            writes,
            billed,
            started.elapsed(),
        );
    })
    .await;
}

/// One request to `/api/wait-until`: its receipt id, or what went wrong.
async fn receipt_id(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let response = client
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("{status}, body cut: {e}"))?;
    let receipt: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    match (status.as_u16(), receipt["id"].as_str()) {
        (200, Some(id)) => Ok(id.to_string()),
        _ => Err(format!("{status} {}", String::from_utf8_lossy(&body))),
    }
}

/// Every settled record so far, as `(id, "stored" | "failed")`, from the app's output.
fn settled(app: &App) -> Vec<(String, &'static str)> {
    let stored = app.stored_ids().into_iter().map(|id| (id, "stored"));
    let failed = app.failed_records().into_iter().map(|record| {
        let id = record["id"].as_str().unwrap_or_default();
        (id.to_string(), "failed")
    });
    stored.chain(failed).collect()
}
