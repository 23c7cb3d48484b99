//! Properties of the merge rule (issue #11): whatever the order batches arrive in, however
//! often a batch or a record is delivered again, the list ends up the same: the [`KEEP`]
//! newest distinct records by id (a v7 UUID, lowercase: its text compared byte by byte),
//! newest first, a stored record never replaced by a later copy.
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
//!   Among them are look-alikes, which the old id rule (any printable ASCII) took for records
//!   and ranked among them, some above every one: other ids (`test-10`, `zzzz`), other UUID
//!   versions and variants, a UUID in upper case, without its hyphens, a digit short or over,
//!   and the case's own records with their ids spelt so.
//!
//! Ids are v7 UUIDs, so that order is decided where the script's comparison could go wrong: it
//! reads an id as three numbers (hex digits 1-12, the millisecond; 13-22; 23-32). Most of a
//! case's ids are one of a few bases (some of them made in the same millisecond) with a few
//! digits changed, mostly late (the last digit, or in digits 13-22 or 23-32), to digits at the
//! edges (`0`, `f`, `9` next to `a`, the variants `8 9 a b`): many ids are made in the same
//! millisecond and differ only in their second or third number, or only in their last digit.
//! Each property tallies, besides its outcome, whether a case had the second or the third
//! number decide the order of two ids next to each other among those kept (or the newest left
//! out): the only pairs whose order the result shows.

use super::tally::{MOST, Property, SOME};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use testkit::fake_upstash::{FakeUpstash, READ_TOKEN, WRITE_TOKEN};
use testkit::redis::{RECENT, Redis};
use wait_until::record::{RequestRecord, country_to_flag, is_id};
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

/// Printable ASCII, space included.
fn printable() -> Vec<u8> {
    (b' '..=b'~').collect()
}

const CAPITALS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Text of `min..=max` characters of `alphabet` (ASCII): a pick per character, much cheaper to
/// draw than a regex.
fn text_of(alphabet: impl Into<Vec<u8>>, min: usize, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(alphabet.into()), min..=max)
        .prop_map(|bytes| bytes.into_iter().map(char::from).collect())
}

/// A v7 UUID's 32 hex digits, each 0 to 15: digit 12 (counted from 0) is the version, 7, and
/// digit 16 the variant, 8 to 11. Digits 0..12 are the millisecond, the script's first number;
/// 12..22 its second, 22..32 its third.
type Digits = [u8; 32];

/// Where the script's second and third numbers begin, in [`Digits`].
const SECOND: usize = 12;
const THIRD: usize = 22;

/// Digits at the edges: the smallest and largest, `9` and `a` (a digit and a letter next to
/// each other), and the variants `8 9 a b`.
const EDGE_DIGITS: &[u8] = &[0, 1, 7, 8, 9, 10, 11, 14, 15];

/// `digits` made a v7 UUID's: the version 7, a variant `8 9 a b` (of the digit's two low bits).
fn v7(mut digits: Digits) -> Digits {
    digits[SECOND] = 7;
    digits[16] = 8 | (digits[16] & 3);
    digits
}

/// The id: lowercase canonical form.
fn uuid_text(digits: &Digits) -> String {
    let mut id = String::with_capacity(36);
    for (at, &digit) in digits.iter().enumerate() {
        if matches!(at, 8 | 12 | 16 | 20) {
            id.push('-');
        }
        id.extend(char::from_digit(u32::from(digit), 16));
    }
    id
}

/// Any v7 UUID's digits: random, or of edge digits only.
fn any_digits() -> impl Strategy<Value = Digits> {
    prop_oneof![
        3 => prop::array::uniform32(0u8..16),
        1 => prop::array::uniform32(prop::sample::select(EDGE_DIGITS)),
    ]
    .prop_map(v7)
}

/// A case's base: its own digits, or (`true`) the first base's millisecond with its own rest.
fn base() -> impl Strategy<Value = (Digits, bool)> {
    (any_digits(), prop::bool::weighted(0.5))
}

/// The case's bases, as [`base`] drew them.
fn bases(drawn: &[(Digits, bool)]) -> Vec<Digits> {
    let first = drawn[0].0;
    drawn
        .iter()
        .map(|&(mut digits, same_millisecond)| {
            if same_millisecond {
                digits[..SECOND].copy_from_slice(&first[..SECOND]);
            }
            digits
        })
        .collect()
}

/// A digit to change and what to: mostly late (the last digit, or one of the second or third
/// number's), sometimes in the millisecond. Never the version's.
fn change() -> impl Strategy<Value = (usize, u8)> {
    let at = prop_oneof![
        3 => Just(31usize),
        3 => SECOND + 1..THIRD,
        3 => THIRD..32usize,
        1 => 0..SECOND,
    ];
    (at, prop::sample::select(EDGE_DIGITS))
}

/// An id: one of the case's bases with up to three digits changed, or (one in five) any v7
/// UUID at all.
#[derive(Clone, Debug)]
enum IdPart {
    Shared(Index, Vec<(usize, u8)>),
    Whole(Digits),
}

