//! Properties of what parses hostile input: the record sanitiser, the stored-record check and
//! the Upstash reply parser. No input makes them panic, and what they hand out always obeys the
//! record's rules: bounded text without control or format characters (Unicode categories Cc and
//! Cf: no bidi control, nothing invisible), a country that is `[A-Z]{2}` with its flag or absent,
//! nothing from any other header.
//!
//! Which characters are control or format characters is drawn from Unicode's tables as
//! proptest's regex support has them (`\p{Cc}`, `\p{Cf}`), not from the list in `record.rs`.
//!
//! Generators build inputs the code under test accepts, then make some of them hostile (a stored
//! record with one field drawn from anything, a reply body with a byte changed): random text
//! almost never parses, and a property is only as strong as the cases that reach its assertion.
//! Each property returns the branch its case reached, and fails unless the branches that matter
//! were reached often enough ([`tally`]).
//!
//! Failures print the minimal failing input; nothing is persisted (proptest finds no crate root
//! above `tests/`).

mod merge;
/// The mechanism `bundled_api`'s properties use too; it lives with that crate, which publishes it.
#[path = "../../bundled/tests/support/tally.rs"]
mod tally;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use tally::{MOST, Property, SOME};
use wait_until::record::{
    MAX_METHOD_CHARS, MAX_STORED_BYTES, MAX_USER_AGENT_CHARS, RequestRecord, country_code,
    country_to_flag, is_removed, sanitize_text,
};
use wait_until::store::upstash::reply::{self, Malformed, Reply};

/// Cases per property.
const CASES: u32 = 512;
/// A record's id: a version 7 UUID in lowercase canonical form (`record.rs`).
const V7_UUID: &str = "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
/// One such id, for records written by hand.
const ID: &str = "01a20bdb-f919-72e0-9abc-def012345678";
/// Longest error text the reply parser passes on (`reply.rs`).
const MAX_ERROR_CHARS: usize = 200;

/// Whether a header value may carry byte `b` (what hyper lets through): tab and 0x20..=0xff
/// except DEL.
fn allowed_in_a_header(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Bytes a header value may carry: those hyper refuses become the byte 0x40 away, which it
/// keeps (mapping is much quicker than a union per byte, and refuses nothing).
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(|bytes| {
        bytes
            .into_iter()
            .map(|b| if allowed_in_a_header(b) { b } else { b ^ 0x40 })
            .collect()
    })
}

/// Control and format characters (Unicode categories Cc and Cf: bidi controls, zero-width and
/// other invisible characters, the BOM, tags), which no record holds.
const REMOVED: &str = r"[\p{Cc}\p{Cf}]";
/// Those a header value can carry: tab, the C1 controls (as UTF-8) and every format character.
const REMOVED_IN_A_HEADER: &str = r"[\t\x{80}-\x{9F}\p{Cf}]";
/// Every other character (any script, emoji, combining marks), which a record keeps.
const KEPT: &str = r"[^\p{Cc}\p{Cf}]";

/// Text matching `regex`, parsed once: a `&str` strategy parses it again for every draw, which
/// is most of the cost of a strategy drawn many times per case.
fn matching(regex: &str) -> impl Strategy<Value = String> + use<> {
    proptest::string::string_regex(regex).unwrap_or_else(|e| panic!("{regex}: {e}"))
}

/// One character of the regex class `class`.
fn one_of(class: &str) -> impl Strategy<Value = char> + use<> {
    matching(class).prop_map(|one| one.chars().next().unwrap_or('\0'))
}

/// Text of `min..=max` characters a record keeps (any script, emoji, combining marks).
fn kept_chars(min: usize, max: usize) -> impl Strategy<Value = String> + use<> {
    matching(&format!("{KEPT}{{{min},{max}}}"))
}

/// Text of `min..=max` characters a record keeps: mostly short, as most texts are (and as
/// cheap to draw), else at or just under the bound, where a rule could be off by one.
fn kept_text(min: usize, max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => kept_chars(min, (max / 4).max(min)),
        1 => kept_chars(max.saturating_sub(2).max(min), max),
    ]
}

/// Text with each character's fate: `true` for one of `removed`, which no record holds; `false`
/// for any other character (any script, emoji, combining marks), which a record keeps. About
/// one in four is removed, put anywhere among the kept ones (drawn as one text: a draw per
/// character would cost three times as much).
fn marked_text(removed: &'static str, max: usize) -> impl Strategy<Value = Vec<(char, bool)>> {
    (
        kept_chars(0, max * 3 / 4),
        prop::collection::vec((any::<Index>(), one_of(removed)), 0..=max / 4),
    )
        .prop_map(|(kept, removed)| {
            let mut marked: Vec<(char, bool)> = kept.chars().map(|c| (c, false)).collect();
            for (at, c) in removed {
                marked.insert(at.index(marked.len() + 1), (c, true));
            }
            marked
        })
}

