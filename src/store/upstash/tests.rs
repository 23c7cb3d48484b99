//! The Upstash client against real Redis behind the Upstash TEST DOUBLE (testkit), which answers
//! as Upstash does and injects what the real service does only on its bad days: 5xx, 429,
//! refused tokens, command errors, malformed replies, dropped connections, redirects.
//!
//! Each test has its own Redis and double, and runs on one runtime shared by all: the client is
//! one per process, as in the app, and its pooled connections belong to the runtime that made
//! them. Retries run with a policy of instant waits, so only the timeout test takes real time.

use super::*;
use crate::settings::from_table;
use crate::store::{Choice, StoreChoice};
use serde_json::json;
use std::future::Future;
use testkit::fake_upstash::{FakeUpstash, Fault, READ_TOKEN, WRITE_TOKEN};
use testkit::redis::Redis;

/// Retries without waiting: what is tested here is which failures are retried, not when.
const NO_WAITS: RetryPolicy = RetryPolicy {
    max_attempts: 4,
    base_delay: Duration::ZERO,
    max_delay: Duration::ZERO,
    deadline: Duration::from_secs(60),
};

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

fn settings_for(url: &str) -> UpstashSettings {
    let settings = from_table(&[
        ("KV_REST_API_URL", url),
        ("KV_REST_API_TOKEN", WRITE_TOKEN),
        ("KV_REST_API_READ_ONLY_TOKEN", READ_TOKEN),
    ]);
    match Choice::from_settings(&settings).store {
        StoreChoice::Upstash(settings) => settings,
        _ => panic!("the double's settings are Upstash settings"),
    }
}

struct Setup {
    redis: Redis,
    fake: FakeUpstash,
    store: UpstashStore,
}

/// Redis with the merge script already cached, as after the first write, so that each attempt
/// is one call; [`the_first_write_after_a_restart_sends_the_script`] covers the first write.
async fn behind_the_double() -> Setup {
    let redis = Redis::start();
    assert_eq!(redis.cli(&["SCRIPT", "LOAD", script::TEXT]), *script::SHA1);
    let fake = FakeUpstash::start(&redis).await;
    let store = UpstashStore::new(settings_for(&fake.url), NO_WAITS);
    Setup { redis, fake, store }
}

fn records(from: u64, to: u64) -> Vec<RequestRecord> {
    (from..=to).map(RequestRecord::numbered).collect()
}

fn ids(records: &[RequestRecord]) -> Vec<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

fn write_failure(attempts: u32, error: StoreError) -> Result<u32, WriteFailure> {
    Err(WriteFailure { attempts, error })
}

/// What a merge reports: attempts, then records added, already stored, and older than those kept.
fn merge_of(attempts: u32, added: usize, already: usize, older: usize) -> Merged {
    Merged {
        attempts,
        added,
        already,
        older,
    }
}

/// How many attempts a write took, or how it failed.
async fn attempts(store: &UpstashStore, batch: &[RequestRecord]) -> Result<u32, WriteFailure> {
    store.merge(batch).await.map(|merged| merged.attempts)
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

#[test]
fn a_batch_is_merged_in_one_call_that_carries_only_its_ten_newest() {
    within("a write of twelve", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        let mut batch = records(1, 12);
        batch.swap(0, 11);
        batch.swap(3, 7);
        let merged = store.merge(&batch).await;
        assert_eq!(merged, Ok(merge_of(1, 10, 0, 2)));

        let seen = fake.seen();
        assert_eq!(seen.len(), 1, "one call");
        assert!(seen[0].is_cached_call(), "by the script's SHA-1");
        assert_eq!(seen[0].path, "/pipeline");
        assert_eq!(
            seen[0].authorization.as_deref(),
            Some(format!("Bearer {WRITE_TOKEN}").as_str())
        );
        let newest_first: Vec<RequestRecord> = records(3, 12).into_iter().rev().collect();
        assert_eq!(seen[0].written_ids(), ids(&newest_first));
        assert_eq!(redis.entries(), as_stored(&newest_first));
    })
}