fn id_part() -> impl Strategy<Value = IdPart> {
    prop_oneof![
        4 => (any::<Index>(), prop::collection::vec(change(), 0..=3))
            .prop_map(|(base, changes)| IdPart::Shared(base, changes)),
        1 => any_digits().prop_map(IdPart::Whole),
    ]
}

impl IdPart {
    fn id(&self, bases: &[Digits]) -> String {
        let digits = match self {
            IdPart::Shared(at, changes) => {
                let mut digits = bases[at.index(bases.len())];
                for &(at, digit) in changes {
                    digits[at] = digit;
                }
                v7(digits)
            }
            IdPart::Whole(digits) => *digits,
        };
        uuid_text(&digits)
    }
}

/// Which of the script's numbers first tells ids `a` and `b` apart: 1, 2 or 3 (0 if equal).
fn deciding_number(a: &str, b: &str) -> usize {
    let digits = |id: &str| id.bytes().filter(|&b| b != b'-').collect::<Vec<u8>>();
    let (a, b) = (digits(a), digits(b));
    match a.iter().zip(&b).position(|(x, y)| x != y) {
        None => 0,
        Some(at) if at < SECOND => 1,
        Some(at) if at < THIRD => 2,
        Some(_) => 3,
    }
}

/// What the order of `a` and `b` merged shows about the comparison of ids: the distinct ids of
/// both, newest first, as many as are kept and the newest left out; for each pair next to each
/// other (a comparison any correct sort made), the number that decided it, when not the first.
fn numbers_compared(a: &[RequestRecord], b: &[RequestRecord]) -> Vec<&'static str> {
    let ranked: BTreeSet<&str> = a.iter().chain(b).map(|r| r.id.as_str()).collect();
    let ranked: Vec<&str> = ranked.into_iter().rev().take(KEEP + 1).collect();
    let mut reached: Vec<&'static str> = ranked
        .windows(2)
        .filter_map(|pair| match deciding_number(pair[0], pair[1]) {
            2 => Some(DECIDED_BY_THE_SECOND),
            3 => Some(DECIDED_BY_THE_THIRD),
            _ => None,
        })
        .collect();
    reached.sort_unstable();
    reached.dedup();
    reached
}

/// Two ids next to each other, made in the same millisecond, ordered by digits 13-22.
const DECIDED_BY_THE_SECOND: &str = "same millisecond, ordered by digits 13-22";
/// Two ids next to each other, equal up to digit 22, ordered by digits 23-32.
const DECIDED_BY_THE_THIRD: &str = "same up to digit 22, ordered by digits 23-32";

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
            prop::collection::vec(base(), 1..=3),
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
                (bases_drawn, drawn, stored, stored_in_order),
                (batches, split, repeats, copies, order, oldest_last),
            )| {
                let bases = bases(&bases_drawn);
                // Distinct ids, oldest first.
                let mut by_id = BTreeMap::new();
                for (part, fields, slot) in drawn {
                    let id = part.id(&bases);
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
                        Before::Another(part, fields) => record(part.id(&bases), &fields),
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
        .at_least(MOST, DECIDED_BY_THE_SECOND)
        .at_least(MOST, DECIDED_BY_THE_THIRD)
        .check(plan(LARGE), |plan| {
            let mut list = plan.stored.clone();
            let mut older_last = false;
            let mut reached = Vec::new();
            for batch in &plan.deliveries {
                reached.extend(numbers_compared(&list, batch));
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
            let outcome = if older_last {
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
            };
            reached.push(outcome);
            Ok(reached)
        });
}

/// An entry of the list before the deliveries: one of the app's records, or an entry that is
/// not (another writer's, or damaged), which the script must not read an id from; among those,
/// a look-alike: one of the case's records with its id spelt another way.
#[derive(Clone)]
enum Entry {
    Record(RequestRecord),
    NotOurs(String),
    LookAlike(String),
}

/// As stored: a minimal case reads as the list it started from.
impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Record(record) => write!(f, "record {}", record.to_json()),
            Entry::NotOurs(text) => write!(f, "not ours {text:?}"),
            Entry::LookAlike(text) => write!(f, "look-alike {text:?}"),
        }
    }
}

impl Entry {
    fn text(&self) -> String {
        match self {
            Entry::Record(record) => record.to_json(),
            Entry::NotOurs(text) | Entry::LookAlike(text) => text.clone(),
        }
    }
}

/// How a look-alike of a case's record spells its id: another way, which the old id rule (any
/// printable ASCII) took for a record's id.
#[derive(Clone, Copy, Debug)]
enum Spelling {
    UpperCase,
    WithoutHyphens,
    Version4,
    VariantC,
    InBraces,
    OneDigitMore,
}

