//! Properties of what parses hostile input: the record sanitiser, the stored-record check and
//! the Upstash reply parser. No input makes them panic, and what they hand out always obeys the
//! record's rules: bounded text without control or format characters (Unicode categories Cc and
//! Cf: no bidi control, nothing invisible), a country that is `[A-Z]{2}` with its flag or absent,
//! nothing from any other header.
//!
//! Which characters are control or format characters is drawn from Unicode's tables as
//! proptest's regex support has them (`\p{Cc}`, `\p{Cf}`), not from the list in `record.rs`.
//!
//! Failures print the minimal failing input; nothing is persisted (proptest finds no crate root
//! above `tests/`).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::{Value, json};
use wait_until::record::{
    MAX_METHOD_CHARS, MAX_STORED_BYTES, MAX_USER_AGENT_CHARS, RequestRecord, country_code,
    country_to_flag, is_removed, sanitize_text,
};
use wait_until::store::upstash::reply::{self, Malformed, Reply};

/// Longest error text the reply parser passes on (`reply.rs`).
const MAX_ERROR_CHARS: usize = 200;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Bytes a header value may carry (what hyper lets through): tab and 0x20..=0xff except DEL.
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    // Mapping the bytes hyper refuses is much quicker than a union per byte.
    prop::collection::vec(any::<u8>(), 0..max).prop_map(|bytes| {
        let allowed = |b: u8| b == b'\t' || (b >= 0x20 && b != 0x7f);
        bytes
            .into_iter()
            .map(|b| if allowed(b) { b } else { b ^ 0x40 })
            .collect()
    })
}

/// Control and format characters (Unicode categories Cc and Cf: bidi controls, zero-width and
/// other invisible characters, the BOM, tags), which no record holds.
const REMOVED: &str = r"[\p{Cc}\p{Cf}]";
/// Those a header value can carry: tab, the C1 controls (as UTF-8) and every format character.
const REMOVED_IN_A_HEADER: &str = r"[\t\x{80}-\x{9F}\p{Cf}]";

/// One character of the regex class `class` (parsed once: a `&str` strategy parses per draw).
fn one_of(class: &str) -> impl Strategy<Value = char> + use<> {
    proptest::string::string_regex(class)
        .unwrap_or_else(|e| panic!("{class}: {e}"))
        .prop_map(|one| one.chars().next().unwrap_or('\0'))
}

/// Text with each character's fate: `true` for one of `removed`, which no record holds; `false`
/// for any other character (any script, emoji, combining marks), which a record keeps.
fn marked_text(removed: &'static str, max: usize) -> impl Strategy<Value = Vec<(char, bool)>> {
    let kept = one_of(r"[^\p{Cc}\p{Cf}]").prop_map(|c| (c, false));
    let removed = one_of(removed).prop_map(|c| (c, true));
    prop::collection::vec(prop_oneof![3 => kept, 1 => removed], 0..max)
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
/// control and format characters.
fn header_value(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        header_bytes(max),
        prop::collection::vec(any::<char>(), 0..max)
            .prop_map(|chars| chars.into_iter().collect::<String>().into_bytes()),
        marked_text(REMOVED_IN_A_HEADER, max).prop_map(|marked| text_of(&marked).into_bytes()),
    ]
}

/// Country header values, often two letters of either case, sometimes anything.
fn country_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-zA-Z]{2}".prop_map(String::into_bytes),
        "[a-zA-Z0-9 ]{0,4}".prop_map(String::into_bytes),
        header_bytes(4),
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

/// Headers that must never reach a record: every IP header, and arbitrary others.
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
        "[a-z][a-z0-9-]{0,20}",
    ];
    prop::collection::vec((name, header_value(40)), 0..6)
}

