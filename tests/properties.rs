//! Properties of what parses hostile input: the record sanitiser and the Upstash reply parser.
//! No input makes them panic, and what they hand out always obeys the record's rules.

use proptest::prelude::*;
use wait_until::record::{
    MAX_METHOD_CHARS, MAX_USER_AGENT_CHARS, RequestRecord, country_to_flag, sanitize_text,
};
use wait_until::upstash::reply;

/// Bytes a header value may carry (what hyper lets through): tab and 0x20..=0xff except DEL.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff],
        0..1200,
    )
}

fn assert_obeys_the_rules(record: &RequestRecord) {
    assert!(record.user_agent.chars().count() <= MAX_USER_AGENT_CHARS);
    assert!(record.method.chars().count() <= MAX_METHOD_CHARS);
    assert!(!record.user_agent.chars().any(char::is_control));
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sanitized_text_is_bounded_and_free_of_control_characters(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        max in 0usize..600,
    ) {
        let text = sanitize_text(&bytes, max);
        prop_assert!(text.chars().count() <= max);
        prop_assert!(!text.chars().any(char::is_control));
    }

    #[test]
    fn a_record_from_any_headers_obeys_the_rules_and_survives_storage(
        user_agent in header_bytes(),
        country in prop::collection::vec(any::<u8>(), 0..4),
        method in "[A-Z]{1,64}",
    ) {
        let mut headers = http::HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_bytes(&user_agent) {
            headers.insert(http::header::USER_AGENT, value);
        }
        if let Ok(value) = http::HeaderValue::from_bytes(&country) {
            headers.insert("x-vercel-ip-country", value);
        }
        let record = RequestRecord::from_parts(&method, &headers);
        assert_obeys_the_rules(&record);
        prop_assert_eq!(RequestRecord::from_stored(&record.to_json()), Some(record));
    }

    #[test]
    fn any_stored_text_is_refused_or_obeys_the_rules(raw in ".{0,300}") {
        if let Some(record) = RequestRecord::from_stored(&raw) {
            assert_obeys_the_rules(&record);
        }
    }

    #[test]
    fn stored_json_of_the_right_shape_is_refused_or_obeys_the_rules(
        id in ".{0,80}", timestamp in any::<u64>(), method in ".{0,40}",
        user_agent in ".{0,600}", country in prop::option::of(".{0,3}"), flag in prop::option::of(".{0,8}"),
    ) {
        let raw = serde_json::json!({
            "id": id, "timestamp": timestamp, "method": method, "userAgent": user_agent,
            "country": country, "flag": flag,
        })
        .to_string();
        if let Some(record) = RequestRecord::from_stored(&raw) {
            assert_obeys_the_rules(&record);
        }
    }

    #[test]
    fn the_reply_parser_never_panics_and_pipelines_have_the_asked_length(
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
    fn well_formed_pipeline_replies_are_read_element_by_element(
        elements in prop::collection::vec(prop_oneof![
            any::<i64>().prop_map(|n| serde_json::json!({ "result": n })),
            ".{0,30}".prop_map(|e| serde_json::json!({ "error": e })),
        ], 0..5),
    ) {
        let body = serde_json::Value::Array(elements.clone()).to_string();
        let replies = reply::pipeline(body.as_bytes(), elements.len()).unwrap();
        for (reply, element) in replies.iter().zip(&elements) {
            match reply {
                reply::Reply::Result(value) => prop_assert_eq!(value, &element["result"]),
                reply::Reply::Error(_) => prop_assert!(element.get("error").is_some()),
            }
        }
    }
}
