//! Properties of the storage rule (`wait_until::store::newest`): a record is one member of a
//! Redis sorted set, its JSON text scored by its time in milliseconds, and every write adds its
//! batch's [`KEEP`] newest and cuts the set to the [`KEEP`] greatest (by score, then by the
//! member's bytes). So whatever order batches arrive in, however often a batch or a record is
//! delivered again (a retry, a replay), whichever instance sends it, however old it is, the set
//! ends up holding the [`KEEP`] greatest of everything stored and sent, and a read hands out
//! those that are records, newest first, each id once.
//!
//! On a real `redis-server`, through the real client (`UpstashStore::add` and `recent`, several
//! of them as several instances, behind the Upstash test double), each write and read is held to
//! a model written here: a `BTreeSet` of (score, member) cut to ten, `ZADD`'s count of new
//! members, and the read's rule. The memory store, which keeps the same rule in Rust, is held to
//! the same model. The set may start with entries that are not this app's records, at any score
//! (another writer's text, damaged JSON, a twin of a record in other bytes): the rule keeps or
//! cuts them as any other, and a read skips and counts them. Last, every batch is sent again by
//! all instances at once: the set does not change, and it is what adding everything in one go
//! gives.
//!
//! A case's records are made within a few milliseconds, so that many share one and their order
//! is decided by their text (which starts with the id: within a millisecond, the v7 id's random
//! bits).

use super::tally::{Property, SOME};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use testkit::app::test_client;
use testkit::fake_upstash::{FakeUpstash, READ_TOKEN, WRITE_TOKEN};
use testkit::redis::{RECENT, Redis};
use wait_until::config::{Config, EnvFile};
use wait_until::record::{RequestRecord, country_to_flag};
use wait_until::store::newest::{Entry, newest};
use wait_until::store::{KEEP, MemoryStore, Recent, Store, UpstashStore, Written};

/// Cases, each a few calls over HTTP per batch.
const CASES: u32 = 128;
/// The deadline of one case (all of its calls).
const CASE_LIMIT: Duration = Duration::from_secs(20);
/// The instances that write.
const INSTANCES: usize = 3;
/// When a case's records are made: a moment in 2026, plus up to [`SPAN`] ms.
const T0: u64 = 1_780_000_000_000;
const SPAN: u64 = 12;
/// A score above any record's, for entries that are read before every record.
const ABOVE: u64 = T0 + 1_000_000_000;

/// An entry of the set: its score and its member.
type Scored = (u64, String);

/// The set as the rule keeps it, written without the code under test: members with their
/// scores, ordered as Redis orders a sorted set (by score, then by the member's bytes).
#[derive(Clone, Debug, Default, PartialEq)]
struct Model(BTreeSet<Scored>);

impl Model {
    /// `ZADD` of `entries`, then `ZREMRANGEBYRANK 0 -11`: returns how many members were new (a
    /// member stored already at another score is moved, and is not new).
    fn add(&mut self, entries: &[Scored]) -> usize {
        let mut added = 0;
        for (score, member) in entries {
            match self.0.iter().find(|(_, stored)| stored == member).cloned() {
                Some(stored) if stored.0 == *score => {}
                Some(stored) => {
                    self.0.remove(&stored);
                    self.0.insert((*score, member.clone()));
                }
                None => {
                    self.0.insert((*score, member.clone()));
                    added += 1;
                }
            }
        }
        while self.0.len() > KEEP {
            self.0.pop_first();
        }
        added
    }

    /// `ZRANGE 0 -1 REV WITHSCORES`.
    fn newest_first(&self) -> Vec<Scored> {
        self.0.iter().rev().cloned().collect()
    }

    /// What a read hands out: of the [`KEEP`] greatest, newest first, the members that are
    /// valid records, each id once; and how many it skipped as not records, and as repeats of
    /// an id.
    fn read(&self) -> (Recent, usize, usize) {
        let (mut records, mut not_records, mut repeats) = (Vec::new(), 0, 0);
        let mut ids = HashSet::new();
        for (_, member) in self.newest_first().iter().take(KEEP) {
            match RequestRecord::from_stored(member) {
                None => not_records += 1,
                Some(record) if !ids.insert(record.id.clone()) => repeats += 1,
                Some(record) => records.push(record),
            }
        }
        let skipped = not_records + repeats;
        (Recent { records, skipped }, not_records, repeats)
    }
}

fn entry(record: &RequestRecord) -> Scored {
    (record.timestamp, record.to_json())
}

