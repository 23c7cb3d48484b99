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
    let canonical = api
        .canonicalize()
        .map_err(|e| format!("api: cannot be read: {e}"))?;
    walk(
        &api,
        "api",
        &mut vec![(canonical, "api".into())],
        &mut found,
    )?;
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
///
/// Symbolic links are followed, to files and folders alike; `above` holds the canonical path and
/// the name in messages of `dir` and of each folder above it on this walk, so a link back to one
/// of them is refused instead of walked until the operating system gives up. Names are compared
/// as bytes until they matter: a name that is skipped or not a `.rs` file may be anything, only a
/// route file or folder must be UTF-8.
fn walk(
    dir: &Path,
    relative: &str,
    above: &mut Vec<(PathBuf, String)>,
    found: &mut Vec<(String, PathBuf)>,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{relative}: cannot be read: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{relative}: cannot be read: {e}"))?;
        let name = entry.file_name();
        let bytes = name.as_encoded_bytes();
        if bytes.starts_with(b"_") || bytes.starts_with(b".") {
            continue;
        }
        let path = entry.path();
        let is_dir = path.is_dir();
        if !is_dir && !bytes.ends_with(b".rs") {
            continue;
        }
        let Some(name) = name.to_str() else {
            let what = if is_dir { "a folder" } else { "a route file" };
            return Err(format!(
                "{relative}: the name of {what} in it is not UTF-8: {name:?}"
            ));
        };
        let child = format!("{relative}/{name}");
        if is_dir {
            let canonical = path
                .canonicalize()
                .map_err(|e| format!("{child}: cannot be read: {e}"))?;
            if let Some((_, target)) = above.iter().find(|(folder, _)| *folder == canonical) {
                return Err(format!(
                    "{child}: a symbolic link back to a folder above it ({target}), which would \
                     be walked for ever; remove the link or start its name with `_`"
                ));
            }
            above.push((canonical, child.clone()));
            walk(&path, &child, above, found)?;
            above.pop();
        } else {
            found.push((child, path));
        }
    }
    Ok(())
}

/// A route file must define `pub async fn handler(req, state)`. Syntax errors are left to rustc,
/// which reports them with better spans than we could.
///
/// The route module is declared beside the attribute's function, which calls `module::handler`:
/// any visibility that reaches the module's parent compiles (`pub`, `pub(crate)`, `pub(super)`,
/// `pub(in crate)`), so only a private one is refused here. Any other `pub(in path)` is left to
/// rustc too. The function must be defined in the file: one imported with `use` is not seen.
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
        None if file.items.iter().any(imports_handler) => {
            "defines no handler (it imports one with `use`, but the function must be defined in \
             the file itself)"
        }
        None => "defines no handler",
        Some(f) if is_private(&f.vis) => {
            "has a handler that is not `pub` (`pub(crate)` and `pub(super)` do too)"
        }
        Some(f) if f.sig.asyncness.is_none() => "has a handler that is not `async`",
        Some(f) if f.sig.inputs.len() != 2 => "has a handler that does not take (req, state)",
        Some(_) => return Ok(()),
    };
    Err(format!(
        "{relative} {problem}: a route file must define {CONTRACT}"
    ))
}

/// No visibility, `pub(self)` or `pub(in self)`: not reachable from the route module's parent.
fn is_private(vis: &syn::Visibility) -> bool {
    match vis {
        syn::Visibility::Inherited => true,
        syn::Visibility::Restricted(r) => r.path.is_ident("self"),
        syn::Visibility::Public(_) => false,
    }
}