impl Spelling {
    /// `id` spelt this way; in upper case, an id without a letter would be itself, so it gets
    /// another version instead.
    fn spell(self, id: &str) -> String {
        let at = |at: usize, with: &str| {
            let mut id = id.to_string();
            id.replace_range(at..=at, with);
            id
        };
        match self {
            Spelling::UpperCase if id.bytes().any(|b| b.is_ascii_lowercase()) => {
                id.to_ascii_uppercase()
            }
            Spelling::UpperCase | Spelling::Version4 => at(14, "4"),
            Spelling::WithoutHyphens => id.replace('-', ""),
            Spelling::VariantC => at(19, "c"),
            Spelling::InBraces => format!("{{{id}}}"),
            Spelling::OneDigitMore => format!("{id}0"),
        }
    }
}

/// An entry that is not one of the app's records: a text, or a look-alike of one of the case's
/// records (which one, and how its id is spelt).
#[derive(Clone, Debug)]
enum NotOurs {
    Text(String),
    LookAlike(Index, Spelling),
}

/// A record's fields after an id that is not a record's, as the app would write them.
const AFTER_THE_ID: &str = r#""timestamp":1,"method":"GET","userAgent":"ua""#;

/// Entries that are not the app's records: look-alikes, whose id the old rule (any printable
/// ASCII) read and ranked among the records (these above every one); other JSON with an id the
/// script must not read, or other text; or a look-alike of one of the case's records.
fn not_ours() -> impl Strategy<Value = NotOurs> {
    let look_alike = |id: &str| format!(r#"{{"id":"{id}",{AFTER_THE_ID}}}"#);
    let texts = prop_oneof![
        Just(look_alike("test-10")),
        Just(r#"{"id":"zzzz"}"#.to_string()),
        Just(look_alike("ffffffff-ffff-4fff-bfff-ffffffffffff")),
        Just(look_alike("ffffffff-ffff-7fff-ffff-ffffffffffff")),
        Just(look_alike("ffffffff-ffff-8fff-bfff-ffffffffffff")),
        Just(look_alike("FFFFFFFF-FFFF-7FFF-BFFF-FFFFFFFFFFFF")),
        Just(look_alike("ffffffffffff7fffbfffffffffffffff")),
        Just(look_alike("ffffffff-ffff-7fff-bfff-fffffffffffff")),
        Just(look_alike("ffffffff-ffff-7fff-bfff-fffffffffff")),
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
    ];
    let spelling = prop::sample::select(vec![
        Spelling::UpperCase,
        Spelling::WithoutHyphens,
        Spelling::Version4,
        Spelling::VariantC,
        Spelling::InBraces,
        Spelling::OneDigitMore,
    ]);
    prop_oneof![
        1 => texts.prop_map(NotOurs::Text),
        1 => (any::<Index>(), spelling).prop_map(|(which, how)| NotOurs::LookAlike(which, how)),
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
        for (at, other) in others {
            let entry = match other {
                NotOurs::Text(text) => Entry::NotOurs(text),
                NotOurs::LookAlike(which, how) => {
                    let of = &plan.records[which.index(plan.records.len())];
                    let look_alike = RequestRecord {
                        id: how.spell(&of.id),
                        ..of.clone()
                    };
                    Entry::LookAlike(look_alike.to_json())
                }
            };
            list.insert(at.index(list.len() + 1), entry);
        }
        list.truncate(KEEP);
        let stored = list
            .iter()
            .filter_map(|entry| match entry {
                Entry::Record(record) => Some(record.clone()),
                Entry::NotOurs(_) | Entry::LookAlike(_) => None,
            })
            .collect();
        (Plan { stored, ..plan }, list)
    })
}

/// A case whose list held a look-alike of one of its records.
const SPELT_ANOTHER_WAY: &str = "a record's id spelt another way in the list";

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
        .at_least(SOME, SPELT_ANOTHER_WAY)
        .at_least(MOST, DECIDED_BY_THE_SECOND)
        .at_least(MOST, DECIDED_BY_THE_THIRD)
        .check(plan_and_list(), |(plan, list)| {
            let mut connection = connection.borrow_mut();
            connection.replace(&list.iter().map(Entry::text).collect::<Vec<_>>());
            let mut others: Vec<String> = list
                .iter()
                .filter_map(|entry| match entry {
                    Entry::NotOurs(text) | Entry::LookAlike(text) => Some(text.clone()),
                    Entry::Record(_) => None,
                })
                .collect();
            let had_others = !others.is_empty();
            let what = "a case of merges through the double";
            runtime.block_on(testkit::within(CASE_LIMIT, what, async {
                let mut records = plan.stored.clone();
                let mut reached = Vec::new();
                if list.iter().any(|entry| matches!(entry, Entry::LookAlike(_))) {
                    reached.push(SPELT_ANOTHER_WAY);
                }
                for batch in &plan.deliveries {
                    // What the script is sent: the batch's newest.
                    let sent = newest_distinct([], batch.iter().cloned());
                    reached.extend(numbers_compared(&records, &sent));
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
                reached.push(match (had_others, others.is_empty(), cut) {
                    (true, true, true) => "cut to ten, entries not ours fell out",
                    (true, true, false) => "entries not ours fell out",
                    (true, false, _) => "entries not ours kept last",
                    (false, _, true) => "cut to ten",
                    (false, _, false) => "ten or fewer",
                });
                Ok(reached)
            }))
        });
}