fn text_of(marked: &[(char, bool)]) -> String {
    marked.iter().map(|&(c, _)| c).collect()
}

/// `prefix`, then the characters of `marked` a record keeps, at most `max` in all.
fn kept_of(prefix: &str, marked: &[(char, bool)], max: usize) -> String {
    let kept = marked
        .iter()
        .filter(|(_, removed)| !removed)
        .map(|&(c, _)| c);
    prefix.chars().chain(kept).take(max).collect()
}

/// Header values as they come: arbitrary bytes, UTF-8 text of any script, or text laced with
/// control and format characters. A C0 control or DEL in the text, which no header value
/// carries, becomes the character 0x40 away, so that every value drawn reaches the record.
fn header_value(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let in_a_header = |c: char| match u8::try_from(c) {
        Ok(b) if !allowed_in_a_header(b) => char::from(b ^ 0x40),
        _ => c,
    };
    let text = prop::collection::vec(any::<char>(), 0..max)
        .prop_map(move |chars| chars.into_iter().map(in_a_header).collect::<String>());
    prop_oneof![
        header_bytes(max),
        text.prop_map(String::into_bytes),
        marked_text(REMOVED_IN_A_HEADER, max).prop_map(|marked| text_of(&marked).into_bytes()),
    ]
}

/// `value` as a header value; the generators build none that is refused, so a refusal fails.
fn header(value: &[u8]) -> Result<http::HeaderValue, TestCaseError> {
    http::HeaderValue::from_bytes(value)
        .map_err(|e| TestCaseError::fail(format!("a header value refused: {e}")))
}

/// Country header values: mostly two letters of either case, sometimes anything.
fn country_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => "[a-zA-Z]{2}".prop_map(String::into_bytes),
        1 => "[a-zA-Z0-9 ]{0,4}".prop_map(String::into_bytes),
        1 => header_bytes(4),
    ]
}

/// The country headers of a request: mostly one, else none or several (which is ambiguous).
fn country_headers() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop_oneof![
        1 => Just(Vec::new()),
        3 => country_value().prop_map(|value| vec![value]),
        1 => prop::collection::vec(country_value(), 2..4),
    ]
}

/// An HTTP method: one or more token characters. Over HTTP a method holds nothing else; given
/// as text, it may carry control and format characters too, after a first token character so
/// that something is left.
fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}",
        ("[!#$%&'*+.^_`|~0-9A-Za-z-]", marked_text(REMOVED, 64))
            .prop_map(|(first, rest)| first + &text_of(&rest)),
    ]
}

/// Headers that must never reach a record, at least one: every IP header, and arbitrary others.
fn other_headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let name = prop_oneof![
        Just("x-forwarded-for".to_string()),
        Just("x-real-ip".to_string()),
        Just("x-vercel-forwarded-for".to_string()),
        Just("x-vercel-proxied-for".to_string()),
        Just("forwarded".to_string()),
        Just("cf-connecting-ip".to_string()),
        Just("true-client-ip".to_string()),
        Just("x-vercel-ip-city".to_string()),
        matching("[a-z][a-z0-9-]{0,20}"),
    ];
    prop::collection::vec((name, header_value(40)), 1..6)
}

/// Whether `id` is a version 7 UUID in lowercase canonical form: five groups of 8, 4, 4, 4
/// and 12 lowercase hex digits joined by hyphens, the third group beginning with the version,
/// `7`, the fourth with the variant, one of `8 9 a b`.
fn is_v7_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|group| group.len()).collect();
    lengths == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|group| group.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')))
        && groups[2].starts_with('7')
        && groups[3].starts_with(['8', '9', 'a', 'b'])
}

/// What [`broken_rule`] says of an id that breaks the id rule.
const ID_RULE: &str = "an id that is a v7 UUID in lowercase canonical form";

/// The first of the record's rules `record` breaks, if any: written here from the rules in
/// `record.rs`'s documentation, not from its code.
fn broken_rule(record: &RequestRecord) -> Option<&'static str> {
    let chars = |text: &str| text.chars().count();
    let country_ok = match (&record.country, &record.flag) {
        (None, None) => true,
        (Some(country), Some(flag)) => {
            country.len() == 2
                && country.bytes().all(|b| b.is_ascii_uppercase())
                && *flag == country_to_flag(country)
        }
        _ => false,
    };
    [
        (is_v7_uuid(&record.id), ID_RULE),
        (
            (1..=MAX_METHOD_CHARS).contains(&chars(&record.method)),
            "a method of 1 to 32 characters",
        ),
        (
            chars(&record.user_agent) <= MAX_USER_AGENT_CHARS,
            "a user agent of at most 512 characters",
        ),
        (
            [&record.id, &record.method, &record.user_agent]
                .iter()
                .all(|text| !text.chars().any(is_removed)),
            "no control or format character",
        ),
        (
            country_ok,
            "a country of two capitals and its flag, or neither",
        ),
    ]
    .into_iter()
    .find(|(holds, _)| !holds)
    .map(|(_, rule)| rule)
}

