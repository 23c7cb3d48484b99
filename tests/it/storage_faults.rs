//! Background writes and reads when storage misbehaves, through the fault-injecting Upstash
//! test double (`testkit::fake_upstash`, real Redis behind it). Every fired request must end
//! stored or as exactly one replayable failure line.
//!
//! Storage that must still be working when the test looks is held (`FakeUpstash::hold`), not
//! slowed: what the test checks meanwhile cannot race it.
//!
//! The tests that read the lines the writer logs (success and failure lines), or signal the
//! process, start the real binary; the others build the app in process.

use crate::{MAIN, behind_the_double, in_process, quiet_cores};
use std::time::{Duration, Instant};
use testkit::app::App;
use testkit::fake_upstash::{FakeUpstash, Fault, OVERSIZED_BYTES, READ_TOKEN, WRITE_TOKEN};
use testkit::redis::{RECENT, Redis};
use testkit::{TEST_LIMIT, eventually, within};
use wait_until::store::upstash::REQUEST_TIMEOUT;

/// The key of the list the versions before the sorted set kept their records in.
const OLDER_VERSIONS_KEY: &str = "requests:recent";

/// A record as an older version stored it.
const OLD_RECORD: &str =
    r#"{"id":"00000000-0001-7000-8000-000000000000","timestamp":1,"method":"GET","userAgent":"x"}"#;

/// Real Redis behind the Upstash test double, and the app built in process pointed at it.
async fn in_process_behind_the_double() -> (Redis, FakeUpstash, in_process::App) {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    let app = in_process::App::new(&fake.env());
    (redis, fake, app)
}

/// Write attempts the double received: each is one call, the pipeline of `ZADD` and the trim.
fn attempts(fake: &FakeUpstash) -> usize {
    fake.seen().iter().filter(|s| s.is_write()).count()
}

#[tokio::test]
async fn slow_storage_does_not_delay_the_response() {
    let _timed = quiet_cores().await;
    within(TEST_LIMIT, "a receipt, then the held write", async {
        let (redis, fake, app) = in_process_behind_the_double().await;
        // Storage that does not answer at all until released: the receipt cannot have waited for it.
        let held = fake.hold();
        let started = Instant::now();
        let id = app.fire().await;
        let answered_in = started.elapsed();
        assert!(
            answered_in < Duration::from_millis(100),
            "answered in {answered_in:?}"
        );
        let write = fake.wait_for_calls(1, Duration::from_secs(5)).await;
        assert_eq!(write[0].written_ids(), [id.as_str()], "the write went out");
        assert!(fake.answered().is_empty(), "storage answered while held");
        assert_eq!(redis.card(), 0, "the write is still waiting on storage");
        held.release();
        eventually(Duration::from_secs(5), "the held write", || async {
            redis.card() == 1
        })
        .await;
        assert!(redis.entries()[0].contains(&id));
    })
    .await;
}

#[tokio::test]
async fn a_500_then_success_stores_the_record_exactly_once() {
    within(TEST_LIMIT, "a record stored on the 2nd attempt", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        fake.fail_next([Fault::Status(500)]);
        let id = app.fire().await;
        app.wait_for_stdout(
            |l| l.contains(&id) && l.contains("2 attempts"),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(redis.entries().len(), 1);
        assert!(redis.entries()[0].contains(&id));
        assert_eq!(attempts(&fake), 2);
        assert!(app.failure_lines().is_empty());
    })
    .await;
}

