//! Settings as a user writes them: the Upstash URL and tokens come from one source and one
//! family, values are trimmed, and what cannot work is refused at start-up naming the variable
//! and where it was read, never its value. The full table of cases is the unit test in
//! `src/config/tests.rs`; these prove the app reads it so, built in process where only its
//! start-up lines and answers are looked at, and as the real binary where its logs are, or what
//! only a process is given (a `.env.local` in its working directory, a value that is not Unicode).

use crate::{MAIN, behind_the_double, in_process};
use std::time::Duration;
use testkit::app::App;
use testkit::fake_upstash::{FakeUpstash, Fault, READ_TOKEN, WRITE_TOKEN};
use testkit::redis::{RECENT, Redis};
use testkit::{TEST_LIMIT, within};
use wait_until::config::MAX_KEY_CHARS;

/// Fires one request and waits until Redis holds it.
async fn stored_in(redis: &Redis, app: &in_process::App) {
    let id = app.fire().await;
    testkit::eventually(Duration::from_secs(5), "the record in Redis", || async {
        redis.entries().iter().any(|entry| entry.contains(&id))
    })
    .await;
}

fn everything(app: &App) -> String {
    [app.stdout(), app.stderr()].concat().join("\n")
}

/// The case seen by a user: one database's `UPSTASH_*` URL and token, and another database's
/// `KV_*` read-only token. The families are never mixed: reads carry the write token, and
/// start-up says what was ignored and why.
#[tokio::test]
async fn a_read_token_of_another_family_is_ignored_not_mixed_in() {
    within(TEST_LIMIT, "a record with one family's settings", async {
        let redis = Redis::start();
        let fake = FakeUpstash::start(&redis).await;
        let app = in_process::App::new(&[
            ("UPSTASH_REDIS_REST_URL", &fake.url),
            ("UPSTASH_REDIS_REST_TOKEN", WRITE_TOKEN),
            ("KV_REST_API_READ_ONLY_TOKEN", "another-databases-token"),
        ]);
        app.assert_printed("note: KV_REST_API_READ_ONLY_TOKEN ignored");
        app.assert_printed(
            "note: UPSTASH_* has no read-only token name: reads use the write token",
        );
        stored_in(&redis, &app).await;
        let (status, body) = app.recent().await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["requests"].as_array().unwrap().len(), 1);
        let read = fake
            .seen()
            .into_iter()
            .find(|s| s.path == "/")
            .expect("a read");
        assert_eq!(
            read.authorization.as_deref(),
            Some(format!("Bearer {WRITE_TOKEN}").as_str())
        );
    })
    .await;
}

/// The environment wins as a whole: `.env.local`'s `KV_*` (another database, here one that
/// does not exist) never beats `UPSTASH_*` exported in the shell.
#[tokio::test]
async fn the_environment_beats_env_local_as_a_whole() {
    within(TEST_LIMIT, "a record via the environment", async {
        let redis = Redis::start();
        let fake = FakeUpstash::start(&redis).await;
        let nowhere = format!("http://127.0.0.1:{}", testkit::free_port());
        let file = format!("KV_REST_API_URL={nowhere}\nKV_REST_API_TOKEN=elsewhere\n");
        let app = in_process::App::with_env_local(
            &[
                ("UPSTASH_REDIS_REST_URL", &fake.url),
                ("UPSTASH_REDIS_REST_TOKEN", WRITE_TOKEN),
            ],
            Some(&file),
        );
        app.assert_printed(
            "note: the environment sets Upstash settings, so those in .env.local are not read",
        );
        stored_in(&redis, &app).await;
    })
    .await;
}

/// What `vercel env pull` writes: quoted values, a token ending in an escaped newline, and an
/// empty variable in the environment that must not hide the file's value.
#[tokio::test]
async fn a_pulled_env_local_with_newlines_works_and_empty_variables_hide_nothing() {
    within(TEST_LIMIT, "a record via a pulled .env.local", async {
        let redis = Redis::start();
        let fake = FakeUpstash::start(&redis).await;
        let file = format!(
            "# Created by Vercel CLI\nKV_REST_API_URL=\"{}\"\nKV_REST_API_TOKEN=\"{WRITE_TOKEN}\\n\"\n\
             KV_REST_API_READ_ONLY_TOKEN=\"{READ_TOKEN}\\r\\n\"\n",
            fake.url
        );
        let app = in_process::App::with_env_local(&[("KV_REST_API_URL", " ")], Some(&file));
        app.assert_printed("storage: upstash (Upstash settings found)");
        stored_in(&redis, &app).await;
        assert_eq!(app.recent().await.0, 200);
    })
    .await;
}

