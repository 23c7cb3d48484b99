//! Exactly once: whatever happens to the call that carries a record, and whoever writes it, the
//! sorted set ends up holding each record once, in id order, the ten newest.
//!
//! - A write that storage applied and whose answer was then lost (a 503, a dropped connection,
//!   an answer after the app's 3 s attempt timeout) is retried by the app with the same bytes;
//!   the retry finds the record stored and changes nothing. Injected by the Upstash test
//!   double, and by the fault proxy in front of the npm emulator, both after the commands ran
//!   on real Redis.
//! - The same failure lines replayed twice: the second run adds nothing and changes nothing.
//! - Three instances writing at once, and a fourth whose records failed meanwhile, replayed
//!   after the others settled: the set is the ten newest ids of everything fired.
//! - A replay of records older than the ten kept changes nothing.

use crate::{MAIN, behind_the_double, run_replay, ten_newest};
use std::time::Duration;
use testkit::app::App;
use testkit::emulator::Emulator;
use testkit::fake_upstash::{self, FakeUpstash, Fault};
use testkit::fault_proxy::{self, FaultProxy};
use testkit::redis::{RECENT, Redis};
use testkit::{TEST_LIMIT, eventually, lines, poll_for, within};
use wait_until::store::upstash::REQUEST_TIMEOUT;

/// How long a record may take to settle: a retry after a timed-out attempt takes just over the
/// 3 s timeout; a loaded two-core machine gets the rest.
const SETTLE_WITHIN: Duration = Duration::from_secs(20);

/// An answer that comes after the app gave up on the attempt.
const LATE: Duration = Duration::from_secs(REQUEST_TIMEOUT.as_secs() + 2);

/// The success line of `id`, once printed.
async fn success_line(app: &App, id: &str) -> String {
    let found = poll_for(SETTLE_WITHIN, || async {
        app.stdout()
            .into_iter()
            .find(|line| lines::stored_id(line) == Some(id))
    })
    .await;
    found.unwrap_or_else(|| {
        panic!(
            "no success line for {id} within {SETTLE_WITHIN:?}; stdout {:?}, stderr {:?}",
            app.stdout(),
            app.stderr()
        )
    })
}

/// Fires one record after `inject` has queued a fault that applies the next call and loses its
/// answer, and checks the record was stored exactly once: its success line reports the retry
/// (2 attempts), no failure line, the set holds it once, newest, above `stored_before`, and the
/// set was changed once (by the call whose answer was lost: the retry reached Redis, found the
/// record stored and changed nothing). Returns its id.
async fn stored_once_through(
    app: &App,
    redis: &Redis,
    inject: impl FnOnce(),
    stored_before: &[String],
) -> String {
    let (changes, writes) = (redis.changes(), redis.calls("zadd"));
    inject();
    let id = app.fire().await;
    let line = success_line(app, &id).await;
    assert!(
        line.contains(" (2 attempts, "),
        "the retry is reported: {line}"
    );
    assert_eq!(app.failure_lines(), Vec::<serde_json::Value>::new());
    let expected: Vec<String> = [std::slice::from_ref(&id), stored_before].concat();
    assert_eq!(redis.ids(), expected, "stored once, newest first");
    assert_eq!(
        redis.calls("zadd"),
        writes + 2,
        "the applied call and the retry both reached Redis"
    );
    assert_eq!(
        redis.changes(),
        changes + 1,
        "the set was changed by the applied call only (one member added), not by the retry"
    );
    id
}

/// Fires one record and waits for its success line; returns its id.
async fn fire_stored(app: &App) -> String {
    let id = app.fire().await;
    success_line(app, &id).await;
    id
}

/// The writes the double received that carried exactly `id`.
fn writes_of(fake: &FakeUpstash, id: &str) -> Vec<fake_upstash::Seen> {
    fake.seen()
        .into_iter()
        .filter(|seen| seen.written_ids() == [id])
        .collect()
}

/// The two calls that carried `id`, the applied one and the retry: the same bytes, so the retry
/// can only find the record stored.
fn applied_and_retried(fake: &FakeUpstash, id: &str) {
    let writes = writes_of(fake, id);
    assert_eq!(writes.len(), 2, "the applied call, the retry: {writes:?}");
    assert_eq!(
        writes[0].body, writes[1].body,
        "the retry sent the same commands, the record as the same bytes"
    );
}

#[tokio::test]
async fn the_first_write_applied_then_answered_503_is_retried_and_stored_once() {
    within(TEST_LIMIT, "a write applied, then a 503", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        let id = stored_once_through(
            &app,
            &redis,
            || fake.fail_next([Fault::AppliedThenStatus(503)]),
            &[],
        )
        .await;
        applied_and_retried(&fake, &id);
        assert_eq!(fake.seen().len(), 2, "nothing else was called");
    })
    .await;
}

