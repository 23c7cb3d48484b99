//! From a route file's path (`api/users/[id].rs`) to the route it serves.

use std::fmt;

/// One part of a route, read from a file or folder name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Static(String),
    Dynamic(String),
    CatchAll(String),
    OptionalCatchAll(String),
}

/// A part of a route with its param name erased: see [`RoutePath::shape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape<'a> {
    Static(&'a str),
    Dynamic,
    CatchAll,
}

/// The route a file serves: `api/users/[id].rs` serves `/api/users/[id]`;
/// `api/users/index.rs` serves `/api/users`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePath {
    pub parts: Vec<Part>,
}

impl RoutePath {
    /// `relative` is the file's path from the crate root with `/` separators, e.g. `api/x.rs`.
    pub fn from_file(relative: &str) -> Result<Self, String> {
        let without_ext = relative
            .strip_suffix(".rs")
            .ok_or_else(|| format!("{relative}: a route file must end in `.rs`"))?;
        let mut names: Vec<&str> = without_ext.split('/').collect();
        if names.len() > 1 && names.last() == Some(&"index") {
            names.pop();
        }
        let parts = names
            .iter()
            .map(|name| Part::parse(name).map_err(|why| format!("{relative}: {why}")))
            .collect::<Result<Vec<_>, _>>()?;

        let mut seen = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            // `i + 1 < len` rather than `i != len - 1`: no subtraction to underflow, whatever the
            // path (`split` always yields one name, but this must not depend on it).
            if matches!(part, Part::CatchAll(_) | Part::OptionalCatchAll(_)) && i + 1 < parts.len()
            {
                return Err(format!(
                    "{relative}: a catch-all segment must be the last one"
                ));
            }
            if let Some(name) = part.param_name() {
                if seen.contains(&name) {
                    return Err(format!("{relative}: the param `{name}` appears twice"));
                }
                seen.push(name);
            }
        }
        Ok(Self { parts })
    }

    /// The key `vercel_runtime_router` orders this route by: a file path of the same shape whose
    /// every part is identifier-safe, because the router turns the key into an identifier with
    /// `format_ident!` and panics on anything else (`api/robots.txt.rs`, `api/a b.rs`).
    ///
    /// The router never reads a part's text, only its shape: static routes are ordered by the byte
    /// length of the whole path, dynamic ones by their number of segments and where the
    /// bracketed ones sit, catch-alls by their number of segments; ties keep their input order.
    /// So each static part becomes as many `x` as it has bytes and each param is named `p`, which
    /// orders every route exactly as its real path would (pinned by expand.rs's tests). Keys are
    /// not unique (`api/a.rs` and `api/b.rs` both give `xxx/x.rs`): map back by position.
    pub fn router_key(&self) -> String {
        let parts = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Static(text) => "x".repeat(text.len()),
                Part::Dynamic(_) => "[p]".to_string(),
                Part::CatchAll(_) => "[...p]".to_string(),
                Part::OptionalCatchAll(_) => "[[...p]]".to_string(),
            })
            .collect::<Vec<_>>();
        format!("{}.rs", parts.join("/"))
    }

    /// What decides which requests the route serves: its static text and where its params are,
    /// not their names; a catch-all is a catch-all, required or optional (both take every path
    /// with at least one more segment). Two routes of one shape serve the same paths, and the
    /// router would only ever pick the first.
    pub fn shape(&self) -> Vec<Shape<'_>> {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Static(text) => Shape::Static(text),
                Part::Dynamic(_) => Shape::Dynamic,
                Part::CatchAll(_) | Part::OptionalCatchAll(_) => Shape::CatchAll,
            })
            .collect()
    }

    /// For an optional catch-all, the route without it: what it serves when it captures nothing.
    pub fn bare_prefix(&self) -> Option<RoutePath> {
        match self.parts.split_last() {
            Some((Part::OptionalCatchAll(_), prefix)) => Some(RoutePath {
                parts: prefix.to_vec(),
            }),
            _ => None,
        }
    }

    pub fn has_params(&self) -> bool {
        self.parts.iter().any(|part| part.param_name().is_some())
    }
}

