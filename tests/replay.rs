//! The failure line is replayable: records the app could not store, fed from its logs to the
//! `replay` binary, end up in Redis, newest first.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::app::App;
use support::fake_upstash::{FakeUpstash, Fault};
use support::redis::Redis;

fn replay(fake: &FakeUpstash, log: &str) -> (bool, String) {
    let workdir = support::app::TempDir::new("replay");
    let mut child = Command::new(env!("CARGO_BIN_EXE_replay"))
        .envs(fake.env())
        .env_remove("UPSTASH_REDIS_REST_URL")
        .env_remove("WAIT_UNTIL_STORE")
        .current_dir(&workdir.0)
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

// Multi-threaded: the fake keeps serving while this thread waits for `replay`.
#[tokio::test(flavor = "multi_thread")]
async fn failed_records_replayed_from_the_logs_land_in_redis_newest_first() {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = App::start(&env).await;
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
    assert!(output.contains("stored 3 records"), "{output}");
    let stored: Vec<String> = redis
        .entries()
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let newest_first: Vec<String> = fired.iter().rev().cloned().collect();
    assert_eq!(stored, newest_first);
}

// Multi-threaded: the fake keeps serving while this thread waits for `replay`.
#[tokio::test(flavor = "multi_thread")]
async fn replay_fails_loudly_when_storage_still_refuses() {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    redis.cli(&["SET", "requests:recent", "not a list"]);
    let line = r#"{"event":"wait_until.write_failed","storage":"upstash","key":"requests:recent","record":{"id":"a","timestamp":1,"method":"GET","userAgent":"x"},"attempts":1,"error":"e"}"#;
    let (ok, output) = replay(&fake, line);
    assert!(!ok);
    assert!(
        output.contains("stored 0 of 1") && output.contains("WRONGTYPE"),
        "{output}"
    );
}