fn assert_obeys_the_rules(record: &RequestRecord) {
    assert_eq!(broken_rule(record), None, "{record:?}");
}

/// A record that obeys the rules, as another writer may have stored it: a v7 UUID, texts of
/// any script, of any length within the bounds, a country or none.
fn valid_record() -> impl Strategy<Value = RequestRecord> {
    (
        matching(V7_UUID),
        any::<u64>(),
        kept_text(1, MAX_METHOD_CHARS),
        kept_text(0, MAX_USER_AGENT_CHARS),
        prop::option::of(matching("[A-Z]{2}")),
    )
        .prop_map(
            |(id, timestamp, method, user_agent, country)| RequestRecord {
                id,
                timestamp,
                method,
                user_agent,
                flag: country.as_deref().map(country_to_flag),
                country,
            },
        )
}

/// Text that breaks a text rule of a record bound to `max` characters, or may: empty, just
/// over the bound, holding a character no record holds, or anything.
fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    let anything = matching(&format!(".{{0,{}}}", max + 16));
    prop_oneof![
        Just(String::new()),
        kept_chars(max + 1, max + 2),
        (kept_chars(0, 8), one_of(REMOVED), kept_chars(0, 8))
            .prop_map(|(before, removed, after)| format!("{before}{removed}{after}")),
        anything,
    ]
}

/// An id that breaks the id rule, or may: a v7 UUID with one character changed (to one that
/// fits elsewhere in a UUID, or to one that fits nowhere), in upper case (whole, or one letter),
/// without its hyphens, cut short or one digit longer, in braces, of another version or
/// variant; an id of the old rule (printable ASCII); or [`hostile_text`].
fn hostile_id() -> impl Strategy<Value = String> {
    let uuid = || matching(V7_UUID);
    // `id` (ASCII) with its character at `at` replaced by `with`.
    let replaced = |id: &str, at: usize, with: &str| {
        let mut id = id.to_string();
        id.replace_range(at..=at, with);
        id
    };
    let wrong = [
        "-", "g", "A", "F", "7", "8", "c", "0", " ", "\"", "é", "\u{200b}",
    ];
    prop_oneof![
        3 => (uuid(), any::<Index>(), prop::sample::select(wrong.to_vec()))
            .prop_map(move |(id, at, with)| replaced(&id, at.index(id.len()), with)),
        1 => uuid().prop_map(|id| id.to_ascii_uppercase()),
        // The first letter from a place on (or from the start) in upper case.
        1 => (uuid(), any::<Index>()).prop_map(move |(id, from)| {
            let from = from.index(id.len());
            let letter = |(at, b): (usize, u8)| b.is_ascii_lowercase().then_some(at);
            let bytes = id.bytes().enumerate();
            let first = bytes.clone().skip(from).find_map(letter);
            match first.or_else(|| bytes.clone().find_map(letter)) {
                Some(at) => replaced(&id, at, &id[at..=at].to_ascii_uppercase()),
                None => id,
            }
        }),
        1 => uuid().prop_map(|id| id.replace('-', "")),
        1 => (uuid(), 0usize..36).prop_map(|(id, length)| id[..length].to_string()),
        1 => (uuid(), matching("[0-9a-f]")).prop_map(|(id, more)| id + &more),
        1 => uuid().prop_map(|id| format!("{{{id}}}")),
        1 => (uuid(), matching("[0-689a-f]"))
            .prop_map(move |(id, version)| replaced(&id, 14, &version)),
        1 => (uuid(), matching("[0-7c-f]"))
            .prop_map(move |(id, variant)| replaced(&id, 19, &variant)),
        1 => matching(r"[!#-\[\]-~]{1,64}"),
        2 => hostile_text(36),
    ]
}

/// A country and flag that break the rule, or may: a country in lower case, one with another's
/// flag, one without its flag or a flag without its country, or anything.
fn hostile_country() -> impl Strategy<Value = (Option<String>, Option<String>)> {
    prop_oneof![
        "[a-z]{2}".prop_map(|c| {
            let flag = country_to_flag(&c.to_ascii_uppercase());
            (Some(c), Some(flag))
        }),
        ("[A-Z]{2}", "[A-Z]{2}").prop_map(|(c, other)| (Some(c), Some(country_to_flag(&other)))),
        "[A-Z]{2}".prop_map(|c| (Some(c), None)),
        "[A-Z]{2}".prop_map(|c| (None, Some(country_to_flag(&c)))),
        (prop::option::of(".{0,3}"), prop::option::of(".{0,8}")),
    ]
}