#[tokio::test]
async fn transient_failures_are_retried_a_bounded_number_of_times() {
    within(TEST_LIMIT, "the failure line after 4 attempts", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        fake.fail_next([
            Fault::Status(503),
            Fault::Drop,
            Fault::Status(429),
            Fault::Status(502),
            Fault::Status(500),
        ]);
        let id = app.fire().await;
        let lines = app.wait_for_failure_lines(1, Duration::from_secs(10)).await;
        assert_eq!(lines[0]["items"][0]["id"], id.as_str());
        assert_eq!(lines[0]["attempts"], 4);
        assert_eq!(lines[0]["error"], "storage answered HTTP 502");
        assert_eq!(attempts(&fake), 4);
        assert_eq!(redis.card(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_command_error_inside_a_200_is_a_failure_with_the_record() {
    within(TEST_LIMIT, "the failure line of a command error", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        fake.fail_next([Fault::CommandError("ERR injected command failure")]);
        let id = app
            .fire_with(&[
                ("user-agent", "kept for replay"),
                ("x-vercel-ip-country", "IT"),
            ])
            .await;
        let lines = app.wait_for_failure_lines(1, Duration::from_secs(5)).await;
        let line = &lines[0];
        assert_eq!(line["event"], "wait_until.write_failed");
        assert_eq!(line["attempts"], 1, "a command error is not retried");
        assert_eq!(
            line["error"],
            "storage command failed: ERR injected command failure"
        );
        assert_eq!(line["items"][0]["id"], id.as_str());
        assert_eq!(line["items"][0]["userAgent"], "kept for replay");
        assert_eq!(line["items"][0]["country"], "IT");
        assert_eq!(redis.card(), 0);
    })
    .await;
}

/// A refused token is final: one attempt per batch, and the failure line names the variable to
/// check and where it was read.
#[tokio::test]
async fn a_wrong_token_is_not_retried_and_leaves_a_failure_line_naming_it() {
    within(TEST_LIMIT, "three failure lines naming a token", async {
        let (_redis, fake, app) =
            behind_the_double(&[("KV_REST_API_TOKEN", "not-the-token")]).await;
        let mut ids = Vec::new();
        for n in 1..=3 {
            ids.push(app.fire().await);
            app.wait_for_failure_lines(n, Duration::from_secs(5)).await;
        }
        let lines = app.failure_lines();
        for (line, id) in lines.iter().zip(&ids) {
            assert_eq!(line["items"][0]["id"], id.as_str());
            assert_eq!(line["attempts"], 1);
            assert_eq!(
                line["error"],
                "storage refused the token (HTTP 401): check KV_REST_API_TOKEN in the environment"
            );
        }
        assert_eq!(attempts(&fake), 3, "one attempt per batch, never retried");
        assert_eq!(fake.seen().len(), 3, "one call per attempt, nothing else");
        let everything = [app.stdout(), app.stderr()].concat().join("\n");
        assert!(
            !everything.contains("not-the-token"),
            "a token reached the logs"
        );
    })
    .await;
}

#[tokio::test]
async fn unreachable_storage_leaves_a_failure_line_with_the_record() {
    within(TEST_LIMIT, "the failure line of a closed port", async {
        let closed = format!("http://127.0.0.1:{}", testkit::free_port());
        let app = App::start(
            MAIN,
            &[
                ("KV_REST_API_URL", &closed),
                ("KV_REST_API_TOKEN", WRITE_TOKEN),
            ],
        )
        .await;
        let id = app.fire().await;
        let lines = app.wait_for_failure_lines(1, Duration::from_secs(10)).await;
        assert_eq!(lines.len(), 1, "exactly one line per record");
        assert_eq!(lines[0]["items"][0]["id"], id.as_str());
        assert_eq!(lines[0]["attempts"], 4);
        assert_eq!(lines[0]["error"], "could not connect to storage");
        let (status, body) = app.recent().await;
        assert_eq!(status, 503);
        assert_eq!(body["error"], "could not connect to storage");
    })
    .await;
}

#[tokio::test]
async fn reads_carry_the_read_only_token_and_writes_the_write_token() {
    within(TEST_LIMIT, "a write and a read, with their tokens", async {
        let (redis, fake, app) = in_process_behind_the_double().await;
        let id = app.fire().await;
        eventually(Duration::from_secs(5), "the write", || async {
            redis.card() == 1
        })
        .await;
        assert_eq!(app.recent_ids().await, [id.as_str()]);
        let seen = fake.seen();
        let writes: Vec<_> = seen.iter().filter(|s| s.is_write()).collect();
        assert!(!writes.is_empty(), "a write: {seen:?}");
        for write in &writes {
            assert_eq!(
                write.authorization.as_deref(),
                Some(format!("Bearer {WRITE_TOKEN}").as_str())
            );
        }
        // Two commands in one call: the record added to the sorted set, scored by its time in
        // milliseconds, as the very text Redis now holds; then the set cut to its ten greatest.
        let write = writes[0];
        let stored = redis.entries().remove(0);
        let record: serde_json::Value = serde_json::from_str(&stored).expect("a record");
        let score = record["timestamp"]
            .as_u64()
            .expect("a timestamp")
            .to_string();
        assert_eq!(
            write.body,
            serde_json::json!([
                ["ZADD", RECENT, score, stored],
                ["ZREMRANGEBYRANK", RECENT, "0", "-11"],
            ])
        );
        assert_eq!(redis.cli(&["ZSCORE", RECENT, &stored]), score);
        assert_eq!(write.written_ids(), [id]);
        let read = seen.iter().find(|s| s.path == "/").expect("a read");
        assert_eq!(
            read.authorization.as_deref(),
            Some(format!("Bearer {READ_TOKEN}").as_str())
        );
        assert_eq!(
            read.body,
            serde_json::json!(["ZRANGE", RECENT, "0", "9", "REV"])
        );
    })
    .await;
}

/// What a key of another type under the app's key does: the fire's write fails at once (one
/// attempt: asking again cannot help) with a failure line whose error names the key and the two
/// ways out, and `/api/recent` answers a 502 with the same message.
async fn another_type_at_the_key(fake: &FakeUpstash, app: &App) {
    let id = app.fire().await;
    let lines = app.wait_for_failure_lines(1, Duration::from_secs(5)).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["items"][0]["id"], id.as_str());
    assert_eq!(lines[0]["attempts"], 1, "not retried: {}", lines[0]);
    assert_eq!(attempts(fake), 1);
    let error = lines[0]["error"].as_str().expect("an error").to_string();
    for named in [&format!("`{RECENT}`"), "delete", "WAIT_UNTIL_KEY"] {
        assert!(error.contains(named), "{named:?} in {error:?}");
    }
    let (status, body) = app.recent().await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], error.as_str(), "the read says the same");
    assert!(app.stored_ids().is_empty(), "reported stored");
}