impl Part {
    fn parse(name: &str) -> Result<Self, String> {
        let bracketed = |open: &str, close: &str| {
            name.strip_prefix(open)
                .and_then(|rest| rest.strip_suffix(close))
        };
        let (part, param) = if let Some(param) = bracketed("[[...", "]]") {
            (Part::OptionalCatchAll(param.to_string()), Some(param))
        } else if let Some(param) = bracketed("[...", "]") {
            (Part::CatchAll(param.to_string()), Some(param))
        } else if let Some(param) = bracketed("[", "]") {
            (Part::Dynamic(param.to_string()), Some(param))
        } else {
            check_static(name)?;
            (Part::Static(name.to_string()), None)
        };
        if let Some(param) = param {
            let valid = !param.is_empty()
                && param
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                return Err(format!(
                    "`{name}` is not a valid param (use letters, digits, `_`, `-`)"
                ));
            }
        }
        Ok(part)
    }

    pub fn param_name(&self) -> Option<&str> {
        match self {
            Part::Static(_) => None,
            Part::Dynamic(name) | Part::CatchAll(name) | Part::OptionalCatchAll(name) => Some(name),
        }
    }
}

/// A static part serves the request segment that percent-decodes to exactly its text, so any name
/// a URL path segment can carry is accepted: `robots.txt`, `v1.2`, `a b` (served at `a%20b`),
/// `a+b`, `a(b)`, `é`. Refused is what no request would reach as the user means it:
///
/// - `.`, `..` and the empty name: the request side refuses such segments outright;
/// - `%`: is `a%20b.rs` the URL `/a%20b` or the text `a%20b`? The matcher compares decoded text,
///   so it would serve only `/a%2520b`. Name the file by its decoded text (`a b.rs`) instead;
/// - `?` and `#`: in a URL they end the path, so `/api/what?` asks for `/api/what`;
/// - `\`: browsers read it as `/` in a URL path;
/// - `/` cannot be in a file name, and control characters are never sent literally.
///
/// Only the last three could be reached at all, percent-encoded (`%3F`), which is never what the
/// name says.
fn check_static(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("`{name}` is not a valid route segment"));
    }
    if name.contains(['[', ']']) {
        return Err(format!(
            "`{name}` is not a valid route segment (brackets only around a whole param: `[id]`)"
        ));
    }
    if name.contains('%') {
        return Err(format!(
            "`{name}` has a `%`: a route segment is matched decoded, so name the file by the text \
             the URL decodes to (`a b.rs` serves `/api/a%20b`)"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '?' | '#' | '\\' | '/') || c.is_control())
    {
        return Err(format!(
            "`{}` has {c:?}, which a URL path segment cannot carry as itself",
            name.escape_debug()
        ));
    }
    Ok(())
}

