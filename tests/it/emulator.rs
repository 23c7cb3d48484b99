//! The app against real Redis behind the third-party Upstash emulator, and against Upstash's
//! official JavaScript client as a second, independent reader and writer.

use crate::{MAIN, in_process};
use std::process::Command;
use std::time::Duration;
use testkit::app::App;
use testkit::emulator::{Emulator, TOKEN};
use testkit::redis::{RECENT, Redis};
use testkit::{TEST_LIMIT, eventually, within, workspace_root};

/// A score above any record's (a time in milliseconds, some 285,000 years from now).
const ABOVE_EVERY_RECORD: &str = "9007199254740991";

/// The real binary behind the emulator: for a test that reads the lines the writer logs.
async fn start() -> (Redis, Emulator, App) {
    let redis = Redis::start();
    let emulator = Emulator::start(&redis);
    let app = App::start(MAIN, &emulator.env()).await;
    (redis, emulator, app)
}

/// The app built in process behind the emulator.
fn start_in_process() -> (Redis, Emulator, in_process::App) {
    let redis = Redis::start();
    let emulator = Emulator::start(&redis);
    let app = in_process::App::new(&emulator.env());
    (redis, emulator, app)
}

#[tokio::test]
async fn a_fire_is_stored_in_redis() {
    within(TEST_LIMIT, "a fire stored via the emulator", async {
        let (redis, _emulator, app) = start_in_process();
        app.assert_printed("storage: upstash");
        let id = app
            .fire_with(&[("user-agent", "emulated"), ("x-vercel-ip-country", "NL")])
            .await;
        eventually(Duration::from_secs(5), "ZCARD 1", || async {
            redis.card() == 1
        })
        .await;
        let stored: serde_json::Value = serde_json::from_str(&redis.entries()[0]).unwrap();
        assert_eq!(stored["id"], id.as_str());
        assert_eq!(stored["userAgent"], "emulated");
        assert_eq!(stored["country"], "NL");
        assert_eq!(stored["flag"], "🇳🇱");
    })
    .await;
}

/// What people give a local emulator: a token of one letter. It is taken out of the app's
/// messages only, never out of the emulator's replies (`"result"` holds an `r`): writes and
/// awaited writes are stored, and `/api/recent` reads them back.
#[tokio::test]
async fn a_token_of_one_letter_works_for_writes_and_reads() {
    within(TEST_LIMIT, "fires with the token `r`", async {
        let redis = Redis::start();
        let emulator = Emulator::start_with_token(&redis, "r");
        let app = in_process::App::new(&emulator.env());
        let answer = app.request("GET", "/api/wait-until?await=1", &[]).await;
        assert_eq!(answer.status, 200, "{}", answer.json());
        let later = app.fire().await;
        eventually(Duration::from_secs(5), "both records in Redis", || async {
            redis.card() == 2
        })
        .await;
        let awaited = answer.json()["id"].as_str().unwrap().to_string();
        assert_eq!(app.recent_ids().await, [later, awaited]);
    })
    .await;
}

#[tokio::test]
async fn twelve_fires_leave_ten_and_recent_reads_them_back_newest_first() {
    within(TEST_LIMIT, "twelve fires, ten read back", async {
        let (redis, _emulator, app) = start_in_process();
        let mut fired = Vec::new();
        // What ran before the app's first call (the test's own `PING` that waited for Redis).
        let before = redis.billed();
        for n in 1..=12 {
            let id = app.fire().await;
            // One write at a time: the next fire only once this one's pipeline ran to its end,
            // the trim. Watched through `INFO` alone, which is not counted as billed (reading
            // the set would be).
            eventually(Duration::from_secs(5), "the write's trim", || async {
                redis.calls("zremrangebyrank") >= n
            })
            .await;
            fired.push(id);
            // What Upstash bills: two commands a write (`ZADD`, then the trim), nothing else.
            assert_eq!(redis.calls("zadd"), n, "one ZADD per write");
            assert_eq!(
                redis.billed() - before,
                2 * n,
                "two billed commands per write: {}",
                redis.cli(&["INFO", "commandstats"])
            );
        }
        assert_eq!(redis.card(), 10);
        let mut sorted = fired.clone();
        sorted.sort();
        assert_eq!(sorted, fired, "ids sort as the fires were made");
        let expected: Vec<String> = fired.iter().rev().take(10).cloned().collect();
        assert_eq!(app.recent_ids().await, expected);
        let (_, body) = app.recent().await;
        assert_eq!(body["storage"], "upstash");
    })
    .await;
}

