//! Route patterns and the per-request match.

use crate::RouteParams;
use crate::path::RequestPath;
use std::borrow::Cow;

/// One segment of a route's path, as `#[bundled_api]` reads it from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// `recent` in `api/recent.rs`: matches exactly that text.
    Static(&'static str),
    /// `[id]`: matches any one segment and captures it.
    Dynamic(&'static str),
    /// `[...slug]` (last only): captures one or more segments.
    CatchAll(&'static str),
    /// `[[...slug]]` (last only): captures zero or more segments.
    OptionalCatchAll(&'static str),
}

/// The index of the first of `routes` that matches `path`, with what it captured.
///
/// `routes` must already be in precedence order (the macro sorts them at compile time).
pub fn route(routes: &[&[Segment]], path: &str) -> Option<(usize, RouteParams)> {
    let path = RequestPath::parse(path)?;
    let len = path.segment_count();
    routes
        .iter()
        .enumerate()
        .filter(|(_, pattern)| could_match(pattern, len))
        .find_map(|(index, pattern)| matches(pattern, &path).map(|params| (index, params)))
}

/// Whether `pattern` matches `path`, and if so what it captured.
pub(crate) fn matches(pattern: &[Segment], path: &RequestPath<'_>) -> Option<RouteParams> {
    let mut params = RouteParams::default();
    let mut segments = path.segments();
    for segment in pattern {
        match *segment {
            Segment::Static(text) => {
                if segments.next()? != text {
                    return None;
                }
            }
            Segment::Dynamic(name) => params.push_one(name, segments.next()?.into_owned()),
            Segment::CatchAll(name) => {
                let rest = segments.by_ref().map(Cow::into_owned).collect::<Vec<_>>();
                if rest.is_empty() {
                    return None;
                }
                params.push_many(name, rest);
            }
            Segment::OptionalCatchAll(name) => {
                params.push_many(name, segments.by_ref().map(Cow::into_owned).collect());
            }
        }
    }
    segments.next().is_none().then_some(params)
}

/// A cheap length test that spares the captures of routes that cannot match.
fn could_match(pattern: &[Segment], path_len: usize) -> bool {
    match pattern.last() {
        Some(Segment::CatchAll(_)) => path_len >= pattern.len(),
        Some(Segment::OptionalCatchAll(_)) => path_len + 1 >= pattern.len(),
        _ => path_len == pattern.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::Segment::*;
    use super::*;

    /// The route table of a project with these files, in the order the macro emits it.
    const ROUTES: &[&[Segment]] = &[
        &[Static("api"), Static("files")],
        &[Static("api"), Static("posts")],
        &[Static("api"), Static("recent")],
        &[Static("api"), Static("wait-until")],
        &[Static("api")],
        &[
            Static("api"),
            Static("posts"),
            Dynamic("id"),
            Static("comments"),
        ],
        &[Static("api"), Static("posts"), Dynamic("id")],
        &[Static("api"), Dynamic("id")],
        &[Static("api"), Static("docs"), CatchAll("slug")],
        &[Static("api"), Static("files"), OptionalCatchAll("path")],
        &[Static("api"), CatchAll("rest")],
    ];

    fn hit(path: &str) -> Option<usize> {
        route(ROUTES, path).map(|(index, _)| index)
    }

    #[test]
    fn a_static_route_wins_over_a_dynamic_one() {
        assert_eq!(hit("/api/posts"), Some(1));
        assert_eq!(hit("/api/recent"), Some(2));
        assert_eq!(hit("/api/something"), Some(7));
    }

    #[test]
    fn a_dynamic_route_wins_over_a_catch_all() {
        assert_eq!(hit("/api/42"), Some(7));
        assert_eq!(hit("/api/42/more"), Some(10));
    }

    #[test]
    fn a_dynamic_segment_captures_its_decoded_value() {
        let (index, params) = route(ROUTES, "/api/posts/a%20b").unwrap();
        assert_eq!(index, 6);
        assert_eq!(params.get("id"), Some("a b"));
    }

    #[test]
    fn static_text_after_a_dynamic_segment_must_match() {
        assert_eq!(hit("/api/posts/7/comments"), Some(5));
        assert_eq!(hit("/api/posts/7/likes"), Some(10));
    }

    #[test]
    fn a_catch_all_needs_at_least_one_segment() {
        let (index, params) = route(ROUTES, "/api/docs/a/b/c").unwrap();
        assert_eq!(index, 8);
        assert_eq!(params.get_all("slug"), ["a", "b", "c"]);
        // `/api/docs` alone falls through to the dynamic `[id]` route.
        assert_eq!(hit("/api/docs"), Some(7));
    }

    #[test]
    fn an_optional_catch_all_matches_zero_segments_on_its_own() {
        let path = RequestPath::parse("/api/files").unwrap();
        let params = matches(
            &[Static("api"), Static("files"), OptionalCatchAll("p")],
            &path,
        );
        assert!(params.unwrap().get_all("p").is_empty());
    }

    #[test]
    fn an_optional_catch_all_also_matches_its_bare_prefix() {
        // The macro emits the bare prefix as its own entry, ranked like a static route (0), so it
        // wins over the dynamic `[id]`; the full pattern ranks with the catch-alls (9).
        let (index, params) = route(ROUTES, "/api/files").unwrap();
        assert_eq!(index, 0);
        assert!(params.get_all("path").is_empty());
        let (index, params) = route(ROUTES, "/api/files/x/y.txt").unwrap();
        assert_eq!(index, 9);
        assert_eq!(params.get_all("path"), ["x", "y.txt"]);
    }

    #[test]
    fn a_trailing_slash_matches_the_same_route() {
        assert_eq!(hit("/api/recent/"), Some(2));
        assert_eq!(hit("/api/"), Some(4));
    }

    #[test]
    fn percent_encoded_static_text_matches() {
        assert_eq!(hit("/api/wait%2Duntil"), Some(3));
    }

    #[test]
    fn dot_and_empty_segments_match_nothing() {
        for path in [
            "/api/../api/recent",
            "/api//recent",
            "/api/posts/..",
            "/api/%2e%2e",
        ] {
            assert_eq!(hit(path), None, "{path:?}");
        }
    }

    #[test]
    fn paths_outside_every_route_match_nothing() {
        for path in ["/", "/index.html", "/apix", "/API/recent", "", "api/recent"] {
            assert_eq!(hit(path), None, "{path:?}");
        }
    }

    #[test]
    fn routes_that_cannot_match_by_length_are_skipped() {
        assert!(!could_match(&[Static("api"), Dynamic("id")], 3));
        assert!(could_match(&[Static("api"), CatchAll("r")], 3));
        assert!(!could_match(&[Static("api"), CatchAll("r")], 1));
        assert!(could_match(&[Static("api"), OptionalCatchAll("r")], 1));
    }
}
