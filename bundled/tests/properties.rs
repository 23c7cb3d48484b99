//! Properties of the per-request route matcher, against a model of the rules written here from
//! the README, independently of the crate:
//!
//! - a path is `/` and segments; one trailing slash is ignored;
//! - a segment is percent-decoded; an empty, `.` or `..` segment (also encoded), broken
//!   percent-encoding or invalid UTF-8 matches no route;
//! - routes are tried in table order: static text equals the decoded segment, `[id]` takes one
//!   segment, `[...slug]` one or more, `[[...slug]]` zero or more.
//!
//! No path makes the matcher panic, and it always agrees with the model. Paths are mostly
//! written for one of the table's routes, some of them then spoilt: each property returns the
//! branch its case reached (the route, or none), and fails unless the branches that matter,
//! every route among them, were reached often enough (`tally`). Failures print the minimal
//! failing path; nothing is persisted (proptest finds no crate root above `tests/`).

use bundled_api::__private::Segment::{self, *};
use bundled_api::__private::{RequestPath, route};
use bundled_api::RouteParams;
use proptest::prelude::*;
use proptest::sample::Index;
use tally::{FEW, MOST, Property, SOME};

/// How often each branch was reached, checked; the app's properties use the same file.
#[path = "support/tally.rs"]
mod tally;

/// Cases per property.
const CASES: u32 = 2048;

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

/// The routes of [`TABLE`] as their files name them, in its order: the branch a path reached.
const ROUTES: [&str; TABLE.len()] = [
    "api/files",
    "api/recent",
    "api/wait-until",
    "api",
    "api/users/[id]/posts",
    "api/users/[id]",
    "api/[id]",
    "api/docs/[...slug]",
    "api/files/[[...path]]",
    "api/[...rest]",
];

/// `property`, required to reach every route of the table on at least [`FEW`] of its cases.
fn every_route(property: Property) -> Property {
    ROUTES
        .iter()
        .fold(property, |property, route| property.at_least(FEW, route))
}

/// What a route captured, by name.
#[derive(Debug, PartialEq)]
enum Captured {
    One(String),
    Many(Vec<String>),
}

/// The model's segments of `path`, decoded; `None` for a path that matches no route.
fn segments_of(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix('/')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut segments = Vec::new();
    for raw in rest.split('/') {
        let segment = percent_decode(raw)?;
        if segment.is_empty() || segment == "." || segment == ".." {
            return None;
        }
        segments.push(segment);
    }
    Some(segments)
}

/// The model: the index of the route `path` reaches, and its captures in pattern order.
fn model(table: &[&[Segment]], path: &str) -> Matched {
    let segments = segments_of(path)?;
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

/// Where a path goes: the index of its route and what the route captured.
type Matched = Option<(usize, Vec<Captured>)>;

/// The matcher's answer for `path`, the model's, and the branch reached: the route's name, or
/// `refused`.
fn match_and_model(path: &str) -> (Matched, Matched, &'static str) {
    let matched = route(TABLE, path).map(|(index, params)| {
        let captures = captured(TABLE[index], &params);
        (index, captures)
    });
    let branch = matched
        .as_ref()
        .map_or("refused", |(index, _)| ROUTES[*index]);
    (matched, model(TABLE, path), branch)
}

/// Text matching `regex`, parsed once: a `&str` strategy parses it again for every draw, which
/// is most of the cost of a strategy drawn many times per case.
fn matching(regex: &str) -> impl Strategy<Value = String> + use<> {
    proptest::string::string_regex(regex).unwrap_or_else(|e| panic!("{regex}: {e}"))
}

/// Route words, what a route's file would name.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop_oneof![
            Just("api"), Just("files"), Just("recent"), Just("wait-until"), Just("users"),
            Just("docs"), Just("posts"),
        ]
        .prop_map(str::to_string),
        2 => matching("[a-z0-9]{1,5}"),
    ]
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
        3 => matching("[a-z0-9é]{1,6}"),
        1 => prop_oneof![
            Just(""), Just("."), Just(".."), Just("%2e"), Just("%2E%2e"), Just(".%2e"),
            Just("%"), Just("%2"), Just("%zz"), Just("%ff"), Just("%C3"), Just("%c0%af"),
            Just("%2F"), Just("a%2Fb"), Just("%00"), Just("%20"), Just("%C3%A9"), Just("?"),
            Just("\\"), Just("..."),
        ]
        .prop_map(str::to_string),
        1 => matching(".{0,4}"),
    ]
}

/// The segments of a path written for one of the table's routes, without the leading slash:
/// its static text, and `fill` where it captures (a catch-all one to three segments, an optional
/// one none to three). Routes earlier in the table may take it first, as the model says.
fn written_for_a_route(fill: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (
        prop::sample::select(TABLE),
        prop::collection::vec(fill, 3),
        0usize..4,
    )
        .prop_map(|(pattern, fills, rest)| {
            let mut fills = fills.into_iter();
            let segments: Vec<String> = pattern
                .iter()
                .flat_map(|segment| match segment {
                    Static(text) => vec![text.to_string()],
                    Dynamic(_) => fills.by_ref().take(1).collect(),
                    CatchAll(_) => fills.by_ref().take(rest.max(1)).collect(),
                    OptionalCatchAll(_) => fills.by_ref().take(rest).collect(),
                })
                .collect();
            segments.join("/")
        })
}

