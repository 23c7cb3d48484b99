//! `/api/wait-until?await=1`: the same record, written before the response instead of after
//! it. What the page's comparison rests on, in both modes:
//! - the awaited answer comes only once its record is stored (readable by the next request),
//!   and says how long the write took on the server; the plain answer does not wait;
//! - an awaited write that fails answers with storage's own message and the record's id, and
//!   still leaves the replayable failure line: nothing is lost by awaiting;
//! - an `await` the route cannot read is refused, and records nothing.

use crate::in_process;
use crate::{MAIN, behind_the_double, behind_the_double_in_production};
use serde_json::Value;
use std::time::Duration;
use testkit::app::{App, json};
use testkit::fake_upstash::FakeUpstash;
use testkit::lines::{failure_lines, records_of};
use testkit::redis::Redis;
use testkit::vercel_ipc::{Context, Ipc, LogLine, logs_of};
use testkit::{TEST_LIMIT, eventually, within};

/// `?await=1` with `headers`: the status and the body.
async fn fire_awaited(app: &App, headers: &[(&str, &str)]) -> (u16, Value) {
    let response = app.get_with("/api/wait-until?await=1", headers).await;
    (response.status().as_u16(), json(response).await)
}

/// A receipt of an awaited write that succeeded: its id.
fn stored_receipt(receipt: &Value, storage: &str) -> String {
    assert_eq!(receipt["recorded"], true, "{receipt}");
    assert_eq!(receipt["awaited"], true, "{receipt}");
    assert_eq!(receipt["storage"], storage, "{receipt}");
    assert_eq!(receipt["attempts"], 1, "{receipt}");
    let write_ms = receipt["writeMs"].as_f64().expect("writeMs is a number");
    assert!((0.0..3_000.0).contains(&write_ms), "{receipt}");
    receipt["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn with_memory_the_awaited_record_is_listed_by_the_very_next_request() {
    within(TEST_LIMIT, "an awaited fire, listed at once", async {
        let app = App::start(MAIN, &[]).await;
        let (status, receipt) = fire_awaited(&app, &[]).await;
        assert_eq!(status, 200, "{receipt}");
        let id = stored_receipt(&receipt, "memory");
        assert_eq!(app.recent_ids().await, std::slice::from_ref(&id));
        // Its line is the same as a write after the response leaves.
        app.wait_for_stdout(|line| line.contains(&id), Duration::from_secs(5))
            .await;

        let plain = json(app.get("/api/wait-until?await=0").await).await;
        assert_eq!(plain["awaited"], false, "{plain}");
        for only_awaited in ["writeMs", "attempts"] {
            assert!(plain.get(only_awaited).is_none(), "{plain}");
        }
    })
    .await;
}

/// [`fire_awaited`], to the app in this process.
async fn fire_awaited_in_process(app: &in_process::App) -> (u16, Value) {
    let answer = app.get("/api/wait-until?await=1").await;
    (answer.status, answer.json())
}

#[tokio::test]
async fn the_awaited_answer_waits_for_storage_and_the_plain_one_does_not() {
    within(TEST_LIMIT, "answers around a held write", async {
        let redis = Redis::start();
        let fake = FakeUpstash::start(&redis).await;
        let app = in_process::App::new(&fake.env());
        let held = fake.hold();
        // Answered while storage holds its write: the point of `wait_until`.
        let plain = app.fire().await;
        fake.wait_for_calls(1, Duration::from_secs(5)).await;

        let app = std::sync::Arc::new(app);
        let awaiting = tokio::spawn({
            let app = app.clone();
            async move { fire_awaited_in_process(&app).await }
        });
        // Time for the awaited request to reach the app and queue behind the held write. Had
        // it answered without waiting for storage, it would have by now; a slower machine
        // could only make this check miss a fault, never invent one.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!awaiting.is_finished(), "answered before its write");
        assert!(redis.ids().is_empty(), "stored while held");
        held.release();

        let (status, receipt) = awaiting.await.expect("the awaited fire");
        assert_eq!(status, 200, "{receipt}");
        let awaited = stored_receipt(&receipt, "upstash");
        // Stored in real Redis by the time the answer arrived, with the plain one before it.
        let stored = redis.ids();
        assert!(stored.contains(&awaited), "{stored:?}");
        assert!(stored.contains(&plain), "{stored:?}");
    })
    .await;
}

#[tokio::test]
async fn an_awaited_write_that_fails_answers_storage_s_message_and_still_leaves_its_failure_line() {
    within(TEST_LIMIT, "a failed awaited write", async {
        let app = App::start(MAIN, &[("WAIT_UNTIL_STORE", "upstash")]).await;
        let (status, body) = fire_awaited(&app, &[("user-agent", "kept for replay")]).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["awaited"], true, "{body}");
        let error = body["error"].as_str().expect("an error message");
        assert!(
            error.starts_with("storage is not configured: set KV_REST_API_URL"),
            "{error}"
        );
        let id = body["id"].as_str().expect("the record's id");
        let records = records_of(&app.wait_for_failure_lines(1, Duration::from_secs(5)).await);
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0]["id"], id);
        assert_eq!(records[0]["userAgent"], "kept for replay");
    })
    .await;
}

