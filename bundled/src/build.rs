//! The build-script half: rebuild when a route file is added or removed.

// Proven with real Cargo builds of fixture crates, and a control that shows Cargo would not
// notice without it, by the repository's `tests/it/route_builds.rs` (not in the package: it
// builds against the repository's crates and lock file).

/// Makes Cargo rebuild the crate when anything under its `api/` folder changes. Call it from
/// `build.rs`, the one line it needs:
///
/// ```
/// // build.rs, with `bundled_api = { version = "0.1", default-features = false }` in
/// // [build-dependencies]
/// fn main() {
///     bundled_api::build::rerun_if_routes_change();
/// }
/// ```
///
/// `#[bundled_api]` lists `api/` while the crate compiles, but a proc macro cannot tell Cargo
/// which folders it read. Edits to existing route files are seen anyway (they are modules of
/// the crate); a new or deleted file is not, and without this the function keeps its old routes
/// until something else changes. Cargo watches the folder as a whole: adding, removing or
/// modifying any file under it reruns this build script, and so the macro.
///
/// Printing a `rerun-if-changed` line also stops Cargo's default of rerunning the build
/// script whenever any file of the package changes; add your own lines for whatever else your
/// `build.rs` reads.
pub fn rerun_if_routes_change() {
    // The path is relative to the package root: where Cargo resolves it, and where
    // `#[bundled_api]` looks for routes.
    println!("cargo::rerun-if-changed=api");
}