#[test]
fn the_first_write_after_a_restart_sends_the_script() {
    within("writes around a flushed script cache", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        // What a new or restarted server has: no scripts.
        redis.cli(&["SCRIPT", "FLUSH"]);
        assert_eq!(attempts(&store, &records(1, 2)).await, Ok(1));
        assert_eq!(attempts(&store, &records(3, 3)).await, Ok(1));

        let calls: Vec<(String, bool)> = fake
            .seen()
            .iter()
            .map(|s| (s.body[0][0].as_str().unwrap().to_string(), s.is_write()))
            .collect();
        let expected = [("EVALSHA", true), ("EVAL", true), ("EVALSHA", true)]
            .map(|(name, write)| (name.to_string(), write));
        assert_eq!(
            calls, expected,
            "NOSCRIPT, then the text; then the SHA-1 again"
        );
        assert_eq!(fake.seen()[1].body[0][1], json!(script::TEXT));
        assert_eq!(
            redis.entries(),
            as_stored(&records(1, 3).into_iter().rev().collect::<Vec<_>>())
        );
    })
}

#[test]
fn an_attempt_that_needs_the_script_s_text_is_bounded_as_one_call() {
    within("a NOSCRIPT answer and the text, both slow", async {
        let Setup { redis, fake, .. } = behind_the_double().await;
        let once = RetryPolicy {
            max_attempts: 1,
            ..NO_WAITS
        };
        let store = UpstashStore::new(settings_for(&fake.url), once);
        redis.cli(&["SCRIPT", "FLUSH"]);
        // Each call is answered after 2 s: `NOSCRIPT` at 2 s, the text's answer at 4 s.
        fake.delay(Duration::from_secs(2));
        let started = tokio::time::Instant::now();
        assert_eq!(
            attempts(&store, &records(1, 1)).await,
            write_failure(1, unavailable("storage timed out"))
        );
        let took = started.elapsed();
        assert!(
            took < REQUEST_TIMEOUT + Duration::from_millis(500),
            "{took:?}"
        );
        assert_eq!(fake.seen().len(), 2, "EVALSHA, then EVAL");
    })
}

#[test]
fn the_script_refuses_a_number_to_keep_that_is_not_a_whole_one_above_zero() {
    within("the script called by hand", async {
        let Setup { redis, .. } = behind_the_double().await;
        let record = records(1, 1)[0].to_json();
        let refused = "ERR merge: the number to keep must be a whole number above 0";
        for keep in ["0", "-1", "2.5", "abc", ""] {
            let out = redis.cli(&["EVALSHA", &script::SHA1, "1", KEY, keep, &record]);
            assert!(out.starts_with(refused), "keep {keep:?}: {out}");
        }
        assert_eq!(redis.llen(), 0, "nothing written");
        let out = redis.cli(&["EVALSHA", &script::SHA1, "1", KEY, "10", &record]);
        assert_eq!(out, "1\n0", "[added, already]");
    })
}

#[test]
fn a_rewrite_keeps_the_key_s_expiry() {
    within("a merge into a list that expires", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        store.merge(&records(1, 1)).await.unwrap();
        redis.cli(&["PEXPIRE", KEY, "600000"]);
        store.merge(&records(2, 2)).await.unwrap();
        let ttl: i64 = redis.cli(&["PTTL", KEY]).parse().unwrap();
        assert!((590_000..=600_000).contains(&ttl), "{ttl}");
        assert_eq!(redis.llen(), 2);
    })
}

#[test]
fn merging_again_changes_nothing_and_writes_nothing() {
    within("a batch merged twice", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        store.merge(&records(1, 12)).await.unwrap();
        let before = redis.entries();
        let rewrites = redis.calls("rpush");
        let again = store.merge(&records(1, 12)).await;
        assert_eq!(again, Ok(merge_of(1, 0, 10, 2)));
        assert_eq!(redis.entries(), before);
        assert_eq!(redis.calls("rpush"), rewrites, "the list was not rewritten");
    })
}

