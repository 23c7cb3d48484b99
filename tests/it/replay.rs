//! The failure line is replayable: records the app could not store, fed from its logs to the
//! `replay` binary, are written to Redis in one call and read newest first, and replaying the
//! same logs again adds nothing. Both from the raw stderr of a local run and
//! from production-mode log lines exported the way the pinned CLI prints them
//! (`vercel logs --deployment … --json`: newest first, one `{"type":"log","data":{…}}` per
//! entry with the text in `data.message`, a closing `{"type":"summary",…}`).

use crate::{behind_the_double, behind_the_double_in_production, run_replay};
use std::time::Duration;
use testkit::fake_upstash::{FakeUpstash, Fault};
use testkit::redis::{RECENT, Redis};
use testkit::vercel_ipc::Context;
use testkit::{TEST_LIMIT, within};

#[tokio::test(flavor = "multi_thread")]
async fn failed_records_replayed_from_the_logs_land_in_redis_newest_first() {
    within(TEST_LIMIT, "failed records replayed to Redis", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        let mut fired = Vec::new();
        for _ in 0..3 {
            fake.fail_next([Fault::CommandError("ERR injected")]);
            fired.push(app.fire().await);
            // One at a time, so the log order is the firing order.
            let n = fired.len();
            app.wait_for_failure_lines(n, Duration::from_secs(5)).await;
        }
        assert_eq!(redis.card(), 0);

        let log = format!("some other line\n{}\n", app.stderr().join("\n"));
        let calls_before = fake.seen().len();
        let (ok, output) = run_replay(&fake.env(), &log).await;
        assert!(ok, "{output}");
        assert_lines(
            &output,
            &[
                "found 3 items in 3 failure lines (0 invalid, 0 unreadable, 0 duplicates skipped)",
                "replay: wrote 3 items to upstash",
                "replay: 3 of them among the ten newest now",
            ],
        );
        // Fired one after another: newest first is the reverse of the firing order.
        let newest_first: Vec<String> = fired.iter().rev().cloned().collect();
        assert_eq!(redis.ids(), newest_first);
        // One write, whatever the number of records (one attempt), then the read that checks
        // what stayed.
        assert_eq!(
            calls_since(&fake, calls_before),
            ["write", "read"],
            "{:?}",
            fake.seen()
        );

        // Replayed again, the same logs add nothing and change nothing.
        let changes = redis.changes();
        let (ok, output) = run_replay(&fake.env(), &log).await;
        assert!(ok, "{output}");
        assert_lines(
            &output,
            &[
                "replay: wrote 3 items to upstash",
                "replay: 3 of them among the ten newest now",
            ],
        );
        assert_eq!(redis.ids(), newest_first);
        assert_eq!(
            redis.changes(),
            changes,
            "the second replay changed nothing"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_fails_loudly_when_storage_still_refuses() {
    within(TEST_LIMIT, "a replay that storage refuses", async {
        let redis = Redis::start();
        let fake = FakeUpstash::start(&redis).await;
        redis.cli(&["SET", RECENT, "not a sorted set"]);
        // A line of an earlier version (with its `key` field), read as any other.
        let line = r#"{"event":"wait_until.write_failed","storage":"upstash","key":"requests:recent","count":1,"records":[{"id":"00000000-0001-7000-8000-000000000000","timestamp":1,"method":"GET","userAgent":"x"}],"attempts":1,"error":"e"}"#;
        let (ok, output) = run_replay(&fake.env(), line).await;
        assert!(!ok);
        assert_lines(
            &output,
            &[
                "replay: upstash failed after 1 attempt ",
                &format!("`{RECENT}`"),
                "WAIT_UNTIL_KEY",
                "nothing was lost, run it again",
            ],
        );
        assert!(!output.contains("wrote"), "{output}");
        assert_eq!(
            redis.cli(&["GET", RECENT]),
            "not a sorted set",
            "the key was left as it was"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn records_from_a_cli_json_export_of_production_logs_land_in_time_order() {
    within(TEST_LIMIT, "an export of logs replayed", async {
        let (redis, fake, app, ipc) = behind_the_double_in_production(Duration::ZERO, &[]).await;
        let mut fired = Vec::new();
        for n in 1..=4 {
            fake.fail_next([Fault::CommandError("ERR injected")]);
            fired.push(app.fire_as(&Context::new(n), &[]).await);
            ipc.wait_for_ends(fired.len(), Duration::from_secs(5)).await;
        }
        assert_eq!(redis.card(), 0);

        // The export, as the CLI prints it: newest entry first, then the summary.
        let mut export = vec![
            r#"{"type":"warning","reason":"limit_clamped","message":"--limit was lowered"}"#
                .to_string(),
        ];
        for (n, line) in ipc.logs().iter().enumerate().rev() {
            let context = line.context.as_ref().expect("attributed");
            export.push(
                serde_json::json!({
                    "type": "log",
                    "data": {
                        "timestamp": format!("2026-11-23T10:15:0{n}.512Z"),
                        "projectId": "prj_local",
                        "requestId": format!("iad1::{}", context.invocation_id),
                        "deploymentId": "dpl_local",
                        "requestPath": "/api/wait-until",
                        "requestMethod": "GET",
                        "source": "function",
                        "isSystemLog": false,
                        "level": line.level,
                        "message": line.text,
                        "truncated": false,
                    },
                })
                .to_string(),
            );
        }
        export.push(
            r#"{"type":"summary","recordsReturned":4,"pagination":{"hasMore":false,"next":null},"excludedIntervals":[]}"#
                .to_string(),
        );
        let (ok, output) = run_replay(&fake.env(), &export.join("\n")).await;
        assert!(ok, "{output}");
        assert_lines(
            &output,
            &[
                "found 4 items in 4 failure lines",
                "replay: wrote 4 items to upstash",
                "replay: 4 of them among the ten newest now",
            ],
        );
        // Ordered by time, then by id (which sorts as the time each record was made): the set
        // reads newest first, the reverse of the firing order, whatever order the export listed
        // them in.
        let newest_first: Vec<String> = fired.iter().rev().cloned().collect();
        assert_eq!(redis.ids(), newest_first);

        // Replaying an export with no failure lines stores nothing and says so, with a failure.
        let (ok, output) = run_replay(&fake.env(), &export[0]).await;
        assert!(!ok && output.contains("nothing to write"), "{output}");
    })
    .await;
}

/// Each of `lines` is in `output`.
#[track_caller]
fn assert_lines(output: &str, lines: &[&str]) {
    for line in lines {
        assert!(output.contains(line), "{line:?} in {output}");
    }
}

/// What the double received after its first `from` calls: `write` (`ZADD` and the trim, one
/// per attempt), `read`, or the path of anything else.
fn calls_since(fake: &FakeUpstash, from: usize) -> Vec<String> {
    fake.seen()[from..]
        .iter()
        .map(|seen| match (seen.is_write(), seen.body[0].as_str()) {
            (true, _) => "write".to_string(),
            (false, Some("ZRANGE")) => "read".to_string(),
            _ => seen.path.clone(),
        })
        .collect()
}
