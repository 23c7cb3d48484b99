//! The failure line is replayable: records the app could not store, fed from its logs to the
//! `replay` binary, end up in Redis, newest first. Both from the raw stderr of a local run and
//! from production-mode log lines exported the way the pinned CLI prints them
//! (`vercel logs --deployment … --json`: newest first, one `{"type":"log","data":{…}}` per
//! entry with the text in `data.message`, a closing `{"type":"summary",…}`).

use crate::{behind_the_double, behind_the_double_in_production};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::fake_upstash::{FakeUpstash, Fault};
use testkit::redis::{RECENT, Redis};
use testkit::vercel_ipc::Context;
use testkit::{TEST_LIMIT, TempDir, within};

fn replay(fake: &FakeUpstash, log: &str) -> (bool, String) {
    let workdir = TempDir::new("replay");
    let mut child = Command::new(env!("CARGO_BIN_EXE_replay"))
        .envs(fake.env())
        .env_remove("UPSTASH_REDIS_REST_URL")
        .env_remove("WAIT_UNTIL_STORE")
        .current_dir(workdir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start replay");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(log.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

// Multi-threaded: the double keeps serving while this thread waits for `replay`.
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
        assert_eq!(redis.llen(), 0);

        let log = app.stderr().join("\n");
        let (ok, output) = replay(&fake, &format!("some other line\n{log}\n"));
        assert!(ok, "{output}");
        assert!(
            output.contains(
                "found 3 records in 3 failure lines (0 invalid, 0 unreadable, 0 duplicates skipped)"
            ) && output.contains("stored 3 records"),
            "{output}"
        );
        let newest_first: Vec<String> = fired.iter().rev().cloned().collect();
        assert_eq!(stored_ids(&redis), newest_first);
    })
    .await;
}

// Multi-threaded: the double keeps serving while this thread waits for `replay`.
#[tokio::test(flavor = "multi_thread")]
async fn replay_fails_loudly_when_storage_still_refuses() {
    within(TEST_LIMIT, "a replay that storage refuses", async {
        let redis = Redis::start();
        let fake = FakeUpstash::start(&redis).await;
        redis.cli(&["SET", RECENT, "not a list"]);
        let line = r#"{"event":"wait_until.write_failed","storage":"upstash","key":"requests:recent","count":1,"records":[{"id":"a","timestamp":1,"method":"GET","userAgent":"x"}],"attempts":1,"error":"e"}"#;
        let (ok, output) = replay(&fake, line);
        assert!(!ok);
        assert!(
            output.contains("stored 0 of 1") && output.contains("WRONGTYPE"),
            "{output}"
        );
    })
    .await;
}

// Multi-threaded: the double keeps serving while this thread waits for `replay`.
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
        assert_eq!(redis.llen(), 0);

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
        let (ok, output) = replay(&fake, &export.join("\n"));
        assert!(ok, "{output}");
        assert!(
            output.contains("found 4 records in 4 failure lines")
                && output.contains("stored 4 records"),
            "{output}"
        );
        // Stored oldest first, so the list reads newest first: the reverse of the firing order.
        let newest_first: Vec<String> = fired.iter().rev().cloned().collect();
        assert_eq!(stored_ids(&redis), newest_first);

        // Replaying an export with no failure lines stores nothing and says so, with a failure.
        let (ok, output) = replay(&fake, &export[0]);
        assert!(!ok && output.contains("nothing to store"), "{output}");
    })
    .await;
}

fn stored_ids(redis: &Redis) -> Vec<String> {
    redis
        .entries()
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}
