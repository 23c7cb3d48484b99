//! Finding the route files under `api/` and checking each has a usable handler.

use crate::route_path::RoutePath;
use std::path::{Path, PathBuf};

/// A route file found under `api/`.
#[derive(Debug)]
pub struct RouteFile {
    /// From the crate root, with `/` separators: `api/users/[id].rs`. Used in messages.
    pub relative: String,
    pub absolute: PathBuf,
    pub route: RoutePath,
}

/// Every route file under `<crate_root>/api`, in file-name order, each checked.
pub fn route_files(crate_root: &Path) -> Result<Vec<RouteFile>, String> {
    let api = crate_root.join("api");
    if !api.is_dir() {
        return Err(format!(
            "#[bundled_api]: no `api` folder in {}",
            crate_root.display()
        ));
    }
    let mut found = Vec::new();
    walk(&api, "api", &mut found)?;
    found.sort();
    found
        .into_iter()
        .filter(|(relative, _)| relative != "api/main.rs")
        .map(|(relative, absolute)| {
            let source = std::fs::read_to_string(&absolute)
                .map_err(|e| format!("{relative}: cannot be read: {e}"))?;
            check_handler(&relative, &source)?;
            let route = RoutePath::from_file(&relative)?;
            Ok(RouteFile {
                relative,
                absolute,
                route,
            })
        })
        .collect()
}

/// Collects `.rs` files, skipping names that start with `_` or `.` as Vercel does.
fn walk(dir: &Path, relative: &str, found: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{relative}: cannot be read: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{relative}: cannot be read: {e}"))?;
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| format!("{relative}: a file name is not UTF-8: {name:?}"))?;
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let child = format!("{relative}/{name}");
        if path.is_dir() {
            walk(&path, &child, found)?;
        } else if name.ends_with(".rs") {
            found.push((child, path));
        }
    }
    Ok(())
}

/// A route file must define `pub async fn handler(req, state)`. Syntax errors are left to rustc,
/// which reports them with better spans than we could.
pub fn check_handler(relative: &str, source: &str) -> Result<(), String> {
    const CONTRACT: &str = "`pub async fn handler(req: Request, state: AppState) \
                            -> Result<Response<ResponseBody>, Error>`";
    let Ok(file) = syn::parse_file(source) else {
        return Ok(());
    };
    let handler = file.items.iter().find_map(|item| match item {
        syn::Item::Fn(f) if f.sig.ident == "handler" => Some(f),
        _ => None,
    });
    let problem = match handler {
        None => "defines no handler",
        Some(f) if !matches!(f.vis, syn::Visibility::Public(_)) => {
            "has a handler that is not `pub`"
        }
        Some(f) if f.sig.asyncness.is_none() => "has a handler that is not `async`",
        Some(f) if f.sig.inputs.len() != 2 => "has a handler that does not take (req, state)",
        Some(_) => return Ok(()),
    };
    Err(format!(
        "{relative} {problem}: a route file must define {CONTRACT}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "pub async fn handler(req: Request, state: AppState) -> R { todo!() }";

    #[test]
    fn a_file_with_the_contract_handler_passes() {
        assert_eq!(check_handler("api/a.rs", GOOD), Ok(()));
    }

    #[test]
    fn a_missing_handler_is_reported_with_the_file_name() {
        let err = check_handler("api/a.rs", "pub async fn other() {}").unwrap_err();
        assert!(err.starts_with("api/a.rs defines no handler"), "{err}");
    }

    #[test]
    fn a_private_sync_or_one_argument_handler_is_reported() {
        let cases = [
            ("async fn handler(r: R, s: S) {}", "not `pub`"),
            ("pub fn handler(r: R, s: S) {}", "not `async`"),
            (
                "pub async fn handler(r: R) {}",
                "does not take (req, state)",
            ),
        ];
        for (source, why) in cases {
            let err = check_handler("api/a.rs", source).unwrap_err();
            assert!(err.contains(why), "{source}: {err}");
        }
    }

    #[test]
    fn files_are_found_recursively_skipping_main_and_private_names() {
        let root = std::env::temp_dir().join(format!("bundled-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for file in [
            "api/main.rs",
            "api/b.rs",
            "api/x/[id].rs",
            "api/_util.rs",
            "api/.hidden/c.rs",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, GOOD).unwrap();
        }
        let found = route_files(&root).unwrap();
        let names: Vec<_> = found.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(names, ["api/b.rs", "api/x/[id].rs"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn odd_names_are_found_and_one_no_url_reaches_is_refused_naming_it() {
        let root = std::env::temp_dir().join(format!("bundled-odd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for file in ["api/a b.rs", "api/v1.2/x.rs", "api/v.rs/[id].rs"] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, GOOD).unwrap();
        }
        let found = route_files(&root).unwrap();
        let routes: Vec<_> = found.iter().map(|f| f.route.to_string()).collect();
        assert_eq!(routes, ["/api/a b", "/api/v.rs/[id]", "/api/v1.2/x"]);
        std::fs::write(root.join("api/what?.rs"), GOOD).unwrap();
        let err = route_files(&root).unwrap_err();
        std::fs::remove_dir_all(&root).unwrap();
        assert!(err.starts_with("api/what?.rs: "), "{err}");
    }
}