/// What a write of `batch` must send: its distinct entries, the [`KEEP`] greatest.
fn sent_by_the_rule(batch: &[RequestRecord]) -> BTreeSet<Scored> {
    let all: BTreeSet<Scored> = batch.iter().map(entry).collect();
    all.into_iter().rev().take(KEEP).collect()
}

/// A record's drawn parts: when in the span it was made, the id's random digits (19: the
/// variant's among them), its user agent and country.
#[derive(Clone, Debug)]
struct Made {
    at: u64,
    digits: Vec<u8>,
    user_agent: String,
    country: Option<String>,
}

/// Text of up to `max` characters: printable ASCII (quotes and backslashes, which JSON
/// escapes, included) and a few characters of several bytes, whose order is their bytes'.
fn text(max: usize) -> impl Strategy<Value = String> {
    let mut alphabet: Vec<char> = (' '..='~').collect();
    alphabet.extend(['é', 'ß', '漢', '🦀']);
    prop::collection::vec(prop::sample::select(alphabet), 0..=max)
        .prop_map(|chars| chars.into_iter().collect())
}

fn made() -> impl Strategy<Value = Made> {
    let capitals: Vec<char> = ('A'..='Z').collect();
    let country = prop::collection::vec(prop::sample::select(capitals), 2)
        .prop_map(|letters| letters.into_iter().collect::<String>());
    (
        0..SPAN,
        prop::collection::vec(0u8..16, 19),
        text(10),
        prop::option::of(country),
    )
        .prop_map(|(at, digits, user_agent, country)| Made {
            at,
            digits,
            user_agent,
            country,
        })
}

/// A v7 id made at `time` ms: its 48 bits first, then the version, then `digits`.
fn v7_id(time: u64, digits: &[u8]) -> String {
    let hex = |digit: u8| char::from_digit(u32::from(digit & 15), 16).unwrap_or('0');
    let time = format!("{time:012x}");
    let rest: String = digits.iter().map(|&digit| hex(digit)).collect();
    let variant = hex(8 | (digits[3] & 3));
    format!(
        "{}-{}-7{}-{variant}{}-{}",
        &time[..8],
        &time[8..],
        &rest[..3],
        &rest[4..7],
        &rest[7..19]
    )
}

/// The record, as the app makes it: its time is its id's.
fn record(made: &Made) -> RequestRecord {
    let timestamp = T0 + made.at;
    RequestRecord {
        id: v7_id(timestamp, &made.digits),
        timestamp,
        method: "GET".into(),
        user_agent: made.user_agent.clone(),
        flag: made.country.as_deref().map(country_to_flag),
        country: made.country.clone(),
    }
}

/// What the set holds before the deliveries: a copy of one of the case's records (an earlier
/// delivery landed), a twin of one (the same id and time in other bytes: another writer's
/// copy), a record of its own, or an entry that is not a record.
#[derive(Clone, Debug)]
enum Before {
    Copy(Index),
    Twin(Index, String),
    Another(Made),
    /// Scored below every record, among them, or above all.
    NotOurs(String, u64),
}

/// Entries that are not records: damaged or foreign JSON, look-alikes, other text.
fn not_ours() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("not json".to_string()),
        Just(String::new()),
        Just("two\nlines".to_string()),
        Just(r#"{"id":"zzzz"}"#.to_string()),
        Just(r#"{"id":"x","timestamp":"soon"}"#.to_string()),
        Just(
            r#"{"id":"FFFFFFFF-FFFF-7FFF-BFFF-FFFFFFFFFFFF","timestamp":1,"method":"GET","userAgent":""}"#
                .to_string()
        ),
        text(12).prop_map(|text| format!("<{text}>")),
    ]
}

fn before() -> impl Strategy<Value = Before> {
    let score = prop_oneof![1 => Just(1), 2 => T0..T0 + SPAN, 1 => Just(ABOVE)];
    prop_oneof![
        2 => any::<Index>().prop_map(Before::Copy),
        2 => (any::<Index>(), text(10)).prop_map(|(which, other)| Before::Twin(which, other)),
        1 => made().prop_map(Before::Another),
        2 => (not_ours(), score).prop_map(|(text, score)| Before::NotOurs(text, score)),
    ]
}