#[tokio::test]
async fn a_write_applied_then_dropped_is_retried_and_stored_once() {
    within(TEST_LIMIT, "a write applied, then dropped", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        let first = fire_stored(&app).await;
        let id = stored_once_through(
            &app,
            &redis,
            || fake.fail_next([Fault::AppliedThenDrop]),
            &[first],
        )
        .await;
        applied_and_retried(&fake, &id);
    })
    .await;
}

#[tokio::test]
async fn a_write_applied_then_answered_after_the_timeout_is_retried_and_stored_once() {
    within(TEST_LIMIT, "a write applied, then answered late", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        let first = fire_stored(&app).await;
        let id = stored_once_through(
            &app,
            &redis,
            || fake.fail_next([Fault::AppliedThenLate(LATE)]),
            std::slice::from_ref(&first),
        )
        .await;
        applied_and_retried(&fake, &id);
        assert_eq!(app.recent_ids().await, [id, first]);
    })
    .await;
}

#[tokio::test]
async fn through_the_fault_proxy_before_the_emulator_each_lost_answer_is_retried_and_stored_once() {
    within(TEST_LIMIT, "lost answers before the emulator", async {
        let redis = Redis::start();
        let emulator = Emulator::start(&redis);
        let proxy = FaultProxy::start(&emulator.url).await;
        let app = App::start(MAIN, &proxy.env(emulator.env())).await;
        let mut stored = vec![fire_stored(&app).await];
        for fault in [
            fault_proxy::Fault::Status(503),
            fault_proxy::Fault::Drop,
            fault_proxy::Fault::Late(LATE),
        ] {
            let id = stored_once_through(&app, &redis, || proxy.fail_next([fault]), &stored).await;
            let carried: Vec<fault_proxy::Forwarded> = proxy
                .forwarded()
                .into_iter()
                .filter(|forwarded| forwarded.written_ids() == [id.as_str()])
                .collect();
            let met: Vec<_> = carried
                .iter()
                .map(|forwarded| (forwarded.upstream_status, forwarded.fault))
                .collect();
            assert_eq!(
                met,
                [(Some(200), Some(fault)), (Some(200), None)],
                "{fault:?}: applied by the emulator and answered as failed, then the retry"
            );
            stored.insert(0, id);
        }
        assert_eq!(app.recent_ids().await, stored);
    })
    .await;
}

/// Replays `log`, which must succeed reporting each of `reports`, and leave the set as it was,
/// byte for byte (scores included); returns how many changes Redis made meanwhile.
async fn replay_changes_nothing(
    redis: &Redis,
    fake: &FakeUpstash,
    log: &str,
    reports: &[&str],
) -> u64 {
    let set = || redis.cli(&["ZRANGE", RECENT, "0", "-1", "WITHSCORES"]);
    let (before, changes, writes) = (set(), redis.changes(), redis.calls("zadd"));
    let (ok, output) = run_replay(&fake.env(), log).await;
    assert!(ok, "{output}");
    for report in reports {
        assert!(output.contains(report), "{report:?} in {output}");
    }
    assert_eq!(redis.calls("zadd"), writes + 1, "the replay wrote once");
    assert_eq!(set(), before, "byte for byte the same set");
    redis.changes() - changes
}

#[tokio::test]
async fn the_same_failure_lines_replayed_twice_add_nothing_and_change_nothing_the_second_time() {
    within(TEST_LIMIT, "a log replayed twice", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        // One stored, three refused (a 401 is final at once: one failure line each), one
        // stored: the refused ones belong between the two.
        let oldest = fire_stored(&app).await;
        let mut refused = Vec::new();
        for n in 1..=3 {
            fake.fail_next([Fault::Status(401)]);
            refused.push(app.fire().await);
            app.wait_for_failure_lines(n, SETTLE_WITHIN).await;
        }
        let newest = fire_stored(&app).await;
        let failed = app.failed_records();
        let log = app.stderr().join("\n");

        let (ok, first) = run_replay(&fake.env(), &log).await;
        assert!(ok, "{first}");
        for report in [
            "found 3 items in 3 failure lines",
            "replay: wrote 3 items to upstash",
            "replay: 3 of them among the ten newest now",
        ] {
            assert!(first.contains(report), "{report:?} in {first}");
        }
        let mut expected = vec![newest];
        expected.extend(refused.iter().rev().cloned());
        expected.push(oldest);
        assert_eq!(redis.ids(), expected, "in id order, not on top");
        // The replayed records stored whole, as the failure lines hold them.
        let entries = redis.entries();
        for record in &failed {
            let entry = entries
                .iter()
                .find(|entry| entry.contains(record["id"].as_str().unwrap()))
                .expect("each replayed record stored");
            assert_eq!(
                &serde_json::from_str::<serde_json::Value>(entry).unwrap(),
                record
            );
        }

        let changes = replay_changes_nothing(
            &redis,
            &fake,
            &log,
            &[
                "replay: wrote 3 items to upstash",
                "replay: 3 of them among the ten newest now",
            ],
        )
        .await;
        assert_eq!(changes, 0, "the second replay changed nothing in Redis");
    })
    .await;
}