/// With storage unconfigured, a fire's record ends in its failure line at once: one sink call,
/// refused before anything is sent, and no retry.
async fn a_fire_fails_at_once_unsent(app: &App, fake: &FakeUpstash) {
    let id = app.fire().await;
    let lines = app.wait_for_failure_lines(1, Duration::from_secs(5)).await;
    assert_eq!(lines[0]["items"][0]["id"], id.as_str());
    assert_eq!(lines[0]["attempts"], 1);
    assert!(fake.seen().is_empty(), "nothing may be sent");
}

/// A token with a line break inside cannot be a header: refused at start-up, by name, and
/// every fire leaves its failure line at once (nothing is sent, nothing retried).
#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_refused_at_start_up_by_name() {
    within(TEST_LIMIT, "the failure line of a bad token", async {
        let bad_token = [("KV_REST_API_TOKEN", "s3cret-first-line\ns3cret-second-line")];
        let (_redis, fake, app) = behind_the_double(&bad_token).await;
        let problem = "KV_REST_API_TOKEN in the environment cannot be sent as an HTTP header";
        app.assert_printed(&format!("storage problem: {problem}"));
        let (status, body) = app.recent().await;
        assert_eq!(status, 503);
        assert!(
            body["error"].as_str().unwrap().starts_with(problem),
            "{body}"
        );
        a_fire_fails_at_once_unsent(&app, &fake).await;
        assert!(
            !everything(&app).contains("s3cret"),
            "a token reached the logs"
        );
    })
    .await;
}

#[tokio::test]
async fn a_url_of_the_wrong_kind_is_refused_at_start_up_by_name() {
    within(TEST_LIMIT, "start-up refusing each bad URL", async {
        for (url, problem) in [
            (
                "rediss://default:s3cret@x.upstash.io:6379",
                "must be an https:// URL",
            ),
            ("x.upstash.io", "is not a URL"),
        ] {
            let app = App::start(
                MAIN,
                &[("KV_REST_API_URL", url), ("KV_REST_API_TOKEN", "s3cret")],
            )
            .await;
            app.assert_printed(&format!(
                "storage problem: KV_REST_API_URL in the environment {problem}"
            ));
            assert_eq!(app.recent().await.0, 503);
            assert!(
                !everything(&app).contains("s3cret"),
                "{url}: a secret reached the logs"
            );
        }
    })
    .await;
}

/// A refused read token: one attempt, and the answer says which variable to check.
#[tokio::test]
async fn a_refused_read_token_is_named_in_the_answer() {
    within(TEST_LIMIT, "the answer naming the read token", async {
        let wrong = [("KV_REST_API_READ_ONLY_TOKEN", "not-the-token")];
        let redis = Redis::start();
        let fake = FakeUpstash::start(&redis).await;
        let app = in_process::App::new(&[&fake.env()[..], &wrong].concat());
        let (status, body) = app.recent().await;
        assert_eq!(status, 502);
        assert_eq!(
            body["error"],
            "storage refused the token (HTTP 401): check KV_REST_API_READ_ONLY_TOKEN in the environment"
        );
        assert_eq!(fake.seen().len(), 1, "a refusal is not retried");
    })
    .await;
}

/// A `.env.local` that cannot be read as a file (a FIFO would block the open forever) does
/// not stop start-up, and is the named problem rather than a quiet fall back to memory.
#[tokio::test]
async fn an_env_local_that_is_not_a_file_is_the_named_problem_not_a_hang() {
    within(TEST_LIMIT, "start-up past a .env.local FIFO", async {
        let app = App::start_in(MAIN, &[], |dir, _| {
            let fifo = dir.join(".env.local");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            assert!(made.is_ok_and(|status| status.success()), "mkfifo failed");
        })
        .await;
        app.assert_printed("storage problem: .env.local is not a regular file: fix or remove it");
        assert_eq!(app.recent().await.0, 503);
    })
    .await;
}

/// A value that is not Unicode is set, not unset: refused by name, never skipped over (nor
/// replaced by `.env.local`'s).
#[tokio::test]
async fn a_token_that_is_not_unicode_is_refused_by_name() {
    within(TEST_LIMIT, "start-up with a non-Unicode token", async {
        use std::os::unix::ffi::OsStrExt;
        let app = App::start_in(
            MAIN,
            &[("KV_REST_API_URL", "https://x.upstash.io")],
            |dir, command| {
                std::fs::write(dir.join(".env.local"), "KV_REST_API_TOKEN=from-the-file\n").unwrap();
                command.env(
                    "KV_REST_API_TOKEN",
                    std::ffi::OsStr::from_bytes(b"s3cret\xff"),
                );
            },
        )
        .await;
        app.assert_printed(
            "storage problem: KV_REST_API_TOKEN in the environment cannot be sent as an HTTP header",
        );
        assert!(
            !everything(&app).contains("s3cret"),
            "a token reached the logs"
        );
    })
    .await;
}