fn assert_obeys_the_rules(record: &RequestRecord) {
    assert!(!record.id.is_empty() && record.id.chars().count() <= 64);
    assert!(!record.method.is_empty());
    assert!(record.method.chars().count() <= MAX_METHOD_CHARS);
    assert!(record.user_agent.chars().count() <= MAX_USER_AGENT_CHARS);
    for text in [&record.id, &record.method, &record.user_agent] {
        assert!(!text.chars().any(is_removed), "{text:?}");
    }
    match (&record.country, &record.flag) {
        (None, None) => {}
        (Some(country), Some(flag)) => {
            assert!(
                country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()),
                "{country:?}"
            );
            assert_eq!(*flag, country_to_flag(country));
        }
        other => panic!("country and flag disagree: {other:?}"),
    }
}

/// Arbitrary JSON without floats (serde_json may round them, which is not the parser's doing).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            Just("result".to_string()),
            Just("error".to_string()),
            "[a-z]{0,6}"
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// One element of a pipeline reply: mostly well formed, sometimes anything.
fn reply_element() -> impl Strategy<Value = Value> {
    prop_oneof![
        json_value().prop_map(|result| json!({ "result": result })),
        prop::collection::vec(any::<char>(), 0..400)
            .prop_map(|text| json!({ "error": text.into_iter().collect::<String>() })),
        json_value(),
    ]
}

/// What the reply parser must make of one element, from the Upstash reply format: an object
/// with `result` (and no `error`), or with a string `error` (and no `result`).
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

