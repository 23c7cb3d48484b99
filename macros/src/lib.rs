//! `#[bundled_api]`: every `api/**/*.rs` route in one vercel_runtime 2.x function.
//!
//! Put it on an empty `async fn handler(req: Request, state: AppState) -> Result<…>` in
//! `api/main.rs`; it writes the body. At compile time it
//!
//! - finds the route files under `$CARGO_MANIFEST_DIR/api` (not the current directory), leaving
//!   out `api/main.rs` and any path with a part starting with `_` or `.` (room for helpers);
//! - turns each file name into a route (`[id]`, `[...slug]`, `[[...slug]]`, `index.rs`) and
//!   refuses, naming the file, what cannot work: a missing `pub async fn handler`, a catch-all
//!   that is not last, a repeated param name, two files for one path (param names erased, so
//!   `[id].rs` beside `[slug].rs` too), a name no URL reaches as written (`%`, `?`, `#`, `\`);
//!   any other name is its decoded segment (`robots.txt.rs`, `a b.rs`);
//! - refuses a body on the function it is put on, since it writes that body;
//! - orders the routes with `vercel_runtime_router` (static, dynamic, catch-all; deeper first);
//! - emits one `#[path]` module per file and a dispatch over a static route table, so a request
//!   builds no router and compiles no regex.
//!
//! Unmatched paths go to `fallback = path::to::fn` when given, else to `bundled_api::not_found`.
//! A proc macro cannot see new files by itself: the crate's `build.rs` calls
//! `bundled_api::build::rerun_if_routes_change()` so adding or removing a route rebuilds.
//!
//! Use it through `bundled_api`, which re-exports it with the types its expansion names; its
//! documentation has the route-file rules and the handler contract.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod discover;
mod expand;
mod reach;
mod route_path;
#[cfg(test)]
mod test_tree;

use proc_macro::TokenStream;

/// Writes the body of the function it is put on: a dispatch over every route file under `api/`.
///
/// On `async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error>
/// {}` in `api/main.rs`; `#[bundled_api(fallback = path::to::handler)]` answers unmatched paths
/// with your own handler instead of `bundled_api::not_found()`. See the `bundled_api` crate.
#[proc_macro_attribute]
pub fn bundled_api(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::bundled_api(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
