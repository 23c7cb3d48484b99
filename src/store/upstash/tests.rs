//! The Upstash client against real Redis behind the Upstash TEST DOUBLE (testkit), which answers
//! as Upstash does and injects what the real service does only on its bad days: 5xx, 429,
//! refused tokens, command errors, malformed replies, dropped connections, redirects.
//!
//! Each test has its own Redis and double, and runs on one runtime shared by all: the client is
//! one per process, as in the app, and its pooled connections belong to the runtime that made
//! them. Retries run with a policy of instant waits, so only the timeout test takes real time.

use super::*;
use crate::config::tests::from_table;
use crate::store::Store;
use after_response::{AfterResponse, Config, Failure, Retry, Sink};
use serde_json::json;
use std::future::Future;
use testkit::fake_upstash::{FakeUpstash, Fault, READ_TOKEN, WRITE_TOKEN};
use testkit::redis::{RECENT, Redis};

type WriteFailure = Failure<StoreError>;

/// Runs a test body on the shared runtime; fails with `what` if it has not ended within 20 s.
fn within<T>(what: &str, test: impl Future<Output = T>) -> T {
    static RUNTIME: Lazy<tokio::runtime::Runtime> = Lazy::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the client tests")
    });
    RUNTIME.block_on(testkit::within(Duration::from_secs(20), what, test))
}

/// The client `vars` configure.
fn configured(vars: &[(&str, &str)]) -> UpstashStore {
    match from_table(vars).store {
        Store::Upstash(store) => store,
        other => panic!("Upstash settings configure Upstash, not {other:?}"),
    }
}

/// The client for the double's tokens at `url`.
fn store_at(url: &str) -> UpstashStore {
    configured(&[
        ("KV_REST_API_URL", url),
        ("KV_REST_API_TOKEN", WRITE_TOKEN),
        ("KV_REST_API_READ_ONLY_TOKEN", READ_TOKEN),
    ])
}

struct Setup {
    redis: Redis,
    fake: FakeUpstash,
    store: UpstashStore,
}

async fn behind_the_double() -> Setup {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    let store = store_at(&fake.url);
    Setup { redis, fake, store }
}

fn records(from: u64, to: u64) -> Vec<RequestRecord> {
    (from..=to).map(RequestRecord::numbered).collect()
}

fn newest_first(from: u64, to: u64) -> Vec<RequestRecord> {
    records(from, to).into_iter().rev().collect()
}

fn write_failure(attempts: u32, error: StoreError) -> Result<u32, WriteFailure> {
    Err(Failure::Sink { error, attempts })
}

/// What a write reports: records sent, and of those the ones new to storage.
fn written(sent: usize, added: usize) -> Written {
    Written { sent, added }
}

/// How many attempts a write took through the app's writer, or how it failed. Retries run
/// without waiting: what is tested here is which failures are retried, not when.
async fn attempts(store: &UpstashStore, batch: &[RequestRecord]) -> Result<u32, WriteFailure> {
    let no_waits = Retry {
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        deadline: Duration::from_secs(60),
        ..crate::app::writer_config(true).retry
    };
    let config = Config {
        retry: no_waits,
        ..Config::default()
    };
    let store = Store::Upstash(store.clone());
    let writer = AfterResponse::with_config(store, config).unwrap();
    writer
        .replay(batch)
        .await
        .map(|written| written.attempts)
        .map_err(|(_, failure)| failure)
}

fn as_stored(newest_first: &[RequestRecord]) -> Vec<String> {
    newest_first.iter().map(RequestRecord::to_json).collect()
}

fn rejected(message: &str) -> StoreError {
    StoreError::Rejected(message.into())
}

fn unavailable(message: &str) -> StoreError {
    StoreError::Unavailable(message.into())
}

/// Puts `member` in the app's set by hand, with this score.
fn plant(redis: &Redis, score: u64, member: &str) {
    redis.cli(&["ZADD", RECENT, &score.to_string(), member]);
}