/// Storage that sends the token back in its error text: the failure line never carries it.
#[tokio::test]
async fn a_token_echoed_by_storage_is_scrubbed_from_the_failure_line() {
    within(TEST_LIMIT, "a failure line without the token", async {
        let echo = "ERR bad token fake-write-token";
        assert!(echo.contains(WRITE_TOKEN), "the echo must hold the token");
        let (_redis, fake, app) = behind_the_double(&[]).await;
        fake.fail_next([Fault::CommandError(echo)]);
        app.fire().await;
        let lines = app.wait_for_failure_lines(1, Duration::from_secs(5)).await;
        assert_eq!(
            lines[0]["error"],
            "storage command failed: ERR bad token <redacted>"
        );
        assert!(
            !everything(&app).contains(WRITE_TOKEN),
            "a token reached the logs"
        );
    })
    .await;
}

/// Upstash never redirects: a redirect is a wrong URL, refused, never followed to write
/// somewhere else (the double's redirect, followed, would store the record).
#[tokio::test]
async fn a_redirect_is_refused_not_followed() {
    within(TEST_LIMIT, "the failure line of a redirect", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        fake.fail_next([Fault::Redirect]);
        app.fire().await;
        let lines = app.wait_for_failure_lines(1, Duration::from_secs(5)).await;
        assert_eq!(
            lines[0]["error"],
            "storage answered a redirect (HTTP 307): the URL is not the database's REST URL"
        );
        assert_eq!(fake.seen().len(), 1, "the redirect was followed");
        assert_eq!(redis.card(), 0);
    })
    .await;
}

/// `WAIT_UNTIL_KEY`, from the environment or else `.env.local`, names the sorted set the app
/// writes and reads: the way out when its default key holds something else (here a list, as
/// the official example keeps), which is then left as it was.
#[tokio::test]
async fn wait_until_key_names_the_set_the_app_writes_and_reads_instead_of_the_default() {
    within(TEST_LIMIT, "records under another key", async {
        for (key, env_local) in [
            ("other", None),
            ("from:the-file", Some("WAIT_UNTIL_KEY=from:the-file\n")),
        ] {
            let redis = Redis::start();
            let fake = FakeUpstash::start(&redis).await;
            let in_env = [("WAIT_UNTIL_KEY", key)];
            let env = [
                &fake.env()[..],
                if env_local.is_none() { &in_env } else { &[] },
            ]
            .concat();
            let app = App::start_with_env_local(MAIN, &env, env_local).await;
            redis.cli(&["RPUSH", RECENT, "another app's entry"]);
            let id = app.fire().await;
            testkit::eventually(
                Duration::from_secs(5),
                "the record under the key",
                || async { redis.cli(&["ZCARD", key]) == "1" },
            )
            .await;
            assert_eq!(app.recent_ids().await, [id.as_str()], "{key}");
            let seen = fake.seen();
            let write = seen.iter().find(|s| s.is_write()).expect("a write");
            assert_eq!(write.body[0][1], key);
            assert_eq!(write.body[1][1], key);
            assert_eq!(write.written_ids(), [id.as_str()]);
            let read = seen.iter().find(|s| s.path == "/").expect("a read");
            assert_eq!(
                read.body,
                serde_json::json!(["ZRANGE", key, "0", "9", "REV"])
            );
            assert!(app.failure_lines().is_empty(), "{key}: {:?}", app.stderr());
            assert_eq!(
                redis.cli(&["LRANGE", RECENT, "0", "-1"]),
                "another app's entry",
                "the default key was left as it was"
            );
        }
    })
    .await;
}

/// A key too long to show, or holding a character that hides or reorders text, is refused at
/// start-up by name: reads answer 503 naming `WAIT_UNTIL_KEY`, and every fire leaves its failure
/// line at once, with nothing sent.
#[tokio::test]
async fn a_wait_until_key_that_cannot_be_shown_is_refused_at_start_up_by_name() {
    within(TEST_LIMIT, "start-up refusing each bad key", async {
        let too_long = "k".repeat(MAX_KEY_CHARS + 1);
        for key in [too_long.as_str(), "requests:\u{202E}tsewen"] {
            let (_redis, fake, app) = behind_the_double(&[("WAIT_UNTIL_KEY", key)]).await;
            let problem = app
                .stdout()
                .into_iter()
                .find(|line| line.starts_with("storage problem: "))
                .unwrap_or_else(|| panic!("no storage problem printed: {:?}", app.stdout()));
            assert!(problem.contains("WAIT_UNTIL_KEY"), "{problem}");
            let (status, body) = app.recent().await;
            assert_eq!(status, 503, "{body}");
            let error = body["error"].as_str().unwrap_or_default();
            assert!(error.contains("WAIT_UNTIL_KEY"), "{body}");
            a_fire_fails_at_once_unsent(&app, &fake).await;
            assert!(
                !everything(&app).contains(key),
                "the key was shown as it is"
            );
        }
    })
    .await;
}
