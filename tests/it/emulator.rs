//! The app against real Redis behind the third-party Upstash emulator, and against Upstash's
//! official JavaScript client as a second, independent reader and writer.

use crate::MAIN;
use std::process::Command;
use std::time::Duration;
use testkit::app::App;
use testkit::emulator::{Emulator, TOKEN};
use testkit::lines::STORED;
use testkit::redis::{RECENT, Redis};
use testkit::{TEST_LIMIT, eventually, within, workspace_root};

async fn start() -> (Redis, Emulator, App) {
    let redis = Redis::start();
    let emulator = Emulator::start(&redis);
    let app = App::start(MAIN, &emulator.env()).await;
    (redis, emulator, app)
}

#[tokio::test]
async fn a_fire_is_stored_in_redis() {
    within(TEST_LIMIT, "a fire stored via the emulator", async {
        let (redis, _emulator, app) = start().await;
        app.assert_printed("storage: upstash");
        let id = app
            .fire_with(&[("user-agent", "emulated"), ("x-vercel-ip-country", "NL")])
            .await;
        eventually(Duration::from_secs(5), "LLEN 1", || async {
            redis.llen() == 1
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

#[tokio::test]
async fn twelve_fires_leave_ten_and_recent_reads_them_back_newest_first() {
    within(TEST_LIMIT, "twelve fires, ten read back", async {
        let (redis, _emulator, app) = start().await;
        let mut fired = Vec::new();
        for n in 1..=12 {
            let id = app.fire().await;
            // One write at a time: the next fire only once the app says this one is stored.
            app.wait_for_stdout(
                |line| line.starts_with(&format!("{STORED}{id} ")),
                Duration::from_secs(5),
            )
            .await;
            fired.push(id);
            assert_eq!(redis.calls("evalsha"), n, "one script call per write");
        }
        // Through the emulator too, the first write found the script missing and sent its text
        // once; every later one ran it by its SHA-1. Nothing pushes.
        assert_eq!(redis.calls("eval"), 1);
        assert_eq!(redis.calls("lpush"), 0);
        assert_eq!(redis.llen(), 10);
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
        let (redis, _emulator, app) = start().await;
        let id = app.fire().await;
        eventually(Duration::from_secs(5), "the write", || async {
            redis.llen() == 1
        })
        .await;
        redis.cli(&["LPUSH", RECENT, "not json at all"]);
        redis.cli(&["LPUSH", RECENT, r#"{"id":"x","timestamp":"soon"}"#]);
        redis.cli(&[
            "LPUSH",
            RECENT,
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

/// Runs tests/js/support/upstash-client.mjs, which uses `@upstash/redis`.
fn official_client(emulator: &Emulator, action: &str) -> String {
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
        let (redis, emulator, app) = start().await;
        let id = app
            .fire_with(&[
                ("user-agent", "written by rust"),
                ("x-vercel-ip-country", "BR"),
            ])
            .await;
        eventually(Duration::from_secs(5), "the write", || async {
            redis.llen() == 1
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
        let (_redis, emulator, app) = start().await;
        let written: serde_json::Value =
            serde_json::from_str(&official_client(&emulator, "write")).unwrap();
        let (status, body) = app.recent().await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["skipped"], 0);
        assert_eq!(body["requests"][0], written);
    })
    .await;
}