#[tokio::test]
async fn a_string_at_the_key_fails_writes_at_once_naming_the_key_and_is_a_502_on_reads() {
    within(TEST_LIMIT, "a string at the key", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        redis.cli(&["SET", RECENT, "a string, not a sorted set"]);
        another_type_at_the_key(&fake, &app).await;
        assert_eq!(
            redis.cli(&["GET", RECENT]),
            "a string, not a sorted set",
            "the key was left as it was"
        );
    })
    .await;
}

/// A list under the app's key: what the versions before the sorted set kept (under another
/// name), and what the official example keeps. It is never read as records nor overwritten.
#[tokio::test]
async fn a_list_at_the_key_fails_writes_at_once_naming_the_key_and_is_left_untouched() {
    within(TEST_LIMIT, "a list at the key left untouched", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        redis.cli(&["RPUSH", RECENT, OLD_RECORD, "another entry"]);
        another_type_at_the_key(&fake, &app).await;
        assert_eq!(
            redis.cli(&["LRANGE", RECENT, "0", "-1"]),
            format!("{OLD_RECORD}\nanother entry"),
            "the list was left as it was"
        );
    })
    .await;
}

/// The list an older version kept, under its own key `requests:recent`: the app writes and reads
/// its sorted set beside it and never touches it.
#[tokio::test]
async fn an_older_version_s_list_is_left_alone_beside_the_sorted_set() {
    within(TEST_LIMIT, "a record stored beside the old list", async {
        let (redis, _fake, app) = behind_the_double(&[]).await;
        redis.cli(&["RPUSH", OLDER_VERSIONS_KEY, OLD_RECORD]);
        assert_ne!(RECENT, OLDER_VERSIONS_KEY);
        let id = app.fire().await;
        eventually(Duration::from_secs(5), "the write", || async {
            redis.card() == 1
        })
        .await;
        assert_eq!(app.recent_ids().await, [id]);
        assert_eq!(
            redis.cli(&["LRANGE", OLDER_VERSIONS_KEY, "0", "-1"]),
            OLD_RECORD
        );
        assert!(app.failure_lines().is_empty());
    })
    .await;
}