#[test]
fn a_batch_is_one_call_of_two_commands_that_carries_only_its_ten_newest() {
    within("a write of twelve", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        let mut batch = records(1, 12);
        batch.swap(0, 11);
        batch.swap(3, 7);
        assert_eq!(store.add(&batch).await, Ok(written(10, 10)));

        let seen = fake.seen();
        assert_eq!(seen.len(), 1, "one call");
        assert_eq!(seen[0].path, "/pipeline");
        assert_eq!(
            seen[0].authorization.as_deref(),
            Some(format!("Bearer {WRITE_TOKEN}").as_str())
        );
        let mut zadd = vec![json!("ZADD"), json!(RECENT)];
        for record in newest_first(3, 12) {
            zadd.extend([json!(record.timestamp.to_string()), json!(record.to_json())]);
        }
        let trim = json!(["ZREMRANGEBYRANK", RECENT, "0", "-11"]);
        assert_eq!(seen[0].body, json!([zadd, trim]));
        assert_eq!(redis.entries(), as_stored(&newest_first(3, 12)));
        let score = redis.cli(&["ZSCORE", RECENT, &records(7, 7)[0].to_json()]);
        assert_eq!(score, "7", "scored by the record's time");
    })
}

#[test]
fn a_write_is_billed_two_commands_whatever_its_size() {
    within("writes of one and of twelve", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        redis.reset_counters();
        store.add(&records(1, 1)).await.unwrap();
        assert_eq!(redis.billed(), 2);
        store.add(&records(2, 13)).await.unwrap();
        assert_eq!(redis.billed(), 4);
        assert_eq!(
            (redis.calls("zadd"), redis.calls("zremrangebyrank")),
            (2, 2)
        );
    })
}

#[test]
fn writing_again_changes_nothing() {
    within("a batch written twice", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        store.add(&records(1, 12)).await.unwrap();
        let before = redis.entries();
        assert_eq!(store.add(&records(1, 12)).await, Ok(written(10, 0)));
        assert_eq!(redis.entries(), before);
    })
}

#[test]
fn late_and_repeated_records_find_their_place_by_time() {
    within("batches out of order", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        store.add(&records(11, 20)).await.unwrap();
        assert_eq!(
            store.add(&records(1, 10)).await,
            Ok(written(10, 10)),
            "new to the set for a moment"
        );
        assert_eq!(
            redis.entries(),
            as_stored(&newest_first(11, 20)),
            "then cut"
        );
        let mixed = [records(15, 15), records(5, 5), records(21, 22)].concat();
        assert_eq!(store.add(&mixed).await, Ok(written(4, 3)));
        assert_eq!(redis.entries(), as_stored(&newest_first(13, 22)));
    })
}

#[test]
fn records_of_one_millisecond_keep_the_order_of_their_ids() {
    within("records made in the same millisecond", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        let same_ms: Vec<RequestRecord> = ["3", "a", "1", "f"]
            .iter()
            .map(|last| RequestRecord {
                id: format!("{}{last}", &records(9, 9)[0].id[..35]),
                ..records(9, 9)[0].clone()
            })
            .collect();
        store.add(&same_ms).await.unwrap();
        let mut expected = same_ms.clone();
        expected.sort_by(|a, b| b.id.cmp(&a.id));
        assert_eq!(redis.entries(), as_stored(&expected));
        assert_eq!(store.recent().await.unwrap().records, expected);
    })
}

#[test]
fn a_key_s_expiry_survives_writes() {
    within("a write into a set that expires", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        store.add(&records(1, 1)).await.unwrap();
        redis.cli(&["PEXPIRE", RECENT, "600000"]);
        store.add(&records(2, 12)).await.unwrap();
        let ttl: i64 = redis.cli(&["PTTL", RECENT]).parse().unwrap();
        assert!((590_000..=600_000).contains(&ttl), "{ttl}");
        assert_eq!(redis.card(), KEEP);
    })
}

#[test]
fn a_set_longer_than_the_ten_kept_is_cut() {
    within("a write into a long set", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        for record in records(1, 15) {
            plant(&redis, record.timestamp, &record.to_json());
        }
        assert_eq!(store.add(&records(15, 15)).await, Ok(written(1, 0)));
        assert_eq!(redis.entries(), as_stored(&newest_first(6, 15)));
        assert_eq!(redis.card(), KEEP);
    })
}

