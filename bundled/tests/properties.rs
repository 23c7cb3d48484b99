//! Properties of the per-request route matcher: any path, no panic; a path with dot or empty
//! segments never matches; what matches is consistent with the table.

use bundled_api::Segment::{self, *};
use bundled_api::{__private::route, RequestPath};
use proptest::prelude::*;

const TABLE: &[&[Segment]] = &[
    &[Static("api"), Static("files")],
    &[Static("api"), Static("recent")],
    &[Static("api"), Static("wait-until")],
    &[Static("api"), Static("users"), Dynamic("id")],
    &[Static("api"), Static("docs"), CatchAll("slug")],
    &[Static("api"), Static("files"), OptionalCatchAll("path")],
    &[Static("api"), CatchAll("rest")],
];

/// Paths built from pieces attackers like: dots, slashes, escapes, odd bytes.
fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("/".to_string()),
            Just("..".to_string()),
            Just(".".to_string()),
            Just("api".to_string()),
            Just("recent".to_string()),
            Just("%2e".to_string()),
            Just("%2F".to_string()),
            Just("%".to_string()),
            Just("%ff".to_string()),
            "[a-z0-9%-]{0,6}",
            ".{0,3}",
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn any_path_is_routed_or_refused_without_panicking(path in path()) {
        if let Some((index, _)) = route(TABLE, &path) {
            prop_assert!(index < TABLE.len());
        }
    }

    #[test]
    fn a_parsed_path_has_no_empty_or_dot_segments(path in path()) {
        if let Some(parsed) = RequestPath::parse(&path) {
            for segment in parsed.segments() {
                prop_assert!(!segment.is_empty() && segment != "." && segment != "..", "{path:?}: {segment:?}");
            }
        }
    }

    #[test]
    fn a_match_is_a_path_that_parses(path in path()) {
        if route(TABLE, &path).is_some() {
            prop_assert!(RequestPath::parse(&path).is_some());
        }
    }

    #[test]
    fn a_catch_all_captures_exactly_the_rest_of_the_path(rest in prop::collection::vec("[a-z0-9]{1,5}", 1..6)) {
        let path = format!("/api/docs/{}", rest.join("/"));
        let (index, params) = route(TABLE, &path).unwrap();
        prop_assert_eq!(index, 4);
        prop_assert_eq!(params.get_all("slug"), rest.as_slice());
    }

    #[test]
    fn a_dynamic_segment_captures_its_decoded_text(id in "[a-zA-Z0-9 é/]{1,12}") {
        let encoded: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
        let (index, params) = route(TABLE, &format!("/api/users/{encoded}")).unwrap();
        prop_assert_eq!(index, 3);
        prop_assert_eq!(params.get("id"), Some(id.as_str()));
    }
}
