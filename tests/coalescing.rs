//! Coalesced background writes against real Redis (through the fault double, to hold a write in
//! flight): records that wait together go out in one call, the newest ends up first, and each
//! request's `wait_until` settles with its own record's outcome.

mod support;

use std::time::Duration;
use support::app::App;
use support::fake_upstash::{FakeUpstash, Fault};
use support::redis::Redis;

async fn start() -> (Redis, FakeUpstash, App) {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = App::start(&env).await;
    (redis, fake, app)
}

/// The records of each pipeline call the double received, by id, in argument order.
fn batches(fake: &FakeUpstash) -> Vec<Vec<String>> {
    fake.seen()
        .iter()
        .filter(|s| s.path == "/pipeline" && s.body[0][0] == "LPUSH")
        .map(|s| {
            s.body[0].as_array().unwrap()[2..]
                .iter()
                .map(|r| {
                    let record: serde_json::Value =
                        serde_json::from_str(r.as_str().unwrap()).unwrap();
                    record["id"].as_str().unwrap().to_string()
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn records_waiting_together_go_out_in_one_call_and_the_newest_comes_first() {
    let (redis, fake, app) = start().await;
    fake.delay(Duration::from_millis(400));
    let first = app.fire().await;
    // Wait until the first write is in flight, then queue five behind it.
    support::eventually(Duration::from_secs(2), "the first write", || async {
        !fake.seen().is_empty()
    })
    .await;
    let mut queued = Vec::new();
    for _ in 0..5 {
        queued.push(app.fire().await);
    }
    support::eventually(Duration::from_secs(5), "six records", || async {
        redis.llen() == 6
    })
    .await;

    assert_eq!(batches(&fake), [vec![first.clone()], queued.clone()]);
    assert_eq!(redis.calls("lpush"), 2);
    let mut newest_first: Vec<String> = queued.iter().rev().cloned().collect();
    newest_first.push(first);
    assert_eq!(app.recent_ids().await, newest_first);
}

#[tokio::test]
async fn each_request_settles_with_the_outcome_of_its_own_record() {
    let (redis, fake, app) = start().await;
    fake.delay(Duration::from_millis(300));
    // The first call succeeds; the second (the three queued records) fails with a command error.
    let stored = app.fire().await;
    support::eventually(Duration::from_secs(2), "the first write", || async {
        !fake.seen().is_empty()
    })
    .await;
    fake.fail_next([Fault::CommandError("ERR injected")]);
    let mut failed = Vec::new();
    for _ in 0..3 {
        failed.push(app.fire().await);
    }
    let lines = app.wait_for_failure_lines(3, Duration::from_secs(5)).await;
    let mut failed_ids: Vec<String> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["count"], 1, "{l}");
            l["records"][0]["id"].as_str().unwrap().to_string()
        })
        .collect();
    failed_ids.sort();
    failed.sort();
    assert_eq!(
        failed_ids, failed,
        "one failure line per queued record, each with its own record"
    );
    app.wait_for_stdout(
        |l| l.contains(&stored) && l.starts_with("[wait-until] stored"),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        app.stdout()
            .iter()
            .all(|l| failed.iter().all(|id| !l.contains(id))),
        "a failed record was reported stored"
    );
    assert_eq!(redis.entries().len(), 1);
}

#[tokio::test]
async fn sigterm_drains_a_coalesced_queue_before_exit() {
    let (redis, fake, app) = start().await;
    fake.delay(Duration::from_millis(300));
    for _ in 0..30 {
        app.fire().await;
    }
    let status = app.terminate().await;
    assert!(status.success());
    let stored: usize = batches(&fake).iter().map(Vec::len).sum();
    assert_eq!(stored, 30, "every record reached storage before exit");
    assert!(batches(&fake).len() < 30, "the writes were coalesced");
    assert_eq!(redis.llen(), 10);
}
