//! 20,000 requests, 100 at a time, against the real binary writing through the Upstash emulator
//! to real Redis: no non-2xx, exactly ten records at the end, and every request accounted for,
//! either stored (its success line) or as its failure line.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::app::{App, json};
use support::emulator::Emulator;
use support::redis::Redis;

const REQUESTS: usize = 20_000;
const CONCURRENCY: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_requests_at_c100_are_all_answered_and_accounted_for() {
    let redis = Redis::start();
    let emulator = Emulator::start(&redis);
    let env = emulator.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = Arc::new(App::start(&env).await);

    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                let mut not_ok = Vec::new();
                for _ in 0..REQUESTS / CONCURRENCY {
                    let response = app.get("/api/wait-until").await;
                    if response.status() == 200 {
                        ids.push(json(response).await["id"].as_str().unwrap().to_string());
                    } else {
                        not_ok.push(response.status().as_u16());
                    }
                }
                (ids, not_ok)
            })
        })
        .collect();
    let mut answered = HashSet::new();
    for worker in workers {
        let (ids, not_ok) = worker.await.unwrap();
        assert!(not_ok.is_empty(), "non-2xx answers: {not_ok:?}");
        answered.extend(ids);
    }
    assert_eq!(answered.len(), REQUESTS, "every answer has its own id");
    let load_took = started.elapsed();

    // Every request ends stored or failed, each exactly once.
    let accounted = || {
        let stored: Vec<String> = app
            .stdout()
            .iter()
            .filter_map(|l| l.strip_prefix("[wait-until] stored "))
            .map(|rest| rest.split(' ').next().unwrap().to_string())
            .collect();
        let failed: Vec<String> = app
            .failure_lines()
            .iter()
            .map(|l| l["record"]["id"].as_str().unwrap().to_string())
            .collect();
        (stored, failed)
    };
    support::eventually(
        Duration::from_secs(60),
        "every record accounted for",
        || {
            let (stored, failed) = accounted();
            async move { stored.len() + failed.len() >= REQUESTS }
        },
    )
    .await;
    let (stored, failed) = accounted();
    let all: HashSet<String> = stored.iter().chain(&failed).cloned().collect();
    assert_eq!(
        stored.len() + failed.len(),
        REQUESTS,
        "no record reported twice"
    );
    assert_eq!(
        all, answered,
        "the ids accounted for are exactly the ids answered"
    );
    assert_eq!(redis.llen(), 10);
    let calls = redis.calls("lpush");
    println!(
        "{REQUESTS} requests in {load_took:?}: {} stored, {} failed, {calls} LPUSH calls ({:.1} records per call)",
        stored.len(),
        failed.len(),
        stored.len() as f64 / calls.max(1) as f64
    );
    assert!(calls < REQUESTS as u64, "writes were coalesced");
}
