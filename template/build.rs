//! `#[bundled_api]` reads `api/` at compile time, but a proc macro cannot tell Cargo which
//! folders it read: without this, adding or removing a route file would not rebuild.

fn main() {
    bundled_api::build::rerun_if_routes_change();
}
