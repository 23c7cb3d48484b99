//! Writing the dispatch: route modules, a static route table, and one `match`.

use crate::discover::{RouteFile, route_files};
use crate::reach;
use crate::route_path::{Part, RoutePath, Shape};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use std::path::Path;
use syn::parse::Parser;

pub fn bundled_api(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .map_err(|_| call_site_error("#[bundled_api]: CARGO_MANIFEST_DIR is not set"))?;
    expand(Path::new(&root), attr, item)
}

/// The expansion for the crate at `root`; split out so tests can point it at a fixture.
pub fn expand(root: &Path, attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let fallback = parse_fallback(attr)?;
    let function: syn::ItemFn = syn::parse2(item)?;
    let (req, state) = argument_names(&function)?;
    if !function.block.stmts.is_empty() {
        // Dropping it silently would ship code the user wrote and never runs.
        return Err(syn::Error::new_spanned(
            &function.block,
            "#[bundled_api] writes this function's body: leave it empty (`{}`); \
             put per-request code in the route files or in a `fallback`",
        ));
    }
    let files = route_files(root).map_err(call_site_error)?;
    let entries = in_precedence_order(&files)?;
    let names: Vec<&str> = files.iter().map(|file| file.relative.as_str()).collect();
    if let Some(error) = reach::error(&entries, &names) {
        return Err(call_site_error(error));
    }

    let modules = files.iter().enumerate().map(|(i, file)| {
        let path = file.absolute.to_string_lossy().into_owned();
        let name = module_name(i, file);
        quote! { #[path = #path] mod #name; }
    });
    let table = entries.iter().map(|(route, _)| {
        let segments = route.parts.iter().map(|part| match part {
            Part::Static(text) => quote! { ::bundled_api::__private::Segment::Static(#text) },
            Part::Dynamic(name) => quote! { ::bundled_api::__private::Segment::Dynamic(#name) },
            Part::CatchAll(name) => quote! { ::bundled_api::__private::Segment::CatchAll(#name) },
            Part::OptionalCatchAll(name) => {
                quote! { ::bundled_api::__private::Segment::OptionalCatchAll(#name) }
            }
        });
        quote! { &[#(#segments),*] }
    });
    let arms = entries.iter().enumerate().map(|(entry, (route, file))| {
        let name = module_name(*file, &files[*file]);
        if route.has_params() {
            quote! { Some((#entry, params)) => {
                #req.extensions_mut().insert(params);
                #name::handler(#req, #state).await
            } }
        } else {
            quote! { Some((#entry, _)) => #name::handler(#req, #state).await, }
        }
    });
    let unmatched = match fallback {
        Some(path) => quote! { #path(#req, #state).await },
        // With no route and no fallback nothing takes `state`: borrowing it here spares an empty
        // `api/` an unused-variable warning.
        None => quote! { { let _ = &#state; Ok(::bundled_api::not_found()) } },
    };

    let syn::ItemFn {
        attrs, vis, sig, ..
    } = function;
    Ok(quote! {
        #(#modules)*

        #(#attrs)*
        #vis #sig {
            // Precedence order, fixed at compile time: the first match wins.
            static ROUTES: &[&[::bundled_api::__private::Segment]] = &[#(#table),*];
            #[allow(unused_mut)]
            let mut #req = #req;
            match ::bundled_api::__private::route(ROUTES, #req.uri().path()) {
                #(#arms)*
                _ => #unmatched,
            }
        }
    })
}

/// `#[bundled_api]` or `#[bundled_api(fallback = some::handler)]`.
fn parse_fallback(attr: TokenStream) -> syn::Result<Option<syn::Path>> {
    let mut fallback = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("fallback") {
            if fallback.is_some() {
                return Err(meta.error("#[bundled_api] takes `fallback` once"));
            }
            fallback = Some(meta.value()?.parse::<syn::Path>()?);
            Ok(())
        } else {
            Err(meta.error("#[bundled_api] takes only `fallback = path::to::handler`"))
        }
    });
    parser.parse2(attr)?;
    Ok(fallback)
}

fn argument_names(function: &syn::ItemFn) -> syn::Result<(syn::Ident, syn::Ident)> {
    let names: Vec<_> = function
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(typed) => match &*typed.pat {
                syn::Pat::Ident(ident) => Some(ident.ident.clone()),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    match (names.as_slice(), function.sig.asyncness) {
        ([req, state], Some(_)) if function.sig.inputs.len() == 2 => {
            Ok((req.clone(), state.clone()))
        }
        _ => Err(syn::Error::new_spanned(
            &function.sig,
            "#[bundled_api] goes on `async fn handler(req: Request, state: AppState) \
             -> Result<Response<ResponseBody>, Error> {}`",
        )),
    }
}

/// The route table in Vercel's precedence, as `vercel_runtime_router` implements it: each entry
/// is a route and the index of the file it dispatches to.
///
/// An optional catch-all gets two entries: its bare prefix (`/api/files` for
/// `api/files/[[...path]].rs`) ranks like that prefix would as a file of its own, so it wins over
/// a dynamic sibling such as `api/[id].rs`; the full pattern ranks as a catch-all. Two entries of
/// one shape (param names erased, see `RoutePath::shape`) are refused, because only the first
/// could ever be reached: `api/a.rs` with `api/a/index.rs`, `[id].rs` with `[slug].rs`,
/// `[...a].rs` with `[[...b]].rs`.
// `vercel_runtime_router` is deprecated as a runtime router; as a compile-time ordering it is
// exactly Vercel's rule, which is what we want to keep.
#[allow(deprecated)]
fn in_precedence_order(files: &[RouteFile]) -> syn::Result<Vec<(RoutePath, usize)>> {
    let mut entries: Vec<(RoutePath, usize)> = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let routes = std::iter::once(file.route.clone()).chain(file.route.bare_prefix());
        for route in routes {
            let clash = entries
                .iter()
                .find(|(seen, _)| seen.shape() == route.shape());
            if let Some((seen, earlier)) = clash {
                let why = if *seen == route {
                    ""
                } else {
                    ": param names and catch-all kinds do not tell routes apart, so only one \
                     could ever be reached"
                };
                return Err(call_site_error(format!(
                    "{} and {} both serve {seen}{why}",
                    files[*earlier].relative, file.relative
                )));
            }
            entries.push((route, index));
        }
    }
    // The router ranks dynamic routes of one depth by where their last dynamic segment is, and
    // catch-alls by depth alone; it calls the rest ties and keeps them in the order given (its
    // sort is stable). Left in file-name order, a tie could hide a route for good:
    // `api/[org]/[repo].rs` sorts before `api/users/[id].rs` and would take `/api/users/42`. So
    // ties go in by generality, segment by segment: a static segment before a dynamic one, a
    // dynamic one before a catch-all, as a user reading the file names expects.
    entries.sort_by_key(|(route, _)| generality(route));
    // The router makes an identifier of each key and panics on one that is not: it gets keys of
    // the same shape instead (`RoutePath::router_key`). Its sort is stable and equal keys compare
    // equal, so the n-th route out with a key is the n-th entry in with that key.
    let keys: Vec<String> = entries
        .iter()
        .map(|(route, _)| route.router_key())
        .collect();
    let router =
        vercel_runtime_router::Router::from(keys.iter().map(String::as_str).collect::<Vec<_>>());
    let mut taken = vec![false; entries.len()];
    router
        .routes
        .iter()
        .map(|sorted| {
            let at = (0..entries.len())
                .find(|&i| !taken[i] && keys[i] == sorted.module_file)
                .ok_or_else(|| {
                    call_site_error(format!(
                        "#[bundled_api]: the router returned an unknown route {}",
                        sorted.module_file
                    ))
                })?;
            taken[at] = true;
            Ok(entries[at].clone())
        })
        .collect()
}

/// How general each segment of `route` is, in order: 0 static, 1 dynamic, 2 catch-all. Compared
/// as a list, the more specific route of two comes first at the first segment where they differ.
fn generality(route: &RoutePath) -> Vec<u8> {
    route
        .shape()
        .iter()
        .map(|shape| match shape {
            Shape::Static(_) => 0,
            Shape::Dynamic => 1,
            Shape::CatchAll => 2,
        })
        .collect()
}

/// `route_3_users__id_` for `api/users/[id].rs`: unique by index, readable in compiler errors,
/// and an identifier whatever the file is called (`a b`, `robots.txt`, `é` become `_`).
fn module_name(index: usize, file: &RouteFile) -> syn::Ident {
    let stem = file.relative.strip_prefix("api/").unwrap_or(&file.relative);
    let stem = stem
        .strip_suffix(".rs")
        .unwrap_or(stem)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect::<String>();
    format_ident!("route_{index}_{stem}")
}

fn call_site_error(message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(Span::call_site(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_tree::tree as fixture;

    fn expand_fixture(files: &[&str], attr: TokenStream) -> syn::Result<String> {
        let root = fixture(files);
        let item = quote! { async fn handler(req: Request, state: AppState) -> R {} };
        let out = expand(&root, attr, item).map(|tokens| tokens.to_string());
        std::fs::remove_dir_all(root).unwrap();
        out
    }

    fn order(files: &[&str]) -> Vec<String> {
        let root = fixture(files);
        let found = route_files(&root).unwrap();
        let order = in_precedence_order(&found).unwrap();
        std::fs::remove_dir_all(root).unwrap();
        order
            .into_iter()
            .map(|(_, i)| found[i].relative.clone())
            .collect()
    }

    #[test]
    fn routes_are_ordered_static_then_dynamic_then_catch_all() {
        let order = order(&[
            "api/[...rest].rs",
            "api/[id].rs",
            "api/posts/[id].rs",
            "api/posts.rs",
            "api/docs/[...slug].rs",
        ]);
        assert_eq!(
            order,
            [
                "api/posts.rs",
                "api/posts/[id].rs",
                "api/[id].rs",
                "api/docs/[...slug].rs",
                "api/[...rest].rs"
            ]
        );
    }

    #[test]
    fn among_dynamic_routes_of_one_depth_the_earlier_last_dynamic_segment_wins() {
        // As bundled/README.md documents it, Next.js differing on the second pair. Files are
        // found in name order, which is the other order in both pairs.
        assert_eq!(
            order(&["api/[id]/[tab].rs", "api/[id]/edit.rs"]),
            ["api/[id]/edit.rs", "api/[id]/[tab].rs"]
        );
        assert_eq!(
            order(&["api/0/[c].rs", "api/[a]/x.rs"]),
            ["api/[a]/x.rs", "api/0/[c].rs"]
        );
    }

    #[test]
    fn routes_the_router_ties_go_static_segment_first_whatever_their_file_names() {
        // `[` sorts before lower-case letters: in file-name order the general route came first
        // and took every path of the specific one.
        assert_eq!(
            order(&["api/[org]/[repo].rs", "api/users/[id].rs"]),
            ["api/users/[id].rs", "api/[org]/[repo].rs"]
        );
        assert_eq!(
            order(&["api/[x]/[...rest].rs", "api/docs/[...slug].rs"]),
            ["api/docs/[...slug].rs", "api/[x]/[...rest].rs"]
        );
        assert_eq!(
            order(&["api/[a]/[b]/[c].rs", "api/[a]/b/[c].rs", "api/a/[b]/[c].rs"]),
            ["api/a/[b]/[c].rs", "api/[a]/b/[c].rs", "api/[a]/[b]/[c].rs"]
        );
    }

    #[test]
    fn a_file_is_refused_as_unreachable_exactly_when_no_path_reaches_it() {
        // Every route of up to three segments below api/ from these parts, taken two at a time,
        // in precedence order; then every path of up to five segments over `a`, `b` and a value
        // no name holds, each sent to the first route it matches, as the runtime does. The
        // files no path reached must be exactly those reach.rs refuses: a file is never hidden
        // in silence, and never refused while a path still reaches it.
        let inner = ["a", "b", "[d]"];
        let last = ["a", "b", "[d]", "[...c]", "[[...o]]"];
        let mut files = Vec::new();
        for depth in 0..3 {
            let mut prefixes = vec![String::from("api")];
            for level in 0..depth {
                prefixes = prefixes
                    .iter()
                    .flat_map(|p| {
                        inner
                            .iter()
                            .map(move |part| format!("{p}/{}", numbered(part, level)))
                    })
                    .collect();
            }
            for prefix in prefixes {
                for part in last {
                    files.push(format!("{prefix}/{}.rs", numbered(part, depth)));
                }
            }
        }
        let mut paths: Vec<Vec<String>> = vec![vec!["api".into()]];
        let mut longer = paths.clone();
        for _ in 0..5 {
            longer = longer
                .iter()
                .flat_map(|path| {
                    ["a", "b", "value"].map(|segment| [path.clone(), vec![segment.into()]].concat())
                })
                .collect();
            paths.extend(longer.iter().cloned());
        }
        let (mut ordered, mut hidden) = (0, 0);
        for (i, first) in files.iter().enumerate() {
            for second in &files[i + 1..] {
                let found: Vec<RouteFile> = [first, second]
                    .iter()
                    .map(|relative| RouteFile {
                        relative: relative.to_string(),
                        absolute: relative.into(),
                        route: RoutePath::from_file(relative).unwrap(),
                    })
                    .collect();
                // Two files of one shape are refused before any order.
                let Ok(order) = in_precedence_order(&found) else {
                    continue;
                };
                ordered += 1;
                let mut reached = [false; 2];
                for path in &paths {
                    if let Some((_, file)) =
                        order.iter().find(|(route, _)| reach::matches(route, path))
                    {
                        reached[*file] = true;
                    }
                }
                let unreached: Vec<usize> = (0..2).filter(|file| !reached[*file]).collect();
                let refused: Vec<usize> = reach::unreachable(&order, 2)
                    .into_iter()
                    .map(|(file, _)| file)
                    .collect();
                assert_eq!(refused, unreached, "{first} and {second}");
                hidden += unreached.len();
            }
        }
        assert!(ordered > 1500, "only {ordered} pairs could be ordered");
        // `api/[...c0].rs` behind `api/[d0]/[[...o1]].rs`, among others: the check ran.
        assert!(hidden > 0, "no pair hid a file");
    }

    /// `[d]` as `[d0]`, `[d1]`…: a param name once per route.
    fn numbered(part: &str, level: usize) -> String {
        match part.strip_suffix(']') {
            Some(open) if !open.ends_with(']') => format!("{open}{level}]"),
            Some(open) => format!("{}{level}]]", open.trim_end_matches(']')),
            None => part.to_string(),
        }
    }

    #[test]
    fn an_optional_catch_all_ranks_its_bare_prefix_like_a_static_route() {
        let order = order(&["api/[id].rs", "api/files/[[...path]].rs"]);
        assert_eq!(
            order,
            [
                "api/files/[[...path]].rs",
                "api/[id].rs",
                "api/files/[[...path]].rs"
            ]
        );
    }

    #[test]
    fn a_static_file_that_clashes_with_an_optional_catch_all_is_refused() {
        let err = expand_fixture(
            &["api/files.rs", "api/files/[[...path]].rs"],
            TokenStream::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("both serve /api/files"), "{err}");
    }

    #[test]
    fn the_expansion_has_a_module_and_an_arm_per_route_and_a_404() {
        let out = expand_fixture(
            &["api/wait-until.rs", "api/users/[id].rs"],
            TokenStream::new(),
        )
        .unwrap();
        assert!(out.contains("mod route_1_wait_until"), "{out}");
        assert!(out.contains("mod route_0_users__id_"), "{out}");
        assert!(out.contains("Segment :: Dynamic (\"id\")"), "{out}");
        assert!(out.contains(":: bundled_api :: not_found ()"), "{out}");
        assert_eq!(
            out.matches("extensions_mut").count(),
            1,
            "only the dynamic route stores params"
        );
    }

    #[test]
    fn a_fallback_replaces_the_404() {
        let out = expand_fixture(&["api/a.rs"], quote! { fallback = crate::web::serve }).unwrap();
        assert!(
            out.contains("crate :: web :: serve (req , state) . await"),
            "{out}"
        );
        assert!(!out.contains("not_found"), "{out}");
    }

    #[test]
    fn an_unknown_argument_is_refused() {
        let err = expand_fixture(&["api/a.rs"], quote! { routes = "x" }).unwrap_err();
        assert!(err.to_string().contains("fallback"), "{err}");
    }

    #[test]
    fn two_files_for_one_path_are_refused() {
        let err = expand_fixture(&["api/users.rs", "api/users/index.rs"], TokenStream::new())
            .unwrap_err();
        assert!(err.to_string().contains("both serve /api/users"), "{err}");
    }

    #[test]
    fn a_route_file_without_handler_fails_naming_the_file() {
        let root = fixture(&["api/good.rs"]);
        std::fs::write(root.join("api/broken.rs"), "pub fn nothing() {}").unwrap();
        let item = quote! { async fn handler(req: Request, state: AppState) -> R {} };
        let err = expand(&root, TokenStream::new(), item).unwrap_err();
        std::fs::remove_dir_all(root).unwrap();
        assert!(
            err.to_string()
                .starts_with("api/broken.rs defines no handler"),
            "{err}"
        );
    }

    #[test]
    fn the_macro_must_sit_on_an_async_fn_with_two_arguments() {
        let root = fixture(&["api/a.rs"]);
        for item in [
            quote! { fn handler(req: Request) -> R {} },
            quote! { async fn handler(req: Request) -> R {} },
            // Two names among three arguments: a pattern is not a name the dispatch can pass on.
            quote! { async fn handler(req: Request, (a, b): (A, B), state: AppState) -> R {} },
        ] {
            let err = expand(&root, TokenStream::new(), item.clone()).unwrap_err();
            assert!(
                err.to_string().contains("goes on `async fn handler"),
                "{item}: {err}"
            );
        }
        std::fs::remove_dir_all(root).unwrap();
    }

    /// Names a URL segment can carry, which the router's `format_ident!` used to panic on.
    const ODD_NAMES: &[&str] = &[
        "api/a b.rs",
        "api/v1.2/x.rs",
        "api/robots.txt.rs",
        "api/v.rs/x.rs",
        "api/a+b.rs",
        "api/a(b).rs",
        "api/é.rs",
    ];

    #[test]
    fn names_with_dots_spaces_and_symbols_expand_to_their_own_text() {
        let root = fixture(ODD_NAMES);
        let item = quote! { async fn handler(req: Request, state: AppState) -> R {} };
        let tokens = expand(&root, TokenStream::new(), item).unwrap();
        let found = route_files(&root).unwrap();
        std::fs::remove_dir_all(root).unwrap();
        // Every module name is an identifier, and the whole expansion is Rust.
        for (i, file) in found.iter().enumerate() {
            syn::parse_str::<syn::Ident>(&module_name(i, file).to_string()).unwrap();
        }
        syn::parse2::<syn::File>(tokens.clone()).unwrap();
        let out = tokens.to_string();
        for text in ["a b", "v1.2", "robots.txt", "v.rs", "a+b", "a(b)", "é"] {
            assert!(
                out.contains(&format!("Static (\"{text}\")")),
                "{text}: {out}"
            );
        }
    }

    #[test]
    fn odd_names_take_their_place_by_the_router_rule() {
        let order = order(&[
            "api/[id].rs",
            "api/a.rs",
            "api/robots.txt.rs",
            "api/v1.2/[id].rs",
            "api/v1.2/x.rs",
        ]);
        assert_eq!(
            order,
            [
                "api/robots.txt.rs",
                "api/v1.2/x.rs",
                "api/a.rs",
                "api/v1.2/[id].rs",
                "api/[id].rs",
            ]
        );
    }

    /// The router given the real paths (which it accepts when every part is an identifier), to
    /// check the stand-in keys change nothing. Its ties go in by generality, as in the macro.
    #[allow(deprecated)]
    fn order_by_real_keys(files: &[&str]) -> Vec<String> {
        let root = fixture(files);
        let found = route_files(&root).unwrap();
        std::fs::remove_dir_all(root).unwrap();
        let mut routes = Vec::new();
        for file in &found {
            for route in std::iter::once(file.route.clone()).chain(file.route.bare_prefix()) {
                routes.push((route, file.relative.clone()));
            }
        }
        routes.sort_by_key(|(route, _)| generality(route));
        let keyed: Vec<(String, String)> = routes
            .into_iter()
            .map(|(route, file)| {
                (
                    format!("{route}.rs").trim_start_matches('/').to_string(),
                    file,
                )
            })
            .collect();
        let router = vercel_runtime_router::Router::from(
            keyed
                .iter()
                .map(|(key, _)| key.as_str())
                .collect::<Vec<_>>(),
        );
        router
            .routes
            .iter()
            .map(|route| {
                let (_, file) = keyed
                    .iter()
                    .find(|(key, _)| *key == route.module_file)
                    .unwrap();
                file.clone()
            })
            .collect()
    }

    #[test]
    fn the_stand_in_keys_order_names_exactly_as_their_real_paths_would() {
        let files = [
            "api/index.rs",
            "api/a.rs",
            "api/bb.rs",
            "api/wait-until.rs",
            "api/posts.rs",
            "api/recent.rs",
            "api/x1/y.rs",
            "api/posts/[id].rs",
            "api/posts/[id]/comments.rs",
            "api/posts/[id]/[cid].rs",
            "api/[id].rs",
            "api/[id]/static.rs",
            "api/u/[a]/[b]/c.rs",
            "api/u/[a]/b/[c].rs",
            "api/u/a/[b]/[c].rs",
            "api/docs/[...slug].rs",
            "api/docs/x/[...slug].rs",
            "api/files/[[...path]].rs",
            "api/g/[o]/[[...rest]].rs",
            "api/[...rest].rs",
        ];
        assert_eq!(order(&files), order_by_real_keys(&files));
    }

    fn clash(files: &[&str]) -> String {
        expand_fixture(files, TokenStream::new())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn two_dynamic_siblings_are_refused_naming_both_files() {
        for (files, first, second) in [
            (
                ["api/things/[id].rs", "api/things/[slug].rs"],
                "api/things/[id].rs",
                "api/things/[slug].rs",
            ),
            (
                ["api/[...a].rs", "api/[...b].rs"],
                "api/[...a].rs",
                "api/[...b].rs",
            ),
            (
                ["api/x/[...a].rs", "api/x/[[...b]].rs"],
                "api/x/[...a].rs",
                "api/x/[[...b]].rs",
            ),
            (
                ["api/[x]/a.rs", "api/[y]/a.rs"],
                "api/[x]/a.rs",
                "api/[y]/a.rs",
            ),
            // The optional catch-all's bare prefix `/api/[id]` is `/api/[x]` again.
            (
                ["api/[id]/[[...rest]].rs", "api/[x].rs"],
                "api/[id]/[[...rest]].rs",
                "api/[x].rs",
            ),
        ] {
            let err = clash(&files);
            assert!(
                err.starts_with(&format!("{first} and {second} both serve")),
                "{err}"
            );
            assert!(err.contains("param names"), "{err}");
        }
    }

    #[test]
    fn dynamic_routes_of_different_shapes_are_kept() {
        let order = order(&[
            "api/[x]/a.rs",
            "api/[y]/b.rs",
            "api/[...rest].rs",
            "api/[id].rs",
        ]);
        assert_eq!(order.len(), 4);
    }

    #[test]
    fn a_body_is_refused_because_the_attribute_writes_it() {
        let root = fixture(&["api/body.rs"]);
        let item = quote! { async fn handler(req: Request, state: AppState) -> R { panic!("x") } };
        let err = expand(&root, TokenStream::new(), item).unwrap_err();
        std::fs::remove_dir_all(root).unwrap();
        assert!(
            err.to_string()
                .starts_with("#[bundled_api] writes this function's body"),
            "{err}"
        );
    }

    #[test]
    fn a_second_fallback_is_refused() {
        let Err(err) = parse_fallback(quote! { fallback = a::b, fallback = c::d }) else {
            panic!("two fallbacks must be refused");
        };
        assert!(err.to_string().contains("`fallback` once"), "{err}");
    }

    #[test]
    fn odd_arguments_are_errors_not_panics() {
        for attr in [
            quote! { fallback },
            quote! { fallback = },
            quote! { fallback = 1 },
            quote! { = x },
            quote! { fallback = a b },
            quote! { fallback(x) },
            quote! { "fallback" },
            quote! { fallback = a, },
        ] {
            let _ = parse_fallback(attr);
        }
        assert!(parse_fallback(quote! { fallback = 1 }).is_err());
        assert!(parse_fallback(quote! { fallback = a, }).is_ok());
    }

    #[test]
    fn a_name_no_request_reaches_fails_naming_the_file() {
        let err = expand_fixture(&["api/a%20b.rs"], TokenStream::new()).unwrap_err();
        assert!(err.to_string().starts_with("api/a%20b.rs: "), "{err}");
    }
}