/// A storage error passed on (through the record's sanitiser): bounded, no control or format
/// characters, the start of what storage said.
fn assert_error_is_clean(message: &str, original: &str) {
    assert!(message.chars().count() <= MAX_ERROR_CHARS, "{message:?}");
    assert!(!message.chars().any(is_removed), "{message:?}");
    let kept: String = original.chars().filter(|&c| !is_removed(c)).collect();
    assert!(kept.starts_with(message), "{message:?} from {original:?}");
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn sanitized_text_is_bounded_and_free_of_control_characters(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        max in 0usize..600,
    ) {
        let text = sanitize_text(&bytes, max);
        prop_assert!(text.chars().count() <= max);
        prop_assert!(!text.chars().any(is_removed));
        prop_assert_eq!(sanitize_text(text.as_bytes(), max), text.clone(), "idempotent");
    }

    /// Control and format characters as Unicode files them, not as our list does: every one is
    /// removed, every other character kept in order, and the bound counts what is kept.
    #[test]
    fn sanitizing_removes_control_and_format_characters_and_keeps_the_rest_up_to_the_bound(
        marked in marked_text(REMOVED, 700),
        max in 0usize..600,
    ) {
        let text = sanitize_text(text_of(&marked).as_bytes(), max);
        prop_assert_eq!(text, kept_of("", &marked, max));
    }

    #[test]
    fn sanitizing_removes_only_control_and_format_characters_and_what_is_over_the_bound(
        chars in prop::collection::vec(any::<char>(), 0..700),
        max in 0usize..600,
    ) {
        let input: String = chars.iter().collect();
        let kept: Vec<char> = chars.iter().copied().filter(|&c| !is_removed(c)).collect();
        let text: Vec<char> = sanitize_text(input.as_bytes(), max).chars().collect();
        prop_assert_eq!(text.len(), kept.len().min(max));
        prop_assert_eq!(&text[..], &kept[..text.len()]);
    }

    #[test]
    fn a_country_code_is_two_upper_case_letters_exactly_when_given_two_letters(
        value in country_value(),
    ) {
        let two_letters = value.len() == 2 && value.iter().all(u8::is_ascii_alphabetic);
        match country_code(&value) {
            Some(code) => {
                prop_assert!(two_letters, "{value:?} gave {code:?}");
                let flag: Vec<char> = country_to_flag(&code).chars().collect();
                prop_assert_eq!(code.into_bytes(), value.to_ascii_uppercase());
                prop_assert_eq!(flag.len(), 2);
                let regional = '\u{1F1E6}'..='\u{1F1FF}';
                prop_assert!(flag.iter().all(|c| regional.contains(c)), "{:?}", flag);
            }
            None => prop_assert!(!two_letters, "{value:?} refused"),
        }
    }

    #[test]
    fn a_record_from_any_headers_obeys_the_rules_and_survives_storage(
        method in method(),
        user_agent in header_value(700),
        countries in prop::collection::vec(country_value(), 0..3),
        others in other_headers(),
    ) {
        let mut headers = http::HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_bytes(&user_agent) {
            headers.insert(http::header::USER_AGENT, value);
        }
        for country in &countries {
            if let Ok(value) = http::HeaderValue::from_bytes(country) {
                headers.append("x-vercel-ip-country", value);
            }
        }
        let record = RequestRecord::from_parts(&method, &headers);
        assert_obeys_the_rules(&record);
        let sent: Vec<&[u8]> = headers
            .get_all("x-vercel-ip-country")
            .iter()
            .map(|value| value.as_bytes())
            .collect();
        let expected = match sent[..] {
            [value] => country_code(value),
            _ => None,
        };
        prop_assert_eq!(&record.country, &expected);

        // Nothing from any other header changes it.
        let mut with_others = headers.clone();
        for (name, value) in &others {
            let name = http::HeaderName::from_bytes(name.as_bytes());
            if let (Ok(name), Ok(value)) = (name, http::HeaderValue::from_bytes(value))
                && name != http::header::USER_AGENT
                && name.as_str() != "x-vercel-ip-country"
            {
                with_others.append(name, value);
            }
        }
        let other = RequestRecord::from_parts(&method, &with_others);
        prop_assert_eq!(
            (&other.method, &other.user_agent, &other.country, &other.flag),
            (&record.method, &record.user_agent, &record.country, &record.flag)
        );

        // What we write, we read back as it was.
        let stored = record.to_json();
        prop_assert!(stored.len() <= MAX_STORED_BYTES, "{} bytes", stored.len());
        prop_assert_eq!(RequestRecord::from_stored(&stored), Some(record));
    }

    /// The record of a request whose user agent and method are laced with control and format
    /// characters holds exactly the rest, and reads back from storage unchanged.
    #[test]
    fn a_record_holds_what_was_sent_without_its_control_and_format_characters(
        user_agent in marked_text(REMOVED_IN_A_HEADER, 700),
        method in marked_text(REMOVED, 40),
    ) {
        let value = http::HeaderValue::from_bytes(text_of(&user_agent).as_bytes())
            .map_err(|e| TestCaseError::fail(format!("a header value refused: {e}")))?;
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::USER_AGENT, value);
        let record = RequestRecord::from_parts(&format!("GET{}", text_of(&method)), &headers);
        prop_assert_eq!(&record.user_agent, &kept_of("", &user_agent, MAX_USER_AGENT_CHARS));
        prop_assert_eq!(&record.method, &kept_of("GET", &method, MAX_METHOD_CHARS));
        prop_assert_eq!(RequestRecord::from_stored(&record.to_json()), Some(record));
    }

    /// Another writer's record, well formed but for one control or format character in one of its
    /// texts, is refused whole.
    #[test]
    fn a_stored_record_holding_a_control_or_format_character_is_refused(
        field in prop::sample::select(&["id", "method", "userAgent"][..]),
        (before, removed, after) in ("[a-z]{1,5}", one_of(REMOVED), "[a-z]{0,5}"),
    ) {
        let mut record = json!({"id": "id-1", "timestamp": 1, "method": "GET", "userAgent": "ua"});
        prop_assert!(RequestRecord::from_stored(&record.to_string()).is_some());
        record[field] = json!(format!("{before}{removed}{after}"));
        prop_assert_eq!(RequestRecord::from_stored(&record.to_string()), None, "{}", record);
    }

    #[test]
    fn any_stored_text_is_refused_or_obeys_the_rules(raw in ".{0,300}") {
        if let Some(record) = RequestRecord::from_stored(&raw) {
            assert_obeys_the_rules(&record);
        }
    }

    #[test]
    fn stored_json_of_the_right_shape_is_refused_or_obeys_the_rules(
        id in prop_oneof!["[0-9a-f-]{1,36}", ".{0,80}"],
        timestamp in any::<u64>(),
        method in prop_oneof!["[A-Z]{1,10}", ".{0,40}"],
        user_agent in prop_oneof!["[ -~]{0,600}", ".{0,600}"],
        (country, flag) in prop_oneof![
            Just((None, None)),
            "[A-Z]{2}".prop_map(|c| {
                let flag = country_to_flag(&c);
                (Some(c), Some(flag))
            }),
            (prop::option::of(".{0,3}"), prop::option::of(".{0,8}")),
        ],
    ) {
        let raw = json!({
            "id": id, "timestamp": timestamp, "method": method, "userAgent": user_agent,
            "country": country, "flag": flag,
        })
        .to_string();
        if let Some(record) = RequestRecord::from_stored(&raw) {
            prop_assert!(raw.len() <= MAX_STORED_BYTES, "{} bytes accepted", raw.len());
            assert_obeys_the_rules(&record);
            prop_assert_eq!(RequestRecord::from_stored(&record.to_json()), Some(record));
        }
    }

    #[test]
    fn a_stored_entry_over_the_size_bound_is_refused_even_when_valid(
        user_agent in header_value(700),
        length in MAX_STORED_BYTES - 100..MAX_STORED_BYTES + 100,
    ) {
        let mut headers = http::HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_bytes(&user_agent) {
            headers.insert(http::header::USER_AGENT, value);
        }
        let record = RequestRecord::from_parts("GET", &headers);
        // Whitespace after the object is still the same JSON.
        let mut raw = record.to_json();
        prop_assert!(raw.len() < length, "{} bytes", raw.len());
        raw.push_str(&" ".repeat(length - raw.len()));
        let accepted = RequestRecord::from_stored(&raw);
        prop_assert_eq!(accepted.is_some(), length <= MAX_STORED_BYTES, "{} bytes", length);
    }

    #[test]
    fn the_reply_parser_never_panics_on_any_bytes(
        body in prop::collection::vec(any::<u8>(), 0..300),
        expected in 0usize..4,
    ) {
        let _ = reply::single(&body);
        let _ = reply::error_message(&body);
        if let Ok(replies) = reply::pipeline(&body, expected) {
            prop_assert_eq!(replies.len(), expected);
        }
    }

    #[test]
    fn a_single_reply_is_read_as_the_reply_format_says(element in reply_element()) {
        let body = element.to_string();
        let parsed = reply::single(body.as_bytes());
        match (&parsed, expected_reply(&element)) {
            (Ok(Reply::Error(message)), Ok(Reply::Error(original))) => {
                assert_error_is_clean(message, &original);
                let passed_on = reply::error_message(body.as_bytes());
                prop_assert_eq!(passed_on.as_ref(), Some(message));
            }
            (parsed, expected) => {
                prop_assert_eq!(parsed, &expected, "{}", body);
                prop_assert_eq!(reply::error_message(body.as_bytes()), None);
            }
        }
    }

    #[test]
    fn a_pipeline_reply_is_read_element_by_element_or_refused_whole(
        elements in prop::collection::vec(reply_element(), 0..5),
        asked in prop_oneof![Just(0isize), Just(-1), Just(1)],
    ) {
        let body = Value::Array(elements.clone()).to_string();
        let expected = elements.len().saturating_add_signed(asked);
        let parsed = reply::pipeline(body.as_bytes(), expected);
        let replies: Result<Vec<Reply>, Malformed> =
            elements.iter().map(expected_reply).collect();
        match (parsed, replies) {
            (Ok(parsed), Ok(replies)) if expected == elements.len() => {
                prop_assert_eq!(parsed.len(), replies.len());
                for (parsed, reply) in parsed.iter().zip(&replies) {
                    match (parsed, reply) {
                        (Reply::Error(message), Reply::Error(original)) => {
                            assert_error_is_clean(message, original);
                        }
                        (parsed, reply) => prop_assert_eq!(parsed, reply),
                    }
                }
            }
            (Err(Malformed), Err(Malformed)) => {}
            (Err(Malformed), Ok(_)) => prop_assert_ne!(expected, elements.len(), "{}", body),
            (parsed, replies) => {
                prop_assert!(false, "{body} for {expected}: {parsed:?}, expected {replies:?}");
            }
        }
    }
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