#[tokio::test]
async fn an_await_the_route_cannot_read_is_refused_and_records_nothing() {
    within(TEST_LIMIT, "refused awaits", async {
        let app = App::start(MAIN, &[]).await;
        for query in [
            "await=true",
            "await=2",
            "await",
            "await=1&await=1",
            "await=%3Cscript%3E",
        ] {
            let response = app.get(&format!("/api/wait-until?{query}")).await;
            assert_eq!(response.status(), 400, "{query}");
            assert_eq!(response.headers()["cache-control"], "no-store");
            let body = json(response).await;
            assert_eq!(
                body["error"],
                wait_until::app::AWAIT_REFUSED,
                "{query}: {body}"
            );
        }
        // Written after the refusals; alone in the list once it lands.
        let id = app.fire().await;
        eventually(Duration::from_secs(5), "the plain fire listed", || async {
            !app.recent_ids().await.is_empty()
        })
        .await;
        assert_eq!(app.recent_ids().await, [id]);
        assert!(app.failure_lines().is_empty());
    })
    .await;
}

/// `?await=1` as Vercel forwards a request: with `context`'s internal ids.
async fn fire_awaited_as(app: &App, context: &Context) -> (u16, Value) {
    let response = app.get_as(context, "/api/wait-until?await=1", &[]).await;
    (response.status().as_u16(), json(response).await)
}

/// Waits for `context`'s end; its one log line, which must have come before that end.
async fn its_only_line(ipc: &Ipc, context: &Context) -> LogLine {
    let ends = ipc.wait_for_ends(1, Duration::from_secs(10)).await;
    let (_, ended_at) = ends.iter().find(|(c, _)| c == context).expect("its end");
    let logs = ipc.logs();
    let lines = logs_of(&logs, context);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].at <= *ended_at, "its line came after its end");
    lines[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_production_an_awaited_write_is_stored_and_in_its_request_s_log_before_its_end() {
    within(TEST_LIMIT, "an awaited fire in production mode", async {
        let (redis, _fake, app, ipc) =
            behind_the_double_in_production(Duration::from_millis(50), &[]).await;
        let context = Context::new(1);
        let (status, receipt) = fire_awaited_as(&app, &context).await;
        assert_eq!(status, 200, "{receipt}");
        let id = stored_receipt(&receipt, "upstash");
        // Storage answers 50 ms late: the time is the server's, and it includes that wait.
        let write_ms = receipt["writeMs"].as_f64().unwrap_or_default();
        assert!(write_ms >= 50.0, "{receipt}");
        let stored = redis.ids();
        assert_eq!(
            stored,
            std::slice::from_ref(&id),
            "stored before the answer"
        );

        let line = its_only_line(&ipc, &context).await;
        assert_eq!(line.level, "info");
        assert!(line.text.contains(&id), "{:?}", line.text);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_production_a_failed_awaited_write_answers_503_and_logs_its_failure_line() {
    within(TEST_LIMIT, "a failed awaited fire in production", async {
        // Deployed with no storage settings: every write fails, naming what to set.
        let (app, ipc) = App::start_in_production(MAIN, &[("VERCEL", "1")]).await;
        let context = Context::new(7);
        let (status, body) = fire_awaited_as(&app, &context).await;
        assert_eq!(status, 503, "{body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.starts_with("storage is not configured"), "{body}");

        let line = its_only_line(&ipc, &context).await;
        assert_eq!(line.level, "error");
        let records = records_of(&failure_lines(std::slice::from_ref(&line.text)));
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["id"], body["id"]);
    })
    .await;
}

#[tokio::test]
async fn sigterm_during_an_awaited_write_still_stores_it_before_exiting() {
    within(TEST_LIMIT, "an awaited write drained", async {
        let (redis, fake, mut app) = behind_the_double(&[]).await;
        let held = fake.hold();
        let client = app.http.clone();
        let url = app.url("/api/wait-until?await=1");
        // Its answer may never come (the runtime closes connections at shutdown); its record
        // must be stored all the same, and its line printed, before the process exits.
        let awaiting = tokio::spawn(async move { client.get(url).send().await });
        fake.wait_for_calls(1, Duration::from_secs(5)).await;

        let status = app
            .sigterm_while_held(held, || {
                assert!(redis.ids().is_empty(), "stored while held")
            })
            .await;
        assert!(status.success(), "{status:?}");
        let stored = app.stored_ids();
        assert_eq!(stored.len(), 1, "no success line for the awaited record");
        assert_eq!(redis.ids(), stored, "its record in storage");
        awaiting.abort();
    })
    .await;
}
