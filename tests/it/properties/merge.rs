//! Properties of the merge rule (issue #11): whatever the order batches arrive in, however
//! often a batch or a record is delivered again, the list ends up the same: the [`KEEP`]
//! newest distinct records by id, compared as bytes, newest first, a stored record never
//! replaced by a later copy.
//!
//! - In Rust, many cases: batches folded one by one with [`newest_distinct`] into a list that
//!   already holds records (copies or twins of the batches' records, and others) give what the
//!   rule's documentation says, written here without `newest_distinct`; and folding a batch
//!   again changes nothing.
//! - The Lua script on a real `redis-server`, fewer cases: the same deliveries through the real
//!   client ([`UpstashStore::merge`], behind the Upstash test double) leave in Redis what the
//!   Rust rule gives, and each call returns the counts the rule implies. The list may start
//!   with entries that are not the app's records: the script keeps them after every record, in
//!   their order, and they are the first to fall out; the expectation models that explicitly.
//!
//! Ids are drawn from the whole id alphabet (printable ASCII but `"` and `\`): most of a case's
//! ids share a prefix and end in characters at the edges of ASCII's classes (digits, capitals,
//! lower case and the punctuation between them), so that ids first differ where byte order and
//! any other order disagree, or one id is the prefix of another.

use super::tally::{Property, SOME};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use testkit::fake_upstash::{FakeUpstash, READ_TOKEN, WRITE_TOKEN};
use testkit::redis::{RECENT, Redis};
use wait_until::record::{MAX_ID_CHARS, RequestRecord, country_to_flag, is_id};
use wait_until::settings::Settings;
use wait_until::store::merge::newest_distinct;
use wait_until::store::upstash::retry::RetryPolicy;
use wait_until::store::{Choice, KEEP, Merged, StoreChoice, UpstashStore};

/// Cases of the Rust rule: each costs microseconds.
const RULE_CASES: u32 = 512;
/// Cases of the script on Redis, each a few calls over HTTP.
const SCRIPT_CASES: u32 = 128;
/// The deadline of one case on Redis (all of its calls).
const CASE_LIMIT: Duration = Duration::from_secs(20);

