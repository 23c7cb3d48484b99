//! `#[bundled_api]` reads `api/` at compile time, but a proc macro cannot tell Cargo which
//! folders it read: this makes adding or removing a route file rebuild the function.

fn main() {
    bundled_api::build::rerun_if_routes_change();
}