/// The fields of a stored record: two times in three a record that obeys the rules, else one
/// with one field drawn from [`hostile_id`] (half the time: ids have the most ways to be
/// wrong), [`hostile_text`] or [`hostile_country`].
fn stored_fields() -> impl Strategy<Value = RequestRecord> {
    let hostile = prop_oneof![
        3 => (valid_record(), hostile_id())
            .prop_map(|(record, id)| RequestRecord { id, ..record }),
        1 => (valid_record(), hostile_text(MAX_METHOD_CHARS))
            .prop_map(|(record, method)| RequestRecord { method, ..record }),
        1 => (valid_record(), hostile_text(MAX_USER_AGENT_CHARS)).prop_map(|(record, user_agent)| {
            RequestRecord {
                user_agent,
                ..record
            }
        }),
        1 => (valid_record(), hostile_country()).prop_map(|(record, (country, flag))| {
            RequestRecord {
                country,
                flag,
                ..record
            }
        }),
    ];
    prop_oneof![2 => valid_record(), 1 => hostile]
}

/// `text` as a JSON string: as serde_json writes it, or with every character escaped
/// (`\u00e9`, a surrogate pair beyond the BMP), which reads back the same.
fn json_string(text: &str, escaped: bool) -> String {
    if !escaped {
        return json!(text).to_string();
    }
    let units: String = text
        .encode_utf16()
        .map(|unit| format!("\\u{unit:04x}"))
        .collect();
    format!("\"{units}\"")
}

/// `record` as JSON written another way than ours: its fields in any order, an absent country
/// and flag written `null` or left out, spaces between the tokens, texts perhaps escaped.
fn written_another_way(
    record: impl Strategy<Value = RequestRecord>,
) -> impl Strategy<Value = (RequestRecord, String)> {
    (
        record,
        Just((0..6).collect::<Vec<usize>>()).prop_shuffle(),
        any::<bool>(),
        matching(" {0,2}"),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(record, order, nulls, space, escaped)| {
            let text = |text: &str| json_string(text, escaped);
            let maybe = |value: &Option<String>| value.as_deref().map_or("null".into(), text);
            let fields = [
                ("id", text(&record.id)),
                ("timestamp", record.timestamp.to_string()),
                ("method", text(&record.method)),
                ("userAgent", text(&record.user_agent)),
                ("country", maybe(&record.country)),
                ("flag", maybe(&record.flag)),
            ];
            let members: Vec<String> = order
                .iter()
                .map(|&i| &fields[i])
                .filter(|(_, value)| nulls || value != "null")
                .map(|(name, value)| format!("\"{name}\"{space}:{space}{value}"))
                .collect();
            let raw = format!("{{{space}{}{space}}}", members.join(&format!(",{space}")));
            (record, raw)
        })
}

/// One edit of a sequence (of characters, of bytes): `inserted` goes in at a position, or the
/// item there is removed, or the sequence is cut there.
#[derive(Clone, Debug)]
enum Edit<T> {
    Insert(Index, Vec<T>),
    Remove(Index),
    Cut(Index),
}

impl<T> Edit<T> {
    fn apply(self, mut items: Vec<T>) -> Vec<T> {
        match self {
            Edit::Insert(at, inserted) => {
                let at = at.index(items.len() + 1);
                items.splice(at..at, inserted);
            }
            Edit::Remove(at) if !items.is_empty() => {
                items.remove(at.index(items.len()));
            }
            Edit::Remove(_) => {}
            Edit::Cut(at) => items.truncate(at.index(items.len() + 1)),
        }
        items
    }
}

/// An edit inserting what `inserted` draws, or removing, or cutting.
fn edit<T: Clone + std::fmt::Debug>(
    inserted: impl Strategy<Value = Vec<T>>,
) -> impl Strategy<Value = Edit<T>> {
    prop_oneof![
        3 => (any::<Index>(), inserted).prop_map(|(at, items)| Edit::Insert(at, items)),
        3 => any::<Index>().prop_map(Edit::Remove),
        1 => any::<Index>().prop_map(Edit::Cut),
    ]
}

