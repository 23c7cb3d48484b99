//! Every route file must be reachable: a file whose every path an earlier route takes is a
//! compile error, not a route that silently never runs.
//!
//! Refusing two files of one shape is not enough: `api/[id]/[[...rest]].rs` takes every path
//! `api/[...slug].rs` serves (its bare `/api/[id]` the one-segment paths, the rest the longer
//! ones), and so can a group of files between them (`api/[id].rs` with `api/[id]/[...rest].rs`).

use crate::route_path::{Part, RoutePath};

/// Whether `route` matches `path`'s segments, as the runtime's matcher decides it (decoding
/// aside: these paths are made of names and of values no name can equal).
pub fn matches(route: &RoutePath, path: &[String]) -> bool {
    let mut rest = path;
    for part in &route.parts {
        match part {
            Part::Static(text) => match rest.split_first() {
                Some((segment, tail)) if segment == text => rest = tail,
                _ => return false,
            },
            Part::Dynamic(_) => match rest.split_first() {
                Some((_, tail)) => rest = tail,
                None => return false,
            },
            Part::CatchAll(_) => return !rest.is_empty(),
            Part::OptionalCatchAll(_) => return true,
        }
    }
    rest.is_empty()
}

/// Paths `route` matches, enough to tell whether any path reaches it: its static text, a value
/// no file name can hold (a control character, which names may not have) for every capture,
/// and a catch-all from its shortest up to `deepest` segments, which after the `api` its route
/// starts with makes a path longer than any route without a catch-all. A path reaching
/// `route` still reaches it with its captures replaced by such values: they match only where
/// any value matches. So if none of these paths reaches it, no path does.
fn paths_of(route: &RoutePath, deepest: usize) -> Vec<Vec<String>> {
    let mut paths = vec![Vec::new()];
    for (i, part) in route.parts.iter().enumerate() {
        let tails: Vec<Vec<String>> = match part {
            Part::Static(text) => vec![vec![text.clone()]],
            Part::Dynamic(_) => vec![vec![format!("\u{0}{i}")]],
            Part::CatchAll(_) | Part::OptionalCatchAll(_) => {
                let shortest = usize::from(matches!(part, Part::CatchAll(_)));
                (shortest..=deepest)
                    .map(|len| (0..len).map(|k| format!("\u{0}{i}.{k}")).collect())
                    .collect()
            }
        };
        paths = paths
            .iter()
            .flat_map(|head| {
                tails
                    .iter()
                    .map(move |tail| [head.as_slice(), tail].concat())
            })
            .collect();
    }
    paths
}

/// The compile error for the first of [`unreachable`]'s files, naming the files in its way.
pub fn error(order: &[(RoutePath, usize)], names: &[&str]) -> Option<String> {
    let (hidden, takers) = unreachable(order, names.len()).into_iter().next()?;
    let takers: Vec<&str> = takers.iter().map(|taker| names[*taker]).collect();
    let verb = if takers.len() == 1 { "takes" } else { "take" };
    Some(format!(
        "{} can never be reached: {} {verb} every path it serves",
        names[hidden],
        takers.join(" and ")
    ))
}

/// For each file of `files` no path reaches through `order` (routes in precedence order, each
/// with the index of its file), that file and the files that take its paths, by index.
pub fn unreachable(order: &[(RoutePath, usize)], files: usize) -> Vec<(usize, Vec<usize>)> {
    let deepest = order
        .iter()
        .map(|(route, _)| route.parts.len())
        .max()
        .unwrap_or(0);
    let first_match = |path: &Vec<String>| {
        order
            .iter()
            .find(|(route, _)| matches(route, path))
            .map(|(_, file)| *file)
    };
    (0..files)
        .filter_map(|file| {
            let mut takers = Vec::new();
            for (route, _) in order.iter().filter(|(_, of)| *of == file) {
                for path in paths_of(route, deepest) {
                    match first_match(&path) {
                        Some(taker) if taker == file => return None,
                        Some(taker) if !takers.contains(&taker) => takers.push(taker),
                        _ => {}
                    }
                }
            }
            takers.sort_unstable();
            Some((file, takers))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(file: &str) -> RoutePath {
        RoutePath::from_file(file).unwrap()
    }

    #[test]
    fn a_route_first_in_line_is_reachable() {
        let order = [(route("api/[id].rs"), 0), (route("api/[...rest].rs"), 1)];
        assert!(unreachable(&order, 2).is_empty());
    }

    #[test]
    fn a_catch_all_covered_by_a_dynamic_route_and_its_optional_rest_is_not() {
        let covering = route("api/[id]/[[...rest]].rs");
        let order = [
            (covering.bare_prefix().unwrap(), 0),
            (covering, 0),
            (route("api/[...slug].rs"), 1),
        ];
        assert_eq!(unreachable(&order, 2), [(1, vec![0])]);
    }

    #[test]
    fn a_route_covered_by_two_files_names_both() {
        let order = [
            (route("api/[id].rs"), 0),
            (route("api/[id]/[...rest].rs"), 1),
            (route("api/[...slug].rs"), 2),
        ];
        assert_eq!(unreachable(&order, 3), [(2, vec![0, 1])]);
    }

    #[test]
    fn the_error_names_the_hidden_file_and_what_takes_its_paths() {
        let names = ["api/[id].rs", "api/[id]/[...rest].rs", "api/[...slug].rs"];
        let order: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (route(n), i))
            .collect();
        assert_eq!(
            error(&order, &names).unwrap(),
            "api/[...slug].rs can never be reached: api/[id].rs and api/[id]/[...rest].rs \
             take every path it serves"
        );
        let names = ["api/[id]/[[...rest]].rs", "api/[...slug].rs"];
        let covering = route(names[0]);
        let order = [
            (covering.bare_prefix().unwrap(), 0),
            (covering, 0),
            (route(names[1]), 1),
        ];
        assert_eq!(
            error(&order, &names).unwrap(),
            "api/[...slug].rs can never be reached: api/[id]/[[...rest]].rs takes every path it \
             serves"
        );
        assert_eq!(error(&order[..2], &names[..1]), None);
    }

    #[test]
    fn a_capture_value_never_equals_a_name() {
        // Were the stand-in value `x`, `api/x.rs` would seem to take every path of `api/[id].rs`.
        let order = [(route("api/x.rs"), 0), (route("api/[id].rs"), 1)];
        assert!(unreachable(&order, 2).is_empty());
    }
}
