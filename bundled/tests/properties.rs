//! Properties of the per-request route matcher, against a model of the rules written here from
//! the README, independently of the crate:
//!
//! - a path is `/` and segments; one trailing slash is ignored;
//! - a segment is percent-decoded; an empty, `.` or `..` segment (also encoded), broken
//!   percent-encoding or invalid UTF-8 matches no route;
//! - routes are tried in table order: static text equals the decoded segment, `[id]` takes one
//!   segment, `[...slug]` one or more, `[[...slug]]` zero or more.
//!
//! No path makes the matcher panic, and it always agrees with the model. Failures print the
//! minimal failing path; nothing is persisted (proptest finds no crate root above `tests/`).

use bundled_api::Segment::{self, *};
use bundled_api::{__private::route, RequestPath, RouteParams};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// The table of a project with every kind of route, in the order `#[bundled_api]` emits it.
const TABLE: &[&[Segment]] = &[
    &[Static("api"), Static("files")],
    &[Static("api"), Static("recent")],
    &[Static("api"), Static("wait-until")],
    &[Static("api")],
    &[
        Static("api"),
        Static("users"),
        Dynamic("id"),
        Static("posts"),
    ],
    &[Static("api"), Static("users"), Dynamic("id")],
    &[Static("api"), Dynamic("id")],
    &[Static("api"), Static("docs"), CatchAll("slug")],
    &[Static("api"), Static("files"), OptionalCatchAll("path")],
    &[Static("api"), CatchAll("rest")],
];

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// What a route captured, by name.
#[derive(Debug, PartialEq)]
enum Captured {
    One(String),
    Many(Vec<String>),
}

/// The model: the index of the route `path` reaches, and its captures in pattern order.
fn model(table: &[&[Segment]], path: &str) -> Option<(usize, Vec<Captured>)> {
    let rest = path.strip_prefix('/')?;
    let segments: Vec<String> = if rest.is_empty() {
        Vec::new()
    } else {
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let mut segments = Vec::new();
        for raw in rest.split('/') {
            let segment = percent_decode(raw)?;
            if segment.is_empty() || segment == "." || segment == ".." {
                return None;
            }
            segments.push(segment);
        }
        segments
    };
    table.iter().enumerate().find_map(|(index, pattern)| {
        let mut left = &segments[..];
        let mut captured = Vec::new();
        for segment in pattern.iter() {
            match segment {
                Static(text) => {
                    let (first, rest) = left.split_first()?;
                    if first != text {
                        return None;
                    }
                    left = rest;
                }
                Dynamic(_) => {
                    let (first, rest) = left.split_first()?;
                    captured.push(Captured::One(first.clone()));
                    left = rest;
                }
                CatchAll(_) if left.is_empty() => return None,
                CatchAll(_) | OptionalCatchAll(_) => {
                    captured.push(Captured::Many(left.to_vec()));
                    left = &[];
                }
            }
        }
        left.is_empty().then_some((index, captured))
    })
}

fn percent_decode(raw: &str) -> Option<String> {
    let mut bytes = Vec::new();
    let mut rest = raw.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// What the matcher captured, read through the public API, in pattern order.
fn captured(pattern: &[Segment], params: &RouteParams) -> Vec<Captured> {
    pattern
        .iter()
        .filter_map(|segment| match segment {
            Dynamic(name) => Some(Captured::One(params.get(name)?.to_string())),
            CatchAll(name) | OptionalCatchAll(name) => {
                Some(Captured::Many(params.get_all(name).to_vec()))
            }
            Static(_) => None,
        })
        .collect()
}

/// A segment an attacker or a route would use: route words (plain and encoded), dots,
/// nothing, escapes good and bad, and anything.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop_oneof![
            Just("api"), Just("files"), Just("recent"), Just("wait-until"), Just("users"),
            Just("docs"), Just("posts"), Just("%61pi"), Just("wait%2Duntil"), Just("API"),
        ]
        .prop_map(str::to_string),
        3 => "[a-z0-9é]{1,6}",
        1 => prop_oneof![
            Just(""), Just("."), Just(".."), Just("%2e"), Just("%2E%2e"), Just(".%2e"),
            Just("%"), Just("%2"), Just("%zz"), Just("%ff"), Just("%C3"), Just("%c0%af"),
            Just("%2F"), Just("a%2Fb"), Just("%00"), Just("%20"), Just("%C3%A9"), Just("?"),
            Just("\\"), Just("..."),
        ]
        .prop_map(str::to_string),
        1 => ".{0,4}",
    ]
}