/// A case: what the set holds before (each member once), the case's records (distinct ids,
/// oldest first), and the batches in the order they arrive, each with the instance that sends
/// it: some delivered more than once, some records in more than one.
#[derive(Clone)]
struct Plan {
    stored: Vec<Scored>,
    records: Vec<RequestRecord>,
    deliveries: Vec<(usize, Vec<RequestRecord>)>,
}

/// Members as their text, batches as their ids: a minimal case reads in a few lines.
impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let records: Vec<String> = self.records.iter().map(RequestRecord::to_json).collect();
        let deliveries: Vec<(usize, Vec<&str>)> = self
            .deliveries
            .iter()
            .map(|(instance, batch)| (*instance, ids(batch)))
            .collect();
        f.debug_struct("Plan")
            .field("stored", &self.stored)
            .field("records", &records)
            .field("deliveries", &deliveries)
            .finish()
    }
}

fn ids(records: &[RequestRecord]) -> Vec<&str> {
    records.iter().map(|r| r.id.as_str()).collect()
}

/// Shuffles `items` with the draws `order` (Fisher–Yates; all zeros shrink it to a rotation).
fn shuffle<T>(items: &mut [T], order: &[Index]) {
    for i in (1..items.len()).rev() {
        let j = order[i % order.len()].index(i + 1);
        items.swap(i, j);
    }
}

fn plan() -> impl Strategy<Value = Plan> {
    let stored = prop_oneof![
        1 => Just(Vec::new()),
        3 => prop::collection::vec(before(), 1..=6),
    ];
    (
        (stored, prop::collection::vec(made(), 1..=16)),
        (
            1..=4usize,
            any::<bool>(),
            prop::collection::vec(any::<Index>(), 0..=2),
            prop::collection::vec((any::<Index>(), any::<Index>()), 0..=2),
            prop::collection::vec(any::<Index>(), 16),
            prop::bool::weighted(0.5),
        ),
    )
        .prop_map(
            |((stored, made), (batches, by_age, repeats, copies, order, oldest_last))| {
                // Distinct ids, oldest first.
                let by_id: BTreeMap<String, RequestRecord> = made
                    .iter()
                    .map(record)
                    .map(|record| (record.id.clone(), record))
                    .collect();
                let records: Vec<RequestRecord> = by_id.into_values().collect();
                let n = records.len();
                // By age, as one instance's queue sends them; or scattered, as retries,
                // instances and replays mix them.
                let mut split = vec![Vec::new(); batches];
                for (i, record) in records.iter().enumerate() {
                    let batch = if by_age {
                        i * batches / n
                    } else {
                        order[i % order.len()].index(batches)
                    };
                    split[batch].push(record.clone());
                }
                for (which, into) in copies {
                    split[into.index(batches)].push(records[which.index(n)].clone());
                }
                let mut deliveries: Vec<Vec<RequestRecord>> =
                    split.into_iter().filter(|b| !b.is_empty()).collect();
                for batch in &mut deliveries {
                    shuffle(batch, &order[1..]);
                }
                for again in repeats {
                    let batch = deliveries[again.index(deliveries.len())].clone();
                    deliveries.push(batch);
                }
                shuffle(&mut deliveries, &order);
                if oldest_last {
                    // The batch whose newest record is the oldest arrives last.
                    let newest = |b: &Vec<RequestRecord>| b.iter().map(entry).max();
                    let oldest = (0..deliveries.len()).min_by_key(|&i| newest(&deliveries[i]));
                    if let Some(oldest) = oldest {
                        let batch = deliveries.remove(oldest);
                        deliveries.push(batch);
                    }
                }
                let deliveries = deliveries
                    .into_iter()
                    .enumerate()
                    .map(|(k, batch)| (order[(k + 5) % order.len()].index(INSTANCES), batch))
                    .collect();
                let mut members = HashSet::new();
                let stored = stored
                    .into_iter()
                    .map(|before| match before {
                        Before::Copy(which) => entry(&records[which.index(n)]),
                        Before::Twin(which, other) => {
                            let mut twin = records[which.index(n)].clone();
                            twin.user_agent = format!("{other} (another copy)");
                            entry(&twin)
                        }
                        Before::Another(made) => entry(&record(&made)),
                        Before::NotOurs(text, score) => (score, text),
                    })
                    .filter(|(_, member)| members.insert(member.clone()))
                    .collect();
                Plan {
                    stored,
                    records,
                    deliveries,
                }
            },
        )
}