#[test]
fn a_key_of_another_type_is_refused_at_once_naming_the_key_and_the_way_out() {
    within("writes and reads of a list and a string", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        for (make, kind) in [
            (["RPUSH", RECENT, "an old entry"], "list"),
            (["SET", RECENT, "text"], "string"),
        ] {
            redis.cli(&["DEL", RECENT]);
            redis.cli(&make);
            let calls = fake.seen().len();
            let Err(failure) = store.add(&records(1, 1)).await else {
                panic!("a write into a {kind} is refused");
            };
            assert!(!Store::can_retry(&failure), "{kind}: refused, not retried");
            assert_eq!(fake.seen().len(), calls + 1, "{kind}: one call");
            let read = store.recent().await;
            for error in [failure, read.unwrap_err()] {
                let StoreError::Rejected(message) = error else {
                    panic!("{kind}: refused: {error:?}");
                };
                assert!(message.contains(&format!("`{RECENT}`")), "{message}");
                assert!(message.contains("WAIT_UNTIL_KEY"), "{message}");
            }
            assert_eq!(redis.cli(&["TYPE", RECENT]), kind, "left as it was");
        }
    })
}

#[test]
fn wait_until_key_names_the_set_used() {
    within("writes and reads under another key", async {
        let Setup {
            redis,
            fake,
            store: _default,
        } = behind_the_double().await;
        let store = configured(&[
            ("KV_REST_API_URL", fake.url.as_str()),
            ("KV_REST_API_TOKEN", WRITE_TOKEN),
            ("KV_REST_API_READ_ONLY_TOKEN", READ_TOKEN),
            ("WAIT_UNTIL_KEY", " my-app:newest "),
        ]);
        assert_eq!(store.key(), "my-app:newest");
        // The default key holds another type: only the named one is touched.
        redis.cli(&["RPUSH", RECENT, "an old entry"]);
        store.add(&records(1, 2)).await.unwrap();
        assert_eq!(store.recent().await.unwrap().records, newest_first(1, 2));
        assert_eq!(redis.cli(&["ZCARD", "my-app:newest"]), "2");
        assert_eq!(redis.cli(&["TYPE", RECENT]), "list");
    })
}

#[test]
fn a_read_is_one_command_with_the_read_token_and_returns_the_newest_first() {
    within("a read", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        store.add(&records(1, 3)).await.unwrap();
        redis.reset_counters();
        let recent = store.recent().await.unwrap();
        assert_eq!(recent.records, newest_first(1, 3));
        assert_eq!(recent.skipped, 0);
        assert_eq!(redis.billed(), 1);

        let read = fake.seen().pop().unwrap();
        assert_eq!(read.path, "/");
        assert_eq!(read.body, json!(["ZRANGE", RECENT, "0", "9", "REV"]));
        assert_eq!(
            read.authorization.as_deref(),
            Some(format!("Bearer {READ_TOKEN}").as_str())
        );
    })
}

#[test]
fn entries_that_are_not_records_are_skipped_and_counted_on_a_read() {
    within("a read of planted entries", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        store.add(&records(1, 2)).await.unwrap();
        // Another writer's entries, and a record's id in other bytes (a replay of an edited
        // line): each after the newest record, so all are read.
        let mut twin = records(2, 2)[0].clone();
        twin.user_agent = "edited".into();
        plant(&redis, 3, "not json");
        plant(&redis, 4, r#"{"id":"x"}"#);
        plant(&redis, 5, &twin.to_json());
        let recent = store.recent().await.unwrap();
        assert_eq!(recent.records, [twin, records(1, 1)[0].clone()]);
        assert_eq!(
            recent.skipped, 3,
            "two that are not records, one id read twice"
        );
    })
}

#[test]
fn unavailable_storage_is_tried_again_until_it_answers() {
    within("a write through 503, 429 and a dropped connection", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        fake.fail_next([Fault::Status(503), Fault::Status(429), Fault::Drop]);
        assert_eq!(attempts(&store, &records(1, 1)).await, Ok(4));
        assert_eq!(fake.seen().len(), 4);
        assert_eq!(redis.card(), 1);
    })
}

#[test]
fn a_call_applied_but_never_acknowledged_is_retried_without_storing_twice() {
    within("writes whose answers are lost", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        let lost = [Fault::AppliedThenStatus(503), Fault::AppliedThenDrop];
        for (n, fault) in (1..).zip(lost) {
            fake.fail_next([fault.clone()]);
            let written_again = attempts(&store, &records(n, n)).await;
            assert_eq!(written_again, Ok(2), "{fault:?}: tried again");
        }
        assert_eq!(fake.seen().len(), 4, "two attempts each");
        assert_eq!(redis.entries(), as_stored(&newest_first(1, 2)), "each once");
    })
}