#[tokio::test]
async fn corrupt_entries_are_skipped_and_counted() {
    within(TEST_LIMIT, "recent skipping corrupt entries", async {
        let (redis, _emulator, app) = start_in_process();
        let id = app.fire().await;
        eventually(Duration::from_secs(5), "the write", || async {
            redis.card() == 1
        })
        .await;
        // Scored above any record, so that they are read first.
        redis.cli(&["ZADD", RECENT, ABOVE_EVERY_RECORD, "not json at all"]);
        redis.cli(&[
            "ZADD",
            RECENT,
            ABOVE_EVERY_RECORD,
            r#"{"id":"x","timestamp":"soon"}"#,
        ]);
        redis.cli(&[
            "ZADD",
            RECENT,
            ABOVE_EVERY_RECORD,
            &format!(r#"{{"id":"big","userAgent":"{}"}}"#, "a".repeat(10_000)),
        ]);
        let (status, body) = app.recent().await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["skipped"], 3);
        assert_eq!(body["requests"].as_array().unwrap().len(), 1);
        assert_eq!(body["requests"][0]["id"], id.as_str());
    })
    .await;
}

/// A list at the key, through the emulator: the write fails at once (one attempt), and the read,
/// whose failed command the emulator answers with an HTTP 500 of its own (not as Upstash does),
/// is still a 502 naming the key, not an outage; both name the key and what to do, and the list
/// is left as it was.
#[tokio::test]
async fn a_list_at_the_key_fails_writes_at_once_and_reads_with_a_502_naming_it() {
    within(TEST_LIMIT, "a list at the key, emulated", async {
        let (redis, _emulator, app) = start().await;
        redis.cli(&["RPUSH", RECENT, "an older version's entry"]);
        let id = app.fire().await;
        let lines = app.wait_for_failure_lines(1, Duration::from_secs(5)).await;
        assert_eq!(lines[0]["items"][0]["id"], id.as_str());
        assert_eq!(lines[0]["attempts"], 1, "not retried: {}", lines[0]);
        assert_eq!(redis.calls("zadd"), 1);
        let error = lines[0]["error"].as_str().unwrap_or_default();
        for named in [&format!("`{RECENT}`"), "WAIT_UNTIL_KEY"] {
            assert!(error.contains(named), "{named:?} in {error:?}");
        }
        let (status, body) = app.recent().await;
        assert_eq!(status, 502, "{body}");
        assert_eq!(body["error"], error, "the read says the same");
        assert_eq!(
            redis.cli(&["LRANGE", RECENT, "0", "-1"]),
            "an older version's entry"
        );
    })
    .await;
}

/// Runs tests/js/support/upstash-client.mjs, which uses `@upstash/redis`.
fn official_client(emulator: &Emulator, action: &str) -> String {
    // The key is the client's own constant: it must be the app's.
    let client =
        std::fs::read_to_string(workspace_root().join("tests/js/support/upstash-client.mjs"))
            .expect("the client script");
    assert!(
        client.contains(&format!(r#"const KEY = "{RECENT}";"#)),
        "upstash-client.mjs names another key than {RECENT}"
    );
    let script = workspace_root().join("tests/js/support/upstash-client.mjs");
    let output = Command::new("node")
        .arg(script)
        .arg(action)
        .env("UPSTASH_URL", &emulator.url)
        .env("UPSTASH_TOKEN", TOKEN)
        .output()
        .unwrap_or_else(|e| {
            panic!("node could not run the official client ({e}); run `cargo xtask provision`")
        });
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[tokio::test]
async fn the_official_client_reads_what_we_write() {
    within(TEST_LIMIT, "our record read by @upstash/redis", async {
        let (redis, emulator, app) = start_in_process();
        let id = app
            .fire_with(&[
                ("user-agent", "written by rust"),
                ("x-vercel-ip-country", "BR"),
            ])
            .await;
        eventually(Duration::from_secs(5), "the write", || async {
            redis.card() == 1
        })
        .await;
        let read: serde_json::Value =
            serde_json::from_str(&official_client(&emulator, "read")).unwrap();
        assert_eq!(read[0]["id"], id.as_str());
        assert_eq!(read[0]["userAgent"], "written by rust");
        assert_eq!(read[0]["flag"], "🇧🇷");
    })
    .await;
}

#[tokio::test]
async fn we_read_what_the_official_client_writes() {
    within(TEST_LIMIT, "the official client's record read", async {
        let (_redis, emulator, app) = start_in_process();
        let written: serde_json::Value =
            serde_json::from_str(&official_client(&emulator, "write")).unwrap();
        let (status, body) = app.recent().await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["skipped"], 0);
        assert_eq!(body["requests"][0], written);
    })
    .await;
}