#[test]
fn late_and_repeated_records_find_their_place_by_id() {
    within("batches out of order", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        store.merge(&records(11, 20)).await.unwrap();
        let late = store.merge(&records(1, 10)).await.unwrap();
        assert_eq!((late.added, late.already, late.older), (0, 0, 10));
        let mixed = [records(15, 15), records(5, 5), records(21, 22)].concat();
        let merged = store.merge(&mixed).await.unwrap();
        assert_eq!((merged.added, merged.already, merged.older), (2, 1, 1));
        let newest_first: Vec<RequestRecord> = records(13, 22).into_iter().rev().collect();
        assert_eq!(redis.entries(), as_stored(&newest_first));
    })
}

#[test]
fn entries_that_are_not_records_go_last_and_fall_out_first() {
    within("a merge into planted entries", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        // Another writer's entry, a damaged one, one whose id is not first, look-alikes whose
        // ids are not v7 UUIDs as the app writes them (and would sort above every real one as
        // text), and an old duplicate of a record (as the LPUSH writes of earlier versions
        // could leave).
        let upper = records(4, 4)[0].to_json().to_uppercase();
        let planted = [
            "not json",
            r#"{"timestamp":1,"id":"00000000-0063-7000-8000-000000000000"}"#,
            r#"{"id":"test-10","timestamp":1,"method":"GET","userAgent":""}"#,
            r#"{"id":"ffffffff-ffff-4fff-bfff-ffffffffffff","timestamp":1}"#,
            &upper,
            &records(4, 4)[0].to_json(),
            &records(4, 4)[0].to_json(),
            r#"{"id":"x"#,
        ];
        for entry in planted {
            redis.cli(&["RPUSH", KEY, entry]);
        }
        store.merge(&records(1, 3)).await.unwrap();
        let mut expected = as_stored(&records(1, 4).into_iter().rev().collect::<Vec<_>>());
        let others = [&planted[..5], &planted[7..]].concat();
        expected.extend(others.into_iter().map(String::from));
        assert_eq!(
            redis.entries(),
            expected,
            "records first, each id once, the others after"
        );

        store.merge(&records(5, 12)).await.unwrap();
        let newest_first: Vec<RequestRecord> = records(3, 12).into_iter().rev().collect();
        assert_eq!(
            redis.entries(),
            as_stored(&newest_first),
            "pushed out by records"
        );
    })
}

#[test]
fn a_list_longer_than_the_ten_kept_is_cut() {
    within("a merge into a long list", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        for record in records(1, 15).iter().rev() {
            redis.cli(&["RPUSH", KEY, &record.to_json()]);
        }
        let merged = store.merge(&records(15, 15)).await.unwrap();
        assert_eq!(merged.already, 1);
        let newest_first: Vec<RequestRecord> = records(6, 15).into_iter().rev().collect();
        assert_eq!(redis.entries(), as_stored(&newest_first));
        assert_eq!(redis.llen(), KEEP);
    })
}

#[test]
fn a_write_to_a_key_of_the_wrong_type_is_refused_and_leaves_it() {
    within("a write to a string", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        redis.cli(&["SET", KEY, "a string, not a list"]);
        let Err(failure) = store.merge(&records(1, 1)).await else {
            panic!("a WRONGTYPE write is refused");
        };
        assert_eq!(failure.attempts, 1, "refused, not retried");
        let StoreError::Rejected(message) = failure.error else {
            panic!("refused: {failure:?}");
        };
        assert!(
            message.starts_with("storage command failed: WRONGTYPE"),
            "{message}"
        );
        assert_eq!(redis.cli(&["GET", KEY]), "a string, not a list");
    })
}