/// A client of the double, as the app configures it from the environment.
fn client_of(fake: &FakeUpstash) -> UpstashStore {
    let env = [
        ("KV_REST_API_URL", fake.url.as_str()),
        ("KV_REST_API_TOKEN", WRITE_TOKEN),
        ("KV_REST_API_READ_ONLY_TOKEN", READ_TOKEN),
    ];
    let lookup = |name: &str| {
        env.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    };
    match Config::from_sources(&lookup, &EnvFile::default()).store {
        Store::Upstash(client) => client,
        other => panic!("the double's settings are Upstash settings, not {other:?}"),
    }
}

/// The test's own calls to the double, to write the set before a case and read it whole (with
/// scores) after each write: not the client under test.
struct Direct {
    client: reqwest::Client,
    url: String,
}

impl Direct {
    async fn call(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(WRITE_TOKEN)
            .body(body.to_string())
            .send()
            .await
            .expect("the double answers");
        let status = response.status();
        let text = response.text().await.expect("the double's answer");
        assert!(status.is_success(), "{body} answered {status}: {text}");
        serde_json::from_str(&text).expect("a JSON answer")
    }

    /// Deletes the set and writes `entries` in its place.
    async fn replace(&self, entries: &[Scored]) {
        let mut commands = vec![json!(["DEL", RECENT])];
        if !entries.is_empty() {
            let mut zadd = vec![json!("ZADD"), json!(RECENT)];
            for (score, member) in entries {
                zadd.extend([json!(score.to_string()), json!(member)]);
            }
            commands.push(Value::Array(zadd));
        }
        let replies = self.call("/pipeline", Value::Array(commands)).await;
        let replies = replies.as_array().expect("one reply per command");
        assert!(
            replies.iter().all(|reply| reply.get("error").is_none()),
            "{replies:?}"
        );
    }

    /// The whole set, newest first, with scores.
    async fn set(&self) -> Vec<Scored> {
        let command = json!(["ZRANGE", RECENT, "0", "-1", "REV", "WITHSCORES"]);
        let reply = self.call("/", command).await;
        let flat = reply["result"].as_array().expect("ZRANGE's members");
        flat.chunks(2)
            .map(|pair| {
                let member = pair[0].as_str().expect("a member").to_string();
                let score = pair[1].as_str().and_then(|score| score.parse().ok());
                (score.expect("an integer score"), member)
            })
            .collect()
    }
}

/// The entries a write sent (`ZADD`'s scores and members), and whether the set was then cut to
/// ten.
fn what_went_out(fake: &FakeUpstash) -> (BTreeSet<Scored>, bool) {
    let seen = fake.seen();
    let write = seen.iter().rev().find(|s| s.is_write()).expect("a write");
    let zadd = write.body[0].as_array().expect("a ZADD");
    let sent = zadd[2..]
        .chunks(2)
        .map(|pair| {
            let score = pair[0].as_str().and_then(|score| score.parse().ok());
            let member = pair[1].as_str().expect("a member").to_string();
            (score.expect("an integer score"), member)
        })
        .collect();
    let cut = write.body[1] == json!(["ZREMRANGEBYRANK", RECENT, "0", "-11"]);
    (sent, cut && zadd[1] == RECENT)
}

/// An older batch arrived: its records were new to the set, and cut at once.
const OLDER_CUT_AT_ONCE: &str = "older records added, then cut at once";
/// A batch arrived whose records were stored already, some or all.
const STORED_ALREADY: &str = "records sent again, stored already";
/// Two records next to each other among the ten kept were made in the same millisecond.
const SAME_MILLISECOND: &str = "same millisecond, ordered by text";
/// A twin of a record read back: the same id, read once.
const TWIN_READ_ONCE: &str = "an id stored twice, read once";
/// An entry that is not a record among the ten greatest, skipped.
const NOT_OURS_SKIPPED: &str = "an entry not ours skipped";
const CUT_TO_TEN: &str = "cut to ten";