/// Paths, half written for a route with any segment where it captures, half of any segments
/// mostly under `api`; with zero, one or two trailing slashes, and sometimes no leading slash.
fn path() -> impl Strategy<Value = String> {
    let first =
        prop_oneof![8 => Just("api".to_string()), 1 => Just("%61pi".to_string()), 1 => segment()];
    let any_segments = (first, prop::collection::vec(segment(), 0..5)).prop_map(|(first, rest)| {
        let rest: String = rest.iter().map(|segment| format!("/{segment}")).collect();
        format!("{first}{rest}")
    });
    let fill = prop_oneof![3 => word(), 1 => segment()];
    (
        prop_oneof![written_for_a_route(fill), any_segments],
        prop_oneof![6 => Just(""), 2 => Just("/"), 1 => Just("//")],
        prop_oneof![19 => Just("/"), 1 => Just("")],
    )
        .prop_map(|(segments, trailing, leading)| format!("{leading}{segments}{trailing}"))
}

/// A path that reaches a route: written for one with plain words, no trailing slash.
fn routable_path() -> impl Strategy<Value = String> {
    written_for_a_route(word()).prop_map(|segments| format!("/{segments}"))
}

/// Any text: arbitrary Unicode with or without a leading slash, or one of [`path`] with any
/// character inserted anywhere.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        1 => any::<String>().prop_map(|text| format!("/{text}")),
        2 => (path(), any::<Index>(), any::<char>()).prop_map(|(path, at, c)| {
            let mut chars: Vec<char> = path.chars().collect();
            chars.insert(at.index(chars.len() + 1), c);
            chars.into_iter().collect()
        }),
    ]
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

/// Arbitrary Unicode and paths with any character in them: routed exactly as the model says,
/// and never a panic.
#[test]
fn any_text_is_routed_or_refused_as_the_model_says() {
    Property::cases(CASES)
        .at_least(SOME, "routed")
        .at_least(SOME, "refused")
        .check(any_text(), |path| {
            let (matched, modelled, _) = match_and_model(&path);
            let branch = if matched.is_some() {
                "routed"
            } else {
                "refused"
            };
            prop_assert_eq!(matched, modelled, "{:?}", path);
            Ok(branch)
        });
}

#[test]
fn the_matcher_agrees_with_the_model() {
    every_route(Property::cases(CASES))
        .at_least(SOME, "refused")
        .check(path(), |path| {
            let (matched, modelled, branch) = match_and_model(&path);
            prop_assert_eq!(matched, modelled, "{:?}", path);
            Ok(branch)
        });
}

/// On every route of the table.
#[test]
fn one_trailing_slash_is_ignored_and_two_match_nothing() {
    every_route(Property::cases(CASES)).check(routable_path(), |path| {
        let plain = route(TABLE, &path);
        let Some((index, _)) = &plain else {
            return Err(TestCaseError::fail(format!("{path:?} matches nothing")));
        };
        let branch = ROUTES[*index];
        prop_assert_eq!(route(TABLE, &format!("{path}/")), plain);
        prop_assert_eq!(route(TABLE, &format!("{path}//")), None);
        Ok(branch)
    });
}

#[test]
fn a_dot_empty_or_broken_segment_anywhere_matches_nothing() {
    Property::cases(CASES).at_least(MOST, "refused").check(
        (routable_path(), poisoned_segment(), any::<Index>()),
        |(path, poison, at)| {
            let mut segments: Vec<&str> = path.split('/').skip(1).collect();
            let at = at.index(segments.len() + 1);
            segments.insert(at, poison);
            let poisoned = format!("/{}", segments.join("/"));
            // An empty last segment is the one trailing slash, which is allowed.
            prop_assume!(!(poison.is_empty() && at == segments.len() - 1));
            prop_assert_eq!(route(TABLE, &poisoned), None, "{:?}", poisoned);
            prop_assert!(RequestPath::parse(&poisoned).is_none());
            Ok("refused")
        },
    );
}

/// A parsed path's segments are the model's: decoded, none empty or a dot.
#[test]
fn a_parsed_path_has_no_empty_or_dot_segments() {
    Property::cases(CASES)
        .at_least(MOST, "parsed")
        .at_least(SOME, "refused")
        .check(path(), |path| {
            let Some(parsed) = RequestPath::parse(&path) else {
                prop_assert_eq!(segments_of(&path), None, "{:?}", path);
                return Ok("refused");
            };
            let segments: Vec<String> = parsed.segments().map(String::from).collect();
            prop_assert_eq!(parsed.segment_count(), segments.len());
            for segment in &segments {
                prop_assert!(
                    !segment.is_empty() && segment != "." && segment != "..",
                    "{:?}: {:?}",
                    path,
                    segment
                );
            }
            prop_assert_eq!(Some(segments), segments_of(&path), "{:?}", path);
            Ok("parsed")
        });
}

#[test]
fn a_catch_all_captures_exactly_the_rest_of_the_path() {
    Property::cases(CASES).at_least(MOST, "captured").check(
        prop::collection::vec(matching("[a-z0-9]{1,5}"), 1..6),
        |rest| {
            let path = format!("/api/docs/{}", rest.join("/"));
            let (index, params) = route(TABLE, &path).unwrap();
            prop_assert_eq!(index, 7);
            prop_assert_eq!(params.get_all("slug"), rest.as_slice());
            Ok("captured")
        },
    );
}

#[test]
fn a_dynamic_segment_captures_its_decoded_text() {
    Property::cases(CASES).at_least(MOST, "captured").check(
        matching("[a-zA-Z0-9 é/%.]{1,12}"),
        |id| {
            prop_assume!(id != "." && id != "..");
            let encoded: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
            let (index, params) = route(TABLE, &format!("/api/users/{encoded}")).unwrap();
            prop_assert_eq!(index, 5);
            prop_assert_eq!(params.get("id"), Some(id.as_str()));
            Ok("captured")
        },
    );
}