impl fmt::Display for RoutePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Static(text) => write!(f, "/{text}")?,
                Part::Dynamic(name) => write!(f, "/[{name}]")?,
                Part::CatchAll(name) => write!(f, "/[...{name}]")?,
                Part::OptionalCatchAll(name) => write!(f, "/[[...{name}]]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(file: &str) -> String {
        RoutePath::from_file(file).unwrap().to_string()
    }

    #[test]
    fn a_file_serves_its_own_path() {
        assert_eq!(route("api/wait-until.rs"), "/api/wait-until");
        assert_eq!(route("api/users/[id].rs"), "/api/users/[id]");
    }

    #[test]
    fn an_index_file_serves_its_folder() {
        assert_eq!(route("api/users/index.rs"), "/api/users");
        assert_eq!(route("api/index.rs"), "/api");
    }

    #[test]
    fn catch_alls_are_recognised() {
        let parts = RoutePath::from_file("api/docs/[...slug].rs").unwrap().parts;
        assert_eq!(parts[2], Part::CatchAll("slug".into()));
        let parts = RoutePath::from_file("api/files/[[...path]].rs")
            .unwrap()
            .parts;
        assert_eq!(parts[2], Part::OptionalCatchAll("path".into()));
    }

    #[test]
    fn a_catch_all_that_is_not_last_is_refused_with_the_file_name() {
        let err = RoutePath::from_file("api/[...a]/b.rs").unwrap_err();
        assert!(err.starts_with("api/[...a]/b.rs:"), "{err}");
        assert!(err.contains("last"), "{err}");
    }

    #[test]
    fn a_repeated_param_is_refused() {
        let err = RoutePath::from_file("api/[id]/[id].rs").unwrap_err();
        assert!(err.contains("`id` appears twice"), "{err}");
    }

    #[test]
    fn malformed_brackets_are_refused() {
        for file in ["api/[].rs", "api/[a.rs", "api/[a b].rs", "api/[...].rs"] {
            assert!(RoutePath::from_file(file).is_err(), "{file}");
        }
    }

    #[test]
    fn the_router_key_has_the_shape_of_the_file_path_and_nothing_of_its_text() {
        let key = |file: &str| RoutePath::from_file(file).unwrap().router_key();
        assert_eq!(key("api/users/index.rs"), "xxx/xxxxx.rs");
        assert_eq!(key("api/robots.txt.rs"), "xxx/xxxxxxxxxx.rs");
        // Byte length, as the router measures a static path: `é` is two bytes.
        assert_eq!(key("api/é.rs"), "xxx/xx.rs");
        assert_eq!(
            key("api/v1.2/[id]/a b/[[...rest]].rs"),
            "xxx/xxxx/[p]/xxx/[[...p]].rs"
        );
        assert_eq!(key("api/[...all-of-it].rs"), "xxx/[...p].rs");
    }

    #[test]
    fn names_a_url_segment_can_carry_are_static_parts() {
        for (file, text) in [
            ("api/robots.txt.rs", "robots.txt"),
            ("api/a b.rs", "a b"),
            ("api/a+b.rs", "a+b"),
            ("api/a(b).rs", "a(b)"),
            ("api/v.rs/x.rs", "v.rs"),
            ("api/é.rs", "é"),
            ("api/v1.2/x.rs", "v1.2"),
        ] {
            let parts = RoutePath::from_file(file).unwrap().parts;
            assert_eq!(parts[1], Part::Static(text.into()), "{file}");
        }
    }

    #[test]
    fn names_no_request_segment_reaches_as_written_are_refused_naming_the_file() {
        for (file, why) in [
            ("api/a%20b.rs", "has a `%`"),
            ("api/100%.rs", "has a `%`"),
            ("api/what?.rs", "'?'"),
            ("api/a#b.rs", "'#'"),
            ("api/a\\b.rs", "'\\\\'"),
            ("api/a\nb.rs", "'\\n'"),
            ("api/a\u{7f}.rs", "'\\u{7f}'"),
            ("api/../x.rs", "`..` is not a valid route segment"),
            ("api/./x.rs", "`.` is not a valid route segment"),
            ("api//x.rs", "`` is not a valid route segment"),
            ("api/a]b.rs", "brackets"),
        ] {
            let err = RoutePath::from_file(file).unwrap_err();
            assert!(err.starts_with(&format!("{file}: ")), "{err}");
            assert!(err.contains(why), "{file}: {err}");
        }
    }

    #[test]
    fn odd_paths_are_errors_not_panics() {
        for file in [
            "",
            ".rs",
            "index.rs",
            "/",
            "/.rs",
            "api/.rs",
            "[...a]/.rs",
            "x",
        ] {
            let _ = RoutePath::from_file(file);
        }
        assert!(RoutePath::from_file(".rs").is_err());
        assert!(RoutePath::from_file("").is_err());
        // `index` names its folder's route; alone, with no folder, it stays a name.
        assert_eq!(
            RoutePath::from_file("index.rs").unwrap().to_string(),
            "/index"
        );
    }

    #[test]
    fn param_names_and_catch_all_kinds_are_not_part_of_the_shape() {
        let shape = |file: &str| format!("{:?}", RoutePath::from_file(file).unwrap().shape());
        assert_eq!(shape("api/things/[id].rs"), shape("api/things/[slug].rs"));
        assert_eq!(shape("api/[...a].rs"), shape("api/[[...b]].rs"));
        assert_eq!(shape("api/[x]/a.rs"), shape("api/[y]/a.rs"));
        assert_ne!(shape("api/[x]/a.rs"), shape("api/[y]/b.rs"));
        assert_ne!(shape("api/[x].rs"), shape("api/[...x].rs"));
        assert_ne!(shape("api/a.rs"), shape("api/[a].rs"));
    }
}