#[test]
fn each_kind_of_unavailable_storage_is_named_after_the_last_attempt() {
    within("writes that never get through", async {
        let Setup {
            redis: _redis,
            fake,
            store,
        } = behind_the_double().await;
        for (fault, message) in [
            (Fault::Status(500), "storage answered HTTP 500"),
            (Fault::Status(502), "storage answered HTTP 502"),
            (Fault::Status(504), "storage answered HTTP 504"),
            (Fault::Status(599), "storage answered HTTP 599"),
            (Fault::Status(429), "storage answered HTTP 429"),
            (Fault::Drop, "the request to storage failed"),
        ] {
            fake.fail_next(vec![fault; 4]);
            assert_eq!(
                attempts(&store, &records(1, 1)).await,
                write_failure(4, unavailable(message))
            );
        }
    })
}

#[test]
fn a_refusal_is_final_at_once_and_says_what_to_check() {
    within("refused writes", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        let check_token =
            "storage refused the token (HTTP {}): check KV_REST_API_TOKEN in the environment";
        for (fault, message) in [
            (Fault::Status(401), check_token.replace("{}", "401")),
            (Fault::Status(403), check_token.replace("{}", "403")),
            (
                Fault::Status(400),
                "storage command failed: injected".to_string(),
            ),
            (
                Fault::CommandError("ERR injected"),
                "storage command failed: ERR injected".to_string(),
            ),
            (
                Fault::Malformed,
                "storage sent a malformed reply".to_string(),
            ),
            (
                Fault::Redirect,
                "storage answered a redirect (HTTP 307): the URL is not the database's REST URL"
                    .to_string(),
            ),
        ] {
            let calls = fake.seen().len();
            fake.fail_next([fault.clone()]);
            assert_eq!(
                attempts(&store, &records(1, 1)).await,
                write_failure(1, rejected(&message)),
                "{fault:?}"
            );
            assert_eq!(
                fake.seen().len(),
                calls + 1,
                "{fault:?}: one call, no retry"
            );
        }
        assert_eq!(redis.card(), 0, "a redirect is never followed");
    })
}

#[test]
fn a_write_reply_that_cannot_be_is_malformed_never_a_success() {
    within("writes answered with impossible replies", async {
        let Setup {
            redis: _redis,
            fake,
            store,
        } = behind_the_double().await;
        let fine = json!([{"result": 2}, {"result": 0}]);
        fake.fail_next([Fault::Reply(fine)]);
        assert_eq!(store.add(&records(1, 2)).await, Ok(written(2, 2)));
        for reply in [
            json!([{"result": 3}, {"result": 0}]),
            json!([{"result": -1}, {"result": 0}]),
            json!([{"result": "2"}, {"result": 0}]),
            json!([{"result": 2}, {"result": "0"}]),
            json!([{"result": 2}]),
            json!([{"result": 2}, {"result": 0}, {"result": 0}]),
        ] {
            fake.fail_next([Fault::Reply(reply.clone())]);
            assert_eq!(
                attempts(&store, &records(1, 2)).await,
                write_failure(1, rejected("storage sent a malformed reply")),
                "{reply}"
            );
        }
    })
}

#[test]
fn a_read_reply_that_is_not_a_list_is_malformed_and_other_entries_are_skipped() {
    within("reads answered with odd replies", async {
        let Setup {
            redis: _redis,
            fake,
            store,
        } = behind_the_double().await;
        fake.fail_next([Fault::Reply(json!({"result": "a string"}))]);
        assert_eq!(
            store.recent().await,
            Err(rejected("storage sent a malformed reply"))
        );
        let member = records(1, 1)[0].to_json();
        fake.fail_next([Fault::Reply(json!({"result": [42, {"id": 1}, member]}))]);
        let recent = store.recent().await.unwrap();
        assert_eq!((recent.records, recent.skipped), (records(1, 1), 2));
    })
}

#[test]
fn a_refused_read_names_the_read_token() {
    within("a refused read", async {
        let Setup {
            redis: _redis,
            fake,
            store,
        } = behind_the_double().await;
        fake.fail_next([Fault::Status(401)]);
        assert_eq!(
            store.recent().await,
            Err(rejected(
                "storage refused the token (HTTP 401): check KV_REST_API_READ_ONLY_TOKEN in the environment"
            ))
        );
    })
}