#[tokio::test]
async fn storage_errors_on_reads_are_503_or_502_json_never_500() {
    within(TEST_LIMIT, "reads' answers to each fault", async {
        let (_redis, fake, app) = in_process_behind_the_double().await;
        for (fault, status) in [
            (Fault::Status(500), 503),
            (Fault::Status(429), 503),
            (Fault::Drop, 503),
            (Fault::Malformed, 502),
            (Fault::Status(400), 502),
        ] {
            fake.fail_next([fault.clone()]);
            let response = app.get("/api/recent").await;
            assert_eq!(response.status, status, "{fault:?}");
            let body = response.json();
            let message = body["error"].as_str().expect("an error message");
            assert!(
                !message.contains("127.0.0.1") && !message.contains("token"),
                "{message}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_read_that_times_out_is_a_503() {
    let _timed = quiet_cores().await;
    within(TEST_LIMIT, "the 503 of a read storage holds", async {
        let (_redis, fake, app) = in_process_behind_the_double().await;
        // Storage that never answers: the app's own timeout is all that ends the read.
        let held = fake.hold();
        let started = Instant::now();
        let (status, body) = app.recent().await;
        let took = started.elapsed();
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "storage timed out");
        assert!(
            took >= REQUEST_TIMEOUT,
            "answered before the timeout: {took:?}"
        );
        assert!(
            took < REQUEST_TIMEOUT + Duration::from_secs(2),
            "answered {took:?} after the read"
        );
        // The double drops a held call whose client hung up: released, it runs nothing.
        held.release();
        let (status, body) = app.recent().await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(fake.seen().len(), 2);
        assert_eq!(fake.answered().len(), 1, "the abandoned read was run");
    })
    .await;
}

#[tokio::test]
async fn sigterm_waits_for_pending_writes_before_the_process_exits() {
    within(TEST_LIMIT, "five held writes drained", async {
        let (redis, fake, mut app) = behind_the_double(&[]).await;
        let held = fake.hold();
        for _ in 0..5 {
            app.fire().await;
        }
        fake.wait_for_calls(1, Duration::from_secs(5)).await;
        let status = app
            .sigterm_while_held(held, || {
                assert_eq!(redis.card(), 0, "the writes are still pending")
            })
            .await;
        assert!(status.success(), "{status:?}");
        assert_eq!(redis.card(), 5, "every pending write finished before exit");
    })
    .await;
}

#[tokio::test]
async fn on_vercel_without_settings_recent_is_a_503_and_fires_still_answer() {
    within(TEST_LIMIT, "a 503 and a failure line", async {
        let app = App::start(MAIN, &[("VERCEL", "1")]).await;
        app.assert_printed("storage problem:");
        let (status, body) = app.recent().await;
        assert_eq!(status, 503);
        assert!(
            body["error"].as_str().unwrap().contains("KV_REST_API_URL"),
            "{body}"
        );
        let id = app.fire().await;
        let lines = app.wait_for_failure_lines(1, Duration::from_secs(5)).await;
        assert_eq!(lines[0]["items"][0]["id"], id.as_str());
        assert_eq!(lines[0]["attempts"], 1);
    })
    .await;
}

/// What a reply the app cannot read ends in: a write's failure line after one attempt (a reply
/// that is too large is a refusal, not an outage), a read's `502`, both well within the client's
/// 3 s timeout; and the app goes on storing and reading.
async fn a_reply_it_cannot_read(fake: &FakeUpstash, app: &App, fault: Fault) {
    fake.fail_next([fault.clone()]);
    let id = app.fire().await;
    let lines = app.wait_for_failure_lines(1, Duration::from_secs(5)).await;
    assert_eq!(lines.len(), 1, "{fault:?}: {lines:?}");
    assert_eq!(lines[0]["items"][0]["id"], id.as_str(), "{fault:?}");
    assert_eq!(lines[0]["attempts"], 1, "{fault:?}: not retried");
    assert_eq!(
        lines[0]["error"], "storage sent a reply that is too large",
        "{fault:?}"
    );
    assert_eq!(
        app.stored_ids(),
        Vec::<String>::new(),
        "{fault:?}: reported stored"
    );

    fake.fail_next([fault.clone()]);
    let started = Instant::now();
    let (status, body) = app.recent().await;
    let took = started.elapsed();
    assert_eq!(status, 502, "{fault:?}: {body}");
    assert_eq!(
        body,
        serde_json::json!({"error": "storage sent a reply that is too large"}),
        "{fault:?}"
    );
    assert!(
        took < REQUEST_TIMEOUT,
        "{fault:?}: answered in {took:?}, not refused before the timeout"
    );
    assert_eq!(
        fake.answered().len(),
        0,
        "{fault:?}: the double ran a command"
    );

    // Still healthy: the next fire is stored and read back.
    let next = app.fire().await;
    app.wait_for_stdout(
        |line| line.starts_with(&format!("[after-response] wrote {next} ")),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(app.recent_ids().await, [next], "{fault:?}");
}

#[tokio::test]
async fn a_reply_over_1_mib_fails_the_write_and_is_a_502_on_reads() {
    within(TEST_LIMIT, "replies over 1 MiB refused", async {
        let (_redis, fake, app) = behind_the_double(&[]).await;
        assert_eq!(OVERSIZED_BYTES, (1 << 20) + 1);
        a_reply_it_cannot_read(&fake, &app, Fault::Oversized).await;
    })
    .await;
}

/// A reply that never ends is cut off once it passes 1 MiB, long before the 3 s timeout, and the
/// app hangs up on it.
#[tokio::test]
async fn a_reply_that_never_ends_is_cut_off_at_1_mib() {
    within(TEST_LIMIT, "endless replies refused", async {
        let (_redis, fake, app) = behind_the_double(&[]).await;
        a_reply_it_cannot_read(&fake, &app, Fault::Endless).await;
        eventually(Duration::from_secs(5), "the app to hang up", || async {
            fake.streaming() == 0
        })
        .await;
    })
    .await;
}
