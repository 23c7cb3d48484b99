//! Writing the dispatch: route modules, a static route table, and one `match`.

use crate::discover::{RouteFile, route_files};
use crate::route_path::{Part, RoutePath};
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
    let files = route_files(root).map_err(call_site_error)?;
    let entries = in_precedence_order(&files)?;

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
        None => quote! { Ok(::bundled_api::not_found()) },
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
/// a dynamic sibling such as `api/[id].rs`; the full pattern ranks as a catch-all. Two entries for
/// one path are refused, because only the first could ever be reached.
// `vercel_runtime_router` is deprecated as a runtime router; as a compile-time ordering it is
// exactly Vercel's rule, which is what we want to keep.
#[allow(deprecated)]
fn in_precedence_order(files: &[RouteFile]) -> syn::Result<Vec<(RoutePath, usize)>> {
    let mut keyed: Vec<(String, RoutePath, usize)> = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let routes = std::iter::once(file.route.clone()).chain(file.route.bare_prefix());
        for route in routes {
            let key = route.router_key();
            if let Some((_, _, earlier)) = keyed.iter().find(|(seen, ..)| *seen == key) {
                return Err(call_site_error(format!(
                    "{} and {} both serve {route}",
                    files[*earlier].relative, file.relative
                )));
            }
            keyed.push((key, route, index));
        }
    }
    let router = vercel_runtime_router::Router::from(
        keyed
            .iter()
            .map(|(key, ..)| key.as_str())
            .collect::<Vec<_>>(),
    );
    Ok(router
        .routes
        .iter()
        .filter_map(|route| {
            keyed
                .iter()
                .find(|(key, ..)| *key == route.module_file)
                .map(|(_, route, index)| (route.clone(), *index))
        })
        .collect())
}

/// `route_3_users__id_` for `api/users/[id].rs`: unique by index, readable in compiler errors.
fn module_name(index: usize, file: &RouteFile) -> syn::Ident {
    let stem = file
        .relative
        .trim_start_matches("api/")
        .trim_end_matches(".rs")
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

    const HANDLER: &str = "pub async fn handler(req: Request, state: AppState) -> R { todo!() }";

    fn fixture(files: &[&str]) -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!(
            "bundled-expand-{}-{}",
            std::process::id(),
            files.join(",").replace(['/', '[', ']', '.'], "")
        ));
        let _ = std::fs::remove_dir_all(&root);
        for file in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, HANDLER).unwrap();
        }
        root
    }

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
        let item = quote! { fn handler(req: Request) -> R {} };
        let err = expand(&root, TokenStream::new(), item).unwrap_err();
        std::fs::remove_dir_all(root).unwrap();
        assert!(
            err.to_string().contains("goes on `async fn handler"),
            "{err}"
        );
    }
}