#[tokio::test]
async fn a_late_replay_of_records_older_than_the_ten_kept_changes_nothing() {
    within(TEST_LIMIT, "a replay of older records", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        for n in 1..=3 {
            fake.fail_next([Fault::Status(401)]);
            app.fire().await;
            app.wait_for_failure_lines(n, SETTLE_WITHIN).await;
        }
        let log = app.stderr().join("\n");
        let mut newer = Vec::new();
        for _ in 0..10 {
            newer.push(fire_stored(&app).await);
        }
        assert_eq!(redis.ids(), ten_newest(&newer));
        // New to the set for a moment (`ZADD` counts them), then cut by the same call.
        replay_changes_nothing(
            &redis,
            &fake,
            &log,
            &[
                "replay: wrote 3 items to upstash",
                "replay: 0 of them among the ten newest now",
            ],
        )
        .await;
    })
    .await;
}

/// Fires 30 records at `app`, three at a time (so that its writes carry several records at
/// once); their ids.
async fn fire_thirty(app: &App) -> Vec<String> {
    let ten = || async {
        let mut ids = Vec::with_capacity(10);
        for _ in 0..10 {
            ids.push(app.fire().await);
        }
        ids
    };
    let (x, y, z) = tokio::join!(ten(), ten(), ten());
    [x, y, z].concat()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_instances_at_once_and_a_fourth_replayed_late_leave_the_ten_newest_of_all() {
    within(TEST_LIMIT, "four instances and a late replay", async {
        let redis = Redis::start();
        let fake = FakeUpstash::start(&redis).await;
        let env = fake.env();
        let writers = [
            App::start(MAIN, &env).await,
            App::start(MAIN, &env).await,
            App::start(MAIN, &env).await,
        ];
        // The fourth instance's writes are refused (its write token was revoked); it reads as
        // the others do.
        let revoked = [env[0], ("KV_REST_API_TOKEN", "revoked-token"), env[2]];
        let refused = App::start(MAIN, &revoked).await;

        // All four fire at once, 30 each.
        let (mut first, second, third, mut failed) = tokio::join!(
            fire_thirty(&writers[0]),
            fire_thirty(&writers[1]),
            fire_thirty(&writers[2]),
            fire_thirty(&refused),
        );
        // Then one more from the refused instance, and one from a writer newer than it (ids
        // made in the same millisecond order at random), so that the late batch's newest
        // record belongs below the top of the set, not on it.
        failed.push(refused.fire().await);
        let last_failed = failed.last().unwrap().clone();
        loop {
            let id = writers[0].fire().await;
            first.push(id.clone());
            if id > last_failed {
                break;
            }
        }

        let fired = [first, second, third];
        for (n, (writer, ids)) in writers.iter().zip(&fired).enumerate() {
            eventually(
                SETTLE_WITHIN,
                &format!("writer {n}'s success lines"),
                || {
                    let done = writer.stored_ids().len();
                    async move { done >= ids.len() }
                },
            )
            .await;
            let mut reported = writer.stored_ids();
            reported.sort();
            let mut expected = ids.clone();
            expected.sort();
            assert_eq!(reported, expected, "writer {n}: each record stored once");
            assert_eq!(writer.failure_lines(), Vec::<serde_json::Value>::new());
        }
        let stored = fired.concat();
        eventually(
            SETTLE_WITHIN,
            "the refused instance's failure lines",
            || {
                let n = refused.failed_records().len();
                let fired = failed.len();
                async move { n >= fired }
            },
        )
        .await;
        let mut in_failure_lines: Vec<String> = refused
            .failed_records()
            .iter()
            .map(|record| record["id"].as_str().expect("an id").to_string())
            .collect();
        in_failure_lines.sort();
        let mut expected_failed = failed.clone();
        expected_failed.sort();
        assert_eq!(
            in_failure_lines, expected_failed,
            "each refused record in one failure line"
        );
        assert_eq!(redis.ids(), ten_newest(&stored), "before the replay");

        // The late batch, after the others settled.
        let log = refused.stderr().join("\n");
        let everything: Vec<String> = [&stored[..], &failed[..]].concat();
        let expected = ten_newest(&everything);
        let added = expected.iter().filter(|id| failed.contains(id)).count();
        assert!(
            (1..10).contains(&added) && expected[0] != last_failed,
            "the late batch interleaves: {added} of its records among the ten newest"
        );
        let (ok, output) = run_replay(&fake.env(), &log).await;
        assert!(ok, "{output}");
        for report in [
            format!("found {} items in ", failed.len()),
            format!("replay: wrote {} items to upstash\n", failed.len()),
            format!("replay: {added} of them among the ten newest now"),
        ] {
            assert!(output.contains(&report), "{report:?} in {output}");
        }

        assert_eq!(redis.ids(), expected, "the ten newest of everything fired");
        for app in writers.iter().chain([&refused]) {
            assert_eq!(app.recent_ids().await, expected);
        }
    })
    .await;
}