/// Text another writer may have stored: mostly a record's JSON, written
/// [another way](written_another_way), with or without one edit, which lands in a text (a
/// record still, or one breaking a rule) or breaks the JSON. An edit inserts any character, one
/// no record holds (raw or escaped) or JSON's own signs. Sometimes the text is anything.
fn stored_text() -> impl Strategy<Value = String> {
    let escaped = one_of(REMOVED).prop_map(|c| json_string(&c.to_string(), true));
    let inserted = prop_oneof![
        4 => one_of(".").prop_map(String::from),
        1 => one_of(REMOVED).prop_map(String::from),
        1 => escaped.prop_map(|quoted| quoted.trim_matches('"').to_string()),
        1 => matching(r#"[\[\]{}:,"\\ ]{1,2}"#),
    ]
    .prop_map(|text: String| text.chars().collect::<Vec<char>>());
    let json = || written_another_way(valid_record()).prop_map(|(_, raw)| raw);
    prop_oneof![
        7 => json(),
        5 => (json(), edit(inserted)).prop_map(|(raw, edit)| {
            edit.apply(raw.chars().collect()).into_iter().collect()
        }),
        1 => matching(".{0,300}"),
    ]
}

/// Arbitrary JSON without floats (serde_json may round them, which is not the parser's doing).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        matching(".{0,20}").prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            Just("result".to_string()),
            Just("error".to_string()),
            matching("[a-z]{0,6}"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// One element of a reply as Upstash writes it: a result, or an error of any text.
fn well_formed_element() -> impl Strategy<Value = Value> {
    prop_oneof![
        json_value().prop_map(|result| json!({ "result": result })),
        prop::collection::vec(any::<char>(), 0..400)
            .prop_map(|text| json!({ "error": text.into_iter().collect::<String>() })),
    ]
}

/// One element of a reply: mostly well formed, sometimes anything.
fn reply_element() -> impl Strategy<Value = Value> {
    prop_oneof![2 => well_formed_element(), 1 => json_value()]
}

/// The elements of a pipeline reply: each one well formed nine times in ten.
fn pipeline_elements() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(
        prop_oneof![9 => well_formed_element(), 1 => json_value()],
        0..5,
    )
}

/// Bodies a pipeline of `expected` commands may get back, as bytes: mostly well-formed
/// replies, else one too many or too few, a well-formed reply with one byte inserted, removed or
/// cut short, a single reply, or any bytes.
fn pipeline_body() -> impl Strategy<Value = (Vec<u8>, usize)> {
    let replies = || {
        prop::collection::vec(well_formed_element(), 0..5)
            .prop_map(|elements| (elements.len(), Value::Array(elements).to_string()))
    };
    let bytes = prop::collection::vec(any::<u8>(), 1..3);
    prop_oneof![
        12 => replies().prop_map(|(n, body)| (body.into_bytes(), n)),
        1 => (replies(), prop_oneof![Just(-1isize), Just(1)])
            .prop_map(|((n, body), off)| (body.into_bytes(), n.saturating_add_signed(off))),
        2 => (replies(), edit(bytes))
            .prop_map(|((n, body), edit)| (edit.apply(body.into_bytes()), n)),
        3 => (well_formed_element(), 0usize..4)
            .prop_map(|(element, n)| (element.to_string().into_bytes(), n)),
        1 => (prop::collection::vec(any::<u8>(), 0..300), 0usize..4),
    ]
}

/// What the reply parser must make of one element, from the Upstash reply format: an object
/// with `result` (and no `error`), or with a string `error` (and no `result`), whose text is
/// passed on as sent (tokens are taken out of it before it is made fit to show).
fn expected_reply(element: &Value) -> Result<Reply, Malformed> {
    let Some(object) = element.as_object() else {
        return Err(Malformed);
    };
    match (object.get("result"), object.get("error")) {
        (Some(result), None) => Ok(Reply::Result(result.clone())),
        (None, Some(Value::String(message))) => Ok(Reply::Error(message.clone())),
        _ => Err(Malformed),
    }
}

/// What the reply parser must make of `body` as the reply to one command: one element.
fn expected_single(body: &[u8]) -> Result<Reply, Malformed> {
    let element: Value = serde_json::from_slice(body).map_err(|_| Malformed)?;
    expected_reply(&element)
}

/// What it must make of `body` as the reply to a pipeline of `expected` commands: an array of
/// that many elements, all read, or nothing.
fn expected_pipeline(body: &[u8], expected: usize) -> Result<Vec<Reply>, Malformed> {
    match serde_json::from_slice(body) {
        Ok(Value::Array(elements)) if elements.len() == expected => {
            elements.iter().map(expected_reply).collect()
        }
        _ => Err(Malformed),
    }
}

#[test]
fn sanitized_text_is_bounded_and_free_of_control_characters() {
    Property::cases(CASES)
        .at_least(SOME, "cut")
        .at_least(SOME, "whole")
        .check(
            (prop::collection::vec(any::<u8>(), 0..2000), 0usize..600),
            |(bytes, max)| {
                let text = sanitize_text(&bytes, max);
                let chars = text.chars().count();
                prop_assert!(chars <= max);
                prop_assert!(!text.chars().any(is_removed));
                prop_assert_eq!(sanitize_text(text.as_bytes(), max), text, "idempotent");
                Ok(if chars == max { "cut" } else { "whole" })
            },
        );
}

/// Control and format characters as Unicode files them, not as our list does: every one is
/// removed, every other character kept in order, and the bound counts what is kept.
#[test]
fn sanitizing_removes_control_and_format_characters_and_keeps_the_rest_up_to_the_bound() {
    Property::cases(CASES)
        .at_least(SOME, "cut")
        .at_least(SOME, "whole")
        .check((marked_text(REMOVED, 700), 0usize..600), |(marked, max)| {
            let text = sanitize_text(text_of(&marked).as_bytes(), max);
            let cut = kept_of("", &marked, usize::MAX).chars().count() > max;
            prop_assert_eq!(text, kept_of("", &marked, max));
            Ok(if cut { "cut" } else { "whole" })
        });
}

#[test]
fn sanitizing_removes_only_control_and_format_characters_and_what_is_over_the_bound() {
    Property::cases(CASES)
        .at_least(SOME, "cut")
        .at_least(SOME, "whole")
        .check(
            (prop::collection::vec(any::<char>(), 0..700), 0usize..600),
            |(chars, max)| {
                let input: String = chars.iter().collect();
                let kept: Vec<char> = chars.iter().copied().filter(|&c| !is_removed(c)).collect();
                let text: Vec<char> = sanitize_text(input.as_bytes(), max).chars().collect();
                prop_assert_eq!(text.len(), kept.len().min(max));
                prop_assert_eq!(&text[..], &kept[..text.len()]);
                Ok(if kept.len() > max { "cut" } else { "whole" })
            },
        );
}

#[test]
fn a_country_code_is_two_upper_case_letters_exactly_when_given_two_letters() {
    Property::cases(CASES)
        .at_least(SOME, "accepted")
        .at_least(SOME, "refused")
        .check(country_value(), |value| {
            let two_letters = value.len() == 2 && value.iter().all(u8::is_ascii_alphabetic);
            match country_code(&value) {
                Some(code) => {
                    prop_assert!(two_letters, "{value:?} gave {code:?}");
                    let flag: Vec<char> = country_to_flag(&code).chars().collect();
                    prop_assert_eq!(code.into_bytes(), value.to_ascii_uppercase());
                    prop_assert_eq!(flag.len(), 2);
                    let regional = '\u{1F1E6}'..='\u{1F1FF}';
                    prop_assert!(flag.iter().all(|c| regional.contains(c)), "{:?}", flag);
                    Ok("accepted")
                }
                None => {
                    prop_assert!(!two_letters, "{value:?} refused");
                    Ok("refused")
                }
            }
        });
}

/// Every outcome of the country header is reached: none, one kept, one refused, several.
#[test]
fn a_record_from_any_headers_obeys_the_rules_and_survives_storage() {
    Property::cases(CASES)
        .at_least(SOME, "no country")
        .at_least(SOME, "a country")
        .at_least(SOME, "a country refused")
        .at_least(SOME, "several countries")
        .check(
            (
                method(),
                prop::option::weighted(0.9, header_value(700)),
                country_headers(),
                other_headers(),
            ),
            |(method, user_agent, countries, others)| {
                let mut headers = http::HeaderMap::new();
                if let Some(user_agent) = &user_agent {
                    headers.insert(http::header::USER_AGENT, header(user_agent)?);
                }
                for country in &countries {
                    headers.append("x-vercel-ip-country", header(country)?);
                }
                let record = RequestRecord::from_parts(&method, &headers);
                assert_obeys_the_rules(&record);
                let sent = user_agent.as_deref().unwrap_or_default();
                prop_assert_eq!(
                    &record.user_agent,
                    &sanitize_text(sent, MAX_USER_AGENT_CHARS)
                );
                let (expected, branch) = match &countries[..] {
                    [] => (None, "no country"),
                    [value] => match country_code(value) {
                        Some(code) => (Some(code), "a country"),
                        None => (None, "a country refused"),
                    },
                    _ => (None, "several countries"),
                };
                prop_assert_eq!(&record.country, &expected);

                // Nothing from any other header changes it.
                let mut with_others = headers.clone();
                for (name, value) in &others {
                    let name = http::HeaderName::from_bytes(name.as_bytes())
                        .map_err(|e| TestCaseError::fail(format!("{name:?} refused: {e}")))?;
                    if name != http::header::USER_AGENT && name != "x-vercel-ip-country" {
                        with_others.append(name, header(value)?);
                    }
                }
                let other = RequestRecord {
                    id: record.id.clone(),
                    timestamp: record.timestamp,
                    ..RequestRecord::from_parts(&method, &with_others)
                };
                prop_assert_eq!(&other, &record, "the same record but for its id and time");

                // What we write, we read back as it was.
                let stored = record.to_json();
                prop_assert!(stored.len() <= MAX_STORED_BYTES, "{} bytes", stored.len());
                prop_assert_eq!(RequestRecord::from_stored(&stored), Some(record));
                Ok(branch)
            },
        );
}

/// The record of a request whose user agent and method are laced with control and format
/// characters holds exactly the rest, up to their bounds, and reads back from storage unchanged.
#[test]
fn a_record_holds_what_was_sent_without_its_control_and_format_characters() {
    Property::cases(CASES)
        .at_least(SOME, "cut")
        .at_least(SOME, "whole")
        .check(
            (
                marked_text(REMOVED_IN_A_HEADER, 700),
                marked_text(REMOVED, 60),
            ),
            |(user_agent, method)| {
                let mut headers = http::HeaderMap::new();
                headers.insert(
                    http::header::USER_AGENT,
                    header(text_of(&user_agent).as_bytes())?,
                );
                let record =
                    RequestRecord::from_parts(&format!("GET{}", text_of(&method)), &headers);
                let user_agent_kept = kept_of("", &user_agent, MAX_USER_AGENT_CHARS);
                let method_kept = kept_of("GET", &method, MAX_METHOD_CHARS);
                prop_assert_eq!(&record.user_agent, &user_agent_kept);
                prop_assert_eq!(&record.method, &method_kept);
                let cut = user_agent_kept != kept_of("", &user_agent, usize::MAX)
                    || method_kept != kept_of("GET", &method, usize::MAX);
                prop_assert_eq!(RequestRecord::from_stored(&record.to_json()), Some(record));
                Ok(if cut { "cut" } else { "whole" })
            },
        );
}

/// Another writer's record, well formed but for one control or format character in one of its
/// texts, is refused whole, whichever text holds it.
#[test]
fn a_stored_record_holding_a_control_or_format_character_is_refused() {
    Property::cases(CASES)
        .at_least(SOME, "id")
        .at_least(SOME, "method")
        .at_least(SOME, "userAgent")
        .check(
            (
                prop::sample::select(&["id", "method", "userAgent"][..]),
                ("[a-z]{1,5}", one_of(REMOVED), "[a-z]{0,5}"),
                0..=ID.len(),
            ),
            |(field, (before, removed, after), at)| {
                let mut record =
                    json!({"id": ID, "timestamp": 1, "method": "GET", "userAgent": "ua"});
                prop_assert!(RequestRecord::from_stored(&record.to_string()).is_some());
                // In the id, the character goes in anywhere, a valid id around it.
                record[field] = json!(match field {
                    "id" => format!("{}{removed}{}", &ID[..at], &ID[at..]),
                    _ => format!("{before}{removed}{after}"),
                });
                prop_assert_eq!(
                    RequestRecord::from_stored(&record.to_string()),
                    None,
                    "{}",
                    record
                );
                Ok(field)
            },
        );
}

/// Whatever text is stored, what is read from it obeys the rules. Most texts are records'
/// JSON, edited or not, so that most reach that assertion.
#[test]
fn any_stored_text_is_refused_or_obeys_the_rules() {
    Property::cases(CASES)
        .at_least(MOST, "accepted")
        .at_least(SOME, "refused")
        .check(stored_text(), |raw| {
            Ok(match RequestRecord::from_stored(&raw) {
                Some(record) => {
                    prop_assert!(raw.len() <= MAX_STORED_BYTES, "{} bytes", raw.len());
                    assert_obeys_the_rules(&record);
                    "accepted"
                }
                None => "refused",
            })
        });
}

/// A stored record, written in any of the ways JSON allows, is read back as it was exactly when
/// it obeys the rules (and fits in [`MAX_STORED_BYTES`]); otherwise it is refused.
#[test]
fn stored_json_of_the_right_shape_is_accepted_exactly_when_it_obeys_the_rules() {
    Property::cases(CASES)
        .at_least(MOST, "accepted")
        .at_least(SOME, "refused for its id")
        .at_least(SOME, "refused")
        .check(written_another_way(stored_fields()), |(fields, raw)| {
            let obeys = raw.len() <= MAX_STORED_BYTES && broken_rule(&fields).is_none();
            let read = RequestRecord::from_stored(&raw);
            prop_assert_eq!(
                &read,
                &obeys.then(|| fields.clone()),
                "{:?} in {}",
                broken_rule(&fields),
                raw
            );
            Ok(match read {
                Some(record) => {
                    assert_obeys_the_rules(&record);
                    prop_assert_eq!(RequestRecord::from_stored(&record.to_json()), Some(record));
                    "accepted"
                }
                None if broken_rule(&fields) == Some(ID_RULE) => "refused for its id",
                None => "refused",
            })
        });
}

#[test]
fn a_stored_entry_over_the_size_bound_is_refused_even_when_valid() {
    Property::cases(CASES)
        .at_least(SOME, "accepted")
        .at_least(SOME, "refused")
        .check(
            (
                header_value(700),
                MAX_STORED_BYTES - 100..MAX_STORED_BYTES + 100,
            ),
            |(user_agent, length)| {
                let mut headers = http::HeaderMap::new();
                headers.insert(http::header::USER_AGENT, header(&user_agent)?);
                let record = RequestRecord::from_parts("GET", &headers);
                // Whitespace after the object is still the same JSON.
                let mut raw = record.to_json();
                prop_assert!(raw.len() < length, "{} bytes", raw.len());
                raw.push_str(&" ".repeat(length - raw.len()));
                let accepted = RequestRecord::from_stored(&raw);
                prop_assert_eq!(&accepted, &(length <= MAX_STORED_BYTES).then_some(record));
                Ok(if accepted.is_some() {
                    "accepted"
                } else {
                    "refused"
                })
            },
        );
}

/// Whatever the bytes, the reply parser does not panic, and reads them as the reply format
/// says: most bodies are replies it reads, so that most cases check what it read.
#[test]
fn the_reply_parser_reads_any_bytes_as_the_reply_format_says() {
    Property::cases(CASES)
        .at_least(MOST, "a pipeline read")
        .at_least(SOME, "a single reply read")
        .at_least(SOME, "refused")
        .check(pipeline_body(), |(body, expected)| {
            let pipeline = reply::pipeline(&body, expected);
            let single = reply::single(&body);
            prop_assert_eq!(&pipeline, &expected_pipeline(&body, expected));
            prop_assert_eq!(&single, &expected_single(&body));
            let message = match &single {
                Ok(Reply::Error(message)) => Some(message.clone()),
                _ => None,
            };
            prop_assert_eq!(reply::error_message(&body), message);
            Ok(match (pipeline, single) {
                (Ok(_), _) => "a pipeline read",
                (_, Ok(_)) => "a single reply read",
                _ => "refused",
            })
        });
}

#[test]
fn a_single_reply_is_read_as_the_reply_format_says() {
    Property::cases(CASES)
        .at_least(SOME, "a result")
        .at_least(SOME, "an error")
        .at_least(SOME, "refused")
        .check(reply_element(), |element| {
            let body = element.to_string();
            let parsed = reply::single(body.as_bytes());
            prop_assert_eq!(&parsed, &expected_reply(&element), "{}", body);
            let message = reply::error_message(body.as_bytes());
            Ok(match parsed {
                Ok(Reply::Error(passed)) => {
                    // Shown without its control and format characters, cut to 200 characters.
                    let shown: String = passed
                        .chars()
                        .filter(|&c| !is_removed(c))
                        .take(MAX_ERROR_CHARS)
                        .collect();
                    prop_assert_eq!(reply::shown(&passed), shown);
                    prop_assert_eq!(message, Some(passed));
                    "an error"
                }
                Ok(Reply::Result(_)) => {
                    prop_assert_eq!(message, None);
                    "a result"
                }
                Err(Malformed) => {
                    prop_assert_eq!(message, None);
                    "refused"
                }
            })
        });
}

/// Read element by element when the length is right and every element is a reply; else
/// refused whole.
#[test]
fn a_pipeline_reply_is_read_element_by_element_or_refused_whole() {
    Property::cases(CASES)
        .at_least(MOST, "read")
        .at_least(SOME, "an element malformed")
        .at_least(SOME, "the wrong length")
        .check(
            (
                pipeline_elements(),
                prop_oneof![6 => Just(0isize), 1 => Just(-1), 1 => Just(1)],
            ),
            |(elements, asked)| {
                let body = Value::Array(elements.clone()).to_string();
                let expected = elements.len().saturating_add_signed(asked);
                let parsed = reply::pipeline(body.as_bytes(), expected);
                let replies: Result<Vec<Reply>, Malformed> =
                    elements.iter().map(expected_reply).collect();
                match (parsed, replies) {
                    (Ok(parsed), Ok(replies)) if expected == elements.len() => {
                        prop_assert_eq!(parsed, replies, "{}", body);
                        Ok("read")
                    }
                    (Err(Malformed), Err(Malformed)) => Ok("an element malformed"),
                    (Err(Malformed), Ok(_)) if expected != elements.len() => Ok("the wrong length"),
                    (parsed, replies) => Err(TestCaseError::fail(format!(
                        "{body} for {expected}: {parsed:?}, expected {replies:?}"
                    ))),
                }
            },
        );
}

#[test]
fn a_deeply_nested_reply_is_refused_without_overflowing_the_stack() {
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert_eq!(reply::pipeline(arrays.as_bytes(), 1), Err(Malformed));
    let results = format!("{}1{}", r#"{"result":"#.repeat(depth), "}".repeat(depth));
    assert_eq!(reply::single(results.as_bytes()), Err(Malformed));
    assert_eq!(reply::error_message(results.as_bytes()), None);
}
