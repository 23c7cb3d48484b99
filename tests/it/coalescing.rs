//! Coalesced background writes against real Redis (through the Upstash test double, to hold a
//! write in flight): records that wait together go out in one call, the newest ends up first,
//! and each request's `wait_until` settles with its own record's outcome.

use crate::{behind_the_double, quiet_cores};
use std::time::Duration;
use testkit::app::App;
use testkit::eventually;
use testkit::fake_upstash::{FakeUpstash, Fault};
use testkit::lines::STORED;
use testkit::redis::Redis;

/// The records of each `LPUSH` call the double received, by id, in argument order.
fn batches(fake: &FakeUpstash) -> Vec<Vec<String>> {
    fake.seen()
        .iter()
        .filter(|s| s.path == "/pipeline" && s.body[0][0] == "LPUSH")
        .map(|s| s.pushed_ids())
        .collect()
}

/// Storage that answers after `delay`, and one fire whose write is in flight: what the test fires
/// next queues behind it. Returns that first fire's id.
async fn first_write_in_flight(delay: Duration) -> (Redis, FakeUpstash, App, String) {
    let (redis, fake, app) = behind_the_double(&[]).await;
    fake.delay(delay);
    let first = app.fire().await;
    eventually(Duration::from_secs(2), "the first write", || async {
        !fake.seen().is_empty()
    })
    .await;
    (redis, fake, app, first)
}

#[tokio::test]
async fn records_waiting_together_go_out_in_one_call_and_the_newest_comes_first() {
    let _timed = quiet_cores().await;
    let (redis, fake, app, first) = first_write_in_flight(Duration::from_millis(400)).await;
    let mut queued = Vec::new();
    for _ in 0..5 {
        queued.push(app.fire().await);
    }
    eventually(Duration::from_secs(5), "six records", || async {
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
    let _timed = quiet_cores().await;
    // The first call succeeds; the second (the three queued records) fails with a command error.
    let (redis, fake, app, stored) = first_write_in_flight(Duration::from_millis(300)).await;
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
        |l| l.contains(&stored) && l.starts_with(STORED),
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
    let (redis, fake, mut app) = behind_the_double(&[]).await;
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
