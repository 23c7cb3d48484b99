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

        let last = parts.len() - 1;
        let mut seen = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if matches!(part, Part::CatchAll(_) | Part::OptionalCatchAll(_)) && i != last {
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

    /// The path as `vercel_runtime_router` expects a file path, for ordering.
    pub fn router_key(&self) -> String {
        format!("{self}.rs").trim_start_matches('/').to_string()
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
            if name.is_empty() || name.contains(['[', ']', '%']) {
                return Err(format!("`{name}` is not a valid route segment"));
            }
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
    fn the_router_key_is_a_file_path() {
        let key = RoutePath::from_file("api/users/index.rs")
            .unwrap()
            .router_key();
        assert_eq!(key, "api/users.rs");
    }
}