/// Whether `item` is a `use` that brings a `handler` into the file (`use a::handler;`,
/// `pub use a::{b, handler};`, `use a::other as handler;`).
fn imports_handler(item: &syn::Item) -> bool {
    fn names_handler(tree: &syn::UseTree) -> bool {
        match tree {
            syn::UseTree::Path(p) => names_handler(&p.tree),
            syn::UseTree::Name(n) => n.ident == "handler",
            syn::UseTree::Rename(r) => r.rename == "handler",
            syn::UseTree::Glob(_) => false,
            syn::UseTree::Group(g) => g.items.iter().any(names_handler),
        }
    }
    matches!(item, syn::Item::Use(u) if names_handler(&u.tree))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_tree::{HANDLER as GOOD, tree};

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
    fn any_visibility_that_reaches_the_parent_module_is_accepted_and_a_private_one_refused() {
        for vis in [
            "pub",
            "pub(crate)",
            "pub(super)",
            "pub(in crate)",
            "pub(in super)",
        ] {
            let source = GOOD.replacen("pub", vis, 1);
            assert_eq!(check_handler("api/a.rs", &source), Ok(()), "{source}");
        }
        for vis in ["", "pub(self)", "pub(in self)"] {
            let source = GOOD.replacen("pub", vis, 1);
            let err = check_handler("api/a.rs", &source).unwrap_err();
            assert!(
                err.contains("has a handler that is not `pub`"),
                "{source}: {err}"
            );
        }
    }

    #[test]
    fn an_imported_handler_is_refused_saying_it_must_be_defined_in_the_file() {
        for source in [
            "pub use other::handler;",
            "use other::{a, handler};",
            "pub use other::serve as handler;",
        ] {
            let err = check_handler("api/a.rs", source).unwrap_err();
            assert!(err.starts_with("api/a.rs defines no handler"), "{err}");
            assert!(
                err.contains("defined in the file itself"),
                "{source}: {err}"
            );
            assert!(
                err.contains("a route file must define `pub async fn handler"),
                "{err}"
            );
        }
        let err = check_handler("api/a.rs", "use other::*;").unwrap_err();
        assert!(!err.contains("imports one"), "{err}");
    }

    #[test]
    fn files_are_found_recursively_skipping_main_and_private_names() {
        let root = tree(&[
            "api/main.rs",
            "api/b.rs",
            "api/x/[id].rs",
            "api/_util.rs",
            "api/.hidden/c.rs",
        ]);
        let found = route_files(&root).unwrap();
        let names: Vec<_> = found.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(names, ["api/b.rs", "api/x/[id].rs"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn odd_names_are_found_and_one_no_url_reaches_is_refused_naming_it() {
        let root = tree(&["api/a b.rs", "api/v1.2/x.rs", "api/v.rs/[id].rs"]);
        let found = route_files(&root).unwrap();
        let routes: Vec<_> = found.iter().map(|f| f.route.to_string()).collect();
        assert_eq!(routes, ["/api/a b", "/api/v.rs/[id]", "/api/v1.2/x"]);
        std::fs::write(root.join("api/what?.rs"), GOOD).unwrap();
        let err = route_files(&root).unwrap_err();
        std::fs::remove_dir_all(&root).unwrap();
        assert!(err.starts_with("api/what?.rs: "), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_followed_and_one_back_to_a_folder_above_is_refused_naming_it() {
        use std::os::unix::fs::symlink;
        let root = tree(&["api/b.rs", "shared/x.rs", "shared/y.rs"]);
        symlink(root.join("shared"), root.join("api/linked")).unwrap();
        symlink(root.join("shared/y.rs"), root.join("api/c.rs")).unwrap();
        // Not a loop: the same folder twice, side by side.
        symlink(root.join("shared"), root.join("api/again")).unwrap();
        let found = route_files(&root).unwrap();
        let names: Vec<_> = found.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(
            names,
            [
                "api/again/x.rs",
                "api/again/y.rs",
                "api/b.rs",
                "api/c.rs",
                "api/linked/x.rs",
                "api/linked/y.rs"
            ]
        );

        symlink(".", root.join("api/loop")).unwrap();
        let err = route_files(&root).unwrap_err();
        assert!(
            err.starts_with("api/loop: a symbolic link back to a folder above it (api)"),
            "{err}"
        );
        std::fs::remove_file(root.join("api/loop")).unwrap();

        // Through a folder outside `api/`: the link that closes the loop is the one named.
        symlink("../api/linked", root.join("shared/deeper")).unwrap();
        let err = route_files(&root).unwrap_err();
        assert!(
            err.starts_with(
                "api/again/deeper: a symbolic link back to a folder above it (api/again)"
            ),
            "{err}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_ignored_unless_they_would_be_routes() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let root = tree(&["api/b.rs", "api/sub/c.rs"]);
        let api = root.join("api");
        let odd = |prefix: &[u8], suffix: &[u8]| {
            api.join(OsStr::from_bytes(&[prefix, b"\xFF", suffix].concat()))
        };
        // Some file systems (APFS) refuse such names outright: nothing to test there.
        if std::fs::write(odd(b".", b".swp"), "").is_err() {
            eprintln!("this file system refuses names that are not UTF-8");
            std::fs::remove_dir_all(&root).unwrap();
            return;
        }
        std::fs::write(odd(b"_", b""), "").unwrap();
        std::fs::write(odd(b"", b".txt"), "").unwrap();
        std::fs::create_dir(odd(b"_", b".d")).unwrap();
        std::fs::write(odd(b"_", b".d").join("x.rs"), "not even rust").unwrap();
        let found = route_files(&root).unwrap();
        let names: Vec<_> = found.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(names, ["api/b.rs", "api/sub/c.rs"]);

        std::fs::write(odd(b"", b".rs"), GOOD).unwrap();
        let err = route_files(&root).unwrap_err();
        assert!(
            err.starts_with("api: the name of a route file in it is not UTF-8"),
            "{err}"
        );
        std::fs::remove_file(odd(b"", b".rs")).unwrap();

        std::fs::create_dir(api.join("sub").join(OsStr::from_bytes(b"\xFF"))).unwrap();
        let err = route_files(&root).unwrap_err();
        assert!(
            err.starts_with("api/sub: the name of a folder in it is not UTF-8"),
            "{err}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