#[test]
fn a_read_is_made_once_and_reports_what_went_wrong() {
    within("failed reads", async {
        let Setup {
            redis: _redis,
            fake,
            store,
        } = behind_the_double().await;
        for (fault, error) in [
            (Fault::Status(503), unavailable("storage answered HTTP 503")),
            (Fault::Malformed, rejected("storage sent a malformed reply")),
            (
                Fault::Status(400),
                rejected("storage command failed: injected"),
            ),
        ] {
            let calls = fake.seen().len();
            fake.fail_next([fault.clone()]);
            assert_eq!(store.recent().await, Err(error), "{fault:?}");
            assert_eq!(fake.seen().len(), calls + 1, "{fault:?}: read once");
        }
    })
}

#[test]
fn tokens_that_storage_echoes_are_never_passed_on() {
    within("an error naming both tokens", async {
        let Setup {
            redis: _redis,
            fake,
            store,
        } = behind_the_double().await;
        fake.fail_next([Fault::CommandError(
            "ERR fake-write-token and fake-read-token",
        )]);
        assert_eq!(
            attempts(&store, &records(1, 1)).await,
            write_failure(
                1,
                rejected("storage command failed: ERR <redacted> and <redacted>")
            )
        );
    })
}

/// Local emulators are often given a token of one letter. It is taken out of messages only, never
/// out of replies: a reply that the token's letter occurs in (`"result"` holds both an `r` and an
/// `e`) is read as sent, so writes and reads work. (`emulator.rs` does the same against the npm
/// emulator.)
#[test]
fn a_token_of_one_letter_writes_and_reads() {
    within("a write and a read with the tokens `r` and `e`", async {
        let redis = Redis::start();
        let fake = FakeUpstash::start_with_tokens(&redis, "r", "e").await;
        let store = configured(&fake.env());
        assert_eq!(store.add(&records(1, 3)).await, Ok(written(3, 3)));
        assert_eq!(store.recent().await.unwrap().records, newest_first(1, 3));
        assert_eq!(redis.entries(), as_stored(&newest_first(1, 3)));
        let read = fake.seen().into_iter().find(|seen| seen.path == "/");
        assert_eq!(read.unwrap().authorization.as_deref(), Some("Bearer e"));
    })
}

#[test]
fn storage_that_cannot_be_reached_or_does_not_answer_is_unavailable() {
    within("reads of absent, silent and trickling storage", async {
        let nothing_there = format!("http://127.0.0.1:{}", testkit::free_port());
        let store = store_at(&nothing_there);
        assert_eq!(
            store.recent().await,
            Err(unavailable("could not connect to storage"))
        );

        // Silent storage, and storage that trickles a byte every 500 ms: the bound is on the
        // whole request, so both end at it (a bound per read would wait on the trickle for ever).
        let Setup {
            redis: _redis,
            fake,
            store,
        } = behind_the_double().await;
        let trickling = behind_the_double().await;
        fake.delay(REQUEST_TIMEOUT + Duration::from_secs(1));
        trickling
            .fake
            .fail_next([Fault::Trickle(Duration::from_millis(500))]);
        let asked = tokio::time::Instant::now();
        let (silent, trickled) = tokio::join!(store.recent(), trickling.store.recent());
        assert_eq!(silent, Err(unavailable("storage timed out")));
        assert_eq!(trickled, Err(unavailable("storage timed out")));
        assert!(asked.elapsed() < REQUEST_TIMEOUT + Duration::from_millis(500));
    })
}

/// The 1 MiB cap on a reply, to the byte: a reply of exactly 1 MiB (arriving in many chunks) is
/// read, one byte more is refused however it would have parsed.
#[test]
fn a_reply_is_read_up_to_exactly_its_cap() {
    within("replies at the cap", async {
        let Setup {
            redis: _redis,
            fake,
            store,
        } = behind_the_double().await;
        fake.fail_next([Fault::Sized(MAX_REPLY_BYTES)]);
        assert_eq!(attempts(&store, &records(1, 1)).await, Ok(1));
        fake.fail_next([Fault::Sized(MAX_REPLY_BYTES + 1)]);
        assert_eq!(
            attempts(&store, &records(1, 1)).await,
            write_failure(1, rejected("storage sent a reply that is too large"))
        );
    })
}