/// Paths built from those segments, mostly under `api`, with zero, one or two trailing slashes,
/// and sometimes no leading slash.
fn path() -> impl Strategy<Value = String> {
    let first =
        prop_oneof![8 => Just("api".to_string()), 1 => Just("%61pi".to_string()), 1 => segment()];
    (
        first,
        prop::collection::vec(segment(), 0..5),
        prop_oneof![6 => Just(""), 2 => Just("/"), 1 => Just("//")],
        prop_oneof![19 => Just("/"), 1 => Just("")],
    )
        .prop_map(|(first, rest, trailing, leading)| {
            let rest: String = rest.iter().map(|segment| format!("/{segment}")).collect();
            format!("{leading}{first}{rest}{trailing}")
        })
}

/// A path that reaches a route: plain words only, no trailing slash.
fn routable_path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop_oneof![Just("api"), Just("files"), Just("users"), Just("docs")]
                .prop_map(str::to_string),
            1 => "[a-z0-9]{1,5}",
        ],
        1..6,
    )
    .prop_map(|segments| format!("/api/{}", segments.join("/")))
}

/// A segment that must make any path unroutable.
fn poisoned_segment() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(""),
        Just("."),
        Just(".."),
        Just("%2e"),
        Just("%2E%2E"),
        Just("%2e."),
        Just("%"),
        Just("%4"),
        Just("%G0"),
        Just("%ff"),
        Just("%C3"),
        Just("%ED%A0%80"),
    ]
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn any_text_is_routed_or_refused_without_panicking(path in any::<String>()) {
        if let Some((index, _)) = route(TABLE, &path) {
            prop_assert!(index < TABLE.len());
            prop_assert!(path.starts_with('/'));
        }
    }

    #[test]
    fn the_matcher_agrees_with_the_model(path in path()) {
        let matched = route(TABLE, &path).map(|(index, params)| {
            let captures = captured(TABLE[index], &params);
            (index, captures)
        });
        prop_assert_eq!(matched, model(TABLE, &path), "{:?}", path);
    }

    #[test]
    fn one_trailing_slash_is_ignored_and_two_match_nothing(path in routable_path()) {
        let plain = route(TABLE, &path);
        prop_assert!(plain.is_some(), "{:?} matches nothing", path);
        prop_assert_eq!(route(TABLE, &format!("{path}/")), plain);
        prop_assert_eq!(route(TABLE, &format!("{path}//")), None);
    }

    #[test]
    fn a_dot_empty_or_broken_segment_anywhere_matches_nothing(
        path in routable_path(),
        poison in poisoned_segment(),
        at in any::<prop::sample::Index>(),
    ) {
        let mut segments: Vec<&str> = path.split('/').skip(1).collect();
        let at = at.index(segments.len() + 1);
        segments.insert(at, poison);
        let poisoned = format!("/{}", segments.join("/"));
        // An empty last segment is the one trailing slash, which is allowed.
        prop_assume!(!(poison.is_empty() && at == segments.len() - 1));
        prop_assert_eq!(route(TABLE, &poisoned), None, "{:?}", poisoned);
        prop_assert!(RequestPath::parse(&poisoned).is_none());
    }

    #[test]
    fn a_parsed_path_has_no_empty_or_dot_segments(path in path()) {
        if let Some(parsed) = RequestPath::parse(&path) {
            prop_assert_eq!(parsed.len(), parsed.segments().count());
            for segment in parsed.segments() {
                prop_assert!(
                    !segment.is_empty() && segment != "." && segment != "..",
                    "{:?}: {:?}", path, segment
                );
            }
        }
    }

    #[test]
    fn a_catch_all_captures_exactly_the_rest_of_the_path(
        rest in prop::collection::vec("[a-z0-9]{1,5}", 1..6),
    ) {
        let path = format!("/api/docs/{}", rest.join("/"));
        let (index, params) = route(TABLE, &path).unwrap();
        prop_assert_eq!(index, 7);
        prop_assert_eq!(params.get_all("slug"), rest.as_slice());
    }

    #[test]
    fn a_dynamic_segment_captures_its_decoded_text(id in "[a-zA-Z0-9 é/%.]{1,12}") {
        prop_assume!(id != "." && id != "..");
        let encoded: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
        let (index, params) = route(TABLE, &format!("/api/users/{encoded}")).unwrap();
        prop_assert_eq!(index, 5);
        prop_assert_eq!(params.get("id"), Some(id.as_str()));
    }
}