/// Characters at the edges of ASCII's classes, and the punctuation between them.
const EDGES: &[u8] = b"!#-./09:@AZ[]^_`az{|}~";
const HEX: &[u8] = b"0123456789abcdefABCDEF";
const CAPITALS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Every character an id may hold: printable ASCII but `"` and `\`.
fn id_chars() -> Vec<u8> {
    (b'!'..=b'~').filter(|&b| b != b'"' && b != b'\\').collect()
}

/// Every printable ASCII character, space included.
fn printable() -> Vec<u8> {
    (b' '..=b'~').collect()
}

/// Text of `min..=max` characters of `alphabet` (ASCII): a pick per character, much cheaper to
/// draw than a regex.
fn text_of(alphabet: impl Into<Vec<u8>>, min: usize, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(alphabet.into()), min..=max)
        .prop_map(|bytes| bytes.into_iter().map(char::from).collect())
}

/// How a case's ids begin: short, a v7 UUID's first half (in either case), or long, so that
/// the tail reaches the 64-character bound.
fn prefix() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => text_of(id_chars(), 0, 3),
        1 => Just("019abc12-3def-7".to_string()),
        1 => text_of(HEX, 8, 8).prop_map(|hex| hex + "-"),
        1 => text_of(id_chars(), 58, 62),
    ]
}

/// An id, as the case's prefixes make it: one of them and a tail of edge characters, or (one
/// in five) any id at all.
#[derive(Clone, Debug)]
enum IdPart {
    Shared(Index, String),
    Whole(String),
}

fn id_part() -> impl Strategy<Value = IdPart> {
    prop_oneof![
        4 => (any::<Index>(), text_of(EDGES, 0, 3))
            .prop_map(|(prefix, tail)| IdPart::Shared(prefix, tail)),
        1 => text_of(id_chars(), 1, MAX_ID_CHARS).prop_map(IdPart::Whole),
    ]
}

impl IdPart {
    /// The id; `!`, the smallest, for an empty prefix and tail.
    fn id(&self, prefixes: &[String]) -> String {
        let id = match self {
            IdPart::Shared(at, tail) => format!("{}{tail}", prefixes[at.index(prefixes.len())]),
            IdPart::Whole(id) => id.clone(),
        };
        // ASCII: a cut at any byte is a cut between characters.
        match &id[..id.len().min(MAX_ID_CHARS)] {
            "" => "!".into(),
            id => id.into(),
        }
    }
}

/// Everything of a record but its id: a user agent of any printable ASCII (quotes and
/// backslashes, which JSON escapes, included), a country or none.
#[derive(Clone, Debug)]
struct Fields {
    timestamp: u64,
    user_agent: String,
    country: Option<String>,
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        0..2000u64,
        text_of(printable(), 0, 12),
        prop::option::of(text_of(CAPITALS, 2, 2)),
    )
        .prop_map(|(timestamp, user_agent, country)| Fields {
            timestamp,
            user_agent,
            country,
        })
}

fn record(id: String, fields: &Fields) -> RequestRecord {
    RequestRecord {
        id,
        timestamp: fields.timestamp,
        method: "GET".into(),
        user_agent: fields.user_agent.clone(),
        flag: fields.country.as_deref().map(country_to_flag),
        country: fields.country.clone(),
    }
}

/// What the list holds before the deliveries: a copy of one of the case's records (an earlier
/// delivery landed), a twin of one (same id, another user agent: another writer's copy, which
/// stays), or a record of another id.
#[derive(Clone, Debug)]
enum Before {
    Copy(Index),
    Twin(Index),
    Another(IdPart, Fields),
}

fn before() -> impl Strategy<Value = Before> {
    prop_oneof![
        2 => any::<Index>().prop_map(Before::Copy),
        1 => any::<Index>().prop_map(Before::Twin),
        2 => (id_part(), fields()).prop_map(|(id, fields)| Before::Another(id, fields)),
    ]
}

/// How records are split into batches: by age, as the write queue sends them (a batch holds
/// records made one after the other), or scattered, as retries, instances and replays mix them.
#[derive(Clone, Copy, Debug)]
enum Split {
    ByAge,
    Scattered,
}

/// What is stored before, the case's records (distinct ids), and the deliveries: batches of
/// them in the order they arrive, some delivered more than once, some records in more than one.
#[derive(Clone)]
struct Plan {
    stored: Vec<RequestRecord>,
    records: Vec<RequestRecord>,
    deliveries: Vec<Vec<RequestRecord>>,
}

/// Records as their JSON, batches as their ids: a minimal case reads in a few lines.
impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = |records: &[RequestRecord]| -> Vec<String> {
            records.iter().map(RequestRecord::to_json).collect()
        };
        let deliveries: Vec<Vec<&str>> = self.deliveries.iter().map(|b| ids(b)).collect();
        f.debug_struct("Plan")
            .field("stored", &json(&self.stored))
            .field("records", &json(&self.records))
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

/// How big a plan may be: records, batches, batches delivered again, records copied into
/// another batch.
#[derive(Clone, Copy)]
struct Size {
    records: usize,
    batches: usize,
    repeats: usize,
    copies: usize,
}

/// For the Rust rule: cases are cheap.
const LARGE: Size = Size {
    records: 24,
    batches: 6,
    repeats: 3,
    copies: 4,
};

/// For the script: every batch delivered is a call over HTTP. Still enough records to cut.
const SMALL: Size = Size {
    records: 16,
    batches: 4,
    repeats: 1,
    copies: 2,
};

/// Plans of `size`; a list before them most of the time.
fn plan(size: Size) -> impl Strategy<Value = Plan> {
    let stored = prop_oneof![
        1 => Just(Vec::new()),
        3 => prop::collection::vec(before(), 1..=KEEP),
    ];
    let split = prop_oneof![3 => Just(Split::ByAge), 2 => Just(Split::Scattered)];
    (
        (
            prop::collection::vec(prefix(), 1..=3),
            prop::collection::vec((id_part(), fields(), any::<Index>()), 1..=size.records),
            stored,
            any::<bool>(),
        ),
        (
            1..=size.batches,
            split,
            prop::collection::vec(any::<Index>(), 0..=size.repeats),
            prop::collection::vec((any::<Index>(), any::<Index>()), 0..=size.copies),
            prop::collection::vec(any::<Index>(), 16),
            prop::bool::weighted(0.6),
        ),
    )
        .prop_map(
            |(
                (prefixes, drawn, stored, stored_in_order),
                (batches, split, repeats, copies, order, oldest_last),
            )| {
                // Distinct ids, oldest first.
                let mut by_id = BTreeMap::new();
                for (part, fields, slot) in drawn {
                    let id = part.id(&prefixes);
                    by_id
                        .entry(id.clone())
                        .or_insert((record(id, &fields), slot));
                }
                let records: Vec<RequestRecord> = by_id.values().map(|(r, _)| r.clone()).collect();
                let n = records.len();
                let mut split_into = vec![Vec::new(); batches];
                for (i, (record, slot)) in by_id.into_values().enumerate() {
                    let batch = match split {
                        Split::ByAge => i * batches / n,
                        Split::Scattered => slot.index(batches),
                    };
                    split_into[batch].push(record);
                }
                for (which, into) in copies {
                    split_into[into.index(batches)].push(records[which.index(n)].clone());
                }
                let mut deliveries: Vec<Vec<RequestRecord>> =
                    split_into.into_iter().filter(|b| !b.is_empty()).collect();
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
                    let newest = |b: &Vec<RequestRecord>| b.iter().map(|r| r.id.clone()).max();
                    let oldest = (0..deliveries.len()).min_by_key(|&i| newest(&deliveries[i]));
                    if let Some(oldest) = oldest {
                        let batch = deliveries.remove(oldest);
                        deliveries.push(batch);
                    }
                }
                let mut stored: Vec<RequestRecord> = stored
                    .into_iter()
                    .map(|before| match before {
                        Before::Copy(which) => records[which.index(n)].clone(),
                        Before::Twin(which) => {
                            let mut twin = records[which.index(n)].clone();
                            twin.user_agent.push_str(" (stored twin)");
                            twin
                        }
                        Before::Another(part, fields) => record(part.id(&prefixes), &fields),
                    })
                    .collect();
                if stored_in_order {
                    // As the app leaves it; otherwise as another writer may have.
                    stored = newest_distinct([], stored);
                }
                Plan {
                    stored,
                    records,
                    deliveries,
                }
            },
        )
}

/// The rule as `store/merge.rs` documents it, written without [`newest_distinct`]: each id
/// once, the first copy to arrive kept, newest first by id as bytes, the [`KEEP`] newest.
fn by_the_rule<'a>(arrivals: impl IntoIterator<Item = &'a RequestRecord>) -> Vec<RequestRecord> {
    let mut kept: Vec<RequestRecord> = Vec::new();
    for record in arrivals {
        if !kept.iter().any(|k| k.id == record.id) {
            kept.push(record.clone());
        }
    }
    kept.sort_by(|a, b| b.id.as_bytes().cmp(a.id.as_bytes()));
    kept.truncate(KEEP);
    kept
}

/// What a list of records must be: ids, each once, newest first by bytes, at most [`KEEP`].
fn check_shape(list: &[RequestRecord]) -> Result<(), TestCaseError> {
    prop_assert!(
        list.len() <= KEEP,
        "{} records: {:?}",
        list.len(),
        ids(list)
    );
    for pair in list.windows(2) {
        prop_assert!(
            pair[0].id.as_bytes() > pair[1].id.as_bytes(),
            "not newest first, each once: {:?}",
            ids(list)
        );
    }
    prop_assert!(list.iter().all(|r| is_id(&r.id)), "{:?}", ids(list));
    Ok(())
}

/// The number of distinct ids in `records`.
fn distinct<'a>(records: impl IntoIterator<Item = &'a RequestRecord>) -> usize {
    records
        .into_iter()
        .map(|r| r.id.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}

/// Whether a batch or a record is delivered more than once.
fn delivered_twice(plan: &Plan) -> bool {
    plan.deliveries.iter().map(Vec::len).sum::<usize>() > plan.records.len()
}

/// Whether `list` holds a stored twin: a record stored before whose id a delivery carried in
/// another version.
fn holds_a_stored_twin(plan: &Plan, list: &[RequestRecord]) -> bool {
    list.iter().any(|kept| {
        plan.records
            .iter()
            .any(|delivered| delivered.id == kept.id && delivered != kept)
    })
}

/// Whatever the order and repetition of the deliveries, folding them one by one into the list
/// gives the rule's list of the stored records and all the case's records together; each step
/// leaves a list of the rule's shape, and folding the same batch again changes nothing.
#[test]
fn any_interleaving_and_duplication_of_batches_gives_the_same_list() {
    Property::cases(RULE_CASES)
        .at_least(SOME, "an older batch came last")
        .at_least(SOME, "a stored twin kept")
        .at_least(SOME, "cut to ten, delivered twice")
        .at_least(SOME, "ten or fewer, delivered twice")
        .check(plan(LARGE), |plan| {
            let mut list = plan.stored.clone();
            let mut older_last = false;
            for batch in &plan.deliveries {
                let before = newest_distinct(list.clone(), []);
                older_last = before.len() == KEEP
                    && batch
                        .iter()
                        .all(|r| r.id.as_bytes() < before[KEEP - 1].id.as_bytes());
                let merged = newest_distinct(list, batch.iter().cloned());
                check_shape(&merged)?;
                prop_assert_eq!(
                    &newest_distinct(merged.clone(), batch.iter().cloned()),
                    &merged,
                    "merging {:?} again changed the list",
                    ids(batch)
                );
                if older_last {
                    prop_assert_eq!(&merged, &before, "an older batch changed the list");
                }
                list = merged;
            }
            let all = plan.stored.iter().chain(&plan.records);
            prop_assert_eq!(
                &list,
                &by_the_rule(all.clone()),
                "the batches folded in (left) and the rule (right)"
            );
            prop_assert_eq!(
                &list,
                &newest_distinct(plan.stored.clone(), plan.records.clone()),
                "the batches folded in (left) and all the records in one merge (right)"
            );
            prop_assert_eq!(list.len(), distinct(all).min(KEEP));
            let cut = distinct(plan.stored.iter().chain(&plan.records)) > KEEP;
            Ok(if older_last {
                "an older batch came last"
            } else if holds_a_stored_twin(&plan, &list) {
                "a stored twin kept"
            } else {
                match (cut, delivered_twice(&plan)) {
                    (true, true) => "cut to ten, delivered twice",
                    (true, false) => "cut to ten",
                    (false, true) => "ten or fewer, delivered twice",
                    (false, false) => "ten or fewer",
                }
            })
        });
}

/// An entry of the list before the deliveries: one of the app's records, or an entry that is
/// not (another writer's, or damaged), which the script cannot read an id from.
#[derive(Clone)]
enum Entry {
    Record(RequestRecord),
    NotOurs(String),
}

/// As stored: a minimal case reads as the list it started from.
impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Record(record) => write!(f, "record {}", record.to_json()),
            Entry::NotOurs(text) => write!(f, "not ours {text:?}"),
        }
    }
}

impl Entry {
    fn text(&self) -> String {
        match self {
            Entry::Record(record) => record.to_json(),
            Entry::NotOurs(text) => text.clone(),
        }
    }
}

/// Entries that are not the app's records: JSON with an id the script must not read (one that
/// would rank first if it did), or other text.
fn not_ours() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("not json".to_string()),
        Just(String::new()),
        Just("two\nlines".to_string()),
        Just(r#"{"timestamp":1,"id":"~~~~"}"#.to_string()),
        Just(r#"{"id":"","timestamp":1}"#.to_string()),
        Just(r#"{"id":7,"timestamp":1}"#.to_string()),
        Just(r#"{ "id":"~~~~"}"#.to_string()),
        Just(r#"{"ID":"~~~~"}"#.to_string()),
        Just(r#"{"id":"~~\"~~"}"#.to_string()),
        Just(r#"["id","~~~~"]"#.to_string()),
        text_of(printable(), 0, 20).prop_map(|text| format!("<{text}>")),
    ]
}

/// A plan, and the list before it: its stored records with, half the time, up to four entries
/// that are not records among them; the first [`KEEP`] entries, all the script reads.
fn plan_and_list() -> impl Strategy<Value = (Plan, Vec<Entry>)> {
    let others = prop_oneof![
        1 => Just(Vec::new()),
        1 => prop::collection::vec((any::<Index>(), not_ours()), 1..=4),
    ];
    // The entries first: shrinking simplifies a tuple's elements in order, and the plan's are
    // many.
    (others, plan(SMALL)).prop_map(|(others, plan)| {
        let mut list: Vec<Entry> = plan.stored.iter().cloned().map(Entry::Record).collect();
        for (at, text) in others {
            list.insert(at.index(list.len() + 1), Entry::NotOurs(text));
        }
        list.truncate(KEEP);
        let stored = list
            .iter()
            .filter_map(|entry| match entry {
                Entry::Record(record) => Some(record.clone()),
                Entry::NotOurs(_) => None,
            })
            .collect();
        (Plan { stored, ..plan }, list)
    })
}

/// Retries without waiting; none is expected.
const NO_WAITS: RetryPolicy = RetryPolicy {
    max_attempts: 4,
    base_delay: Duration::ZERO,
    max_delay: Duration::ZERO,
    deadline: Duration::from_secs(20),
};

/// The double's settings, as the app would read them from the environment.
fn settings_for(fake: &FakeUpstash) -> wait_until::store::UpstashSettings {
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
    match Choice::from_settings(&Settings::from_sources(lookup, |_| None)).store {
        StoreChoice::Upstash(settings) => settings,
        other => panic!("the double's settings are Upstash settings, not {other:?}"),
    }
}

/// The test's own connection to Redis, to write the list before a case and read it after each
/// call: `redis-cli` costs a process, some 15 ms, per command, and a case reads the list after
/// every call. Just the replies those commands give (RESP2).
struct Connection(BufReader<TcpStream>);

#[derive(Debug)]
enum Resp {
    Integer(i64),
    Bulk(Option<String>),
    Array(Vec<Resp>),
}

impl Connection {
    fn open(redis: &Redis) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", redis.port)).expect("connect to Redis");
        stream
            .set_read_timeout(Some(CASE_LIMIT))
            .expect("a read timeout");
        Self(BufReader::new(stream))
    }

    fn run(&mut self, args: &[&str]) -> Resp {
        let mut frame = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            frame.extend(format!("${}\r\n{arg}\r\n", arg.len()).into_bytes());
        }
        self.0.get_mut().write_all(&frame).expect("write to Redis");
        self.read()
    }

    fn read(&mut self) -> Resp {
        let mut line = String::new();
        self.0.read_line(&mut line).expect("read from Redis");
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(1.min(line.len()));
        let number = || -> i64 { rest.parse().unwrap_or_else(|_| panic!("RESP: {line:?}")) };
        match kind {
            "+" => Resp::Bulk(Some(rest.into())),
            "-" => panic!("Redis refused a command: {rest}"),
            ":" => Resp::Integer(number()),
            "$" if number() < 0 => Resp::Bulk(None),
            "$" => {
                let mut bytes = vec![0; usize::try_from(number()).unwrap_or(0) + 2];
                self.0.read_exact(&mut bytes).expect("read from Redis");
                bytes.truncate(bytes.len() - 2);
                Resp::Bulk(Some(String::from_utf8(bytes).expect("UTF-8 entries")))
            }
            "*" => Resp::Array((0..number()).map(|_| self.read()).collect()),
            _ => panic!("RESP: {line:?}"),
        }
    }

    /// The app's list, newest first.
    fn entries(&mut self) -> Vec<String> {
        let last = KEEP.to_string();
        match self.run(&["LRANGE", RECENT, "0", &last]) {
            Resp::Array(entries) => entries
                .into_iter()
                .map(|entry| match entry {
                    Resp::Bulk(Some(text)) => text,
                    other => panic!("LRANGE gave {other:?}"),
                })
                .collect(),
            other => panic!("LRANGE gave {other:?}"),
        }
    }

    /// Deletes the list and writes `entries` in its place.
    fn replace(&mut self, entries: &[String]) {
        let deleted = self.run(&["DEL", RECENT]);
        assert!(
            matches!(deleted, Resp::Integer(0 | 1)),
            "DEL gave {deleted:?}"
        );
        if !entries.is_empty() {
            let mut push = vec!["RPUSH", RECENT];
            push.extend(entries.iter().map(String::as_str));
            match self.run(&push) {
                Resp::Integer(length) => assert_eq!(usize::try_from(length), Ok(entries.len())),
                other => panic!("RPUSH gave {other:?}"),
            }
        }
    }
}

/// What merging `batch` into a list holding `records` (then perhaps entries not ours) must
/// return: the rule's counts of the batch's newest, the only ones sent.
fn counts_by_the_rule(records: &[RequestRecord], batch: &[RequestRecord]) -> Merged {
    let stored: BTreeSet<&str> = ids(records).into_iter().collect();
    let sent = newest_distinct([], batch.iter().cloned());
    let merged = newest_distinct(records.iter().cloned(), batch.iter().cloned());
    let already = sent
        .iter()
        .filter(|r| stored.contains(r.id.as_str()))
        .count();
    let added = merged
        .iter()
        .filter(|r| !stored.contains(r.id.as_str()))
        .count();
    Merged {
        attempts: 1,
        added,
        already,
        older: batch.len() - added - already,
    }
}

/// The script on a real `redis-server`, called by the real client through the Upstash test
/// double, leaves after each call what the Rust rule gives: the rule's records, then the
/// entries that are not records in their order, as many as fit in [`KEEP`]; and each call
/// returns the counts the rule implies. One Redis and one double serve every case; the list is
/// deleted and written afresh before each.
#[test]
fn the_script_on_redis_merges_as_the_rust_rule_does() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the script's property");
    let redis = Redis::start();
    let fake = runtime.block_on(FakeUpstash::start(&redis));
    let store = UpstashStore::new(settings_for(&fake), NO_WAITS);
    let connection = std::cell::RefCell::new(Connection::open(&redis));
    Property::cases(SCRIPT_CASES)
        .at_least(SOME, "cut to ten, entries not ours fell out")
        .at_least(SOME, "entries not ours kept last")
        .at_least(SOME, "cut to ten")
        .check(plan_and_list(), |(plan, list)| {
            let mut connection = connection.borrow_mut();
            connection.replace(&list.iter().map(Entry::text).collect::<Vec<_>>());
            let mut others: Vec<String> = list
                .iter()
                .filter_map(|entry| match entry {
                    Entry::NotOurs(text) => Some(text.clone()),
                    Entry::Record(_) => None,
                })
                .collect();
            let had_others = !others.is_empty();
            let what = "a case of merges through the double";
            runtime.block_on(testkit::within(CASE_LIMIT, what, async {
                let mut records = plan.stored.clone();
                for batch in &plan.deliveries {
                    let merged = store.merge(batch).await;
                    let counts = counts_by_the_rule(&records, batch);
                    prop_assert_eq!(
                        merged,
                        Ok(counts),
                        "the counts (left) and the rule's (right) of merging {:?}; the list is now {:?}",
                        ids(batch),
                        connection.entries()
                    );
                    records = newest_distinct(records, batch.iter().cloned());
                    others.truncate(KEEP - records.len());
                    let expected: Vec<String> = records
                        .iter()
                        .map(RequestRecord::to_json)
                        .chain(others.iter().cloned())
                        .collect();
                    prop_assert_eq!(
                        connection.entries(),
                        expected,
                        "Redis (left) and the Rust rule (right) after merging {:?}",
                        ids(batch)
                    );
                }
                let cut = distinct(plan.stored.iter().chain(&plan.records)) > KEEP;
                Ok(match (had_others, others.is_empty(), cut) {
                    (true, true, true) => "cut to ten, entries not ours fell out",
                    (true, true, false) => "entries not ours fell out",
                    (true, false, _) => "entries not ours kept last",
                    (false, _, true) => "cut to ten",
                    (false, _, false) => "ten or fewer",
                })
            }))
        });
}