/// Batches written through the real client to Redis, one after the other and then all again at
/// once, leave after each write what the model does; each write sends the batch's ten newest and
/// returns the model's counts, each read hands out what the model's rule reads; the memory store
/// agrees. One Redis and one double serve every case; the set is written afresh before each.
#[test]
fn any_order_and_repetition_of_batches_from_any_instance_leaves_the_ten_newest() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the property");
    let redis = Redis::start();
    let fake = runtime.block_on(FakeUpstash::start(&redis));
    let stores: Vec<Arc<UpstashStore>> =
        (0..INSTANCES).map(|_| Arc::new(client_of(&fake))).collect();
    let direct = Direct {
        client: test_client(),
        url: fake.url.clone(),
    };
    Property::cases(CASES)
        .at_least(SOME, OLDER_CUT_AT_ONCE)
        .at_least(SOME, STORED_ALREADY)
        .at_least(SOME, SAME_MILLISECOND)
        .at_least(SOME, TWIN_READ_ONCE)
        .at_least(SOME, NOT_OURS_SKIPPED)
        .at_least(SOME, CUT_TO_TEN)
        .check(plan(), |plan| {
            let what = "a case of writes through the double";
            runtime.block_on(testkit::within(CASE_LIMIT, what, async {
                let mut reached = Vec::new();
                direct.replace(&plan.stored).await;
                let mut model = Model::default();
                model.add(&plan.stored);
                let memory = MemoryStore::default();
                memory.add(plan.stored.iter().map(|(score, member)| Entry {
                    score: *score,
                    member: member.clone(),
                }));

                for (instance, batch) in &plan.deliveries {
                    let sent = sent_by_the_rule(batch);
                    let before = model.clone();
                    let added = model.add(&Vec::from_iter(sent.iter().cloned()));
                    let written = stores[*instance].add(batch).await;
                    prop_assert_eq!(
                        written,
                        Ok(Written {
                            sent: sent.len(),
                            added,
                        }),
                        "what writing {:?} did (left) and the model's counts (right)",
                        ids(batch)
                    );
                    prop_assert_eq!(
                        what_went_out(&fake),
                        (sent.clone(), true),
                        "what went out for {:?} (left): the batch's ten newest, then the cut",
                        ids(batch)
                    );
                    let members: Vec<String> = model
                        .newest_first()
                        .into_iter()
                        .map(|(_, member)| member)
                        .collect();
                    prop_assert_eq!(
                        direct.set().await,
                        model.newest_first(),
                        "Redis (left) and the model (right) after writing {:?}",
                        ids(batch)
                    );
                    prop_assert_eq!(memory.add(newest(batch)), added, "the memory store's count");
                    prop_assert_eq!(memory.newest_first(), members, "the memory store");
                    let (read, not_records, repeats) = model.read();
                    prop_assert_eq!(stores[*instance].recent().await, Ok(read));
                    if not_records > 0 {
                        reached.push(NOT_OURS_SKIPPED);
                    }
                    if repeats > 0 {
                        reached.push(TWIN_READ_ONCE);
                    }
                    if added < sent.len() {
                        reached.push(STORED_ALREADY);
                    }
                    if added > 0 && model == before {
                        reached.push(OLDER_CUT_AT_ONCE);
                    }
                }

                // Every batch again, from every instance at once: nothing changes.
                let mut again = tokio::task::JoinSet::new();
                for (instance, batch) in plan.deliveries.clone() {
                    let store = stores[instance].clone();
                    again.spawn(async move { (store.add(&batch).await, batch) });
                }
                while let Some(done) = again.join_next().await {
                    let (written, batch) = done.expect("a write again");
                    let sent = sent_by_the_rule(&batch).len();
                    prop_assert!(
                        matches!(written, Ok(Written { sent: s, added }) if s == sent && added <= sent),
                        "{written:?} writing {:?} again",
                        ids(&batch)
                    );
                }
                prop_assert_eq!(
                    direct.set().await,
                    model.newest_first(),
                    "Redis (left) and the model (right) after every batch again at once"
                );

                // Whatever the order: what adding everything in one go gives.
                let mut at_once = Model::default();
                at_once.add(&plan.stored);
                at_once.add(&Vec::from_iter(plan.records.iter().map(entry)));
                prop_assert_eq!(&model, &at_once, "batch by batch (left), all at once (right)");

                let kept = model.newest_first();
                let records_in_a_millisecond = kept.windows(2).any(|pair| {
                    pair[0].0 == pair[1].0
                        && pair
                            .iter()
                            .all(|(_, member)| RequestRecord::from_stored(member).is_some())
                });
                if records_in_a_millisecond {
                    reached.push(SAME_MILLISECOND);
                }
                let mut everything: BTreeSet<String> =
                    plan.stored.iter().map(|(_, member)| member.clone()).collect();
                everything.extend(plan.records.iter().map(RequestRecord::to_json));
                if everything.len() > KEEP {
                    reached.push(CUT_TO_TEN);
                }
                Ok(reached)
            }))
        });
}