#[test]
fn a_read_carries_the_read_token_and_returns_the_newest_first() {
    within("a read", async {
        let Setup {
            redis: _redis,
            fake,
            store,
        } = behind_the_double().await;
        store.merge(&records(1, 3)).await.unwrap();
        let recent = store.recent().await.unwrap();
        let newest_first: Vec<RequestRecord> = records(1, 3).into_iter().rev().collect();
        assert_eq!(recent.records, newest_first);
        assert_eq!(recent.skipped, 0);

        let read = fake.seen().pop().unwrap();
        assert_eq!(read.path, "/");
        assert_eq!(read.body, json!(["LRANGE", KEY, "0", "9"]));
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
        store.merge(&records(1, 1)).await.unwrap();
        redis.cli(&["LPUSH", KEY, "not json", r#"{"id":"x"}"#]);
        let recent = store.recent().await.unwrap();
        assert_eq!(recent.records, records(1, 1));
        assert_eq!(recent.skipped, 2);
    })
}

#[test]
fn unavailable_storage_is_tried_again_until_it_answers() {
    within("a write through 503, 429 and a dropped connection", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        fake.fail_next([Fault::Status(503), Fault::Status(429), Fault::Drop]);
        assert_eq!(attempts(&store, &records(1, 1)).await, Ok(4));
        assert_eq!(fake.seen().len(), 4);
        assert_eq!(redis.llen(), 1);
    })
}

#[test]
fn a_call_applied_but_never_acknowledged_is_retried_without_storing_twice() {
    within("writes whose answers are lost", async {
        let Setup { redis, fake, store } = behind_the_double().await;
        let lost = [Fault::AppliedThenStatus(503), Fault::AppliedThenDrop];
        for (n, fault) in (1..).zip(lost) {
            fake.fail_next([fault.clone()]);
            let merged = store.merge(&records(n, n)).await;
            assert_eq!(
                merged,
                Ok(merge_of(2, 0, 1, 0)),
                "{fault:?}: the retry finds it stored"
            );
        }
        assert_eq!(fake.seen().len(), 4, "two attempts each");
        let newest_first: Vec<RequestRecord> = records(1, 2).into_iter().rev().collect();
        assert_eq!(redis.entries(), as_stored(&newest_first), "each once");
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
        assert_eq!(redis.llen(), 0, "a redirect is never followed");
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
fn a_command_error_on_a_read_is_passed_on() {
    within("a read of a key of the wrong type", async {
        let Setup {
            redis,
            store,
            fake: _fake,
        } = behind_the_double().await;
        redis.cli(&["SET", KEY, "a string, not a list"]);
        let Err(StoreError::Rejected(message)) = store.recent().await else {
            panic!("a WRONGTYPE read is refused");
        };
        assert!(
            message.starts_with("storage command failed: WRONGTYPE"),
            "{message}"
        );
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

#[test]
fn storage_that_cannot_be_reached_or_does_not_answer_is_unavailable() {
    within("reads of absent, silent and trickling storage", async {
        let nothing_there = format!("http://127.0.0.1:{}", testkit::free_port());
        let store = UpstashStore::new(settings_for(&nothing_there), NO_WAITS);
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

#[test]
fn invalid_entries_are_skipped_and_counted() {
    let good = RequestRecord::from_parts("GET", &http::HeaderMap::new());
    let entries = [
        json!(good.to_json()),
        json!("not json"),
        json!(42),
        json!({"id": "an object, not a string"}),
        json!(r#"{"id":"x","timestamp":1,"method":"GET","userAgent":"","evil":true}"#),
    ];
    let recent = parse_entries(&entries);
    assert_eq!(recent.records, [good]);
    assert_eq!(recent.skipped, 4);
}

#[test]
fn no_more_than_the_kept_number_of_entries_is_read() {
    let entries: Vec<Value> = records(1, 12).iter().map(|r| json!(r.to_json())).collect();
    assert_eq!(parse_entries(&entries).records, records(1, KEEP as u64));
}
