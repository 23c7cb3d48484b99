//! Coalesced background writes against real Redis (through the Upstash test double, which holds
//! a write in flight): records that wait together go out in one call, the newest ends up first,
//! and each request's `wait_until` settles with its own record's outcome.
//!
//! No test races a delay: storage is held until the first write has arrived there and every
//! later fire has been answered, then released. A record joins the queue in the task the app
//! gives `wait_until` as it answers; the release reaches the app a round trip (test, double,
//! Redis) after the last receipt. The tests that count calls keep the cores quiet, so that no
//! busy test starves the app for that long.

use crate::{behind_the_double, quiet_cores};
use std::time::Duration;
use testkit::app::App;
use testkit::fake_upstash::{FakeUpstash, Fault, Hold};
use testkit::lines::STORED;
use testkit::redis::Redis;
use testkit::{TEST_LIMIT, eventually, within};

/// The records of each `LPUSH` call the double received, by id, in argument order.
fn batches(fake: &FakeUpstash) -> Vec<Vec<String>> {
    fake.seen()
        .iter()
        .filter(|s| s.path == "/pipeline" && s.body[0][0] == "LPUSH")
        .map(|s| s.pushed_ids())
        .collect()
}

/// Storage held, and one fire whose write has arrived there and waits: what the test fires next
/// queues behind it. Returns that first fire's id, and the hold.
async fn first_write_held() -> (Redis, FakeUpstash, App, String, Hold) {
    let (redis, fake, app) = behind_the_double(&[]).await;
    let held = fake.hold();
    let first = app.fire().await;
    fake.wait_for_calls(1, Duration::from_secs(5)).await;
    (redis, fake, app, first, held)
}

#[tokio::test]
async fn records_waiting_together_go_out_in_one_call_and_the_newest_comes_first() {
    let _quiet = quiet_cores().await;
    within(TEST_LIMIT, "five records behind a held write", async {
        let (redis, fake, app, first, held) = first_write_held().await;
        let mut queued = Vec::new();
        for _ in 0..5 {
            queued.push(app.fire().await);
        }
        assert_eq!(
            batches(&fake),
            [vec![first.clone()]],
            "only the first went out"
        );
        held.release();
        eventually(Duration::from_secs(5), "six records", || async {
            redis.llen() == 6
        })
        .await;

        assert_eq!(batches(&fake), [vec![first.clone()], queued.clone()]);
        assert_eq!(redis.calls("lpush"), 2);
        let mut newest_first: Vec<String> = queued.iter().rev().cloned().collect();
        newest_first.push(first);
        assert_eq!(app.recent_ids().await, newest_first);
    })
    .await;
}

#[tokio::test]
async fn each_request_settles_with_the_outcome_of_its_own_record() {
    let _quiet = quiet_cores().await;
    within(TEST_LIMIT, "three records failing together", async {
        // The first call succeeds; the second (the three queued records) fails with a command
        // error.
        let (redis, fake, app, stored, held) = first_write_held().await;
        fake.fail_next([Fault::CommandError("ERR injected")]);
        let mut failed = Vec::new();
        for _ in 0..3 {
            failed.push(app.fire().await);
        }
        held.release();
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
        let mut shared_call = batches(&fake)[1].clone();
        shared_call.sort();
        assert_eq!(shared_call, failed, "the three shared one call");
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
    })
    .await;
}

#[tokio::test]
async fn sigterm_drains_a_coalesced_queue_before_exit() {
    within(TEST_LIMIT, "30 held records drained", async {
        let (redis, fake, mut app, _, held) = first_write_held().await;
        for _ in 1..30 {
            app.fire().await;
        }
        let status = app
            .sigterm_while_held(held, || {
                assert_eq!(redis.llen(), 0, "nothing could be stored yet")
            })
            .await;
        assert!(status.success(), "{status:?}");
        let batches = batches(&fake);
        let stored: usize = batches.iter().map(Vec::len).sum();
        assert_eq!(stored, 30, "every record reached storage before exit");
        assert_eq!(batches[0].len(), 1, "only the first was in flight");
        assert!(batches.len() < 30, "the writes were coalesced: {batches:?}");
        assert_eq!(redis.llen(), 10);
    })
    .await;
}
